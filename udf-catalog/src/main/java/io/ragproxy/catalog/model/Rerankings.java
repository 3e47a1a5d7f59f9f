package io.ragproxy.catalog.model;

import java.util.List;
import java.util.Objects;

/**
 * The result of one reranking call: one relevance score per document, in input order, and what the call is billed.
 *
 * @param scores        one score per document, higher is more relevant
 * @param billedQueries the queries the call is billed as (Bedrock bills a Rerank request as one query per 100
 *                      documents, rounded up); 0 for local models
 */
public record Rerankings(List<Double> scores, long billedQueries) {

    public Rerankings {
        scores = List.copyOf(Objects.requireNonNull(scores, "scores"));
        if (billedQueries < 0) {
            throw new IllegalArgumentException("billed queries must be >= 0");
        }
    }
}
