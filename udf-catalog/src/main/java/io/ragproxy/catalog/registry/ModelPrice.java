package io.ragproxy.catalog.registry;

/**
 * On-demand price of a model, for cost estimates in {@code SHOW RAG STATUS}: USD per 1,000 tokens in and out, and,
 * for rerankers, USD per 1,000 queries (Bedrock bills a Rerank request as one query per 100 documents). Estimates
 * only: the bill is AWS's.
 */
public record ModelPrice(double inputPer1k, double outputPer1k, double per1kQueries) {

    public static final ModelPrice FREE = new ModelPrice(0, 0, 0);

    public ModelPrice {
        if (inputPer1k < 0 || outputPer1k < 0 || per1kQueries < 0) {
            throw new IllegalArgumentException("prices must be >= 0");
        }
    }

    /** A price per token only. */
    public ModelPrice(double inputPer1k, double outputPer1k) {
        this(inputPer1k, outputPer1k, 0);
    }

    /** A reranker's price: USD per 1,000 queries. */
    public static ModelPrice perThousandQueries(double usd) {
        return new ModelPrice(0, 0, usd);
    }

    /** Estimated cost of a call with these token counts. */
    public double cost(long inputTokens, long outputTokens) {
        return inputTokens / 1000.0 * inputPer1k + outputTokens / 1000.0 * outputPer1k;
    }

    /** Estimated cost of {@code queries} billed reranking queries. */
    public double queryCost(long queries) {
        return queries / 1000.0 * per1kQueries;
    }
}
