package io.ragproxy.catalog.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.ModelException.Kind;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Cohere Embed v3 ({@code cohere.embed-english-v3}, {@code cohere.embed-multilingual-v3}) through InvokeModel,
 * up to 96 texts per call.
 *
 * <p>Body: {@code {"texts":[…],"input_type":"search_document"|"search_query"[,"truncate":…]}} — the input type
 * follows {@link EmbedOptions#inputPurpose()} (stored text vs. query text); {@code truncate} is sent only when
 * given in the options. Response: {@code embeddings}, 1024 floats each. Bedrock reports token counts only in
 * response headers, which are used when present. Thread-safe.
 */
public final class CohereEmbeddingModel implements EmbeddingModel {

    /** Cohere's per-call limit on Bedrock. */
    public static final int MAX_TEXTS = 96;
    public static final int DIMENSIONS = 1024;

    private final BedrockRuntimeAsyncClient client;
    private final String modelId;

    public CohereEmbeddingModel(BedrockRuntimeAsyncClient client, String modelId) {
        this.client = Objects.requireNonNull(client, "client");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    public static boolean isCohereEmbed(String modelId) {
        return BedrockModelIds.baseModelId(modelId).startsWith("cohere.embed");
    }

    @Override
    public boolean distinguishesInputPurpose() {
        return true;
    }

    @Override
    public String id() {
        return modelId;
    }

    @Override
    public int dimensions(EmbedOptions options) {
        return DIMENSIONS;
    }

    @Override
    public int maxBatchSize() {
        return MAX_TEXTS;
    }

    @Override
    public CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options) {
        EmbedOptions opts = options == null ? EmbedOptions.DEFAULT : options;
        if (opts.dimensions() != null && opts.dimensions() != DIMENSIONS) {
            return CompletableFuture.failedFuture(new ModelException(Kind.CLIENT_ERROR, modelId,
                    "model '" + modelId + "' always returns 1024 dimensions, not " + opts.dimensions()));
        }
        if (texts.size() > MAX_TEXTS) {
            return CompletableFuture.failedFuture(new ModelException(Kind.CLIENT_ERROR, modelId,
                    "model '" + modelId + "' takes at most 96 texts per call, got " + texts.size()));
        }
        ObjectNode body = BedrockCalls.JSON.createObjectNode();
        ArrayNode arr = body.putArray("texts");
        texts.forEach(arr::add);
        body.put("input_type", opts.inputPurpose() == EmbedOptions.InputPurpose.QUERY ? "search_query" : "search_document");
        String truncate = opts.extra().get("truncate");
        if (truncate != null) {
            body.put("truncate", truncate);
        }
        boolean normalize = Boolean.TRUE.equals(opts.normalize());
        return BedrockCalls.invokeJson(client, modelId, body).thenApply(r -> {
            JsonNode embs = r.body().get("embeddings");
            // embedding_types requests answer {"embeddings":{"float":[…]}}; plain requests a list.
            if (embs != null && embs.isObject()) {
                embs = embs.get("float");
            }
            if (embs == null || !embs.isArray() || embs.size() != texts.size()) {
                throw BedrockCalls.badResponse(modelId, "expected " + texts.size() + " embeddings", null);
            }
            List<float[]> out = new ArrayList<>(texts.size());
            for (JsonNode e : embs) {
                float[] v = BedrockCalls.vector(modelId, e, "embeddings");
                out.add(normalize ? BedrockCalls.normalizeInPlace(v) : v);
            }
            return new Embeddings(out, r.headerUsage());
        });
    }

    @Override
    public String toString() {
        return "CohereEmbeddingModel[" + modelId + "]";
    }
}
