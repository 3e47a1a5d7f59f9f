package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The catalog lives in the backend: it survives a restart of the proxy, and a second proxy in front of the same
 * backend sees what the first one created — at its next session or statement with an AI call once a second has
 * passed since it last looked (the version check runs at most once a second).
 */
class CatalogPersistenceTest {
    private static final String DB = "ragproxy_it_catalog";
    private static final String HAIKU = AuroraFunctionsTest.HAIKU;

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, CatalogWorld::tidbCloudModels);

    static String body(String text) {
        return AuroraFunctionsTest.haikuBody(text);
    }

    static String expected(String text) {
        return WORLD.reference().post(HAIKU, "invoke", body(text).getBytes(StandardCharsets.UTF_8)).join()
                .at("/content/0/text").asText();
    }

    static String ask(Connection c, String function, String text) throws Exception {
        return scalar(c, "SELECT json_unquote(json_extract(" + function + "('" + body(text) + "'), '$.content[0].text'))");
    }

    @Test
    void catalogSurvivesARestartOfTheProxy() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE FUNCTION kept (request_body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID '"
                    + HAIKU + "'");
            exec(c, "CREATE MODEL kept_model PREDICT answer USING engine = 'bedrock', question_column = 'question'");
            exec(c, "CREATE TABLE kept_docs (id INT PRIMARY KEY, content TEXT, v VECTOR(1024) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', content)) STORED)");
        }
        WORLD.restartProxy();
        try (Connection c = WORLD.proxy().connect(DB)) {
            // The first statement of the new proxy's first session already knows them: the session start read them.
            assertEquals(expected("after a restart"), ask(c, "kept", "after a restart"));
            List<String> names = rows(c, "SHOW RAG FUNCTIONS").stream().map(r -> r.get(0)).toList();
            assertTrue(names.containsAll(List.of(DB + ".kept", "kept_model", DB + ".kept_docs.v")), names.toString());
            assertNotNull(scalar(c, "SELECT answer FROM kept_model WHERE question = 'still there?'"));
            update(c, "INSERT INTO kept_docs (id, content) VALUES (1, 'filled after a restart')");
            assertEquals("1", scalar(c, "SELECT COUNT(*) FROM kept_docs WHERE v IS NOT NULL"));
            exec(c, "DROP FUNCTION kept");
            exec(c, "DROP MODEL kept_model");
            exec(c, "DROP TABLE kept_docs");
        }
    }

    @Test
    void secondProxySeesWhatTheFirstCreatesAndDrops() throws Exception {
        AiProxy second = WORLD.startProxy();
        try (Connection b = second.connect(DB)) {
            // The second proxy's session is open before the function exists.
            assertEquals("1", scalar(b, "SELECT 1"));
            try (Connection a = WORLD.proxy().connect(DB)) {
                exec(a, "CREATE FUNCTION shared_fn (request_body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                        + " MODEL ID '" + HAIKU + "'");
            }
            Thread.sleep(1100);
            // A statement with an AI call makes the open session look again; then the function is known there too.
            assertTrue(rows(b, "SHOW RAG FUNCTIONS").stream().anyMatch(r -> r.get(0).equals(DB + ".shared_fn")));
            assertEquals(expected("from the second proxy"), ask(b, "shared_fn", "from the second proxy"));

            try (Connection a = WORLD.proxy().connect(DB)) {
                exec(a, "DROP FUNCTION shared_fn");
            }
            Thread.sleep(1100);
            // A new session of the second proxy starts with the current catalog: the call is the backend's again.
            try (Connection b2 = second.connect(DB)) {
                assertSqlError(b2, "SELECT shared_fn('{}')", 1305, "42000");
            }
        } finally {
            WORLD.close(second);
        }
    }

    @Test
    void catalogDroppedAndRecreatedBehindTheProxyIsNotMistakenForTheCachedOne() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE FUNCTION first_fn (request_body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID '" + HAIKU + "'");
        }
        CatalogWorld.dropCatalog();
        AiProxy other = WORLD.startProxy();
        try (Connection o = other.connect(DB)) {
            exec(o, "CREATE FUNCTION second_fn (request_body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID '" + HAIKU + "'");
        } finally {
            WORLD.close(other);
        }
        Thread.sleep(1100);
        // Same version counter (1) as the cached catalog, another epoch: the proxy reads it again.
        try (Connection c = WORLD.proxy().connect(DB)) {
            List<String> names = rows(c, "SHOW RAG FUNCTIONS").stream().map(r -> r.get(0)).toList();
            assertTrue(names.contains(DB + ".second_fn") && !names.contains(DB + ".first_fn"), names.toString());
            exec(c, "DROP FUNCTION second_fn");
        }
    }
}
