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
 * Statements that repeat verbatim are planned from the proxy's plan cache: the client sees the results a fresh
 * parse gives, a setting or a catalog object created since is honoured, and the cache stays bounded.
 */
class PlanCacheTest {
    private static final String DB = "ragproxy_it_ai_plancache";
    private static AiProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        LocalBackend backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        CatalogWorld.dropCatalog();
        proxy = AiProxy.local();
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

    @Test
    void aChangedSettingIsHonouredByARepeatedStatement() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            String sql = "SELECT VEC_ToText(EMBED('settings matter'))";
            String before = scalar(c, sql);
            exec(c, "SET rag_embedding_model = 'no-such-model'");
            assertSqlError(c, sql, 7011, "42000");
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
            exec(c, "CREATE FUNCTION plan_cache_shout (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID 'anthropic.claude-3-haiku-20240307-v1:0'");
            try {
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
            for (int i = 0; i < 20; i++) {
                scalar(c, "SELECT VEC_ToText(EMBED('bounded " + i + "')) IS NOT NULL");
            }
        }
        long size = proxy.pipeline().planCache().size();
        assertTrue(size > 0 && size <= io.ragproxy.server.plan.PlanCache.DEFAULT_MAXIMUM_SIZE, "size " + size);
    }
}
