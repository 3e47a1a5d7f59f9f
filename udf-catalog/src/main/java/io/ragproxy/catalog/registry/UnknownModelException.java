package io.ragproxy.catalog.registry;

/**
 * A model name that is neither a configured alias, a Bedrock model id, nor a known local model — or one of
 * the wrong kind (a text model where an embedding model is needed). The message lists the configured models.
 */
public class UnknownModelException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String name;

    public UnknownModelException(String name, String message) {
        super(message);
        this.name = name;
    }

    /** The name that was asked for. */
    public String name() {
        return name;
    }
}
