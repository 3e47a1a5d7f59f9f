package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Statements that repeat verbatim or with other literals (the same shape) are planned from the proxy's plan cache:
 * the client sees the results a fresh parse gives (a proxy with the plan cache off), a prepared statement's executes
 * share one template, a setting or a catalog object created since is honoured, and the cache stays bounded.
 */
class PlanCacheTest {
    private static final String DB = "ragproxy_it_ai_plancache";
    private static AiProxy proxy;
    /** The same proxy with {@code [proxy] plan_cache_size = 0}: every statement parsed. */
    private static AiProxy uncached;

    @BeforeAll
    static void start() throws Exception {
        LocalBackend backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        CatalogWorld.dropCatalog();
        proxy = AiProxy.local();
        uncached = AiProxy.start(AiProxy.JSON.createObjectNode(), false,
                io.ragproxy.server.config.SessionLimits.DEFAULT.withPlanCacheSize(0));
        try (Connection c = proxy.connect(DB)) {
            exec(c, "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, v VECTOR(384))");
            exec(c, "INSERT INTO docs VALUES (1, 'cats purr', EMBED('cats purr')), (2, 'dogs bark', EMBED('dogs bark')),"
                    + " (3, 'stocks fell', EMBED('stocks fell'))");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (uncached != null) {
            uncached.close();
        }
        LocalBackend.get().dropDatabase(DB);
        CatalogWorld.dropCatalog();
    }

    static String nearest(String question) {
        return "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(v, EMBED('" + question + "')), id LIMIT 1";
    }

    @Test
    void aRepeatedStatementGivesTheResultsOfItsFirstRun() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            String cats = scalar(c, nearest("a kitten"));
            String dogs = scalar(c, nearest("a puppy barking"));
            String vector = scalar(c, "SELECT VEC_ToText(EMBED('a kitten'))");
            for (int i = 0; i < 3; i++) {
                assertEquals(cats, scalar(c, nearest("a kitten")));
                assertEquals(dogs, scalar(c, nearest("a puppy barking")));
                assertEquals(vector, scalar(c, "SELECT VEC_ToText(EMBED('a kitten'))"));
            }
            assertEquals("1", cats);
            assertEquals("2", dogs);
            // The backend's own spelling of the same vector gives the same order.
            assertEquals(List.of(List.of("1"), List.of("2"), List.of("3")), rows(c,
                    "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('" + vector + "')), id"));
            assertEquals(rows(c, "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(v, EMBED('a kitten')), id"),
                    rows(c, "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(v, EMBED('a kitten')), id"));
        }
    }

    /** Rows, with the column labels first, of {@code sql} run on {@code c}. */
    static List<List<String>> labelledRows(Connection c, String sql) throws SQLException {
        try (java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery(sql)) {
            List<String> labels = new java.util.ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                labels.add(rs.getMetaData().getColumnLabel(i));
            }
            List<List<String>> out = new java.util.ArrayList<>();
            out.add(labels);
            out.addAll(rows(rs));
            return out;
        }
    }

    @Test
    void statementsOfOneShapeGiveTheResultsOfAProxyWithoutPlanCache() throws Exception {
        List<String> shapes = List.of(
                "SELECT id, body FROM docs WHERE id > %s ORDER BY VEC_DISTANCE_COSINE(v, EMBED('%s')), id LIMIT %s",
                "SELECT VEC_ToText(EMBED('%2$s')), %1$s + %3$s");
        List<List<String>> literals = List.of(List.of("0", "a kitten", "1"), List.of("1", "a puppy barking", "2"),
                List.of("4", "it''s a \"cat\" toy", "3"), List.of("2", "stocks \\\\ bonds\\tand\\nnotes", "5"),
                List.of("0", "l''été des chats", "10"));
        try (Connection c = proxy.connect(DB); Connection direct = uncached.connect(DB)) {
            for (String shape : shapes) {
                var before = proxy.pipeline().planCache().counts();
                for (List<String> l : literals) {
                    String sql = String.format(shape, l.toArray());
                    assertEquals(labelledRows(direct, sql), labelledRows(c, sql), sql);
                }
                var after = proxy.pipeline().planCache().counts();
                // The first statement of a shape is kept by its text; the second is parsed and its template verified
                // for the shape; every later one fills it.
                assertEquals(literals.size() - 2, after.shapeHits() - before.shapeHits(),
                        "each statement after the second filled the second one's template: " + shape);
                assertEquals(2, after.misses() - before.misses(), shape);
            }
            assertEquals(new io.ragproxy.server.plan.PlanCache.Counts(0, 0, 0),
                    uncached.pipeline().planCache().counts(), "the plan cache is off");
            assertEquals(0, uncached.pipeline().planCache().size());
        }
    }

    @Test
    void preparedExecutesWithOtherParametersShareOneTemplate() throws Exception {
        String sql = "SELECT id FROM docs WHERE id > ? ORDER BY VEC_DISTANCE_COSINE(v, EMBED(?)), id LIMIT ?";
        List<List<Object>> parameters = List.of(List.of(0, "a kitten", 1), List.of(0, "a puppy barking", 2),
                List.of(1, "stocks fell sharply", 3), List.of(0, "a kitten", 3));
        for (io.ragproxy.it.Driver driver : io.ragproxy.it.Driver.values()) {
            try (Connection c = proxy.connect(driver, DB, driver.serverPrepare());
                    Connection direct = uncached.connect(driver, DB, driver.serverPrepare());
                    java.sql.PreparedStatement ps = c.prepareStatement(sql);
                    java.sql.PreparedStatement twin = direct.prepareStatement(sql)) {
                var before = proxy.pipeline().planCache().counts();
                for (List<Object> p : parameters) {
                    for (int i = 0; i < p.size(); i++) {
                        ps.setObject(i + 1, p.get(i));
                        twin.setObject(i + 1, p.get(i));
                    }
                    assertEquals(rows(twin), rows(ps), driver + " " + p);
                }
                var after = proxy.pipeline().planCache().counts();
                assertEquals(parameters.size(), after.shapeHits() + after.misses() - before.shapeHits()
                        - before.misses(), driver + ": every execute looked for a template");
                assertTrue(after.misses() - before.misses() <= 2, driver + ": at most the first two executes were"
                        + " parsed, " + before + " -> " + after);
                assertTrue(after.shapeHits() - before.shapeHits() >= parameters.size() - 2, driver + ": " + before
                        + " -> " + after);
            }
        }
    }

    @Test
    void aChangedSettingIsHonouredByARepeatedStatement() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            String sql = "SELECT VEC_ToText(EMBED('settings matter'))";
            String before = scalar(c, sql);
            exec(c, "SET rag_embedding_model = 'no-such-model'");
            assertSqlError(c, sql, 7011, "42000");
            assertSqlError(c, "SELECT VEC_ToText(EMBED('another literal, the same shape'))", 7011, "42000");
            exec(c, "SET rag_embedding_model = DEFAULT");
            assertEquals(before, scalar(c, sql));
        }
    }

    @Test
    void aCatalogFunctionCreatedSinceIsRewrittenNotReplayed() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            String sql = "SELECT VEC_ToText(EMBED('x')) AS v, plan_cache_shout('hi') AS s";
            SQLException before = assertSqlError(c, sql, 1305, "42000"); // the backend: no such function
            assertSqlError(c, sql, 1305, "42000");
            assertSqlError(c, sql.replace("'x'", "'y'").replace("'hi'", "'ho'"), 1305, "42000"); // by shape
            exec(c, "CREATE FUNCTION plan_cache_shout (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID 'anthropic.claude-3-haiku-20240307-v1:0'");
            try {
                SQLException other = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> scalar(c, sql.replace("'x'", "'z'").replace("'hi'", "'he'")));
                assertNotEquals(1305, other.getErrorCode(), "another statement of the shape: " + other.getMessage());
                // Now the proxy rewrites the call into a model call: whatever it answers, not the backend's 1305.
                SQLException after = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                        () -> scalar(c, sql));
                assertNotEquals(1305, after.getErrorCode(), after.getMessage());
                assertNotEquals(before.getMessage(), after.getMessage());
            } finally {
                exec(c, "DROP FUNCTION plan_cache_shout");
            }
        }
    }

    @Test
    void theCacheStaysBounded() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            for (int i = 0; i < 20; i++) { // 20 shapes: the alias is part of the shape
                scalar(c, "SELECT VEC_ToText(EMBED('bounded " + i + "')) IS NOT NULL AS bounded_" + i);
            }
        }
        long size = proxy.pipeline().planCache().size();
        assertTrue(size >= 20 && size <= io.ragproxy.server.plan.PlanCache.DEFAULT_MAXIMUM_SIZE, "size " + size);
    }
}
