package io.ragproxy.catalog.model;

/**
 * Token usage of one model call, as the model reported it (0 when the model does not report usage).
 *
 * @param inputTokens  tokens read by the model
 * @param outputTokens tokens produced by the model (0 for embeddings)
 */
public record Usage(long inputTokens, long outputTokens) {

    /** No usage reported (local models, cache hits). */
    public static final Usage NONE = new Usage(0, 0);

    public Usage {
        if (inputTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("token counts must be >= 0");
        }
    }

    /** Sum of two usages; used to total the calls of a batched request. */
    public Usage plus(Usage other) {
        if (other == null || other == NONE) {
            return this;
        }
        return new Usage(inputTokens + other.inputTokens, outputTokens + other.outputTokens);
    }

    public long totalTokens() {
        return inputTokens + outputTokens;
    }
}
