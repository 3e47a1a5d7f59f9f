package io.ragproxy.catalog.invoke;

/**
 * A model input longer than {@code [models] max_input_chars}: the request is refused before any model call, so an
 * oversized value costs nothing and cannot hold a connection's memory for a call the model would reject anyway.
 */
public final class InputTooLongException extends IllegalArgumentException {
    private final String modelId;
    private final int length;
    private final int limit;

    public InputTooLongException(String modelId, int length, int limit) {
        super("an input of " + length + " characters for model '" + modelId + "' is longer than [models] max_input_chars = "
                + limit);
        this.modelId = modelId;
        this.length = length;
        this.limit = limit;
    }

    /** The model the input was meant for. */
    public String modelId() {
        return modelId;
    }

    /** The input's length in characters (UTF-16 units, as Java counts them). */
    public int length() {
        return length;
    }

    /** The configured limit. */
    public int limit() {
        return limit;
    }
}
