package io.ragproxy.catalog;

import io.ragproxy.catalog.bedrock.BedrockClientFactory;
import io.ragproxy.catalog.bedrock.BedrockSettings;
import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.invoke.ResultCache;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.LocalModelFactory;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.emulator.BedrockEmulator;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Test wiring: the real SDK client aimed at a {@link BedrockEmulator}, with fake static credentials. */
public final class EmulatorSupport implements AutoCloseable {

    public final BedrockEmulator emulator;
    public final BedrockRuntimeAsyncClient client;

    public EmulatorSupport() {
        emulator = BedrockEmulator.builder().start();
        client = BedrockClientFactory.create(new BedrockSettings("us-east-1", emulator.endpoint(), 256, null, null),
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDEXAMPLETEST", "fake-secret-for-tests")));
    }

    public ModelRegistry registry(ModelsConfig config) {
        return new ModelRegistry(config, new FakeLocalModels(), client);
    }

    /** An invoker with fast backoff so retry tests stay quick. */
    public ModelInvoker invoker(ModelsConfig config) {
        InvocationSettings s = config.invocation().withBackoff(1, 20);
        return new ModelInvoker(registry(config), ResultCache.ofMegabytes(16), s);
    }

    @Override
    public void close() {
        client.close();
        emulator.close();
    }

    /** Tiny deterministic local models, so tests never need the ONNX model. */
    public static final class FakeLocalModels implements LocalModelFactory {
        public final List<List<String>> embedCalls = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public EmbeddingModel embedding() {
            return new EmbeddingModel() {
                @Override
                public String id() {
                    return ModelsConfig.LOCAL_EMBEDDING;
                }

                @Override
                public int dimensions(EmbedOptions options) {
                    return 384;
                }

                @Override
                public int maxBatchSize() {
                    return 32;
                }

                @Override
                public CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options) {
                    embedCalls.add(List.copyOf(texts));
                    List<float[]> out = new ArrayList<>();
                    for (String t : texts) {
                        float[] v = new float[384];
                        v[Math.floorMod(t.hashCode(), 384)] = 1;
                        out.add(v);
                    }
                    return CompletableFuture.completedFuture(new Embeddings(out, null));
                }
            };
        }

        @Override
        public TextModel extractive(EmbeddingModel embedder) {
            return new TextModel() {
                @Override
                public String id() {
                    return ModelsConfig.LOCAL_EXTRACTIVE;
                }

                @Override
                public CompletableFuture<Generation> generate(String prompt, GenerateOptions options) {
                    return CompletableFuture.completedFuture(new Generation("extract: " + prompt));
                }
            };
        }
    }
}
