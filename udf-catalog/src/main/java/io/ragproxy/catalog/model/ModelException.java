package io.ragproxy.catalog.model;

/**
 * A failed model call, classified so that the invocation policy knows whether to retry and the
 * proxy knows which SQL error to return.
 *
 * <p>Messages are written for the SQL user: they say what happened and what to do. They never contain
 * credentials, request signatures or full request bodies.
 */
public class ModelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What kind of failure this is. */
    public enum Kind {
        /** The model provider throttled the request (HTTP 429, ThrottlingException). Retryable. */
        THROTTLED(true),
        /** The call did not finish in time: our per-call timeout, or the provider's model timeout (408). */
        TIMEOUT(true),
        /** The provider failed (HTTP 5xx, InternalServerException). Retryable. */
        SERVER_ERROR(true),
        /** The request was invalid (HTTP 400, ValidationException): bad options, input too long. Not retryable. */
        CLIENT_ERROR(false),
        /** The credentials are not allowed to call this model (HTTP 403). Not retryable. */
        ACCESS_DENIED(false),
        /** The model is loading or not yet ready (ModelNotReadyException). Retryable. */
        MODEL_NOT_READY(true),
        /** The provider could not be reached or is unavailable (connection failure, HTTP 503). Retryable. */
        UNAVAILABLE(true),
        /** The provider answered with something we could not understand. Not retryable. */
        BAD_RESPONSE(false),
        /** The caller cancelled the call (query killed, connection closed). Not retryable. */
        CANCELLED(false),
        /**
         * The proxy did not send the call: the caller's {@link io.ragproxy.catalog.invoke.CallGate} refused it (a
         * spending budget ran out); the cause says why. Not retryable.
         */
        REFUSED(false);

        private final boolean retryable;

        Kind(boolean retryable) {
            this.retryable = retryable;
        }

        /** Whether a call that failed this way may succeed when tried again. */
        public boolean retryable() {
            return retryable;
        }
    }

    private final Kind kind;
    private final String modelId;

    public ModelException(Kind kind, String modelId, String message) {
        this(kind, modelId, message, null);
    }

    public ModelException(Kind kind, String modelId, String message, Throwable cause) {
        super(message, cause);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
        this.modelId = modelId;
    }

    public Kind kind() {
        return kind;
    }

    /** The model the call was for; null when the failure happened before a model was chosen. */
    public String modelId() {
        return modelId;
    }

    /** Whether trying again may succeed (see {@link Kind#retryable()}). */
    public boolean retryable() {
        return kind.retryable();
    }

    /**
     * The {@link ModelException} in {@code t}'s cause chain (unwrapping CompletionException and
     * ExecutionException), or null if there is none.
     */
    public static ModelException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ModelException me) {
                return me;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "ModelException[" + kind + (modelId == null ? "" : ", " + modelId) + "]: " + getMessage();
    }
}
