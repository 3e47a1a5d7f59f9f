package io.ragproxy.catalog.invoke;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Invocation counters in total and per model: the proxy's (global) set, or one client session's. Thread-safe;
 * a model's counters are created empty on first use.
 */
public final class CounterSet {

    private final InvocationCounters total = new InvocationCounters();
    private final Map<String, InvocationCounters> perModel = new ConcurrentHashMap<>();

    /** Counters over all models. */
    public InvocationCounters total() {
        return total;
    }

    /** Counters of one model (by id). */
    public InvocationCounters model(String modelId) {
        return perModel.computeIfAbsent(modelId, k -> new InvocationCounters());
    }

    /** Per-model counters, by model id, sorted. */
    public Map<String, InvocationCounters> byModel() {
        return new TreeMap<>(perModel);
    }

    /** Per-model snapshots ({@link InvocationCounters#snapshot()}), by model id, sorted. */
    public Map<String, Map<String, Number>> snapshotByModel() {
        Map<String, Map<String, Number>> m = new TreeMap<>();
        perModel.forEach((k, v) -> m.put(k, v.snapshot()));
        return m;
    }
}
