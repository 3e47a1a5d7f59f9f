package io.ragproxy.catalog.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.ModelException.Kind;
import io.ragproxy.catalog.model.Usage;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Amazon Titan Text Embeddings through InvokeModel, one text per call.
 *
 * <ul>
 *   <li>V2 ({@code amazon.titan-embed-text-v2:0}): body {@code {"inputText":…,"dimensions":256|512|1024,"normalize":…}},
 *       the optional fields sent only when set; 1024 dimensions by default.</li>
 *   <li>V1 ({@code amazon.titan-embed-text-v1}, {@code amazon.titan-embed-g1-text-02}): body {@code {"inputText":…}};
 *       always 1536 dimensions; {@code normalize: true} is applied locally.</li>
 * </ul>
 * Response: {@code embedding} and {@code inputTextTokenCount}. Thread-safe.
 */
public final class TitanEmbeddingModel implements EmbeddingModel {

    /** The two generations of the Titan text embedding API. */
    public enum Version { V1, V2 }

    static final Set<Integer> V2_DIMENSIONS = Set.of(256, 512, 1024);

    private final BedrockRuntimeAsyncClient client;
    private final String modelId;
    private final Version version;

    public TitanEmbeddingModel(BedrockRuntimeAsyncClient client, String modelId, Version version) {
        this.client = Objects.requireNonNull(client, "client");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
        this.version = Objects.requireNonNull(version, "version");
    }

    /** The Titan version {@code modelId} belongs to, or null if it is not a Titan text embedding model. */
    public static Version versionOf(String modelId) {
        String base = BedrockModelIds.baseModelId(modelId);
        if (base.startsWith("amazon.titan-embed-text-v2")) {
            return Version.V2;
        }
        if (base.startsWith("amazon.titan-embed-text-v1") || base.startsWith("amazon.titan-embed-g1-text")) {
            return Version.V1;
        }
        return null;
    }

    @Override
    public String id() {
        return modelId;
    }

    public Version version() {
        return version;
    }

    @Override
    public int dimensions(EmbedOptions options) {
        if (version == Version.V1) {
            return 1536;
        }
        return options != null && options.dimensions() != null ? options.dimensions() : 1024;
    }

    @Override
    public int maxBatchSize() {
        return 1;
    }

    @Override
    public CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options) {
        EmbedOptions opts = options == null ? EmbedOptions.DEFAULT : options;
        try {
            validate(opts);
        } catch (ModelException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (texts.size() == 1) {
            return embedOne(texts.get(0), opts).thenApply(r -> new Embeddings(List.of(r.vector), r.usage));
        }
        // The API takes one text per call; the policy normally sends batches of 1, but be correct for more.
        List<CompletableFuture<One>> calls = new ArrayList<>();
        for (String t : texts) {
            calls.add(embedOne(t, opts));
        }
        CompletableFuture<Embeddings> all = CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<float[]> vectors = new ArrayList<>();
            Usage u = Usage.NONE;
            for (CompletableFuture<One> c : calls) {
                One o = c.join();
                vectors.add(o.vector);
                u = u.plus(o.usage);
            }
            return new Embeddings(vectors, u);
        });
        all.whenComplete((r, t) -> {
            if (all.isCancelled()) {
                calls.forEach(c -> c.cancel(true));
            }
        });
        return all;
    }

    private record One(float[] vector, Usage usage) {
    }

    private void validate(EmbedOptions opts) {
        if (version == Version.V2) {
            if (opts.dimensions() != null && !V2_DIMENSIONS.contains(opts.dimensions())) {
                throw new ModelException(Kind.CLIENT_ERROR, modelId, "model '" + modelId + "' supports dimensions 256, 512 or 1024, not "
                        + opts.dimensions());
            }
        } else if (opts.dimensions() != null && opts.dimensions() != 1536) {
            throw new ModelException(Kind.CLIENT_ERROR, modelId, "model '" + modelId + "' always returns 1536 dimensions; "
                    + "use amazon.titan-embed-text-v2:0 for 256, 512 or 1024");
        }
    }

    private CompletableFuture<One> embedOne(String text, EmbedOptions opts) {
        ObjectNode body = BedrockCalls.JSON.createObjectNode();
        body.put("inputText", text);
        if (version == Version.V2) {
            if (opts.dimensions() != null) {
                body.put("dimensions", opts.dimensions());
            }
            if (opts.normalize() != null) {
                body.put("normalize", opts.normalize());
            }
        }
        int expected = dimensions(opts);
        return BedrockCalls.invokeJson(client, modelId, body).thenApply(r -> {
            JsonNode resp = r.body();
            float[] v = BedrockCalls.vector(modelId, resp.get("embedding"), "embedding");
            if (v.length != expected) {
                throw BedrockCalls.badResponse(modelId, "expected " + expected + " dimensions, got " + v.length, null);
            }
            if (version == Version.V1 && Boolean.TRUE.equals(opts.normalize())) {
                BedrockCalls.normalizeInPlace(v);
            }
            long tokens = resp.path("inputTextTokenCount").asLong(0);
            Usage u = tokens > 0 ? new Usage(tokens, 0) : r.headerUsage();
            return new One(v, u);
        });
    }

    @Override
    public String toString() {
        return "TitanEmbeddingModel[" + modelId + ", " + version + "]";
    }
}
