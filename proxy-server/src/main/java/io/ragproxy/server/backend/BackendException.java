package io.ragproxy.server.backend;

import io.ragproxy.server.command.ProxyException;

/** The backend answered a statement the proxy sent with an ERR packet; its number, SQLSTATE and text pass on. */
public final class BackendException extends ProxyException {
    public BackendException(int code, String sqlState, String message) {
        super(code, sqlState, message, null);
    }
}
