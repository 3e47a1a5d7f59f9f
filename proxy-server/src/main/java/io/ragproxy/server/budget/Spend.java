package io.ragproxy.server.budget;

/**
 * What model calls consumed: requests sent, input and output tokens, estimated cost in US dollars, inputs answered
 * by the cache. Immutable.
 */
public record Spend(long requests, long inputTokens, long outputTokens, double costUsd, long cacheHits) {

    /** Nothing spent. */
    public static final Spend NONE = new Spend(0, 0, 0, 0, 0);

    /** The sum of this and {@code other}. */
    public Spend plus(Spend other) {
        return new Spend(requests + other.requests, inputTokens + other.inputTokens,
                outputTokens + other.outputTokens, costUsd + other.costUsd, cacheHits + other.cacheHits);
    }

    /** This less {@code other} (what was spent between two readings of the same counters). */
    public Spend minus(Spend other) {
        return new Spend(requests - other.requests, inputTokens - other.inputTokens,
                outputTokens - other.outputTokens, costUsd - other.costUsd, cacheHits - other.cacheHits);
    }

    /** Input plus output tokens. */
    public long tokens() {
        return inputTokens + outputTokens;
    }

    /** Whether nothing was spent and nothing answered from the cache. */
    public boolean isEmpty() {
        return requests == 0 && inputTokens == 0 && outputTokens == 0 && costUsd == 0 && cacheHits == 0;
    }
}
