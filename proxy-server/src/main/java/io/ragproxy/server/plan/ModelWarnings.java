package io.ragproxy.server.plan;

/**
 * Where a plan reports a model input whose call failed and became NULL under {@code rag_on_error = 'null'}: the
 * statement's warnings ({@link io.ragproxy.server.command.StatementSession#warn}). Called from model-call threads.
 */
@FunctionalInterface
interface ModelWarnings {
    /** Ignores them (callers that have no statement to warn). */
    ModelWarnings NONE = (text, code, message) -> { };

    /**
     * @param text the input whose call failed
     * @param code the error number the failure would have had (7100-7104)
     * @param message what failed, naming the model and the cause
     */
    void failed(String text, int code, String message);
}
