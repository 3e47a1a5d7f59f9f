package io.ragproxy.server.pipeline;

import static io.ragproxy.server.testing.SqlText.unlabelled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.plan.FakeModels;
import io.ragproxy.server.plan.FakeSession;
import io.ragproxy.server.scan.ScanResult;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RagPipelineTest {
    FakeModels.Embedder embedder;
    RagPipeline pipeline;
    /** The catalog's own connection: no catalog unless a test sets one up. */
    FakeSession catalogBackend = new FakeSession("5.5.5-11.8.6-MariaDB", true, null);

    @BeforeEach
    void setUp() {
        embedder = new FakeModels.Embedder(FakeModels.EMBED_ID);
        catalogBackend.fail("SELECT version, epoch FROM ragproxy.catalog_version WHERE id = 1", 1049,
                "Unknown database 'ragproxy'");
        pipeline = new RagPipeline(FakeModels.invoker(embedder, new FakeModels.Generator(FakeModels.TEXT_ID)), "auto",
                sql -> catalogBackend.query(sql));
    }

    @AfterEach
    void tearDown() {
        pipeline.close();
    }

    FakeSession session(String version) {
        return new FakeSession(version, true, pipeline.initialSettings());
    }

    ScanResult scan(FakeSession s, String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        return pipeline.scanner(s).scan(b, 0, b.length);
    }

    PipelineResult run(FakeSession s, String sql) throws Exception {
        return pipeline.execute(s, sql, scan(s, sql)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void literalStatementForwardedInTheBackendsDialect() throws Exception {
        FakeSession maria = session("5.5.5-11.8.6-MariaDB-0+deb13u1");
        assertEquals("SELECT VEC_FromText('[1.0,97.0,-0.5]')",
                unlabelled(assertInstanceOf(PipelineResult.Forward.class, run(maria, "SELECT EMBED('a')")).sql()));
        FakeSession tidb = session("8.0.11-TiDB-v8.5.0");
        assertEquals("SELECT '[1.0,97.0,-0.5]'",
                unlabelled(assertInstanceOf(PipelineResult.Forward.class, run(tidb, "SELECT EMBED('a')")).sql()));
    }

    @Test
    void tidbSpellingsTranslatedOnMariadbWithoutAiCall() throws Exception {
        FakeSession maria = session("5.5.5-11.8.6-MariaDB-0+deb13u1");
        String sql = "SELECT VEC_COSINE_DISTANCE(v, '[1,2]') FROM t";
        assertEquals(ScanResult.Kind.FUNCTION_CALL, scan(maria, sql).kind());
        assertEquals("SELECT VEC_DISTANCE_COSINE(v, VEC_FromText('[1,2]')) FROM t",
                unlabelled(assertInstanceOf(PipelineResult.Forward.class, run(maria, sql)).sql()));
        assertEquals(ScanResult.Kind.PLAIN, scan(session("8.0.11-TiDB-v8.5.0"), sql).kind());
    }

    @Test
    void proxyStatementsGoToAdmin() throws Exception {
        FakeSession s = session("8.0.11-TiDB-v8.5.0");
        assertInstanceOf(PipelineResult.Reply.class, run(s, "SET rag_max_calls = 3"));
        assertEquals(3, s.settings().maxCalls());
        PipelineResult.Reply r = assertInstanceOf(PipelineResult.Reply.class, run(s, "SHOW RAG MODELS"));
        r.frames().release();
    }

    /** A session whose backend's catalog has an auto-embedding column db.documents.embedding (fake-embed, content). */
    FakeSession withCatalog() {
        FakeSession s = session("5.5.5-11.8.6-MariaDB-0+deb13u1");
        catalogBackend.failures.clear();
        catalogBackend.answer("SELECT version, epoch FROM ragproxy.catalog_version WHERE id = 1", "1", "e");
        catalogBackend.answerRows("SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ragproxy'"
                + " AND COLUMN_NAME = 'schema_name'", "functions", "models", "ml_engines", "embedding_rules",
                "knowledge_bases");
        catalogBackend.answerRows("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ragproxy'",
                "functions", "models", "ml_engines", "embedding_rules", "knowledge_bases");
        catalogBackend.answers.put("SELECT 'function', name, definition, owner, created FROM ragproxy.functions UNION ALL"
                + " SELECT 'model', name, definition, owner, created FROM ragproxy.models UNION ALL SELECT 'ml_engine',"
                + " name, definition, owner, created FROM ragproxy.ml_engines UNION ALL SELECT 'embedding', name,"
                + " definition, owner, created FROM ragproxy.embedding_rules UNION ALL SELECT 'knowledge_base', name,"
                + " definition, owner, created FROM ragproxy.knowledge_bases", new io.ragproxy.server.backend.QueryResult(
                java.util.List.of(new io.ragproxy.server.backend.QueryResult.ResultSet(java.util.List.of("k", "n", "d",
                        "o", "c"), java.util.List.of(java.util.List.of("embedding", "db.documents.embedding",
                        "{\"schema\":\"db\",\"table\":\"documents\",\"column\":\"embedding\",\"model\":\""
                                + FakeModels.EMBED_ID + "\",\"source\":\"content\"}", "root@%", "t")))), 0, 0, 0, ""));
        catalogBackend.answerRows("SELECT user, host, model, granted_by, granted_at FROM ragproxy.model_grants ORDER BY"
                + " user, host, model");
        s.answer("SELECT DATABASE()", "db");
        return s;
    }

    @Test
    void writesOfAutoEmbeddingTablesAreFilledAndOtherMentionsRelayedAsWritten() throws Exception {
        FakeSession s = withCatalog();
        pipeline.sessionStarted(s).get(10, TimeUnit.SECONDS);
        assertEquals(ScanResult.Kind.PLAIN, scan(s, "SELECT * FROM documents").kind());
        String insert = "/* a comment first */ INSERT INTO documents (content) VALUES ('a')";
        assertEquals("INSERT INTO documents (content, `embedding`) VALUES ('a', VEC_FromText('[1.0,97.0,-0.5]'))",
                assertInstanceOf(PipelineResult.Forward.class, run(s, insert)).sql());
        String alter = "ALTER TABLE documents ADD COLUMN extra INT";
        assertEquals(ScanResult.Kind.FUNCTION_CALL, scan(s, alter).kind());
        assertEquals(alter, assertInstanceOf(PipelineResult.Forward.class, run(s, alter)).sql());
        String update = "UPDATE documents SET id = 2 WHERE id = 1";
        assertEquals(update, assertInstanceOf(PipelineResult.Forward.class, run(s, update)).sql());
    }

    @Test
    void multiStatementWithAiCallRefused() {
        FakeSession s = session("8.0.11-TiDB-v8.5.0");
        String sql = "SELECT 1; SELECT EMBED('a')";
        ScanResult scan = scan(s, sql);
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> pipeline.execute(s, sql, scan).get(10, TimeUnit.SECONDS));
        assertEquals(7001, assertInstanceOf(ProxyException.class, e.getCause()).code());
    }
}
