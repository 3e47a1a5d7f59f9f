package io.ragproxy.server.plan;

import io.ragproxy.server.command.RagSettings;
import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.invoke.ResultCache;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.model.Usage;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Test support: tiny deterministic models and an invoker over them (no local ONNX model, no Bedrock). */
public final class FakeModels {
    public static final String EMBED_ID = "fake-embed";
    public static final String TEXT_ID = "fake-text";

    private FakeModels() {}

    /** Embeds text t as [length, first code point, -0.5] (3 dimensions). Records every call. */
    public static final class Embedder implements EmbeddingModel {
        private final String id;
        public final List<List<String>> calls = Collections.synchronizedList(new ArrayList<>());
        public final List<EmbedOptions> options = Collections.synchronizedList(new ArrayList<>());
        public volatile ModelException failWith;

        /** Like Cohere: documents and queries are embedded differently, so the planner must say which. */
        @Override
        public boolean distinguishesInputPurpose() {
            return true;
        }

        public Embedder(String id) {
            this.id = id;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public int dimensions(EmbedOptions options) {
            return 3;
        }

        @Override
        public int maxBatchSize() {
            return 8;
        }

        @Override
        public CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions opts) {
            calls.add(List.copyOf(texts));
            options.add(opts);
            if (failWith != null) {
                return CompletableFuture.failedFuture(failWith);
            }
            List<float[]> out = new ArrayList<>();
            for (String t : texts) {
                out.add(vector(t));
            }
            return CompletableFuture.completedFuture(new Embeddings(out, new Usage(texts.size(), 0)));
        }

        public int textsEmbedded() {
            synchronized (calls) {
                return calls.stream().mapToInt(List::size).sum();
            }
        }
    }

    /** The vector {@link Embedder} returns for {@code t}. */
    public static float[] vector(String t) {
        return new float[] {t.length(), t.codePointAt(0), -0.5f};
    }

    /** Answers "gen:" + prompt. Records every prompt. */
    public static final class Generator implements TextModel {
        private final String id;
        public final List<String> prompts = Collections.synchronizedList(new ArrayList<>());
        public volatile ModelException failWith;

        public Generator(String id) {
            this.id = id;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public CompletableFuture<Generation> generate(String prompt, GenerateOptions options) {
            prompts.add(prompt);
            if (failWith != null) {
                return CompletableFuture.failedFuture(failWith);
            }
            return CompletableFuture.completedFuture(new Generation("gen:" + prompt));
        }
    }

    /** An invoker whose default embedding and text models are the given fakes; no retries. */
    public static ModelInvoker invoker(Embedder embedder, Generator generator) {
        ModelRegistry registry = new ModelRegistry(ModelsConfig.DEFAULT.withDefaults(embedder.id(), generator.id()), null);
        registry.register(embedder);
        registry.register(generator);
        return new ModelInvoker(registry, new ResultCache(1 << 20), settings());
    }

    /** Invocation settings for tests: one attempt, short backoff, a throttle fails at once (no waiting it out). */
    public static InvocationSettings settings() {
        return InvocationSettings.DEFAULT.withMaxAttempts(1).withBackoff(1, 1).withThrottleWaitMs(0);
    }

    /** A fake embedder and text model behind a real invoker, with default session settings: a planner test's models. */
    public record Rig(Embedder embedder, Generator generator, ModelInvoker invoker, RagSettings settings)
            implements AutoCloseable {
        @Override
        public void close() {
            invoker.close();
        }
    }

    /** A new {@link Rig}. */
    public static Rig rig() {
        Embedder embedder = new Embedder(EMBED_ID);
        Generator generator = new Generator(TEXT_ID);
        return new Rig(embedder, generator, invoker(embedder, generator), RagSettings.defaults(settings()));
    }
}
