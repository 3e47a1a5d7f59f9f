package io.ragproxy.catalog.invoke;

/**
 * Told by {@link ModelInvoker} about every attempt it sends to a model, when the attempt ends: how it ended and how
 * long it took (from sending to the answer, the failure or the cancellation; waiting for a permit is not counted).
 * The proxy turns these into its request and latency metrics.
 *
 * <p>Called on whichever thread ends the attempt (a model's completion thread, the timer, a cancelling thread), once
 * per attempt; implementations must be thread-safe, cheap and must not throw.
 */
@FunctionalInterface
public interface InvocationListener {

    /** How an attempt ended. */
    enum Outcome {
        /** The model answered. */
        OK,
        /** The model's provider throttled the attempt (it may be retried). */
        THROTTLED,
        /** The attempt timed out, by the proxy's per-attempt timeout or the model's own. */
        TIMEOUT,
        /** The caller cancelled it (KILL, the client went away, a sibling call failed). */
        CANCELLED,
        /** Any other failure. */
        ERROR
    }

    /** A listener that ignores everything. */
    InvocationListener NONE = (modelId, outcome, nanos) -> { };

    /**
     * @param modelId the model's id, as in {@link ModelInvoker#countersByModel()}
     * @param outcome how the attempt ended
     * @param nanos how long it took
     */
    void attemptEnded(String modelId, Outcome outcome, long nanos);
}
