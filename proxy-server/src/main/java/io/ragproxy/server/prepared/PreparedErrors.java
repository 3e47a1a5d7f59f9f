package io.ragproxy.server.prepared;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;

/** The errors of the binary protocol's commands on statements the proxy owns, with what the user should do. */
public final class PreparedErrors {
    private PreparedErrors() {}

    /** 1210: the execute's parameters do not fit the statement. */
    public static ProxyException wrongArguments(String detail) {
        return new ProxyException(ProxyError.WRONG_ARGUMENTS, "Incorrect arguments to mysqld_stmt_execute: " + detail);
    }

    /** 1243: no statement has this id on the connection. */
    public static ProxyException unknownStatement(long id, String command) {
        return new ProxyException(ProxyError.UNKNOWN_STATEMENT, "Unknown prepared statement handler (" + id
                + ") given to " + command + ": prepare the statement again on this connection (prepared statements"
                + " end with COM_STMT_CLOSE, COM_RESET_CONNECTION and COM_CHANGE_USER)");
    }
}
