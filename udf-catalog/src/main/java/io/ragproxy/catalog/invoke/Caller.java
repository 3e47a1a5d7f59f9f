package io.ragproxy.catalog.invoke;

import java.util.Objects;

/**
 * Who a request is made for: counters of its own that count the request besides the proxy's totals (a client
 * session's, for its {@code SHOW RAG STATUS}), and the cache partition its results are shared in. Requests of
 * different partitions never share a cached result or an in-flight call; the empty partition is shared by every
 * caller that names it. Immutable (the counters themselves are thread-safe adders).
 *
 * @param counters       counted in addition to the invoker's totals and per-model counters; null: none
 * @param cachePartition the cache partition, e.g. an account's {@code CURRENT_USER()}; "" for the shared one
 */
public record Caller(CounterSet counters, String cachePartition) {

    /** No counters of its own, the shared cache partition. */
    public static final Caller NONE = new Caller(null, "");

    public Caller {
        Objects.requireNonNull(cachePartition, "cachePartition");
    }

    /** This caller with its results cached in {@code partition}. */
    public Caller inPartition(String partition) {
        return new Caller(counters, partition);
    }
}
