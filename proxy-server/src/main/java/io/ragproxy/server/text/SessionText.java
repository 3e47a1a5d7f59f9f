package io.ragproxy.server.text;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;

/**
 * How one session's text reads and is written, as the backend last reported it: {@code character_set_client},
 * {@code character_set_results} and the {@code sql_mode} flags that change lexing. Immutable.
 *
 * @param clientName {@code @@character_set_client}
 * @param resultsName {@code @@character_set_results}, or null when it is NULL (no conversion)
 * @param sqlMode the lexing flags of {@code @@sql_mode}
 */
public record SessionText(String clientName, String resultsName, SqlMode sqlMode) {
    /** A session in utf8mb4 under the default sql_mode. */
    public static final SessionText DEFAULT = new SessionText("utf8mb4", "utf8mb4", SqlMode.DEFAULT);

    public SessionText {
        if (clientName == null || sqlMode == null) {
            throw new IllegalArgumentException("character_set_client and sql_mode are required");
        }
    }

    /**
     * The set statements arrive in.
     *
     * @throws ProxyException UNSUPPORTED_CHARSET when ragproxy does not handle it
     */
    public ClientCharset client() {
        ClientCharset c = ClientCharset.named(clientName);
        if (c == null) {
            throw unsupported("character_set_client", clientName);
        }
        return c;
    }

    /**
     * The set composed results are written in: {@code character_set_results}, and for NULL (no conversion)
     * binary, whose composed text is UTF-8 announced as utf8mb4.
     *
     * @throws ProxyException UNSUPPORTED_CHARSET when ragproxy does not handle it
     */
    public ClientCharset results() {
        if (resultsName == null) {
            return ClientCharset.BINARY;
        }
        ClientCharset c = ClientCharset.named(resultsName);
        if (c == null) {
            throw unsupported("character_set_results", resultsName);
        }
        return c;
    }

    /** Whether both sets are ones ragproxy handles (else {@link #client} or {@link #results} throws). */
    public boolean supported() {
        return ClientCharset.named(clientName) != null
                && (resultsName == null || ClientCharset.named(resultsName) != null);
    }

    private static ProxyException unsupported(String variable, String name) {
        return new ProxyException(ProxyError.UNSUPPORTED_CHARSET, "ragproxy runs AI statements only in sessions whose "
                + variable + " is utf8mb4, utf8mb3, latin1 or binary; this session's is " + name
                + ": run SET NAMES utf8mb4 (or latin1) before the statement, or connect with that character set");
    }
}
