package io.ragproxy.server.command;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.RowStream;
import io.ragproxy.server.wire.ResultSetWriter;
import java.util.concurrent.CompletableFuture;

/**
 * A client session as a statement pipeline sees it: who the client is, what the backend is, a way to run the
 * pipeline's own queries on the client's backend connection (so they see the session's variables, temporary
 * tables and transaction), and where to run.
 */
public interface StatementSession {

    /** The authenticated user name. */
    String user();

    /** The backend's version string as it sent it (without the proxy's suffix). */
    String backendVersion();

    /** Whether CLIENT_DEPRECATE_EOF was negotiated on this connection. */
    boolean deprecateEof();

    /** A writer for result sets in this connection's protocol flavour. */
    ResultSetWriter resultSetWriter();

    /**
     * The session's character sets and sql_mode as read before the statement being run (the pipeline's statement
     * text is already decoded with them; the proxy's own queries are encoded with them).
     */
    io.ragproxy.server.text.SessionText sessionText();

    /** Whether CLIENT_SESSION_TRACK was negotiated (OK packets then carry length-encoded info). */
    boolean sessionTrack();

    /** Server status flags as of the backend's last OK or EOF packet (for replies the proxy composes). */
    int serverStatus();

    /**
     * Runs {@code sql} on this session's backend connection and decodes the whole response. One query at a time;
     * the future fails with a {@link io.ragproxy.server.backend.BackendException} when the backend answers ERR.
     */
    CompletableFuture<QueryResult> query(String sql);

    /**
     * Runs {@code sql} like {@link #query}, and when the backend asks for a local file (its 0xFB answer to {@code LOAD
     * DATA LOCAL INFILE}) relays the request to the client and the client's file packets, up to the empty one, to
     * the backend, as on a direct connection; the backend's final OK or ERR then completes the future and is not
     * sent to the client. The client's reply to the statement (an ERR or a composed reply; not a forwarded
     * statement) then continues that exchange's sequence ids.
     */
    CompletableFuture<QueryResult> queryRelayingLocalInfile(String sql);

    /**
     * Runs {@code sql} on this session's backend connection and hands its result set to {@code rows} as it arrives,
     * on the event loop, instead of collecting it: for results too large to hold. One query at a time, like
     * {@link #query}; while it runs, {@code rows} may pause the backend's reads.
     */
    void queryStream(String sql, RowStream rows);

    /**
     * The session's account as {@code CURRENT_USER()} reported it ({@code user@host}), remembered by the pipeline
     * for model access checks; null until set, and again after COM_CHANGE_USER or COM_RESET_CONNECTION.
     */
    default String currentUser() {
        return null;
    }

    /** Remembers {@link #currentUser()}; a session that cannot remember it ignores this (then it is read again). */
    default void currentUser(String account) {
    }

    /** The session's {@code rag_} settings. */
    RagSettings settings();

    /** Replaces the session's {@code rag_} settings (SET rag_…). */
    void settings(RagSettings settings);

    /** The connection's event loop; the pipeline's callbacks that touch the session must run here. */
    EventLoop eventLoop();

    /** The allocator for response frames. */
    ByteBufAllocator alloc();

    /**
     * Adds a warning to the statement being run: the reply's warning count includes it and {@code SHOW WARNINGS}
     * right after lists it (after the backend's own warnings), as MySQL's warnings work.
     *
     * @param code the error number shown in SHOW WARNINGS' Code column
     */
    void warn(int code, String message);

    /**
     * Completes when the statement being run is to stop: another connection killed it ({@code KILL QUERY}) or the
     * client went away. Plans stop before their next backend write and cancel the model calls still outstanding.
     * Each statement gets a fresh future; it never fails.
     */
    CompletableFuture<Void> cancellation();

    /**
     * Reports how far the statement being run has come, for metrics, {@code SHOW RAG PROCESSLIST} and MariaDB
     * progress reports: a backfill calls it once with {@code rowsDone} 0 and the rows it expects, then after every
     * page it commits; a streamed SELECT after every batch of rows it sends, with the rows expected unknown.
     *
     * @param rowsDone rows done so far: written and, outside a transaction, committed; for a streamed SELECT, sent
     * @param rowsExpected rows the statement expects to do in all; -1 keeps the last value given
     */
    default void progress(long rowsDone, long rowsExpected) {
    }

    /**
     * Names the plan the statement being run got ({@code backfill}, {@code streamed}, …), for
     * {@code SHOW RAG PROCESSLIST}; called once the pipeline chose it.
     */
    default void plan(String kind) {
    }

    /** The plan {@link #plan(String)} named for the statement being run; null before one was chosen. */
    default String plan() {
        return null;
    }

    /** The connection id the client was given (the backend's thread id), for the audit log; 0 when unknown. */
    default long connectionId() {
        return 0;
    }

    /** The client's address ({@code host:port}), for the audit log; "-" when unknown. */
    default String clientAddress() {
        return "-";
    }

    /**
     * A limiter, {@code width} wide, for every model call of the statement being run: the session counts the
     * permits it grants as the statement's model calls ({@code SHOW RAG PROCESSLIST}). A plan asks for it once.
     */
    default io.ragproxy.catalog.invoke.AsyncLimiter statementLimiter(int width) {
        return new io.ragproxy.catalog.invoke.AsyncLimiter(width);
    }

    /** The AI statements the connections of this proxy run now (this session's own included), in no order. */
    default java.util.List<RunningStatement> runningStatements() {
        return java.util.List.of();
    }

    /**
     * Whether the backend connection ended under the running statement without a KILL sent through the proxy (a
     * backend restart or crash, a KILL sent to the backend directly): plans then report a lost connection (2013),
     * not an interruption.
     */
    default boolean backendLost() {
        return false;
    }
}
