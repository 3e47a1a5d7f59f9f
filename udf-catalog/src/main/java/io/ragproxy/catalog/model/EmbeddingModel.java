package io.ragproxy.catalog.model;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A model that turns texts into vectors.
 *
 * <p>Implementations do one thing: call the model once for the given batch. Caching, retries,
 * timeouts, concurrency limits and accounting are the invocation policy's job, not the model's.
 * {@link #maxBatchSize()} tells the policy how many texts one call may carry.
 */
public interface EmbeddingModel {

    /** The model's canonical id, e.g. {@code amazon.titan-embed-text-v2:0} or {@code local:all-minilm-l6-v2}. */
    String id();

    /** Length of every vector this model returns with the given options. */
    int dimensions(EmbedOptions options);

    /** How many texts one call to {@link #embed} may carry; 1 for models without batch support. */
    int maxBatchSize();

    /**
     * Whether the model embeds a text differently as a document than as a query ({@link EmbedOptions#inputPurpose()},
     * Cohere's {@code input_type}). Models that ignore the purpose say false, so the same text is cached once.
     */
    default boolean distinguishesInputPurpose() {
        return false;
    }

    /**
     * Embeds {@code texts} (size at most {@link #maxBatchSize()}, no nulls, no empty strings) in one model
     * call. The future completes with one vector per text, in order, and {@link Usage} for the call, or
     * exceptionally with a {@link ModelException}.
     */
    CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options);
}
