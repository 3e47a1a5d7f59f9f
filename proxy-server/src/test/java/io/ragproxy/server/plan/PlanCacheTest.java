package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.text.SqlMode;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A shared literal template plans as a fresh parse does, and the cache of them stays bounded. */
class PlanCacheTest {
    FakeModels.Generator generator;
    ModelInvoker invoker;
    LiteralPlanner planner;
    RagSettings settings;
    FakeSession session;

    @BeforeEach
    void setUp() {
        FakeModels.Rig rig = FakeModels.rig();
        generator = rig.generator();
        invoker = rig.invoker();
        settings = rig.settings();
        planner = new LiteralPlanner(invoker, LiteralPlannerTest.PARSER);
        session = new FakeSession(LiteralPlannerTest.MARIADB, true, settings).answer("SELECT @q", "the question");
    }

    @AfterEach
    void tearDown() {
        invoker.close();
    }

    String uncached(String sql, Dialect dialect, RagSettings s) throws Exception {
        return planner.plan(session, sql, dialect, s, false).get(10, TimeUnit.SECONDS).backendSql();
    }

    String fromTemplate(LiteralTemplate template, RagSettings s) throws Exception {
        return planner.plan(session, template, s, false).get(10, TimeUnit.SECONDS).backendSql();
    }

    @Test
    void aTemplateFilledAgainGivesTheBackendSqlOfAFreshParse() throws Exception {
        for (String sql : List.of(
                "SELECT EMBED('hello')",
                "SELECT id, VEC_COSINE_DISTANCE(v, EMBED('What is TiDB?')) AS d FROM docs ORDER BY d LIMIT 3",
                "SELECT id FROM t ORDER BY VEC_EMBED_COSINE_DISTANCE(v, 'hi') LIMIT 3",
                "SELECT GENERATE('it''s'), EMBED(@q) FROM t WHERE a = 'x' AND b = 0x1F",
                "INSERT INTO t (a, v) VALUES ('a', EMBED('a')), ('b', EMBED('b'))",
                "SELECT GENERATE('a') INTO @answer")) {
            for (Dialect dialect : List.of(Dialect.MARIADB, Dialect.TIDB)) {
                LiteralTemplate template = planner.template(planner.parse(sql), dialect);
                assertNotNull(template, sql);
                String expected = uncached(sql, dialect, settings);
                assertEquals(expected, fromTemplate(template, settings), sql);
                assertEquals(expected, fromTemplate(template, settings), "filled a second time: " + sql);
            }
        }
    }

    @Test
    void aChangedModelSettingIsAppliedToACachedTemplate() throws Exception {
        FakeModels.Generator other = new FakeModels.Generator("other-gen");
        invoker.registry().register(other);
        LiteralTemplate template = planner.template(planner.parse("SELECT GENERATE('q')"), Dialect.MARIADB);
        fromTemplate(template, settings);
        assertEquals(List.of("q"), generator.prompts);

        RagSettings switched = settings.with("rag_text_model", "other-gen", settings);
        assertEquals(uncached("SELECT GENERATE('q')", Dialect.MARIADB, switched), fromTemplate(template, switched));
        assertEquals(List.of("q"), other.prompts);
    }

    @Test
    void argumentsHoldingATidbVectorFunctionAreNotShared() {
        assertNull(planner.template(planner.parse("SELECT GENERATE(VEC_AS_TEXT(@v))"), Dialect.MARIADB));
    }

    @Test
    void aNewCatalogVersionOrDialectOrSqlModeMissesTheCache() {
        PlanCache cache = new PlanCache(10, Runnable::run);
        LiteralTemplate template = planner.template(planner.parse("SELECT EMBED('x')"), Dialect.MARIADB);
        cache.put(PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""), template);

        assertNotNull(cache.get(PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, SessionText.DEFAULT, "e", 1, "")));
        assertNull(cache.get(PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, SessionText.DEFAULT, "e", 2, "")));
        assertNull(cache.get(PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, SessionText.DEFAULT, "f", 1, "")));
        assertNull(cache.get(PlanCache.key("SELECT EMBED('x')", Dialect.TIDB, SessionText.DEFAULT, "e", 1, "")));
        assertNull(cache.get(PlanCache.key("SELECT EMBED('y')", Dialect.MARIADB, SessionText.DEFAULT, "e", 1, "")));
        SessionText latin1 = new SessionText("latin1", "latin1", SessionText.DEFAULT.sqlMode());
        assertNull(cache.get(PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, latin1, "e", 1, "")));
        assertNull(cache.get(PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, SessionText.DEFAULT, "e", 1,
                "other@%")), "with [cache] scope = account, another account's template is not its own");
    }

    @Test
    void theCacheKeepsAtMostItsMaximumSize() {
        PlanCache cache = new PlanCache(5, Runnable::run);
        for (int i = 0; i < 50; i++) {
            String sql = "SELECT EMBED('" + i + "')";
            cache.put(PlanCache.key(sql, Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""),
                    planner.template(planner.parse(sql), Dialect.MARIADB));
            assertTrue(cache.size() <= 5, "size " + cache.size() + " after " + (i + 1));
        }
    }

    @Test
    void aTemplateKeptByShapeIsFoundForAnotherStatementOfTheShapeAndCounted() {
        PlanCache cache = new PlanCache(10, Runnable::run);
        String first = "SELECT EMBED('x') AS e FROM t LIMIT 3";
        StatementShape shape = StatementShape.of(first, SessionText.DEFAULT.sqlMode());
        LiteralTemplate template = planner.template(planner.parse(first), Dialect.MARIADB, shape,
                SessionText.DEFAULT.sqlMode());
        assertTrue(template.sharedByShape());
        cache.put(PlanCache.key(shape, Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""), template);

        StatementShape other = StatementShape.of("SELECT EMBED('y') AS e FROM t LIMIT 5", SqlMode.DEFAULT);
        assertSame(template, cache.find(PlanCache.key(other, Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""),
                PlanCache.key(other.sql(), Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""), other));
        assertNull(cache.find(PlanCache.key(other, Dialect.MARIADB, SessionText.DEFAULT, "e", 2, ""), null, other),
                "another catalog version");
        assertNull(cache.get(PlanCache.key(other.sql(), Dialect.MARIADB, SessionText.DEFAULT, "e", 1, "")),
                "a shape's key is not a text's");
        assertEquals(new PlanCache.Counts(1, 0, 1), cache.counts());

        // Made from two equal literals, a template is found only for statements with those literals equal too.
        String equal = "SELECT EMBED('a') AS e FROM t WHERE c = 'a'";
        StatementShape equalShape = StatementShape.of(equal, SqlMode.DEFAULT);
        StatementShape different = StatementShape.of("SELECT EMBED('b') AS e FROM t WHERE c = 'c'", SqlMode.DEFAULT);
        PlanCache.Key key = PlanCache.key(equalShape, Dialect.MARIADB, SessionText.DEFAULT, "e", 1, "");
        assertEquals(key, PlanCache.key(different, Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""), "one shape");
        cache.put(key, planner.template(planner.parse(equal), Dialect.MARIADB, equalShape, SqlMode.DEFAULT));
        assertNull(cache.find(key, null, different));
        StatementShape alsoEqual = StatementShape.of("SELECT EMBED('d') AS e FROM t WHERE c = 'd'", SqlMode.DEFAULT);
        assertNotNull(cache.find(key, null, alsoEqual));
        assertEquals(new PlanCache.Counts(2, 0, 2), cache.counts());
    }

    @Test
    void aShapeIsReportedAsMissedBeforeFromItsSecondMissOn() {
        PlanCache cache = new PlanCache(10, Runnable::run);
        PlanCache.Key a = PlanCache.key(StatementShape.of("SELECT EMBED('a') AS e", SqlMode.DEFAULT), Dialect.MARIADB,
                SessionText.DEFAULT, "e", 1, "");
        PlanCache.Key b = PlanCache.key(StatementShape.of("SELECT EMBED('b') AS e", SqlMode.DEFAULT), Dialect.MARIADB,
                SessionText.DEFAULT, "e", 1, "");
        PlanCache.Key other = PlanCache.key(StatementShape.of("SELECT EMBED('a') AS f", SqlMode.DEFAULT),
                Dialect.MARIADB, SessionText.DEFAULT, "e", 1, "");
        assertFalse(cache.missedBefore(a));
        assertTrue(cache.missedBefore(b), "the same shape");
        assertFalse(cache.missedBefore(other), "another shape");
        assertFalse(cache.missedBefore(null));
        assertFalse(new PlanCache(0, Runnable::run).missedBefore(a));
    }

    @Test
    void aCacheOfSizeZeroKeepsNothing() {
        PlanCache cache = new PlanCache(0, Runnable::run);
        assertFalse(cache.enabled());
        PlanCache.Key key = PlanCache.key("SELECT EMBED('x')", Dialect.MARIADB, SessionText.DEFAULT, "e", 1, "");
        cache.put(key, planner.template(planner.parse("SELECT EMBED('x')"), Dialect.MARIADB));
        assertNull(cache.get(key));
        assertEquals(0, cache.size());
    }

    @Test
    void longStatementsAreNotKept() {
        String sql = "SELECT EMBED('" + "x".repeat(PlanCache.MAXIMUM_STATEMENT_LENGTH) + "')";
        assertNull(PlanCache.key(sql, Dialect.MARIADB, SessionText.DEFAULT, "e", 1, ""));
        assertNull(PlanCache.key(StatementShape.of(sql, SqlMode.DEFAULT), Dialect.MARIADB, SessionText.DEFAULT, "e", 1,
                ""));
        assertNull(new PlanCache(5, Runnable::run).get(null));
    }
}
