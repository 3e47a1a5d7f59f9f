package io.ragproxy.catalog.model;

import java.util.concurrent.CompletableFuture;

/**
 * A model called with a raw request body that the caller wrote in the model's own format, as in Aurora's
 * {@code CREATE FUNCTION … ALIAS AWS_BEDROCK_INVOKE_MODEL}: body in, body out, nothing interpreted.
 */
public interface RawModel {

    /** The model id the body is sent to, e.g. {@code anthropic.claude-3-haiku-20240307-v1:0}. */
    String id();

    /**
     * Sends {@code body} to the model in one call.
     *
     * @param contentType the body's media type, e.g. {@code application/json}
     * @param accept      the media type asked for, e.g. {@code application/json} or {@code *}{@code /*}
     * @return the response body; completes exceptionally with a {@link ModelException}
     */
    CompletableFuture<byte[]> invoke(byte[] body, String contentType, String accept);
}
