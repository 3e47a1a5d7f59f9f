package io.ragproxy.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragproxy.catalog.bedrock.BedrockModelIds;
import io.ragproxy.catalog.bedrock.CohereEmbeddingModel;
import io.ragproxy.catalog.bedrock.ConverseTextModel;
import io.ragproxy.catalog.bedrock.TitanEmbeddingModel;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.registry.ModelDescription;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.catalog.registry.UnknownModelException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration parsing and name resolution; no network (the Bedrock client is never created here). */
class ModelRegistryTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void missingSectionsGiveOfflineDefaults() throws Exception {
        ModelsConfig c = ModelsConfig.fromJson(json("{\"server\":{\"port\":3307}}"));
        assertEquals("local:all-minilm-l6-v2", c.defaultEmbedding());
        assertEquals("local:extractive", c.defaultText());
        assertEquals(256L * 1024 * 1024, c.cacheBytes());
        assertEquals("amazon.titan-embed-text-v2:0", c.aliases().get("titan-v2"));
        assertEquals(ModelsConfig.DEFAULT, ModelsConfig.fromJson(null));
    }

    @Test
    void parsesTheModelsTable() throws Exception {
        ModelsConfig c = ModelsConfig.fromJson(json("""
                {"models": {
                  "default_embedding": "titan-v2", "default_text": "llama3-2-3b", "cache_mb": 8, "max_input_chars": 2048,
                  "invocation": {"timeout_ms": 5000, "max_concurrency": 4, "max_attempts": 2, "throttle_wait_ms": 9000},
                  "bedrock": {"region": "eu-west-1", "endpoint_override": "http://127.0.0.1:8599"},
                  "aliases": {"emb": "amazon.titan-embed-text-v2:0"},
                  "model": {"titan-v2": {"dimensions": 512, "normalize": true, "max_concurrency": 8},
                            "us.meta.llama3-2-3b-instruct-v1:0": {"max_tokens": 300, "temperature": 0.0}},
                  "prices": {"amazon.titan-embed-text-v2:0": {"input": 0.5, "output": 0}}
                }}"""));
        assertEquals(5000, c.invocation().timeoutMs());
        assertEquals(4, c.invocation().maxConcurrency());
        assertEquals(2, c.invocation().maxAttempts());
        assertEquals(96, c.invocation().batchSize());
        assertEquals(9000, c.invocation().throttleWaitMs());
        assertEquals(2048, c.maxInputChars());
        assertEquals(ModelsConfig.DEFAULT_MAX_INPUT_CHARS, ModelsConfig.DEFAULT.maxInputChars());
        assertEquals("eu-west-1", c.bedrock().region());
        assertEquals(URI.create("http://127.0.0.1:8599"), c.bedrock().endpointOverride());
        assertEquals(8L * 1024 * 1024, c.cacheBytes());
        assertEquals(512, c.model("amazon.titan-embed-text-v2:0").embedDefaults().dimensions());
        assertEquals(300, c.model("us.meta.llama3-2-3b-instruct-v1:0").generateDefaults().maxTokens());
        assertEquals(0.5, c.price("us.amazon.titan-embed-text-v2:0").inputPer1k());
        assertEquals(0.00025, c.price("anthropic.claude-3-haiku-20240307-v1:0").inputPer1k());

        try (ModelRegistry r = new ModelRegistry(c, new EmulatorSupport.FakeLocalModels(), (software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient) null)) {
            assertEquals(8, r.maxConcurrency("amazon.titan-embed-text-v2:0"));
            assertEquals(64, r.maxConcurrency("cohere.embed-english-v3"));
            List<ModelDescription> rows = r.describe();
            ModelDescription titan = rows.stream().filter(d -> d.modelId().equals("amazon.titan-embed-text-v2:0")).findFirst().orElseThrow();
            assertEquals("embedding", titan.kind());
            assertEquals("bedrock", titan.provider());
            assertEquals(512, titan.dimensions());
            assertTrue(titan.isDefault());
            assertEquals(List.of("titan-v2", "emb"), titan.aliases());
            ModelDescription local = rows.stream().filter(d -> d.modelId().equals("local:all-minilm-l6-v2")).findFirst().orElseThrow();
            assertEquals(384, local.dimensions());
            assertEquals("local", local.provider());
            assertFalse(local.isDefault());
            ModelDescription llama = rows.stream().filter(d -> d.modelId().equals("us.meta.llama3-2-3b-instruct-v1:0")).findFirst().orElseThrow();
            assertEquals("text", llama.kind());
            assertTrue(llama.isDefault());
        }
    }

    @Test
    void rejectsBadConfigurationNamingTheKey() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelsConfig.fromJson(json("{\"models\":{\"default_embeding\":\"x\"}}")));
        assertTrue(e.getMessage().contains("default_embeding"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelsConfig.fromJson(json("{\"models\":{\"model\":{\"titan-v2\":{\"dims\":5}}}}")));
        assertTrue(e.getMessage().contains("dims"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelsConfig.fromJson(json("{\"models\":{\"bedrock\":{\"endpoint_override\":\"not a url\"}}}")));
        assertTrue(e.getMessage().contains("endpoint_override"), e.getMessage());
    }

    @Test
    void resolvesAliasesBedrockIdsAndLocalNames() {
        // A client that is never used for a call: resolution does not touch the network.
        try (var client = io.ragproxy.catalog.bedrock.BedrockClientFactory.create(
                new io.ragproxy.catalog.bedrock.BedrockSettings("us-east-1", URI.create("http://127.0.0.1:1"), 1, null, null),
                software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider.create());
             ModelRegistry r = new ModelRegistry(ModelsConfig.DEFAULT, new EmulatorSupport.FakeLocalModels(), client)) {
            assertInstanceOf(TitanEmbeddingModel.class, r.embeddingModel("titan-v2"));
            assertEquals(TitanEmbeddingModel.Version.V1, ((TitanEmbeddingModel) r.embeddingModel("amazon.titan-embed-text-v1")).version());
            assertInstanceOf(CohereEmbeddingModel.class, r.embeddingModel("cohere.embed-multilingual-v3"));
            assertInstanceOf(ConverseTextModel.class, r.textModel("anthropic.claude-3-haiku-20240307-v1:0"));
            assertInstanceOf(ConverseTextModel.class, r.textModel("us.meta.llama3-2-3b-instruct-v1:0"));
            assertEquals("us.amazon.nova-micro-v1:0", r.textModel("nova-micro").id());
            assertEquals("local:all-minilm-l6-v2", r.embeddingModel(null).id());
            assertEquals("local:all-minilm-l6-v2", r.embeddingModel("minilm").id());
            assertEquals("local:extractive", r.textModel(" ").id());
            assertEquals(1024, r.embeddingModel("titan-v2").dimensions(EmbedOptions.DEFAULT));
            UnknownModelException u = assertThrows(UnknownModelException.class, () -> r.embeddingModel("local:bert"));
            assertTrue(u.getMessage().contains("titan-v2 (amazon.titan-embed-text-v2:0)"), u.getMessage());
            assertThrows(UnknownModelException.class, () -> r.textModel("gpt 4"));
            assertThrows(UnknownModelException.class, () -> r.textModel("titan-v2"));
            assertThrows(UnknownModelException.class, () -> r.embeddingModel("local:extractive"));
            assertThrows(UnknownModelException.class, () -> r.embeddingModel("amazon.titan-embed-image-v1"));
            assertThrows(UnknownModelException.class, () -> r.rawModel("local:extractive"));
            assertEquals("anthropic.claude-3-haiku-20240307-v1:0", r.rawModel("claude-3-haiku").id());
        }
    }

    @Test
    void recognisesBedrockIds() {
        for (String id : List.of("amazon.titan-embed-text-v2:0", "cohere.embed-english-v3", "meta.llama3-2-3b-instruct-v1:0",
                "anthropic.claude-3-haiku-20240307-v1:0", "us.meta.llama3-2-3b-instruct-v1:0", "amazon.titan-text-express-v1",
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0")) {
            assertTrue(BedrockModelIds.looksLikeBedrockId(id), id);
        }
        for (String id : List.of("titan", "local:extractive", "gpt 4", "", "a.")) {
            assertFalse(BedrockModelIds.looksLikeBedrockId(id), id);
        }
        assertEquals("meta.llama3-2-3b-instruct-v1:0", BedrockModelIds.baseModelId("us.meta.llama3-2-3b-instruct-v1:0"));
    }
}
