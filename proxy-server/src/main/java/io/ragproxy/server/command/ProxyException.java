package io.ragproxy.server.command;

/** A failure the client sees as an ERR packet with the given {@link ProxyError} and message. */
public class ProxyException extends RuntimeException {
    private final int code;
    private final String sqlState;

    public ProxyException(ProxyError error, String message) {
        this(error.code(), error.sqlState(), message, null);
    }

    public ProxyException(ProxyError error, String message, Throwable cause) {
        this(error.code(), error.sqlState(), message, cause);
    }

    /** For errors carrying a number and SQLSTATE of their own (for instance a backend's error passed on). */
    public ProxyException(int code, String sqlState, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.sqlState = sqlState;
    }

    public int code() {
        return code;
    }

    public String sqlState() {
        return sqlState;
    }
}
