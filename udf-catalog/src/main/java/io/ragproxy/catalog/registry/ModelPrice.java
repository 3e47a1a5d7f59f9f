package io.ragproxy.catalog.registry;

/**
 * On-demand price of a model in USD per 1,000 tokens, for cost estimates in {@code SHOW RAG STATUS}.
 * Estimates only: the bill is AWS's.
 */
public record ModelPrice(double inputPer1k, double outputPer1k) {

    public static final ModelPrice FREE = new ModelPrice(0, 0);

    public ModelPrice {
        if (inputPer1k < 0 || outputPer1k < 0) {
            throw new IllegalArgumentException("prices must be >= 0");
        }
    }

    /** Estimated cost of a call with these token counts. */
    public double cost(long inputTokens, long outputTokens) {
        return inputTokens / 1000.0 * inputPer1k + outputTokens / 1000.0 * outputPer1k;
    }
}
