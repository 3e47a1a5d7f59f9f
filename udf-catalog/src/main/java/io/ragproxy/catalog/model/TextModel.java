package io.ragproxy.catalog.model;

import java.util.concurrent.CompletableFuture;

/**
 * A model that turns a prompt into text (a chat or completion model, or the local extractive answerer).
 *
 * <p>Like {@link EmbeddingModel}, one call per invocation; the invocation policy adds caching, retries,
 * timeouts and accounting.
 */
public interface TextModel {

    /** The model's canonical id, e.g. {@code meta.llama3-2-3b-instruct-v1:0} or {@code local:extractive}. */
    String id();

    /** Generates text for {@code prompt}; completes exceptionally with a {@link ModelException}. */
    CompletableFuture<Generation> generate(String prompt, GenerateOptions options);
}
