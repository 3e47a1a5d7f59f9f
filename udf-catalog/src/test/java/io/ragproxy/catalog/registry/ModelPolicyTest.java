package io.ragproxy.catalog.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;

/** Only configured models are called unless allow_any_model_id; the ceilings are read from [models]. */
class ModelPolicyTest {

    private static ModelsConfig config(String json) throws Exception {
        return ModelsConfig.fromJson(new ObjectMapper().readTree(json));
    }

    @Test
    void theDefaultCallsOnlyConfiguredModels() {
        ModelsConfig c = ModelsConfig.DEFAULT;
        assertFalse(c.policy().allowAnyModelId());
        assertTrue(c.isConfigured("amazon.titan-embed-text-v2:0"), "a built-in alias target");
        assertTrue(c.isConfigured("meta.llama3-2-3b-instruct-v1:0"), "the base model of a configured profile");
        assertTrue(c.isConfigured("local:all-minilm-l6-v2"));
        assertFalse(c.isConfigured("amazon.nonexistent"));
    }

    @Test
    void anUnconfiguredIdIsAnUnknownModelThatSaysHowToAddIt() {
        try (ModelRegistry registry = new ModelRegistry(ModelsConfig.DEFAULT, null, (BedrockRuntimeAsyncClient) null)) {
            UnknownModelException e = assertThrows(UnknownModelException.class,
                    () -> registry.textModel("amazon.nonexistent"));
            assertTrue(e.getMessage().contains("is not configured"), e.getMessage());
            assertTrue(e.getMessage().contains("allow_any_model_id"), e.getMessage());
            assertThrows(UnknownModelException.class, () -> registry.embeddingModel("cohere.embed-unknown-v9"));
            assertThrows(UnknownModelException.class, () -> registry.rawModel("amazon.nonexistent"));
        }
    }

    @Test
    void configuredIdsAndAllowAnyPass() throws Exception {
        ModelsConfig configured = config("""
                {"models": {"model": {"mistral.mistral-7b-instruct-v0:2": {"max_concurrency": 4}}}}""");
        assertTrue(configured.isConfigured("mistral.mistral-7b-instruct-v0:2"));
        ModelsConfig any = config("""
                {"models": {"allow_any_model_id": true, "rag_max_calls_ceiling": 50, "rag_concurrency_ceiling": 32}}""");
        assertTrue(any.policy().allowAnyModelId());
        assertEquals(50, any.policy().maxCallsCeiling());
        assertEquals(32, any.policy().concurrencyCeiling());
    }

    @Test
    void aDefaultConcurrencyAboveItsCeilingIsAConfigurationError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> config("""
                {"models": {"rag_concurrency_ceiling": 4, "invocation": {"max_concurrency": 16}}}"""));
        assertTrue(e.getMessage().contains("rag_concurrency_ceiling"), e.getMessage());
    }
}
