package io.ragproxy.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BedrockEmulatorTest {

    static BedrockEmulator emu;
    static final HttpClient http = HttpClient.newHttpClient();
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() {
        emu = BedrockEmulator.builder().start();
    }

    @AfterAll
    static void stop() {
        emu.close();
    }

    @BeforeEach
    void reset() {
        emu.reset();
    }

    static HttpResponse<String> post(String modelId, String route, String body) throws Exception {
        URI uri = emu.endpoint().resolve("/model/" + URLEncoder.encode(modelId, StandardCharsets.UTF_8) + "/" + route);
        return http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void titanV2AnswersDeterministicNormalizedVectorsOfTheRequestedLength() throws Exception {
        HttpResponse<String> r = post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"TiDB is a database\",\"dimensions\":512,\"normalize\":true}");
        assertEquals(200, r.statusCode());
        JsonNode n = json.readTree(r.body());
        assertEquals(512, n.get("embedding").size());
        assertEquals(4, n.get("inputTextTokenCount").asInt());
        double norm = 0;
        for (JsonNode v : n.get("embedding")) {
            norm += v.asDouble() * v.asDouble();
        }
        assertEquals(1.0, norm, 1e-3);
        JsonNode again = json.readTree(post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"TiDB is a database\",\"dimensions\":512,\"normalize\":true}").body());
        assertEquals(n.get("embedding"), again.get("embedding"));
        RecordedRequest rec = emu.requests().get(0);
        assertEquals("amazon.titan-embed-text-v2:0", rec.modelId());
        assertEquals("invoke", rec.route());
        assertEquals(512, rec.json().get("dimensions").asInt());
        assertEquals(1024, json.readTree(post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"x\"}").body()).get("embedding").size());
    }

    @Test
    void sharedWordsMakeVectorsCloser() {
        float[] q = FakeVectors.embed("What is TiDB?", 256, true);
        float[] a = FakeVectors.embed("TiDB is a distributed SQL database.", 256, true);
        float[] b = FakeVectors.embed("Llama is a model for text generation.", 256, true);
        assertTrue(dot(q, a) > dot(q, b));
        assertArrayEquals(q, FakeVectors.embed("What is TiDB?", 256, true));
    }

    private static double dot(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    @Test
    void titanV1AndCohereShapes() throws Exception {
        assertEquals(1536, json.readTree(post("amazon.titan-embed-text-v1", "invoke", "{\"inputText\":\"hi\"}").body()).get("embedding").size());
        assertEquals(400, post("amazon.titan-embed-text-v1", "invoke", "{\"inputText\":\"hi\",\"dimensions\":256}").statusCode());
        JsonNode c = json.readTree(post("cohere.embed-english-v3", "invoke", "{\"texts\":[\"a\",\"b\"],\"input_type\":\"search_query\"}").body());
        assertEquals(2, c.get("embeddings").size());
        assertEquals(1024, c.get("embeddings").get(0).size());
        assertEquals("embeddings_floats", c.get("response_type").asText());
        assertEquals("b", c.get("texts").get(1).asText());
        StringBuilder many = new StringBuilder("{\"input_type\":\"search_document\",\"texts\":[");
        for (int i = 0; i < 97; i++) {
            many.append(i == 0 ? "" : ",").append("\"t").append(i).append('"');
        }
        assertEquals(400, post("cohere.embed-english-v3", "invoke", many + "]}").statusCode());
    }

    @Test
    void converseAndRawChatShapes() throws Exception {
        JsonNode c = json.readTree(post("us.meta.llama3-2-3b-instruct-v1:0", "converse",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"What is TiDB?\"}]}],\"inferenceConfig\":{\"maxTokens\":100}}").body());
        assertEquals("echo: What is TiDB?", c.at("/output/message/content/0/text").asText());
        assertEquals("end_turn", c.get("stopReason").asText());
        assertEquals(c.at("/usage/inputTokens").asInt() + c.at("/usage/outputTokens").asInt(), c.at("/usage/totalTokens").asInt());
        JsonNode cut = json.readTree(post("anthropic.claude-3-haiku-20240307-v1:0", "converse",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"one two three four\"}]}],\"inferenceConfig\":{\"maxTokens\":2}}").body());
        assertEquals("max_tokens", cut.get("stopReason").asText());
        assertEquals("echo: one", cut.at("/output/message/content/0/text").asText());
        JsonNode a = json.readTree(post("anthropic.claude-3-haiku-20240307-v1:0", "invoke",
                "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}").body());
        assertEquals("echo: Hello", a.at("/content/0/text").asText());
        JsonNode m = json.readTree(post("meta.llama3-2-3b-instruct-v1:0", "invoke", "{\"prompt\":\"Hi\",\"temperature\":0}").body());
        assertEquals("echo: Hi", m.get("generation").asText());
        assertEquals(400, post("amazon.titan-embed-text-v2:0", "converse", "{\"messages\":[]}").statusCode());
    }

    @Test
    void injectedFaultsCarryBedrocksStatusAndErrorType() throws Exception {
        emu.failNext(2, EmulatedError.THROTTLING);
        HttpResponse<String> r = post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"x\"}");
        assertEquals(429, r.statusCode());
        assertEquals("ThrottlingException", r.headers().firstValue("x-amzn-ErrorType").orElse(null));
        assertEquals("{\"message\":\"Rate exceeded\"}", r.body());
        assertEquals(429, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"x\"}").statusCode());
        assertEquals(200, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"x\"}").statusCode());

        emu.failWhenInputContains("POISON", EmulatedError.VALIDATION);
        assertEquals(400, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"POISON pill\"}").statusCode());
        assertEquals(200, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"fine\"}").statusCode());

        emu.setThrottleRate(1.0);
        assertEquals(429, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"fine\"}").statusCode());
        emu.setThrottleRate(0).setThrottleRpm(2);
        assertEquals(200, post("meta.llama3-2-3b-instruct-v1:0", "invoke", "{\"prompt\":\"a\"}").statusCode());
        assertEquals(200, post("meta.llama3-2-3b-instruct-v1:0", "invoke", "{\"prompt\":\"a\"}").statusCode());
        assertEquals(429, post("meta.llama3-2-3b-instruct-v1:0", "invoke", "{\"prompt\":\"a\"}").statusCode());
        emu.setThrottleRpm(0);
        for (EmulatedError e : EmulatedError.values()) {
            emu.failNext(1, e);
            HttpResponse<String> er = post("meta.llama3-2-3b-instruct-v1:0", "invoke", "{\"prompt\":\"a\"}");
            assertEquals(e.status(), er.statusCode(), e.name());
        }
        assertEquals(EmulatedError.MODEL_TIMEOUT, EmulatedError.parse("model-timeout"));
        assertEquals(EmulatedError.THROTTLING, EmulatedError.parse("ThrottlingException"));
    }

    @Test
    void failAfterAnswersKRequestsThenFailsEveryOneUntilReset() throws Exception {
        emu.failAfter(2, EmulatedError.VALIDATION);
        assertEquals(200, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"a\"}").statusCode());
        assertEquals(200, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"b\"}").statusCode());
        for (int i = 0; i < 3; i++) {
            assertEquals(400, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"c\"}").statusCode());
        }
        emu.reset();
        assertEquals(200, post("amazon.titan-embed-text-v2:0", "invoke", "{\"inputText\":\"c\"}").statusCode());
    }

    @Test
    void latencyLetsManyRequestsOverlap() throws Exception {
        emu.setLatency(Duration.ofMillis(200));
        List<CompletableFuture<HttpResponse<String>>> fs = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            URI uri = emu.endpoint().resolve("/model/meta.llama3-2-3b-instruct-v1%3A0/invoke");
            fs.add(http.sendAsync(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"p" + i + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : fs) {
            assertEquals(200, f.get().statusCode());
        }
        assertEquals(64, emu.requestCount());
        // The JDK client may pool connections; what matters is that far more than a handful overlap.
        assertTrue(emu.maxInFlight() >= 8, "max in flight " + emu.maxInFlight());
        assertNotEquals(0, emu.requests("meta.llama3-2-3b-instruct-v1:0", "invoke").size());
    }

    static HttpResponse<String> rerank(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(emu.endpoint().resolve("/rerank")).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    static String rerankBody(String model, String query, Integer numberOfResults, String... docs) {
        StringBuilder b = new StringBuilder("{\"queries\":[{\"type\":\"TEXT\",\"textQuery\":{\"text\":")
                .append(json.getNodeFactory().textNode(query)).append("}}],\"sources\":[");
        for (int i = 0; i < docs.length; i++) {
            b.append(i == 0 ? "" : ",").append("{\"type\":\"INLINE\",\"inlineDocumentSource\":{\"type\":\"TEXT\","
                    + "\"textDocument\":{\"text\":").append(json.getNodeFactory().textNode(docs[i])).append("}}}");
        }
        b.append("],\"rerankingConfiguration\":{\"type\":\"BEDROCK_RERANKING_MODEL\",\"bedrockRerankingConfiguration\":{");
        if (numberOfResults != null) {
            b.append("\"numberOfResults\":").append(numberOfResults).append(',');
        }
        return b.append("\"modelConfiguration\":{\"modelArn\":\"arn:aws:bedrock:us-west-2::foundation-model/")
                .append(model).append("\"}}}}").toString();
    }

    @Test
    void rerankScoresSourcesByWordOverlapHighestFirst() throws Exception {
        // Query words {how, does, tidb, scale}. Jaccard: doc 0 shares {tidb} of 6 words -> 1/9;
        // doc 1 shares {tidb, scale} -> 2/(4+3-2)=2/5; doc 2 shares nothing -> 0.
        HttpResponse<String> r = rerank(rerankBody("cohere.rerank-v3-5:0", "How does TiDB scale?", null,
                "TiDB is a distributed SQL database", "TiDB scale out", "Sourdough bread"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode results = json.readTree(r.body()).get("results");
        assertEquals(3, results.size());
        assertEquals(1, results.get(0).get("index").asInt());
        assertEquals(2.0 / 5, results.get(0).get("relevanceScore").asDouble(), 1e-9);
        assertEquals(0, results.get(1).get("index").asInt());
        assertEquals(1.0 / 9, results.get(1).get("relevanceScore").asDouble(), 1e-9);
        assertEquals(2, results.get(2).get("index").asInt());
        assertEquals(0, results.get(2).get("relevanceScore").asDouble());
        assertEquals(1, emu.requests("cohere.rerank-v3-5:0", "rerank").size());
    }

    @Test
    void rerankKeepsNumberOfResultsAndRefusesWhatBedrockRefuses() throws Exception {
        JsonNode two = json.readTree(rerank(rerankBody("amazon.rerank-v1:0", "a b", 2, "a", "b c", "a b")).body());
        assertEquals(2, two.get("results").size());
        assertEquals(2, two.get("results").get(0).get("index").asInt());
        assertEquals(400, rerank(rerankBody("cohere.embed-english-v3", "q", null, "d")).statusCode());
        assertEquals(400, rerank(rerankBody("amazon.rerank-v1:0", "q", null)).statusCode());
        String[] many = new String[Reranker.MAX_SOURCES + 1];
        java.util.Arrays.fill(many, "d");
        HttpResponse<String> tooMany = rerank(rerankBody("amazon.rerank-v1:0", "q", null, many));
        assertEquals(400, tooMany.statusCode());
        assertEquals("ValidationException", tooMany.headers().firstValue("x-amzn-ErrorType").orElse(null));
    }

    @Test
    void rerankTakesInjectedFaults() throws Exception {
        emu.failNext(1, EmulatedError.THROTTLING);
        emu.failWhenInputContains("poison", EmulatedError.INTERNAL);
        assertEquals(429, rerank(rerankBody("amazon.rerank-v1:0", "q", null, "d")).statusCode());
        assertEquals(500, rerank(rerankBody("amazon.rerank-v1:0", "q", null, "poison")).statusCode());
        assertEquals(200, rerank(rerankBody("amazon.rerank-v1:0", "q", null, "d")).statusCode());
        assertEquals(3, emu.requests("amazon.rerank-v1:0", "rerank").size());
    }
}
