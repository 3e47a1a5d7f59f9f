package io.ragproxy.catalog.invoke;

/**
 * Decides, just before each attempt a {@link Caller}'s request would send to a model (after its permits, so calls
 * queued behind others are asked when their turn comes, not when they were queued), whether it may still be sent: a
 * spending budget that ran out during a statement stops its remaining calls. A refused call is not sent and not
 * retried; it fails with {@link io.ragproxy.catalog.model.ModelException.Kind#REFUSED} whose cause is the gate's
 * refusal. Implementations must be thread-safe and quick: they run once per attempt, on model-call threads.
 */
@FunctionalInterface
public interface CallGate {

    /**
     * @param modelId the model the attempt is for
     * @return null to send the attempt; else why not (the cause of the call's failure, which the caller's plan turns
     *     into its error or, under a NULL-on-error setting, a warning)
     */
    RuntimeException refusal(String modelId);
}
