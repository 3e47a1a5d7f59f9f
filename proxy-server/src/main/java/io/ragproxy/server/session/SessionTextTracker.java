package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.text.SqlMode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Follows one session's {@link SessionText}. The cheapest robust way: any command that may change
 * {@code character_set_client}, {@code character_set_results} or {@code sql_mode} (a statement that does not start
 * with a keyword known not to, a multi-statement, an executable comment, COM_CHANGE_USER, COM_RESET_CONNECTION) marks
 * it stale, and the next AI statement first asks the backend for the three variables, on the session's own
 * connection. Plain traffic pays one short byte scan per query; a session that never changes them pays one query.
 * {@code SET STATEMENT … FOR …} starts with SET, so it marks them stale too (the statement's own sql_mode is not
 * read: it is scanned in every mode, see {@link #scanMode}). A relayed prepared statement is judged by its text
 * when it is prepared, and every execute marks the variables stale once one such statement was prepared.
 *
 * <p>Event loop only.
 */
final class SessionTextTracker {
    /** The variables, in {@link #fromRow} order. */
    static final String QUERY = "SELECT @@character_set_client, @@character_set_results, @@sql_mode";

    /**
     * First keywords of statements that cannot change the three variables. Anything else (SET, CALL, EXECUTE, DO,
     * …) marks them stale: stored routines restore sql_mode but may run SET NAMES.
     */
    private static final String[] KEEPS_TEXT = {"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH",
            "SHOW", "EXPLAIN", "DESCRIBE", "DESC", "BEGIN", "COMMIT", "ROLLBACK", "START", "SAVEPOINT", "RELEASE",
            "VALUES", "TABLE", "LOAD", "CREATE", "DROP", "ALTER", "TRUNCATE", "RENAME", "USE", "KILL", "LOCK",
            "UNLOCK", "ANALYZE", "OPTIMIZE", "CHECK", "CHECKSUM", "REPAIR", "GRANT", "REVOKE", "FLUSH", "HANDLER",
            "PREPARE", "DEALLOCATE", "XA"};
    private static final int LONGEST_KEYWORD = 10;

    private SessionText current = SessionText.DEFAULT;
    /** Whether {@link #current} may be out of date; true until the first refresh. */
    private boolean stale = true;
    /** Whether a statement the backend prepared may change the variables when it is executed. */
    private boolean preparedMayChangeText;

    /** The session's text as last read (before the first AI statement: utf8mb4 and the default sql_mode). */
    SessionText current() {
        return current;
    }

    /**
     * The sql_mode to scan a statement in: the one last read, or null (any mode) while it may be out of date. Call
     * it after {@link #statement} so that a statement that changes the mode itself is scanned in any mode.
     * Allocates nothing.
     */
    SqlMode scanMode() {
        return stale ? null : current.sqlMode();
    }

    /** The backend reset or replaced the session (COM_CHANGE_USER, COM_RESET_CONNECTION). */
    void sessionReset() {
        stale = true;
        preparedMayChangeText = false; // the backend closed the session's prepared statements
    }

    /**
     * A COM_STMT_PREPARE relayed to the backend ({@code sql} its text, from {@code index}): once the session has
     * prepared a statement that may change the tracked variables ({@code SET NAMES …} through a prepared
     * statement), every relayed COM_STMT_EXECUTE marks them stale.
     */
    void prepared(ByteBuf sql, int index, int length) {
        if (!preparedMayChangeText && mayChangeText(sql, index, length)) {
            preparedMayChangeText = true;
        }
    }

    /** A COM_STMT_EXECUTE relayed to the backend. */
    void executed() {
        if (preparedMayChangeText) {
            stale = true;
        }
    }

    /** A COM_QUERY's text (its payload after the command byte, from {@code index}) on its way to the backend. */
    void statement(ByteBuf sql, int index, int length) {
        if (!stale && mayChangeText(sql, index, length)) {
            stale = true;
        }
    }

    /** Like {@link #statement(ByteBuf, int, int)}, for text the proxy runs for the client. */
    void statement(String sql) {
        if (!stale) {
            byte[] b = sql.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            stale = mayChangeText(io.netty.buffer.Unpooled.wrappedBuffer(b), 0, b.length);
        }
    }

    /**
     * Brings {@link #current} up to date before an AI statement: completes at once when nothing may have changed,
     * else after one query through {@code query}.
     */
    CompletableFuture<SessionText> refresh(Function<String, CompletableFuture<QueryResult>> query) {
        if (!stale) {
            return CompletableFuture.completedFuture(current);
        }
        return query.apply(QUERY).thenApply(result -> {
            current = fromRow(result.first().rows().get(0));
            stale = false;
            return current;
        });
    }

    /** Whether the ASCII word at {@code start} is one of {@link #KEEPS_TEXT}, ignoring case; allocates nothing. */
    private static boolean keepsText(ByteBuf sql, int start, int length) {
        next:
        for (String keyword : KEEPS_TEXT) {
            if (keyword.length() != length) {
                continue;
            }
            for (int k = 0; k < length; k++) {
                if ((sql.getByte(start + k) & 0xDF) != keyword.charAt(k)) {
                    continue next;
                }
            }
            return true;
        }
        return false;
    }

    private static boolean isAsciiLetter(byte b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
    }

    static SessionText fromRow(List<String> row) {
        return new SessionText(row.get(0), row.get(1), SqlMode.parse(row.get(2)));
    }

    /**
     * Whether a statement may change the tracked variables: it does not start with a keyword of
     * {@link #KEEPS_TEXT} (after white space and comments; an executable comment counts), or it has a {@code ;}
     * followed by more than white space (a multi-statement; a {@code ;} inside a string costs a refresh, no more).
     */
    static boolean mayChangeText(ByteBuf sql, int index, int length) {
        int end = index + length;
        int i = index;
        while (i < end) {
            int c = sql.getByte(i) & 0xFF;
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                i++;
            } else if (c == '#' || (c == '-' && i + 2 < end && sql.getByte(i + 1) == '-'
                    && (sql.getByte(i + 2) & 0xFF) <= ' ')) {
                while (i < end && sql.getByte(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < end && sql.getByte(i + 1) == '*') {
                if (i + 2 < end && (sql.getByte(i + 2) == '!' || sql.getByte(i + 2) == 'M')) {
                    return true; // executable comment: mysqldump's /*!40101 SET NAMES … */
                }
                i += 2;
                while (i + 1 < end && !(sql.getByte(i) == '*' && sql.getByte(i + 1) == '/')) {
                    i++;
                }
                i += 2;
            } else {
                break;
            }
        }
        int start = i;
        while (i < end && i - start <= LONGEST_KEYWORD && isAsciiLetter(sql.getByte(i))) {
            i++;
        }
        if (i - start > LONGEST_KEYWORD || i == start) {
            return true;
        }
        if (!keepsText(sql, start, i - start)) {
            return true;
        }
        // A multi-statement: a ';' followed by more than white space.
        for (int k = sql.indexOf(i, end, (byte) ';'); k >= 0 && k < end; k++) {
            int c = sql.getByte(k) & 0xFF;
            if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';')) {
                return true;
            }
        }
        return false;
    }
}
