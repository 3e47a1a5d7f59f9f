package io.ragproxy.emulator;

/**
 * The errors the emulator can inject, each with the HTTP status, {@code x-amzn-ErrorType} header and
 * message that Bedrock Runtime sends for it, so that the AWS SDK raises the same exception class it would
 * raise against the real service.
 */
public enum EmulatedError {
    /** HTTP 429 ThrottlingException, body {@code {"message":"Rate exceeded"}}. */
    THROTTLING(429, "ThrottlingException", "Rate exceeded"),
    /** HTTP 429 ModelNotReadyException. */
    MODEL_NOT_READY(429, "ModelNotReadyException", "Model is not ready for inference. Try again later."),
    /** HTTP 408 ModelTimeoutException. */
    MODEL_TIMEOUT(408, "ModelTimeoutException", "Model has timed out in processing the request."),
    /** HTTP 400 ValidationException. */
    VALIDATION(400, "ValidationException", "Malformed input request, please reformat your input and try again."),
    /** HTTP 403 AccessDeniedException. */
    ACCESS_DENIED(403, "AccessDeniedException", "You don't have access to the model with the specified model ID."),
    /** HTTP 500 InternalServerException. */
    INTERNAL(500, "InternalServerException", "Internal server error"),
    /** HTTP 503 ServiceUnavailableException. */
    SERVICE_UNAVAILABLE(503, "ServiceUnavailableException", "Service Unavailable"),
    /** HTTP 424 ModelErrorException (the model itself failed). */
    MODEL_ERROR(424, "ModelErrorException", "The model returned an error."),
    /** HTTP 200 with a body that is not JSON, to test handling of unparseable responses. */
    MALFORMED_RESPONSE(200, null, "this is not json");

    private final int status;
    private final String errorType;
    private final String message;

    EmulatedError(int status, String errorType, String message) {
        this.status = status;
        this.errorType = errorType;
        this.message = message;
    }

    public int status() {
        return status;
    }

    /** The {@code x-amzn-ErrorType} header value, or null for {@link #MALFORMED_RESPONSE}. */
    public String errorType() {
        return errorType;
    }

    public String message() {
        return message;
    }

    /** Parses a name as written on the command line: {@code throttling}, {@code model-timeout}, {@code 500}... */
    public static EmulatedError parse(String s) {
        String n = s.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        for (EmulatedError e : values()) {
            if (e.name().equals(n) || (e.errorType != null && e.errorType.equalsIgnoreCase(s.trim()))
                    || Integer.toString(e.status).equals(n)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown error kind '" + s + "'; known: "
                + java.util.Arrays.toString(values()).toLowerCase(java.util.Locale.ROOT));
    }
}
