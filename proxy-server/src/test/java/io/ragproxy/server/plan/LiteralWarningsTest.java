package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The literal plan's warnings under rag_on_error = 'null': one per failed distinct input, naming model and cause. */
class LiteralWarningsTest {
    static final ExecutorService PARSER = Executors.newCachedThreadPool();

    FakeModels.Rig rig;
    LiteralPlanner planner;
    FakeSession session;

    @AfterAll
    static void stop() {
        PARSER.shutdownNow();
    }

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
