package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.invoke.ResultCache;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The literal plan's warnings under rag_on_error = 'null': one per failed distinct input, naming model and cause. */
class LiteralWarningsTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;

    FakeModels.Rig rig;
    LiteralPlanner planner;
    FakeSession session;


    @BeforeEach
    void setUp() {
        rig = FakeModels.rig();
        planner = new LiteralPlanner(rig.invoker(), PARSER);
        session = new FakeSession(LiteralPlannerTest.MARIADB, true, rig.settings());
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    @Test
    void onePerFailedDistinctInput() throws Exception {
        rig.embedder().failWith = new ModelException(ModelException.Kind.THROTTLED, FakeModels.EMBED_ID, "slow down");
        rig.generator().failWith = new ModelException(ModelException.Kind.CLIENT_ERROR, FakeModels.TEXT_ID, "too long");
        RagSettings nulls = rig.settings().with("rag_on_error", "null", rig.settings());
        LiteralPlan plan = planner.plan(session, "SELECT GENERATE('b'), GENERATE('b'), EMBED('a'), GENERATE('')",
                Dialect.MARIADB, nulls, false).get(10, TimeUnit.SECONDS);
        assertTrue(plan.backendSql().startsWith("SELECT NULL"), plan.backendSql());
        List<String> warnings = session.warnings.stream().sorted().toList();
        assertEquals(2, warnings.size(), "'b' twice is one input; '' needs no call: " + warnings);
        assertTrue(warnings.get(0).startsWith(ProxyError.MODEL_THROTTLED.code() + " "), warnings.get(0));
        assertTrue(warnings.get(0).contains(FakeModels.EMBED_ID) && warnings.get(0).contains("slow down")
                && warnings.get(0).contains("'a'"), warnings.get(0));
        assertTrue(warnings.get(1).startsWith(ProxyError.MODEL_REJECTED.code() + " "), warnings.get(1));
        assertTrue(warnings.get(1).contains(FakeModels.TEXT_ID) && warnings.get(1).contains("too long"), warnings.get(1));
        assertTrue(warnings.stream().allMatch(w -> w.contains("rag_on_error") && !w.contains("nothing was written")),
                warnings.toString());
    }

    /**
     * A batch's first failure makes the invoker cancel the batch's other calls; a text whose call was cancelled that
     * way did not fail, and must get its answer, not NULL and a warning.
     */
    @Test
    void aCallCancelledBecauseItsBatchFailedIsAskedAgain() throws Exception {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        java.util.List<String> prompts = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        TextModel model = new TextModel() {
            @Override
            public String id() {
                return "gated-text";
            }

            @Override
            public CompletableFuture<Generation> generate(String prompt, GenerateOptions options) {
                prompts.add(prompt);
                if (prompt.contains("bad")) {
                    return CompletableFuture.failedFuture(new ModelException(ModelException.Kind.CLIENT_ERROR, id(), "no"));
                }
                return gate.thenApply(v -> new Generation("gen:" + prompt));
            }
        };
        ModelRegistry registry = new ModelRegistry(ModelsConfig.DEFAULT.withDefaults(FakeModels.EMBED_ID, model.id()), null);
        registry.register(new FakeModels.Embedder(FakeModels.EMBED_ID));
        registry.register(model);
        try (ModelInvoker invoker = new ModelInvoker(registry, new ResultCache(1 << 20), FakeModels.settings())) {
            LiteralPlanner gated = new LiteralPlanner(invoker, PARSER);
            RagSettings nulls = rig.settings().with("rag_on_error", "null", rig.settings());
            CompletableFuture<LiteralPlan> plan = gated.plan(session, "SELECT GENERATE('slow but fine'), GENERATE('bad')",
                    Dialect.MARIADB, nulls, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (prompts.stream().filter("bad"::equals).count() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(5); // the batch's call and the retry of 'bad'
            }
            Thread.sleep(50);
            gate.complete(null);
            assertEquals("SELECT 'gen:slow but fine', NULL", io.ragproxy.server.testing.SqlText.unlabelled(
                    plan.get(10, TimeUnit.SECONDS).backendSql()));
            assertEquals(1, session.warnings.size(), session.warnings.toString());
            assertTrue(session.warnings.get(0).contains("'bad'"), session.warnings.get(0));
        }
    }

    @Test
    void noWarningWhenTheCallsSucceedOrTheStatementFails() throws Exception {
        planner.plan(session, "SELECT GENERATE('fine')", Dialect.MARIADB, rig.settings(), false).get(10, TimeUnit.SECONDS);
        rig.generator().failWith = new ModelException(ModelException.Kind.SERVER_ERROR, FakeModels.TEXT_ID, "500");
        try {
            planner.plan(session, "SELECT GENERATE('x')", Dialect.MARIADB, rig.settings(), false).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException expected) {
            // rag_on_error = 'error': an error, not a warning
        }
        assertEquals(List.of(), session.warnings);
    }
}
