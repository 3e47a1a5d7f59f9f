package io.ragproxy.server.plan;

import io.ragproxy.catalog.invoke.InputTooLongException;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.concurrent.CompletionException;

/** Turns a model call's failure into the SQL error the client gets. */
public final class ModelErrors {
    private ModelErrors() {}

    /** The client-facing error for {@code error} raised by a call of {@code function} to {@code modelId}. */
    public static ProxyException toProxy(AiFunction function, String modelId, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ProxyException pe) {
            return pe;
        }
        if (cause instanceof InputTooLongException e) {
            return new ProxyException(ProxyError.INPUT_TOO_LONG, function + "() input of " + e.length()
                    + " characters for model " + e.modelId() + " is longer than the proxy's limit of " + e.limit()
                    + " ([models] max_input_chars); shorten it (e.g. LEFT(text, " + e.limit() + ")) or raise"
                    + " max_input_chars in the configuration; no model was called");
        }
        if (cause instanceof UnknownModelException) {
            return new ProxyException(ProxyError.UNKNOWN_MODEL, cause.getMessage());
        }
        ModelException me = ModelException.find(cause);
        if (me == null) {
            return new ProxyException(ProxyError.MODEL_FAILED, function + "() failed calling model " + modelId + ": "
                    + cause.getMessage() + "; nothing was written", cause);
        }
        if (me.kind() == ModelException.Kind.REFUSED) {
            // The proxy's own refusal (a budget that ran out during the statement) is the client's error as it is.
            for (Throwable c = me.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                if (c instanceof ProxyException pe) {
                    return pe;
                }
            }
        }
        String head = function + "() failed: model " + (me.modelId() != null ? me.modelId() : modelId) + " ";
        return switch (me.kind()) {
            case THROTTLED -> new ProxyException(ProxyError.MODEL_THROTTLED, head + "kept throttling ("
                    + me.getMessage() + "); retry later, wait longer with SET rag_throttle_wait_ms = <ms>, lower"
                    + " rag_concurrency, or ask AWS for a higher Bedrock quota; nothing was written");
            case TIMEOUT -> new ProxyException(ProxyError.MODEL_TIMEOUT, head + "timed out (" + me.getMessage()
                    + "); raise rag_inference_timeout_ms or retry; nothing was written");
            case ACCESS_DENIED -> new ProxyException(ProxyError.MODEL_ACCESS_DENIED, head + "refused the credentials ("
                    + me.getMessage() + "); grant bedrock:InvokeModel to the AWS identity the proxy runs as");
            case CLIENT_ERROR -> new ProxyException(ProxyError.MODEL_REJECTED, head + "rejected the request ("
                    + me.getMessage() + "); check the input length and the options JSON");
            default -> new ProxyException(ProxyError.MODEL_FAILED, head + "failed (" + me.kind().name().toLowerCase()
                    + ": " + me.getMessage() + "); nothing was written");
        };
    }
}
