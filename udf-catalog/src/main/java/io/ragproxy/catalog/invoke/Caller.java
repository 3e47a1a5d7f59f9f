package io.ragproxy.catalog.invoke;

import java.util.Objects;

/**
 * Who a request is made for: counters of its own that count the request besides the proxy's totals (a client
 * session's, for its {@code SHOW RAG STATUS}), the cache partition its results are shared in, and the gate that may
 * stop its calls before they are sent (a statement's spending budget). Requests of different partitions never share a
 * cached result or an in-flight call; the empty partition is shared by every caller that names it. Immutable (the
 * counters themselves are thread-safe adders).
 *
 * @param counters       counted in addition to the invoker's totals and per-model counters; null: none
 * @param cachePartition the cache partition, e.g. an account's {@code CURRENT_USER()}; "" for the shared one
 * @param gate           asked before each attempt is sent ({@link CallGate}); null: every attempt is sent (and costs
 *                       no more than this null check)
 */
public record Caller(CounterSet counters, String cachePartition, CallGate gate) {

    /** No counters of its own, the shared cache partition, no gate. */
    public static final Caller NONE = new Caller(null, "");

    public Caller {
        Objects.requireNonNull(cachePartition, "cachePartition");
    }

    /** A caller without a gate. */
    public Caller(CounterSet counters, String cachePartition) {
        this(counters, cachePartition, null);
    }

    /** This caller with its results cached in {@code partition}. */
    public Caller inPartition(String partition) {
        return new Caller(counters, partition, gate);
    }

    /** This caller with its attempts asked of {@code g} before they are sent (null: none). */
    public Caller withGate(CallGate g) {
        return new Caller(counters, cachePartition, g);
    }
}
