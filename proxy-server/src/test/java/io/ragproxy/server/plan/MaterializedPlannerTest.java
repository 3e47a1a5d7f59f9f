package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SQL the materialized plan asks the backend and the statement it hands over, with a fake backend. */
class MaterializedPlannerTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;
    FakeModels.Generator generator;
    ModelInvoker invoker;
    RagSettings settings;
    FakeSession session;
    LiteralPlanner literals;
    MaterializedPlanner planner;

    @BeforeEach
    void setUp() {
        FakeModels.Rig rig = FakeModels.rig();
        generator = rig.generator();
        invoker = rig.invoker();
        settings = rig.settings();
        session = new FakeSession(LiteralPlannerTest.MARIADB, true, settings);
        literals = new LiteralPlanner(invoker, PARSER);
        planner = new MaterializedPlanner(literals);
    }

    @AfterEach
    void tearDown() {
        invoker.close();
    }


    private MaterializedPlanner.MaterializedPlan plan(String sql) {
        StatementAnalysis analysis = literals.parse(sql);
        assertTrue(MaterializedPlanner.applies(analysis), sql);
        try {
            return planner.plan(session, analysis, Dialect.MARIADB, settings, false).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new AssertionError(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String key(String argument) {
        return "SHA2(CONVERT(" + argument + " USING utf8mb4), 256)";
    }

    @Test
    void listsDistinctArgumentsOverTheCallsQueryBlockAndLooksResultsUpInline() {
        session.answerRows("SELECT DISTINCT CAST(CONVERT(body USING utf8mb4) AS BINARY) AS k FROM docs WHERE (id > 3)"
                + " LIMIT 1003", "a", null, "", "b");
        MaterializedPlanner.MaterializedPlan p = plan("SELECT id FROM docs WHERE GENERATE(body) = 'x' AND id > 3");
        assertEquals("SELECT id FROM docs WHERE CASE " + key("body") + " WHEN '" + MaterializedPlanner.sha256("a")
                + "' THEN 'gen:a' WHEN '" + MaterializedPlanner.sha256("b") + "' THEN 'gen:b' END = 'x' AND id > 3",
                p.backendSql());
        assertEquals(List.of("a", "b"), generator.prompts, "NULL and '' are not sent");
        assertEquals(2, p.modelInputs());
        assertTrue(p.cleanup().isEmpty(), "inline results need no temporary table");
    }

    @Test
    void aJoinConditionWaitingForResultsIsDroppedOnlyWhileListingArguments() {
        session.answerRows("SELECT DISTINCT CAST(CONVERT(a.x USING utf8mb4) AS BINARY) AS k FROM t a JOIN t b ON 1"
                + " LIMIT 1003", "q");
        MaterializedPlanner.MaterializedPlan p = plan("SELECT a.id FROM t a JOIN t b ON GENERATE(a.x) = b.y");
        assertEquals("SELECT a.id FROM t a JOIN t b ON CASE " + key("a.x") + " WHEN '" + MaterializedPlanner.sha256("q")
                + "' THEN 'gen:q' END = b.y", p.backendSql());
    }

    @Test
    void anUpdateListsArgumentsWithEarlierAssignmentsNewValues() {
        session.answerRows("SELECT DISTINCT CAST(CONVERT((CONCAT(body, '!')) USING utf8mb4) AS BINARY) AS k FROM t"
                + " WHERE (id < 3) LIMIT 1003", "x!");
        MaterializedPlanner.MaterializedPlan p = plan("UPDATE t SET body = CONCAT(body, '!'), s = GENERATE(body)"
                + " WHERE id < 3 ORDER BY id LIMIT 2");
        // The backend reads the new body itself when it evaluates s's key: the key is written as the user wrote it.
        assertEquals("UPDATE t SET body = CONCAT(body, '!'), s = CASE " + key("body") + " WHEN '"
                + MaterializedPlanner.sha256("x!") + "' THEN 'gen:x!' END WHERE id < 3 ORDER BY id LIMIT 2",
                p.backendSql());
    }

    @Test
    void manyResultsGoToATemporaryTableDroppedAfterTheStatement() {
        String[] values = new String[MaterializedPlanner.INLINE_MAX_VALUES + 1];
        for (int i = 0; i < values.length; i++) {
            values[i] = "v" + i;
        }
        session.answerRows("SELECT DISTINCT CAST(CONVERT(b USING utf8mb4) AS BINARY) AS k FROM t LIMIT 1003", values);
        session.answer("DROP TEMPORARY TABLE IF EXISTS ragproxy_results_0");
        session.answer("CREATE TEMPORARY TABLE ragproxy_results_0 (h BINARY(64) NOT NULL PRIMARY KEY,"
                + " r LONGTEXT CHARACTER SET utf8mb4)");
        StringBuilder insert = new StringBuilder("INSERT INTO ragproxy_results_0 (h, r) VALUES ");
        for (int i = 0; i < values.length; i++) {
            insert.append(i == 0 ? "" : ", ").append("('").append(MaterializedPlanner.sha256(values[i]))
                    .append("', 'gen:").append(values[i]).append("')");
        }
        session.answer(insert.toString());
        MaterializedPlanner.MaterializedPlan p = plan("SELECT a, GENERATE(b) AS g FROM t");
        assertEquals("SELECT a, (SELECT r FROM ragproxy_results_0 WHERE h = " + key("b") + ") AS g FROM t",
                p.backendSql());
        assertEquals(List.of("DROP TEMPORARY TABLE IF EXISTS ragproxy_results_0"), p.cleanup());
        assertTrue(session.queries.contains(insert.toString()), session.queries.toString());
    }

    @Test
    void theCostGuardCountsAndRefusesBeforeAnyModelCall() {
        session.answerRows("SELECT DISTINCT CAST(CONVERT(b USING utf8mb4) AS BINARY) AS k FROM t LIMIT 5", "1", "2",
                "3", "4", "5");
        session.answer("SELECT COUNT(k) FROM (SELECT DISTINCT CAST(CONVERT(b USING utf8mb4) AS BINARY) AS k FROM t) q"
                + " WHERE k <> ''", "77");
        settings = settings.with("rag_max_calls", "2", settings);
        ProxyException e = assertThrows(ProxyException.class, () -> plan("SELECT GENERATE(b) FROM t"));
        assertEquals(ProxyError.TOO_MANY_CALLS.code(), e.code());
        assertTrue(e.getMessage().contains("needs 77 distinct model inputs"), e.getMessage());
        assertTrue(generator.prompts.isEmpty());
    }

    @Test
    void argumentsWithoutAQueryBlockToListThemAreRefusedClearly() {
        ProxyException e = assertThrows(ProxyException.class, () -> plan("INSERT INTO t (a, b) VALUES (1, GENERATE(a))"));
        assertEquals(ProxyError.FEATURE_NOT_AVAILABLE.code(), e.code());
        assertTrue(e.getMessage().contains("INSERT … SELECT"), e.getMessage());
        assertFalse(session.queries.stream().anyMatch(q -> q.startsWith("INSERT")), "nothing written");
    }
}
