package io.ragproxy.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.catalog.bedrock.BedrockRawModel;
import io.ragproxy.catalog.bedrock.CohereEmbeddingModel;
import io.ragproxy.catalog.bedrock.ConverseTextModel;
import io.ragproxy.catalog.bedrock.TitanEmbeddingModel;
import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Bedrock models against the emulator through the real SDK: exact request bodies, parsing, error mapping. */
class BedrockModelsTest {

    static EmulatorSupport env;

    @BeforeAll
    static void start() {
        env = new EmulatorSupport();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @BeforeEach
    void reset() {
        env.emulator.reset();
    }

    @Test
    void titanV2SendsTheTutorialsBodyAndParsesTheVector() {
        TitanEmbeddingModel m = new TitanEmbeddingModel(env.client, "amazon.titan-embed-text-v2:0", TitanEmbeddingModel.Version.V2);
        Embeddings e = m.embed(List.of("TiDB is an open-source distributed SQL database"),
                EmbedOptions.fromJson("{\"dimensions\":512,\"normalize\":true}")).join();
        assertEquals(1, e.vectors().size());
        assertEquals(512, e.vectors().get(0).length);
        assertTrue(e.usage().inputTokens() > 0);
        RecordedRequest r = env.emulator.requests().get(0);
        assertEquals("amazon.titan-embed-text-v2:0", r.modelId());
        assertEquals("invoke", r.route());
        assertEquals("{\"inputText\":\"TiDB is an open-source distributed SQL database\",\"dimensions\":512,\"normalize\":true}", r.bodyString());
        assertEquals("application/json", r.header("content-type"));
        String auth = r.header("authorization");
        assertNotNull(auth, "the SDK signs requests");
        assertTrue(auth.contains("us-east-1/bedrock"), auth);
        // Model defaults: no optional keys at all.
        m.embed(List.of("x"), EmbedOptions.DEFAULT).join();
        assertEquals("{\"inputText\":\"x\"}", env.emulator.requests().get(1).bodyString());
        assertEquals(1024, m.dimensions(EmbedOptions.DEFAULT));
        ModelException bad = assertThrows(CompletionException.class,
                () -> m.embed(List.of("x"), EmbedOptions.fromJson("{\"dimensions\":300}")).join()).getCause() instanceof ModelException me ? me : null;
        assertNotNull(bad);
        assertEquals(ModelException.Kind.CLIENT_ERROR, bad.kind());
    }

    @Test
    void titanV1SendsOnlyInputText() {
        TitanEmbeddingModel m = new TitanEmbeddingModel(env.client, "amazon.titan-embed-text-v1", TitanEmbeddingModel.Version.V1);
        Embeddings e = m.embed(List.of("hello"), EmbedOptions.DEFAULT).join();
        assertEquals(1536, e.vectors().get(0).length);
        assertEquals("{\"inputText\":\"hello\"}", env.emulator.requests().get(0).bodyString());
    }

    @Test
    void cohereSplits200TextsIntoCallsOfAtMost96WithInputType() {
        try (ModelInvoker inv = env.invoker(ModelsConfig.DEFAULT)) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                texts.add("document number " + i);
            }
            List<float[]> out = inv.embedAll("cohere-english", texts, EmbedOptions.DEFAULT, inv.defaults().withMaxConcurrency(2)).join();
            assertEquals(200, out.size());
            out.forEach(v -> assertEquals(1024, v.length));
            List<RecordedRequest> calls = env.emulator.requests("cohere.embed-english-v3", "invoke");
            assertEquals(3, calls.size());
            int total = 0;
            List<String> sent = new ArrayList<>();
            for (RecordedRequest r : calls) {
                JsonNode b = r.json();
                assertTrue(b.get("texts").size() <= 96);
                assertEquals("search_document", b.get("input_type").asText());
                assertFalse(b.has("truncate"));
                total += b.get("texts").size();
                b.get("texts").forEach(t -> sent.add(t.asText()));
            }
            assertEquals(200, total);
            assertEquals(200, sent.stream().distinct().count());

            env.emulator.clearRequests();
            inv.embedAll("cohere.embed-multilingual-v3", List.of("什么是 TiDB?"), EmbedOptions.fromJson("{\"input_type\":\"search_query\",\"truncate\":\"END\"}"), null).join();
            RecordedRequest q = env.emulator.requests().get(0);
            assertEquals("{\"texts\":[\"什么是 TiDB?\"],\"input_type\":\"search_query\",\"truncate\":\"END\"}", q.bodyString());
        }
    }

    @Test
    void cohereModelDirectlyRejectsMoreThan96() {
        CohereEmbeddingModel m = new CohereEmbeddingModel(env.client, "cohere.embed-english-v3");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 97; i++) {
            texts.add("t" + i);
        }
        CompletionException e = assertThrows(CompletionException.class, () -> m.embed(texts, EmbedOptions.DEFAULT).join());
        assertEquals(ModelException.Kind.CLIENT_ERROR, ((ModelException) e.getCause()).kind());
        assertEquals(0, env.emulator.requestCount());
    }

    @Test
    void converseSendsSystemAndInferenceConfigAndRecordsUsage() {
        ConverseTextModel m = new ConverseTextModel(env.client, "us.meta.llama3-2-3b-instruct-v1:0");
        Generation g = m.generate("What is TiDB?", GenerateOptions.fromJson(
                "{\"system\":\"Answer briefly.\",\"max_tokens\":100,\"temperature\":0.5,\"top_p\":0.9,\"stop\":[\"END\"]}")).join();
        assertEquals("echo: What is TiDB?", g.text());
        assertEquals("end_turn", g.stopReason());
        assertTrue(g.usage().inputTokens() > 0);
        assertTrue(g.usage().outputTokens() > 0);
        RecordedRequest r = env.emulator.requests().get(0);
        assertEquals("us.meta.llama3-2-3b-instruct-v1:0", r.modelId());
        assertEquals("converse", r.route());
        JsonNode b = r.json();
        assertEquals("user", b.at("/messages/0/role").asText());
        assertEquals("What is TiDB?", b.at("/messages/0/content/0/text").asText());
        assertEquals("Answer briefly.", b.at("/system/0/text").asText());
        assertEquals(100, b.at("/inferenceConfig/maxTokens").asInt());
        assertEquals(0.5, b.at("/inferenceConfig/temperature").asDouble(), 1e-6);
        assertEquals(0.9, b.at("/inferenceConfig/topP").asDouble(), 1e-6);
        assertEquals("END", b.at("/inferenceConfig/stopSequences/0").asText());

        m.generate("hi", GenerateOptions.DEFAULT).join();
        JsonNode plain = env.emulator.requests().get(1).json();
        assertFalse(plain.has("system"));
        assertFalse(plain.has("inferenceConfig"));

        Generation cut = m.generate("one two three four five", GenerateOptions.fromJson("{\"max_tokens\":2}")).join();
        assertEquals("max_tokens", cut.stopReason());
    }

    @Test
    void rawInvokeSendsTheBodyAsIs() {
        BedrockRawModel m = new BedrockRawModel(env.client, "anthropic.claude-3-haiku-20240307-v1:0");
        String body = "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":1024,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Summarize\"}]}]}";
        byte[] out = m.invoke(body.getBytes(StandardCharsets.UTF_8), "application/json", "*/*").join();
        assertTrue(new String(out, StandardCharsets.UTF_8).contains("\"text\":\"echo: Summarize\""));
        RecordedRequest r = env.emulator.requests().get(0);
        assertEquals(body, r.bodyString());
        assertEquals("*/*", r.header("accept"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "THROTTLING, THROTTLED",
            "MODEL_NOT_READY, MODEL_NOT_READY",
            "MODEL_TIMEOUT, TIMEOUT",
            "VALIDATION, CLIENT_ERROR",
            "ACCESS_DENIED, ACCESS_DENIED",
            "INTERNAL, SERVER_ERROR",
            "SERVICE_UNAVAILABLE, UNAVAILABLE",
            "MODEL_ERROR, SERVER_ERROR",
            "MALFORMED_RESPONSE, BAD_RESPONSE"})
    void everyBedrockErrorMapsToItsKind(EmulatedError injected, ModelException.Kind expected) {
        env.emulator.failNext(1, injected);
        TitanEmbeddingModel m = new TitanEmbeddingModel(env.client, "amazon.titan-embed-text-v2:0", TitanEmbeddingModel.Version.V2);
        CompletionException e = assertThrows(CompletionException.class, () -> m.embed(List.of("x"), EmbedOptions.DEFAULT).join());
        ModelException me = (ModelException) e.getCause();
        assertEquals(expected, me.kind(), me.getMessage());
        assertEquals("amazon.titan-embed-text-v2:0", me.modelId());
        assertTrue(me.getMessage().contains("amazon.titan-embed-text-v2:0"), me.getMessage());
        assertFalse(me.getMessage().contains("fake-secret-for-tests"));
        assertFalse(me.getMessage().contains("AKIDEXAMPLETEST"));
        assertEquals(1, env.emulator.requestCount(), "the SDK must not retry on its own");
        // The same mapping on the Converse path (except the malformed body, which the SDK reports its own way).
        if (injected != EmulatedError.MALFORMED_RESPONSE) {
            env.emulator.failNext(1, injected);
            ConverseTextModel c = new ConverseTextModel(env.client, "meta.llama3-2-3b-instruct-v1:0");
            CompletionException ce = assertThrows(CompletionException.class, () -> c.generate("x", GenerateOptions.DEFAULT).join());
            assertEquals(expected, ((ModelException) ce.getCause()).kind());
        }
    }

    @Test
    void unreachableEndpointIsUnavailable() {
        try (var client = io.ragproxy.catalog.bedrock.BedrockClientFactory.create(
                new io.ragproxy.catalog.bedrock.BedrockSettings("us-east-1", java.net.URI.create("http://127.0.0.1:1"), 4, null, null),
                software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("a", "b")))) {
            TitanEmbeddingModel m = new TitanEmbeddingModel(client, "amazon.titan-embed-text-v2:0", TitanEmbeddingModel.Version.V2);
            CompletionException e = assertThrows(CompletionException.class, () -> m.embed(List.of("x"), EmbedOptions.DEFAULT).join());
            assertEquals(ModelException.Kind.UNAVAILABLE, ((ModelException) e.getCause()).kind());
        }
    }

    @Test
    void invocationSettingsValidate() {
        assertThrows(IllegalArgumentException.class, () -> InvocationSettings.DEFAULT.withMaxConcurrency(0));
        assertThrows(IllegalArgumentException.class, () -> InvocationSettings.DEFAULT.withTimeoutMs(0));
    }
}
