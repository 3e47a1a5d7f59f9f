package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions.InputPurpose;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.testing.SqlText;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LiteralPlannerTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;
    static final String MARIADB = "5.5.5-11.8.6-MariaDB-0+deb13u1";
    static final String TIDB = "8.0.11-TiDB-v8.5.0";

    FakeModels.Embedder embedder;
    FakeModels.Generator generator;
    ModelInvoker invoker;
    LiteralPlanner planner;
    RagSettings settings;
    FakeSession session;


    @BeforeEach
    void setUp() {
        FakeModels.Rig rig = FakeModels.rig();
        embedder = rig.embedder();
        generator = rig.generator();
        invoker = rig.invoker();
        settings = rig.settings();
        planner = new LiteralPlanner(invoker, PARSER);
        session = new FakeSession(MARIADB, true, settings);
    }

    @AfterEach
    void tearDown() {
        invoker.close();
    }

    LiteralPlan plan(String sql, Dialect dialect) {
        return plan(sql, dialect, settings, false);
    }

    LiteralPlan plan(String sql, Dialect dialect, RagSettings s, boolean dryRun) {
        try {
            LiteralPlan p = planner.plan(session, sql, dialect, s, dryRun).get(10, TimeUnit.SECONDS);
            return new LiteralPlan(SqlText.unlabelled(p.backendSql()), p.modelInputs(), p.models());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new AssertionError(e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The ProxyException a plan fails with, whether thrown at once or through the future. */
    ProxyException failure(String sql, RagSettings s) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> plan(sql, Dialect.MARIADB, s, false));
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return assertInstanceOf(ProxyException.class, t, () -> "got " + t);
    }

    ProxyException failure(String sql) {
        return failure(sql, settings);
    }

    @Test
    void embedOnMariadbAndTidb() {
        LiteralPlan m = plan("SELECT EMBED('hello')", Dialect.MARIADB);
        assertEquals("SELECT VEC_FromText('[5.0,104.0,-0.5]')", m.backendSql());
        assertEquals(1, m.modelInputs());
        assertEquals(List.of(FakeModels.EMBED_ID), m.models());
        LiteralPlan t = plan("SELECT EMBED('hello')", Dialect.TIDB);
        assertEquals("SELECT '[5.0,104.0,-0.5]'", t.backendSql());
        assertTrue(session.queries.isEmpty(), "literals need no backend query: " + session.queries);
    }

    @Test
    void embedTextAndExplicitModel() {
        assertEquals("SELECT '[2.0,104.0,-0.5]', '[2.0,104.0,-0.5]'",
                plan("SELECT EMBED_TEXT('fake-embed', 'hi'), EMBED('hi', 'fake-embed')", Dialect.TIDB).backendSql());
        assertEquals(1, embedder.textsEmbedded());
    }

    @Test
    void distanceFunctions() {
        assertEquals("SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[2.0,104.0,-0.5]')) LIMIT 3",
                plan("SELECT id FROM t ORDER BY VEC_EMBED_COSINE_DISTANCE(v, 'hi') LIMIT 3", Dialect.MARIADB).backendSql());
        assertEquals("SELECT id FROM t WHERE VEC_L2_DISTANCE(v, '[2.0,104.0,-0.5]') < 1",
                plan("SELECT id FROM t WHERE VEC_EMBED_L2_DISTANCE(v, 'hi') < 1", Dialect.TIDB).backendSql());
    }

    @Test
    void readmeQueryOnMariadb() {
        String sql = plan("SELECT content, VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) AS d FROM docs "
                + "ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) LIMIT 1", Dialect.MARIADB).backendSql();
        String v = "VEC_FromText('[13.0,87.0,-0.5]')";
        assertEquals("SELECT content, VEC_DISTANCE_COSINE(embedding, " + v + ") AS d FROM docs "
                + "ORDER BY VEC_DISTANCE_COSINE(embedding, " + v + ") LIMIT 1", sql);
        assertEquals(1, embedder.textsEmbedded());
    }

    @Test
    void generateQuotesItsAnswer() {
        assertEquals("SELECT 'gen:it''s'", plan("SELECT GENERATE('it''s')", Dialect.TIDB).backendSql());
        assertEquals("SELECT _utf8mb4 X'67656e3a615c62'", plan("SELECT GENERATE('a\\\\b')", Dialect.TIDB).backendSql());
        assertEquals(List.of("it's", "a\\b"), generator.prompts);
    }

    @Test
    void chineseText() {
        // Non-ASCII model results go to the backend as utf8mb4 hex literals, whatever the session's character set.
        assertEquals("SELECT '[7.0,20160.0,-0.5]', _utf8mb4 X'"
                + java.util.HexFormat.of().formatHex("gen:什么是TiDB".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                + "'",
                plan("SELECT EMBED('什么是TiDB'), GENERATE('什么是TiDB')", Dialect.TIDB).backendSql());
    }

    @Test
    void deduplicatesWithinAndAcrossStatements() {
        String sql = "INSERT INTO t (v) VALUES (EMBED('a')), (EMBED('a')), (EMBED('b')), (EMBED('a'))";
        LiteralPlan p = plan(sql, Dialect.MARIADB);
        assertEquals(2, p.modelInputs());
        assertEquals(2, embedder.textsEmbedded());
        assertEquals(1, embedder.calls.size(), "one batch: " + embedder.calls);
        assertEquals("INSERT INTO t (v) VALUES (VEC_FromText('[1.0,97.0,-0.5]')), (VEC_FromText('[1.0,97.0,-0.5]')),"
                + " (VEC_FromText('[1.0,98.0,-0.5]')), (VEC_FromText('[1.0,97.0,-0.5]'))", p.backendSql());
        plan(sql, Dialect.MARIADB);
        assertEquals(2, embedder.textsEmbedded(), "the second statement is served from the cache");
        plan("SELECT GENERATE('x'), GENERATE('x')", Dialect.TIDB);
        assertEquals(List.of("x"), generator.prompts);
    }

    @Test
    void thousandIdenticalInputsOneCall() {
        StringBuilder sql = new StringBuilder("INSERT INTO t (v) VALUES ");
        for (int i = 0; i < 1000; i++) {
            sql.append(i == 0 ? "" : ", ").append("(EMBED('same'))");
        }
        LiteralPlan p = plan(sql.toString(), Dialect.TIDB);
        assertEquals(1, p.modelInputs());
        assertEquals(1, embedder.textsEmbedded());
    }

    @Test
    void inputPurposeDocumentForWritesQueryForReads() {
        plan("INSERT INTO t (v) VALUES (EMBED('doc1'))", Dialect.TIDB);
        assertEquals(InputPurpose.DOCUMENT, embedder.options.get(0).inputPurpose());
        plan("UPDATE t SET v = EMBED('doc2') WHERE id = 1", Dialect.TIDB);
        assertEquals(InputPurpose.DOCUMENT, embedder.options.get(1).inputPurpose());
        plan("SELECT EMBED('q1')", Dialect.TIDB);
        assertEquals(InputPurpose.QUERY, embedder.options.get(2).inputPurpose());
        plan("DELETE FROM t WHERE VEC_EMBED_COSINE_DISTANCE(v, 'q2') > 0.9", Dialect.TIDB);
        assertEquals(InputPurpose.QUERY, embedder.options.get(3).inputPurpose());
        plan("INSERT INTO t (d) VALUES (VEC_EMBED_COSINE_DISTANCE('[1]', 'q3'))", Dialect.TIDB);
        assertEquals(InputPurpose.QUERY, embedder.options.get(4).inputPurpose(), "a distance's text is a query");
        plan("SELECT EMBED('d4', NULL, '{\"input_type\":\"search_document\"}')", Dialect.TIDB);
        assertEquals(InputPurpose.DOCUMENT, embedder.options.get(5).inputPurpose(), "explicit input_type wins");
    }

    /** BUG: in UPDATE/INSERT, an EMBED the statement only compares against is embedded as a DOCUMENT. */
    @Test
    void embedInWhereOfUpdateIsAQuery() {
        plan("UPDATE t SET flag = 1 WHERE VEC_COSINE_DISTANCE(v, EMBED('find me')) < 0.3", Dialect.TIDB);
        assertEquals(InputPurpose.QUERY, embedder.options.get(0).inputPurpose());
    }

    @Test
    void userVariablesAndExpressionsInOneSelect() {
        session.answer("SELECT @q, CONCAT('Q: ', @q), UPPER('x')", "hello", "Q: hello", "X");
        LiteralPlan p = plan("SELECT EMBED(@q), GENERATE(CONCAT('Q: ', @q)), EMBED('lit'), GENERATE(UPPER('x'))",
                Dialect.TIDB);
        assertEquals(List.of("SELECT @q, CONCAT('Q: ', @q), UPPER('x')"), session.queries);
        assertEquals("SELECT '[5.0,104.0,-0.5]', 'gen:Q: hello', '[3.0,108.0,-0.5]', 'gen:X'", p.backendSql());
    }

    @Test
    void modelAndOptionsFromVariables() {
        session.answer("SELECT @m, @o", "fake-embed", "{\"dimensions\":3}");
        assertEquals("SELECT '[1.0,97.0,-0.5]'", plan("SELECT EMBED('a', @m, @o)", Dialect.TIDB).backendSql());
        assertEquals(3, embedder.options.get(0).dimensions());
    }

    @Test
    void backendErrorWhileEvaluatingPassesOn() {
        ProxyException e = failure("SELECT EMBED(@undefined_answer)");
        assertEquals(1064, e.code());
        assertEquals(0, embedder.textsEmbedded());
    }

    @Test
    void nullAndEmptyTextGiveNullWithoutCalls() {
        session.answer("SELECT @nothing", (String) null);
        LiteralPlan m = plan("SELECT EMBED(NULL), EMBED(''), GENERATE(''), GENERATE(NULL), EMBED(@nothing), "
                + "VEC_EMBED_COSINE_DISTANCE(v, '') FROM t", Dialect.MARIADB);
        assertEquals("SELECT NULL, NULL, NULL, NULL, NULL, VEC_DISTANCE_COSINE(v, NULL) FROM t", m.backendSql());
        assertEquals(0, m.modelInputs());
        assertEquals(0, embedder.textsEmbedded());
        assertTrue(generator.prompts.isEmpty());
    }

    @Test
    void maxCallsExceeded() {
        RagSettings two = settings.with("rag_max_calls", "2", settings);
        ProxyException e = failure("SELECT EMBED('a'), EMBED('b'), GENERATE('c'), EMBED('a')", two);
        assertEquals(ProxyError.TOO_MANY_CALLS.code(), e.code());
        assertEquals("54000", e.sqlState());
        assertTrue(e.getMessage().contains("needs 3 distinct model inputs"), e.getMessage());
        assertTrue(e.getMessage().contains("rag_max_calls = 2"), e.getMessage());
        assertTrue(e.getMessage().contains("SET rag_max_calls = 3"), e.getMessage());
        assertEquals(0, embedder.textsEmbedded());
        assertTrue(generator.prompts.isEmpty());
        assertEquals(2, plan("SELECT EMBED('a'), EMBED('b'), EMBED('a')", Dialect.TIDB, two, false).modelInputs());
    }

    @Test
    void unknownModel() {
        ProxyException e = failure("SELECT EMBED('a', 'no-such-model')");
        assertEquals(ProxyError.UNKNOWN_MODEL.code(), e.code());
        assertTrue(e.getMessage().contains("no-such-model"), e.getMessage());
        assertTrue(e.getMessage().contains("configured models"), e.getMessage());
        assertEquals(7011, failure("SELECT GENERATE('a', 'no-such-model')").code());
        assertEquals(7011, failure("SELECT EMBED('a', 'fake-text')").code(), "a text model cannot embed");
    }

    @Test
    void badOptions() {
        ProxyException e = failure("SELECT EMBED('a', NULL, '{\"bogus\":1}')");
        assertEquals(ProxyError.BAD_OPTIONS.code(), e.code());
        assertEquals("22023", e.sqlState());
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        assertEquals(7012, failure("SELECT GENERATE('a', NULL, '{\"temperature\":5}')").code());
        assertEquals(7012, failure("SELECT GENERATE('a', NULL, 'not json')").code());
    }

    @Test
    void modelFailureErrorOrNull() {
        embedder.failWith = new ModelException(ModelException.Kind.THROTTLED, FakeModels.EMBED_ID, "slow down");
        generator.failWith = new ModelException(ModelException.Kind.SERVER_ERROR, FakeModels.TEXT_ID, "500");
        ProxyException e = failure("SELECT EMBED('a')");
        assertEquals(ProxyError.MODEL_THROTTLED.code(), e.code());
        assertTrue(e.getMessage().contains(FakeModels.EMBED_ID), e.getMessage());
        assertEquals(ProxyError.MODEL_FAILED.code(), failure("SELECT GENERATE('a')").code());

        RagSettings nulls = settings.with("rag_on_error", "null", settings);
        assertEquals("SELECT NULL, NULL, VEC_DISTANCE_COSINE(v, NULL) FROM t",
                plan("SELECT EMBED('a'), GENERATE('b'), VEC_EMBED_COSINE_DISTANCE(v, 'c') FROM t", Dialect.MARIADB,
                        nulls, false).backendSql());
    }

    @Test
    void dryRunCallsNoModelAndElides() {
        LiteralPlan p = plan("SELECT EMBED('hello'), GENERATE('x'), EMBED(''), VEC_EMBED_COSINE_DISTANCE(v, 'q') FROM t",
                Dialect.MARIADB, settings, true);
        assertEquals(0, embedder.textsEmbedded());
        assertTrue(generator.prompts.isEmpty());
        assertEquals(3, p.modelInputs());
        assertEquals(List.of(FakeModels.EMBED_ID, FakeModels.TEXT_ID), p.models());
        assertEquals("SELECT VEC_FromText('[…3 floats from fake-embed…]'), '…text from fake-text…', NULL, "
                + "VEC_DISTANCE_COSINE(v, VEC_FromText('[…3 floats from fake-embed…]')) FROM t", p.backendSql());
    }

    @Test
    void dryRunStillChecksLimitsAndModels() {
        RagSettings one = settings.with("rag_max_calls", "1", settings);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> plan("SELECT EMBED('a'), EMBED('b')", Dialect.TIDB, one, true));
        assertTrue(e.getMessage().contains("rag_max_calls"), e.getMessage());
    }

    @Test
    void answerIsNotAvailable() {
        ProxyException e = failure("SELECT ANSWER('q', body) FROM t");
        assertEquals(ProxyError.FEATURE_NOT_AVAILABLE.code(), e.code());
        assertEquals("0A000", e.sqlState());
        assertTrue(e.getMessage().contains("ANSWER"), e.getMessage());
    }

    @Test
    void callsOverColumnsAreNotAvailable() {
        ProxyException e = failure("SELECT EMBED(t.body) FROM t");
        assertEquals(ProxyError.FEATURE_NOT_AVAILABLE.code(), e.code());
        assertTrue(e.getMessage().contains("t.body"), e.getMessage());
        assertEquals(7001, failure("UPDATE t SET v = EMBED(CONCAT(title, ' ', body))").code());
        assertEquals(7001, failure("SELECT GENERATE((SELECT body FROM t LIMIT 1))").code());
        assertEquals(7001, failure("SELECT EMBED('a', model_col) FROM t").code());
        assertTrue(session.queries.isEmpty());
        assertEquals(0, embedder.textsEmbedded());
    }

    @Test
    void nestedAiCallInVectorArgument() {
        assertEquals("SELECT VEC_COSINE_DISTANCE('[1.0,97.0,-0.5]', '[1.0,98.0,-0.5]')",
                plan("SELECT VEC_EMBED_COSINE_DISTANCE(EMBED('a'), 'b')", Dialect.TIDB).backendSql());
    }

    /**
     * BUG: an AI call nested in another AI call's text is sent to the backend, unrewritten, in the SELECT that
     * evaluates the outer call's arguments.
     */
    @Test
    void aiCallInsideAnotherCallsTextNeverReachesTheBackend() {
        try {
            LiteralPlan p = plan("SELECT EMBED(GENERATE('x'))", Dialect.TIDB);
            assertFalse(p.backendSql().toUpperCase().contains("GENERATE("), p.backendSql());
        } catch (ProxyException e) {
            // refusing the statement is acceptable, as long as the backend never saw the AI call
        }
        for (String q : session.queries) {
            if (q.toUpperCase().contains("GENERATE(")) {
                fail("the backend was sent an AI call: " + q);
            }
        }
    }
}
