package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.RerankingModel;
import io.ragproxy.catalog.model.Rerankings;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The offline reranker ({@code local:minilm-cosine}): no cross-encoder ships as a package this build can use offline,
 * so a document's score is the cosine similarity of its embedding and the query's under a local embedding model
 * (all-MiniLM-L6-v2), between -1 and 1. It orders like a vector search with that model, so it refines a search made
 * with another model (or a full-text one) rather than a search with the same one. Calls no service; thread-safe.
 */
public final class EmbeddingSimilarityReranker implements RerankingModel {

    /** Documents per call: the query's embedding is computed once per call. */
    public static final int MAX_BATCH = 1000;

    private final String id;
    private final EmbeddingModel embedder;

    public EmbeddingSimilarityReranker(String id, EmbeddingModel embedder) {
        this.id = Objects.requireNonNull(id, "id");
        this.embedder = Objects.requireNonNull(embedder, "embedder");
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int maxBatchSize() {
        return MAX_BATCH;
    }

    @Override
    public CompletableFuture<Rerankings> rerank(String query, List<String> documents) {
        EmbedOptions queryOptions = EmbedOptions.DEFAULT.withInputPurpose(EmbedOptions.InputPurpose.QUERY);
        return embedder.embed(List.of(query), queryOptions).thenCompose(q -> {
            float[] qv = q.vectors().get(0);
            List<Double> scores = new ArrayList<>(documents.size());
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            int batch = Math.max(1, embedder.maxBatchSize());
            for (int from = 0; from < documents.size(); from += batch) {
                List<String> part = documents.subList(from, Math.min(documents.size(), from + batch));
                chain = chain.thenCompose(v -> embedder.embed(part, EmbedOptions.DEFAULT).thenAccept(e -> {
                    for (float[] dv : e.vectors()) {
                        scores.add(ExtractiveTextModel.cosine(qv, dv));
                    }
                }));
            }
            return chain.thenApply(v -> new Rerankings(scores, 0));
        });
    }

    @Override
    public String toString() {
        return "EmbeddingSimilarityReranker[" + id + " over " + embedder.id() + "]";
    }
}
