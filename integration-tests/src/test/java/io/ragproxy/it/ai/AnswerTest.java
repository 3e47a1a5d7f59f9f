package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ANSWER(question, context): the README's one-statement RAG query on seed 000's data, with and without citations,
 * per group with GROUP BY, on the local defaults and, for the exact prompt, against the Bedrock emulator.
 */
class AnswerTest {
    private static final String DB = "ragproxy_it_ai_answer";
    private static final String RAG_QUERY = "SELECT ANSWER('What is TiDB?', content) AS answer FROM (SELECT content"
            + " FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) LIMIT 3) t";
    private static AiProxy local;

    @RegisterExtension
    static final BedrockWorld BEDROCK = new BedrockWorld(DB + "_bedrock");

    @BeforeAll
    static void start() throws Exception {
        LocalBackend.get().recreateDatabase(DB);
        local = AiProxy.local();
        try (Connection c = local.connect(DB)) {
            exec(c, "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(384))");
            for (int i = 0; i < Seeds.SENTENCES.size(); i++) {
                exec(c, "INSERT INTO docs VALUES (" + (i + 1) + ", " + AiProxy.quote(Seeds.SENTENCES.get(i))
                        + ", EMBED(" + AiProxy.quote(Seeds.SENTENCES.get(i)) + "))");
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (local != null) {
                local.close();
            }
        } finally {
            LocalBackend.get().dropDatabase(DB);
        }
    }

    @Test
    void theReadmeRagQueryAnswersFromTheNearestSentences() throws Exception {
        try (Connection c = local.connect(DB)) {
            List<List<String>> result = rows(c, RAG_QUERY);
            assertEquals(1, result.size(), "one group, one answer");
            String answer = result.get(0).get(0);
            assertTrue(answer.startsWith(Seeds.TIDB_SENTENCE), answer);
            assertTrue(!answer.contains("Llama") && !answer.contains("Bedrock"), "only the 3 nearest are sources: " + answer);
        }
    }

    @Test
    void citationsNameTheSourcesUsed() throws Exception {
        try (Connection c = local.connect(DB)) {
            String json = scalar(c, "SELECT ANSWER('What is TiDB?', content, NULL, '{\"citations\": true}') FROM"
                    + " (SELECT content FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, 'What is TiDB?') LIMIT 3) t");
            JsonNode node = AiProxy.JSON.readTree(json);
            assertTrue(node.get("answer").asText().contains(Seeds.TIDB_SENTENCE), json);
            assertEquals(1, node.get("sources").get(0).asInt(), "the nearest sentence is source 1: " + json);
            for (JsonNode n : node.get("sources")) {
                assertTrue(n.asInt() >= 1 && n.asInt() <= 3, json);
            }
        }
    }

    @Test
    void explainRagShowsTheAnswerPlanWithoutCallingAModel() throws Exception {
        try (Connection c = local.connect(DB)) {
            Map<String, Number> before = local.pipeline().invoker().snapshot();
            List<List<String>> plan = rows(c, "EXPLAIN RAG " + RAG_QUERY);
            assertEquals(1, plan.size());
            assertEquals("answer", plan.get(0).get(0));
            assertTrue(plan.get(0).get(1).startsWith("1 + ?"), plan.toString());
            assertTrue(plan.get(0).get(3).contains("JSON_ARRAYAGG("), plan.toString());
            assertEquals(before.get("Rag_ml_requests"), local.pipeline().invoker().snapshot().get("Rag_ml_requests"),
                    "no model call");
        }
    }

    @Test
    void oneAnswerPerGroup() throws Exception {
        try (Connection c = local.connect(DB)) {
            List<List<String>> result = rows(c, "SELECT content LIKE 'TiDB%' AS about_tidb, COUNT(*) AS n,"
                    + " ANSWER('What is it?', content) AS a FROM docs GROUP BY about_tidb ORDER BY about_tidb");
            assertEquals(2, result.size());
            assertEquals(List.of("0", "2"), result.get(0).subList(0, 2));
            assertEquals(List.of("1", "3"), result.get(1).subList(0, 2));
            assertTrue(!result.get(0).get(2).contains("TiDB"), result.get(0).get(2));
            assertTrue(result.get(1).get(2).contains("TiDB"), result.get(1).get(2));
            assertNull(scalar(c, "SELECT ANSWER('What is TiDB?', content) FROM docs WHERE id > 100"),
                    "no rows, no sources: NULL without a model call");
            assertSqlError(c, "SELECT id FROM docs ORDER BY ANSWER('q', content)", 7001, "0A000");
        }
    }

    @Test
    void theGroupByColumnsKeepTheBackendsTypesAndTheAnswerIsText() throws Exception {
        try (Connection c = local.connect(DB); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, COUNT(*) AS n, ANSWER('What is it?', content) AS a"
                        + " FROM docs WHERE id <= 2 GROUP BY id ORDER BY id")) {
            ResultSetMetaData meta = rs.getMetaData();
            assertEquals("id", meta.getColumnLabel(1));
            assertEquals(Types.INTEGER, meta.getColumnType(1), "the INT column is INT: " + meta.getColumnTypeName(1));
            assertEquals(Types.BIGINT, meta.getColumnType(2), "COUNT(*) is BIGINT: " + meta.getColumnTypeName(2));
            assertEquals("a", meta.getColumnLabel(3));
            assertEquals(Types.LONGVARCHAR, meta.getColumnType(3), "ANSWER is text: " + meta.getColumnTypeName(3));
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
            assertEquals(1L, rs.getObject(2, Long.class));
            assertEquals(Seeds.SENTENCES.get(0), rs.getString(3).trim());
            assertTrue(rs.next());
            assertEquals(2, rs.getObject(1, Integer.class));
            assertTrue(!rs.next());
        }
    }

    @Test
    void aChatModelGetsTheQuestionAndNumberedSourcesInOrder() throws Exception {
        String db = BEDROCK.database();
        LocalBackend.get().exec(db, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))");
        try (Connection c = BEDROCK.proxy().connect(db)) {
            for (int i = 0; i < Seeds.SENTENCES.size(); i++) {
                exec(c, "INSERT INTO docs VALUES (" + (i + 1) + ", " + AiProxy.quote(Seeds.SENTENCES.get(i))
                        + ", EMBED(" + AiProxy.quote(Seeds.SENTENCES.get(i)) + "))");
            }
            AiProxy.quiesce(BEDROCK.emulator());
            String answer = scalar(c, "SELECT ANSWER('What is TiDB?', content) FROM (SELECT content FROM docs"
                    + " ORDER BY id LIMIT 3) t");
            assertTrue(answer != null && !answer.isBlank());
            List<RecordedRequest> converse = BEDROCK.emulator().requests().stream()
                    .filter(r -> r.route().equals("converse")).toList();
            assertEquals(1, converse.size(), "one model call for the one group");
            String prompt = converse.get(0).json().at("/messages/0/content/0/text").asText();
            int q = prompt.indexOf("Question: What is TiDB?");
            int s1 = prompt.indexOf("[1] " + Seeds.SENTENCES.get(0));
            int s2 = prompt.indexOf("[2] " + Seeds.SENTENCES.get(1));
            int s3 = prompt.indexOf("[3] " + Seeds.SENTENCES.get(2));
            assertTrue(q >= 0 && s1 > q && s2 > s1 && s3 > s2, prompt);
            assertTrue(!prompt.contains(Seeds.SENTENCES.get(3)), "only the group's rows are sources: " + prompt);
            assertTrue(BEDROCK.emulator().requests(TITAN_V2, "invoke").isEmpty(), "no embedding call in this query");
        }
    }
}
