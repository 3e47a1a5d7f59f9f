package io.ragproxy.catalog.model;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A model that scores documents by their relevance to a query (a reranker): Bedrock's Rerank API
 * ({@code cohere.rerank-v3-5:0}, {@code amazon.rerank-v1:0}) or the local stand-in.
 *
 * <p>Like the other models, one call per invocation: caching (per model, query and document), retries, timeouts,
 * limits and accounting are the invocation policy's. A document's score depends on the query and the document only,
 * not on the other documents of the call, so scores of different calls compare.
 */
public interface RerankingModel {

    /** The model's canonical id, e.g. {@code cohere.rerank-v3-5:0} or {@code local:minilm-cosine}. */
    String id();

    /** How many documents one call to {@link #rerank} may carry. */
    int maxBatchSize();

    /**
     * Scores {@code documents} (size at most {@link #maxBatchSize()}, no nulls, no empty strings) against
     * {@code query} (not empty) in one model call. The future completes with one score per document, in input
     * order (higher is more relevant), or exceptionally with a {@link ModelException}.
     */
    CompletableFuture<Rerankings> rerank(String query, List<String> documents);
}
