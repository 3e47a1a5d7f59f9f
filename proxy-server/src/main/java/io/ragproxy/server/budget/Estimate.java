package io.ragproxy.server.budget;

import java.math.BigDecimal;
import java.util.List;

/**
 * What a statement is expected to cost before it runs, as {@code EXPLAIN RAG} reports it: its model inputs (counted
 * on the backend where they come from rows) times the dearest named model's price for a fixed number of tokens per
 * input. Immutable.
 *
 * @param inputs  the model inputs; -1 when they cannot be counted without calling a model
 * @param models  the model ids the statement calls
 * @param costUsd the estimated cost in US dollars; null when {@code inputs} is unknown
 * @param tokens  the estimated input plus output tokens; -1 when {@code inputs} is unknown
 */
public record Estimate(long inputs, List<String> models, BigDecimal costUsd, long tokens) {

    public Estimate {
        models = List.copyOf(models);
    }

    /** Whether the statement's size is known. */
    public boolean known() {
        return inputs >= 0;
    }
}
