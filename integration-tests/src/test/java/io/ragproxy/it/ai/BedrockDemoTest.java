package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.LLAMA;
import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.maxAbsDiff;
import static io.ragproxy.it.ai.AiProxy.parseVector;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The same SQL as the local demo against the Bedrock emulator, configured like seed 000: Titan Text Embeddings V2
 * with {@code dimensions} 512 (so {@code VECTOR(512)}) and Llama 3.2 3B through Converse, reached by the real AWS
 * SDK. The emulator's record is the ground truth for what the proxy sent.
 */
class BedrockDemoTest {
    private static final String DB = "ragproxy_it_ai_bedrock";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @BeforeEach
    void resetEmulator() throws InterruptedException {
        AiProxy.quiesce(WORLD.emulator());
    }

    private static ObjectNode titanBody(String text) {
        ObjectNode body = AiProxy.JSON.createObjectNode();
        body.put("inputText", text);
        body.put("dimensions", 512);
        body.put("normalize", true);
        return body;
    }

    private static List<RecordedRequest> titanRequests() {
        return WORLD.emulator().requests(TITAN_V2, "invoke");
    }

    private static long titanCallsFor(String text) {
        return titanRequests().stream().filter(r -> text.equals(r.json().path("inputText").asText(null))).count();
    }

    @Test
    void demoScriptRunsOnTitanAndLlamaWithTheExactRequestBodies() throws Exception {
        String db = DB + "_cli";
        LocalBackend.get().recreateDatabase(db);
        try {
            List<String> out = Seeds.runCli(WORLD.proxy().host(), WORLD.proxy().port(), db, Seeds.demoSql(512));
            assertEquals(7, out.size(), () -> "CLI output:\n" + String.join("\n", out));
            assertEquals(Seeds.TIDB_SENTENCE, out.get(0).split("\t")[0], "first hit: " + out);
            assertEquals(out.subList(0, 3), out.subList(3, 6), "both spellings rank alike");

            // Titan V2: one InvokeModel per distinct text, each body exactly the seed's.
            List<RecordedRequest> titan = titanRequests();
            List<JsonNode> bodies = titan.stream().map(RecordedRequest::json).toList();
            List<JsonNode> expected = new ArrayList<>();
            Seeds.SENTENCES.forEach(s -> expected.add(titanBody(s)));
            expected.add(titanBody(Seeds.QUESTION));
            assertEquals(new HashSet<>(expected), new HashSet<>(bodies), "Titan bodies: " + titan);
            assertEquals(expected.size(), bodies.size(), "one call per distinct text (the question is cached): " + titan);
            for (RecordedRequest r : titan) {
                assertEquals("POST", r.method());
                assertEquals(200, r.response());
            }

            // One Converse call to Llama 3.2 with the prompt built from the retrieved context.
            List<RecordedRequest> converse = WORLD.emulator().requests(LLAMA, "converse");
            assertEquals(1, converse.size(), "Converse calls: " + WORLD.emulator().requests());
            assertEquals(titan.size() + 1, WORLD.emulator().requestCount(), "no other request: " + WORLD.emulator().requests());
            JsonNode req = converse.get(0).json();
            JsonNode messages = req.get("messages");
            assertEquals(1, messages.size(), req.toString());
            assertEquals("user", messages.get(0).get("role").asText());
            String prompt = messages.get(0).get("content").get(0).get("text").asText();
            assertTrue(prompt.startsWith(Seeds.PROMPT_PREFIX) && prompt.endsWith(Seeds.PROMPT_SUFFIX), prompt);
            String context = prompt.substring(Seeds.PROMPT_PREFIX.length(), prompt.length() - Seeds.PROMPT_SUFFIX.length());
            Set<String> top3 = out.subList(0, 3).stream().map(l -> l.split("\t")[0]).collect(Collectors.toSet());
            assertEquals(top3, Set.of(context.split("\n")), "the prompt carries the retrieved context");
            String answer = out.get(6);
            assertTrue(answer.contains(Seeds.TIDB_SENTENCE), "answer: " + answer);

            // The stored vectors are the emulator's, 512 floats each.
            try (Connection c = LocalBackend.get().connect(db)) {
                for (List<String> row : rows(c, "SELECT content, VEC_ToText(embedding) FROM embedded_documents")) {
                    float[] v = parseVector(row.get(1));
                    assertEquals(512, v.length);
                    assertTrue(maxAbsDiff(WORLD.reference().titan512(row.get(0)).get(), v) < 1e-6, "vector of " + row.get(0));
                }
            }
        } finally {
            LocalBackend.get().dropDatabase(db);
        }
    }

    @Test
    void chineseTextReachesBedrockUnchanged() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE docs_zh (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT, embedding VECTOR(512))"
                    + " DEFAULT CHARSET=utf8mb4");
            String values = Seeds.SENTENCES_ZH.stream().map(s -> "(" + quote(s) + ", EMBED(" + quote(s) + "))")
                    .collect(Collectors.joining(", "));
            assertEquals(5, update(c, "INSERT INTO docs_zh (content, embedding) VALUES " + values));
            Set<JsonNode> expected = Seeds.SENTENCES_ZH.stream().map(BedrockDemoTest::titanBody).collect(Collectors.toSet());
            assertEquals(expected, titanRequests().stream().map(RecordedRequest::json).collect(Collectors.toSet()));
            List<List<String>> ranked = rows(c, "SELECT content FROM docs_zh ORDER BY"
                    + " VEC_EMBED_COSINE_DISTANCE(embedding, " + quote(Seeds.QUESTION_ZH) + ") LIMIT 1");
            assertEquals(Seeds.SENTENCES_ZH.get(0), ranked.get(0).get(0));
            assertEquals(1, titanCallsFor(Seeds.QUESTION_ZH));
        }
    }

    @Test
    void showRagStatusCountersMatchTheEmulatorsRecord() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            Map<String, String> before = status(c);
            WORLD.emulator().clearRequests();
            // A workload with embeddings, a generation, a duplicate (cache hit) and one throttled attempt.
            WORLD.emulator().failNext(1, EmulatedError.THROTTLING);
            assertEquals("1", scalar(c, "SELECT EMBED('status one') IS NOT NULL"));
            rows(c, "SELECT VEC_ToText(EMBED('status two')), VEC_ToText(EMBED('status three')),"
                    + " VEC_ToText(EMBED('status two'))");
            String generated = scalar(c, "SELECT GENERATE('Say hello to the status counters', 'llama3-2-3b', '{\"max_tokens\":3}')");
            assertNotNull(generated);
            Map<String, String> after = status(c);
            List<RecordedRequest> record = WORLD.emulator().requests();

            long ok = record.stream().filter(r -> r.response() == 200).count();
            long throttled = record.stream().filter(r -> r.response() == 429).count();
            assertEquals(1, throttled, "the injected throttle: " + record);
            assertEquals(record.size(), delta(before, after, "Rag_ml_requests"), "requests vs record " + record);
            assertEquals(ok, delta(before, after, "Rag_ml_responses"), "responses");
            assertEquals(throttled, delta(before, after, "Rag_ml_throttles"), "throttles");
            assertEquals(throttled, delta(before, after, "Rag_ml_retries"), "retries");
            assertEquals(0, delta(before, after, "Rag_ml_errors"), "errors");
            long[] tokens = WORLD.reference().tokens(record);
            assertTrue(tokens[0] > 0 && tokens[1] > 0, "the workload has tokens both ways");
            assertEquals(tokens[0], delta(before, after, "Rag_ml_input_tokens"), "input tokens");
            assertEquals(tokens[1], delta(before, after, "Rag_ml_output_tokens"), "output tokens");
            assertTrue(delta(before, after, "Rag_ml_cache_hits") >= 1, "the duplicate 'status two' is a hit");
            // Per model.
            for (String model : List.of(TITAN_V2, LLAMA)) {
                long n = record.stream().filter(r -> r.modelId().equals(model)).count();
                assertTrue(n > 0);
                assertEquals(n, delta(before, after, "Rag_ml_requests@" + model), "requests of " + model + ": " + after);
            }
            assertTrue(Double.parseDouble(after.get("Rag_ml_estimated_cost_usd"))
                    > Double.parseDouble(before.get("Rag_ml_estimated_cost_usd")), "cost grows: " + after);
        }
    }

    private static long delta(Map<String, String> before, Map<String, String> after, String name) {
        long b = before.containsKey(name) ? counter(before, name) : 0;
        return counter(after, name) - b;
    }

    @Test
    void thousandIdenticalInputsInOneInsertCostOneCall() throws Exception {
        String text = "same text for the cache test";
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE cache1000 (id INT PRIMARY KEY AUTO_INCREMENT, embedding VECTOR(512) NOT NULL)");
            Map<String, String> s0 = status(c);
            String rowsSql = String.join(", ", Collections.nCopies(1000, "(EMBED(" + quote(text) + "))"));
            assertEquals(1000, update(c, "INSERT INTO cache1000 (embedding) VALUES " + rowsSql));
            assertEquals(1, WORLD.emulator().requestCount(), "model calls for 1,000 identical inputs: " + WORLD.emulator().requests());
            assertEquals(titanBody(text), titanRequests().get(0).json());
            Map<String, String> s1 = status(c);
            assertTrue(delta(s0, s1, "Rag_ml_cache_hits") >= 999, "cache hits: " + s1);

            // A second statement with the same text: no new call.
            assertEquals(3, update(c, "INSERT INTO cache1000 (embedding) VALUES (EMBED(" + quote(text) + ")),"
                    + " (EMBED(" + quote(text) + ")), (EMBED(" + quote(text) + "))"));
            assertEquals(1, WORLD.emulator().requestCount(), "second statement: " + WORLD.emulator().requests());
            Map<String, String> s2 = status(c);
            assertTrue(delta(s1, s2, "Rag_ml_cache_hits") >= 3, "cache hits grow: " + s2);

            assertEquals("1003", scalar(c, "SELECT COUNT(*) FROM cache1000"));
            assertEquals("1", scalar(c, "SELECT COUNT(DISTINCT VEC_ToText(embedding)) FROM cache1000"));
            float[] stored = parseVector(scalar(c, "SELECT VEC_ToText(embedding) FROM cache1000 LIMIT 1"));
            assertTrue(maxAbsDiff(WORLD.reference().titan512(text).get(), stored) < 1e-6);
        }
    }

    /**
     * Titan V2 has no query/document distinction: the same text embedded for an INSERT and then searched with in a
     * SELECT is the same request body, so it must come from the cache.
     */
    @Test
    void sameTextInASelectAfterAnInsertIsServedFromTheCache() throws Exception {
        String text = "stored first, searched later";
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE cache_query (id INT PRIMARY KEY AUTO_INCREMENT, embedding VECTOR(512))");
            update(c, "INSERT INTO cache_query (embedding) VALUES (EMBED(" + quote(text) + "))");
            assertEquals(1, titanCallsFor(text));
            rows(c, "SELECT id FROM cache_query ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(" + quote(text) + "))");
            assertEquals(1, titanCallsFor(text), "identical Titan request bodies sent twice: " + titanRequests());
        }
    }

    @Test
    void explainRagShowsThePlanAndElidedVectorsWithoutCallingAModel() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE explain_docs (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT, embedding VECTOR(512))");
            Map<String, String> before = status(c);
            List<List<String>> plan = rows(c, "EXPLAIN RAG SELECT content FROM explain_docs"
                    + " ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('explain only')) LIMIT 3");
            assertEquals(1, plan.size(), plan.toString());
            List<String> row = plan.get(0);
            assertEquals("literal", row.get(0));
            assertEquals("1", row.get(1));
            assertTrue(row.get(2).contains(TITAN_V2), "models: " + row.get(2));
            String backendSql = row.get(3);
            assertTrue(backendSql.matches("(?s)SELECT content FROM explain_docs ORDER BY VEC_DISTANCE_COSINE\\(embedding,"
                    + " VEC_FromText\\('\\[…512 floats[^\\]]*\\]'\\)\\) LIMIT 3"), "backend SQL: " + backendSql);
            assertFalse(backendSql.matches("(?s).*\\d\\.\\d{4,}.*"), "no vector digits: " + backendSql);

            List<List<String>> plan2 = rows(c, "EXPLAIN RAG INSERT INTO explain_docs (content, embedding) VALUES"
                    + " ('a', EMBED('explain a')), ('b', EMBED('explain b')), (GENERATE('explain c'), NULL)");
            assertEquals("literal", plan2.get(0).get(0));
            assertEquals("3", plan2.get(0).get(1));
            assertTrue(plan2.get(0).get(2).contains(TITAN_V2) && plan2.get(0).get(2).contains(LLAMA), plan2.toString());
            assertTrue(plan2.get(0).get(3).startsWith("INSERT INTO explain_docs"), plan2.toString());
            assertTrue(plan2.get(0).get(3).contains("VEC_FromText('[…512 floats"), plan2.toString());

            assertEquals(0, WORLD.emulator().requestCount(), "EXPLAIN RAG called a model: " + WORLD.emulator().requests());
            Map<String, String> after = status(c);
            assertEquals(counter(before, "Rag_ml_requests"), counter(after, "Rag_ml_requests"));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM explain_docs"), "EXPLAIN RAG ran nothing");

            // Running the explained statement calls the models: EXPLAIN left nothing in the cache.
            assertEquals(3, update(c, "INSERT INTO explain_docs (content, embedding) VALUES"
                    + " ('a', EMBED('explain a')), ('b', EMBED('explain b')), (GENERATE('explain c'), NULL)"));
            assertEquals(3, WORLD.emulator().requestCount(), WORLD.emulator().requests().toString());
        }
    }

    @Test
    void userVariablesAndExpressionsAreConstants() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET @q = 'a question held in a user variable'");
            String viaVar = scalar(c, "SELECT VEC_ToText(EMBED(@q))");
            assertNotNull(viaVar);
            assertEquals(List.of(titanBody("a question held in a user variable")),
                    titanRequests().stream().map(RecordedRequest::json).toList());
            assertEquals(viaVar, scalar(c, "SELECT VEC_ToText(EMBED('a question held in a user variable'))"));
            assertEquals(1, WORLD.emulator().requestCount(), "same text, cached");

            String concat = scalar(c, "SELECT VEC_ToText(EMBED(CONCAT('a', 'b')))");
            assertEquals(1, titanCallsFor("ab"));
            assertEquals(concat, scalar(c, "SELECT VEC_ToText(EMBED('ab'))"));
            assertTrue(maxAbsDiff(WORLD.reference().titan512("ab").get(), parseVector(concat)) < 1e-6);
            assertEquals(2, WORLD.emulator().requestCount(), WORLD.emulator().requests().toString());
        }
    }

    @Test
    void nullAndEmptyTextGiveNullWithoutAModelCall() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE nulls (id INT PRIMARY KEY, embedding VECTOR(512))");
            assertEquals(List.of(List.of("1", "1", "1", "1", "1", "1")), rows(c, "SELECT EMBED(NULL) IS NULL,"
                    + " EMBED('') IS NULL, EMBED(@never_set) IS NULL, GENERATE(NULL) IS NULL, GENERATE('') IS NULL,"
                    + " EMBED_TEXT('titan-v2', '') IS NULL"));
            assertEquals(2, update(c, "INSERT INTO nulls VALUES (1, EMBED(NULL)), (2, EMBED(''))"));
            assertEquals("2", scalar(c, "SELECT COUNT(*) FROM nulls WHERE embedding IS NULL"));
            assertEquals(0, WORLD.emulator().requestCount(), "model calls: " + WORLD.emulator().requests());
        }
    }
}
