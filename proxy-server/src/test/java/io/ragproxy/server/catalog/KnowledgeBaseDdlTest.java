package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.text.SqlMode;
import java.util.List;
import org.junit.jupiter.api.Test;

class KnowledgeBaseDdlTest {

    static KnowledgeBaseDdl.Statement parse(String sql) {
        return KnowledgeBaseDdl.parse(sql, SqlMode.DEFAULT);
    }

    @Test
    void mindsDbCreateAsWrittenInTheIssue() {
        KnowledgeBaseDdl.Create c = assertInstanceOf(KnowledgeBaseDdl.Create.class, parse("CREATE KNOWLEDGE_BASE kb"
                + " USING embedding_model = 'titan-v2', reranking_model = 'cohere-rerank-3-5', storage = mydb.kb_chunks,"
                + " content_columns = ['body'], metadata_columns = ['author', 'published'], id_column = 'doc_id',"
                + " preprocessing = {\"size\": 800, \"overlap\": 100};"));
        assertEquals("kb", c.name());
        assertEquals("titan-v2", c.embeddingModel());
        assertEquals("cohere-rerank-3-5", c.rerankingModel());
        assertEquals("mydb", c.storageSchema());
        assertEquals("kb_chunks", c.storageTable());
        assertEquals(List.of("body"), c.contentColumns());
        assertEquals(List.of("author", "published"), c.metadataColumns());
        assertEquals("doc_id", c.idColumn());
        assertEquals("{\"size\":800,\"overlap\":100}", c.preprocessing());
    }

    @Test
    void defaultsObjectModelsAndFalseReranking() {
        KnowledgeBaseDdl.Create c = assertInstanceOf(KnowledgeBaseDdl.Create.class, parse("create or replace"
                + " knowledge_base if not exists mindsdb.kb using embedding_model = {\"provider\": \"bedrock\","
                + " \"model_name\": \"titan-v2\"}, reranking_model = false, storage = `kb chunks`"));
        assertTrue(c.orReplace());
        assertTrue(c.ifNotExists());
        assertEquals("kb", c.name());
        assertEquals("titan-v2", c.embeddingModel());
        assertNull(c.rerankingModel());
        assertNull(c.storageSchema());
        assertEquals("kb chunks", c.storageTable());
        assertNull(c.contentColumns());
        assertNull(c.preprocessing());
        assertInstanceOf(KnowledgeBaseDdl.Create.class, parse("CREATE KNOWLEDGE_BASE kb"));
    }

    @Test
    void hybridSearchIsAKnowledgeBaseSettingAndOlderDefinitionsHaveNone() {
        KnowledgeBaseDdl.Create c = assertInstanceOf(KnowledgeBaseDdl.Create.class, parse("CREATE KNOWLEDGE_BASE kb"
                + " USING content_columns = ['body'], hybrid_search = true, hybrid_search_alpha = 0.3"));
        assertEquals(Boolean.TRUE, c.hybridSearch());
        assertEquals(0.3, c.hybridSearchAlpha());
        KnowledgeBaseDdl.Create off = assertInstanceOf(KnowledgeBaseDdl.Create.class, parse("CREATE KNOWLEDGE_BASE kb"
                + " USING hybrid_search = false"));
        assertEquals(Boolean.FALSE, off.hybridSearch());
        assertNull(off.hybridSearchAlpha());
        for (String bad : new String[] {"hybrid_search = 'maybe'", "hybrid_search_alpha = 1.5",
            "hybrid_search_alpha = 'x'"}) {
            ProxyException e = assertThrows(ProxyException.class, () -> parse("CREATE KNOWLEDGE_BASE kb USING " + bad));
            assertEquals(ProxyError.KNOWLEDGE_BASE_DEFINITION.code(), e.code(), bad);
        }

        // The definition round-trips through the catalog's JSON; a row written before the setting existed is
        // vector-only with the default weight.
        KnowledgeBase kb = new KnowledgeBase("kb", "titan-v2", 1024, null, "db", "kb_chunks", List.of("body"),
                List.of(), "id", null, true, 0.3);
        KnowledgeBase back = KnowledgeBase.fromDefinition("kb", kb.definition());
        assertEquals(kb, back);
        KnowledgeBase older = KnowledgeBase.fromDefinition("kb", kb.definition().without(List.of("hybrid_search",
                "hybrid_search_alpha")));
        assertEquals(false, older.hybridSearch());
        assertNull(older.hybridSearchAlpha());
    }

    @Test
    void dropDescribeShow() {
        KnowledgeBaseDdl.Drop d = assertInstanceOf(KnowledgeBaseDdl.Drop.class, parse("DROP KNOWLEDGE_BASE IF EXISTS"
                + " kb"));
        assertTrue(d.ifExists());
        assertEquals("kb", assertInstanceOf(KnowledgeBaseDdl.Describe.class, parse("DESC KNOWLEDGE_BASE kb")).name());
        assertInstanceOf(KnowledgeBaseDdl.Show.class, parse("SHOW KNOWLEDGE_BASES"));
    }

    @Test
    void mistakesNameThePositionOrTheRule() {
        ProxyException unknown = assertThrows(ProxyException.class, () -> parse("CREATE KNOWLEDGE_BASE kb USING"
                + " model = 'x'"));
        assertTrue(unknown.getMessage().contains("line 1, column 32"), unknown.getMessage());
        ProxyException credential = assertThrows(ProxyException.class, () -> parse("CREATE KNOWLEDGE_BASE kb USING"
                + " api_key = 'x'"));
        assertEquals(ProxyError.CREDENTIALS_IN_SQL.code(), credential.code());
        ProxyException project = assertThrows(ProxyException.class, () -> parse("DROP KNOWLEDGE_BASE db.kb"));
        assertTrue(project.getMessage().contains("global"), project.getMessage());
        ProxyException badJson = assertThrows(ProxyException.class, () -> parse("CREATE KNOWLEDGE_BASE kb USING"
                + " preprocessing = {size: 800}"));
        assertTrue(badJson.getMessage().contains("JSON object"), badJson.getMessage());
        ProxyException columns = assertThrows(ProxyException.class, () -> parse("CREATE KNOWLEDGE_BASE kb USING"
                + " content_columns = {\"a\": 1}"));
        assertEquals(ProxyError.KNOWLEDGE_BASE_DEFINITION.code(), columns.code());
    }
}
