package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.prepared.OwnedStatement;
import io.ragproxy.server.prepared.ParameterLiterals;
import io.ragproxy.server.prepared.PreparedErrors;
import io.ragproxy.server.prepared.PreparedStatements;
import io.ragproxy.server.prepared.StatementText;
import io.ragproxy.server.protocol.Capabilities;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.wire.BulkExecuteRequest;
import io.ragproxy.server.wire.ExecuteRequest;
import io.ragproxy.server.wire.Packets;
import io.ragproxy.server.wire.ParameterValue;
import io.ragproxy.server.wire.PrepareOk;
import io.ragproxy.server.wire.RowCursor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The binary protocol's commands (COM_STMT_PREPARE, _EXECUTE, _SEND_LONG_DATA, _RESET, _CLOSE, _FETCH and MariaDB's
 * COM_STMT_BULK_EXECUTE). A prepare whose text the scan does not flag is relayed, and so are the commands on the
 * statement the backend then prepares: their only added cost is a range test of the statement id. A flagged
 * prepare makes the proxy own the statement ({@link PreparedStatements}): it answers the prepare itself (with the
 * result's column definitions when the pipeline can describe them beforehand), and runs
 * each execute as the statement's text with the parameters bound as SQL literals, through the same pipeline as a
 * COM_QUERY, its rows sent back as binary rows. A bulk execute of an owned INSERT runs as one multi-row INSERT.
 *
 * <p>An execute that asks for a cursor (CURSOR_TYPE_READ_ONLY) of an owned statement returning rows keeps its binary
 * rows, up to {@link #MAX_CURSOR_BYTES}, in a {@link RowCursor}; COM_STMT_FETCH hands them out. Event loop only.
 */
final class PreparedCommands {
    /** The most bytes of binary rows kept for one owned statement's cursor; a larger result is refused (7052). */
    static final long MAX_CURSOR_BYTES = 64L << 20;
    /** COM_STMT_EXECUTE's flag asking for a read-only cursor. */
    private static final int CURSOR_TYPE_READ_ONLY = 1;

    private final ProxyConnection connection;
    private final Channel client;
    private final StatementPipeline pipeline;
    private final CommandRelay commands;
    private final PreparedStatements statements = new PreparedStatements();
    /** proxy.max_ai_statement_bytes: an execute's statement with its parameters written in, and its long data. */
    private final long maxAiStatementBytes;

    PreparedCommands(ProxyConnection connection, Channel client, StatementPipeline pipeline, CommandRelay commands,
            long maxAiStatementBytes) {
        this.connection = connection;
        this.client = client;
        this.pipeline = pipeline;
        this.commands = commands;
        this.maxAiStatementBytes = maxAiStatementBytes;
    }

    /** A COM_STMT_PREPARE, whole ({@code payload} from its command byte; the frames are consumed). */
    void prepare(List<ByteBuf> frames, ByteBuf payload) {
        SessionTextTracker texts = connection.textTracker();
        ScanResult scan = pipeline.scanner(connection).scan(payload, payload.readerIndex() + 1,
                payload.readableBytes() - 1, texts.scanMode());
        if (scan.isPlain()) {
            texts.prepared(payload, payload.readerIndex() + 1, payload.readableBytes() - 1);
            statements.relayedPrepare();
            commands.relayAll(frames, Commands.COM_STMT_PREPARE);
            return;
        }
        byte[] textBytes = new byte[payload.readableBytes() - 1];
        payload.getBytes(payload.readerIndex() + 1, textBytes);
        io.ragproxy.server.text.SessionText session = connection.sessionText();
        // The text is in the session's character_set_client, as a COM_QUERY's is.
        String sql = session.supported() ? session.client().decodeStatement(textBytes)
                : new String(textBytes, StandardCharsets.UTF_8);
        release(frames);
        StatementText text;
        try {
            text = StatementText.of(sql);
        } catch (ProxyException e) {
            statements.failedPrepare();
            commands.runWhenIdle(CommandRelay.PendingStatement.answer(() -> CompletableFuture.failedFuture(e)));
            return;
        }
        // Registered now, so that a pipelined execute of "the last prepared" (MariaDB's 0xFFFFFFFF) names it; a
        // failed check forgets it again before the prepare is answered.
        OwnedStatement statement = statements.add(text);
        StatementText prepared = text;
        commands.runWhenIdle(CommandRelay.PendingStatement.answer(() -> pipeline.checkPrepared(connection, sql,
                literal -> prepared.bind(java.util.Collections.nCopies(prepared.parameterCount(), literal)))
                .handleAsync((columns, error) -> {
                    if (error != null) {
                        statements.forget(statement); // the registry belongs to the event loop

                        throw error instanceof java.util.concurrent.CompletionException c ? c : new
                                java.util.concurrent.CompletionException(error);
                    }
                    return PipelineResult.reply(PrepareOk.write(client.alloc(), statement.id(),
                            statement.parameterCount(), connection.deprecateEof(), extendedMetadata(), columns,
                            connection.serverStatus()));
                }, client.eventLoop())));
    }

    /** A single-frame COM_STMT_EXECUTE: relayed unless its statement is the proxy's. */
    void execute(ByteBuf frame) {
        long id = frame.getUnsignedIntLE(Packets.payloadIndex(frame) + 1);
        if (!owns(id)) {
            commands.relay(frame, Commands.COM_STMT_EXECUTE);
            return;
        }
        try {
            execute(frame.slice(Packets.payloadIndex(frame), Packets.payloadLength(frame)), id);
        } finally {
            frame.release();
        }
    }

    /** A COM_STMT_EXECUTE longer than one frame. */
    void execute(List<ByteBuf> frames, ByteBuf payload) {
        long id = ExecuteRequest.statementId(payload);
        if (!owns(id)) {
            commands.relayAll(frames, Commands.COM_STMT_EXECUTE);
            return;
        }
        try {
            execute(payload, id);
        } finally {
            release(frames);
        }
    }

    private void execute(ByteBuf payload, long id) {
        OwnedStatement statement = statements.get(id);
        if (statement == null) {
            fail(PreparedErrors.unknownStatement(id, "mysqld_stmt_execute"));
            return;
        }
        statement.cursor(null); // a new execute closes the statement's cursor
        if (statement.longDataTooLarge()) {
            long sent = statement.longDataBytes();
            statement.clearLongData();
            fail(tooLarge("its parameters' long data is " + sent + " bytes"));
            return;
        }
        String sql;
        RowCursor cursor = null;
        try {
            ExecuteRequest request = ExecuteRequest.decode(payload, statement.parameterCount(), statement.types(),
                    statement.longData());
            if ((request.flags() & CURSOR_TYPE_READ_ONLY) != 0) {
                cursor = new RowCursor(MAX_CURSOR_BYTES, connection.cursorMemory(), ProxyError.CURSOR_TOO_LARGE.code(),
                        ProxyError.CURSOR_TOO_LARGE.sqlState(), "the rows of this AI statement exceed what ragproxy"
                        + " keeps for a cursor (" + (MAX_CURSOR_BYTES >> 20) + " MiB per cursor, "
                        + (connection.cursorMemory().maxBytes() >> 20) + " MiB for the open cursors of all"
                        + " connections together); read them without a cursor"
                        + " (JDBC: useCursorFetch=false) or narrow the statement with WHERE or LIMIT");
            }
            statement.types(request.types());
            statement.clearLongData();
            sql = statement.text().bind(ParameterLiterals.of(request.values()));
        } catch (IllegalArgumentException e) {
            statement.clearLongData();
            fail(PreparedErrors.wrongArguments(e.getMessage() + "; the statement has " + statement.parameterCount()
                    + " parameters"));
            return;
        } catch (ProxyException e) {
            statement.clearLongData();
            fail(e);
            return;
        }
        byte[] bytes = connection.statementBytes(sql);
        if (bytes.length > maxAiStatementBytes) {
            fail(tooLarge("with its parameters written in it is " + bytes.length + " bytes"));
            return;
        }
        statement.cursor(cursor);
        run(bytes, sql, cursor);
    }

    /**
     * 7031, as a COM_QUERY of the same statement gets: an owned statement's execute is the statement with its
     * parameters written in, held to the same limit, so that a session cannot make the proxy hold more through the
     * binary protocol than through the text protocol.
     */
    private ProxyException tooLarge(String detail) {
        return new ProxyException(ProxyError.STATEMENT_TOO_LARGE, "this statement calls an AI function and " + detail
                + ", longer than proxy.max_ai_statement_bytes = " + maxAiStatementBytes + " bytes; ragproxy did not"
                + " run it. Send the large values as separate statements (one row per INSERT), or raise"
                + " proxy.max_ai_statement_bytes (the statement was not sent to the backend)");
    }

    /** A COM_STMT_BULK_EXECUTE, whole: an owned INSERT runs as one multi-row INSERT; others are relayed. */
    void bulkExecute(List<ByteBuf> frames, ByteBuf payload) {
        long id = ExecuteRequest.statementId(payload);
        if (!owns(id)) {
            commands.relayAll(frames, Commands.COM_STMT_BULK_EXECUTE);
            return;
        }
        try {
            OwnedStatement statement = statements.get(id);
            if (statement == null) {
                fail(PreparedErrors.unknownStatement(id, "COM_STMT_BULK_EXECUTE"));
                return;
            }
            if (statement.parameterCount() == 0 || !statement.text().hasOneValuesRow()) {
                fail(new ProxyException(ProxyError.BULK_NOT_SUPPORTED, "ragproxy runs a batch of an AI statement"
                        + " only for an INSERT or REPLACE with one VALUES (…) row holding every ?; run this"
                        + " statement's rows one execute at a time (MariaDB Connector/J: useBulkStmts=false)"));
                return;
            }
            String sql;
            try {
                BulkExecuteRequest request = BulkExecuteRequest.decode(payload, statement.parameterCount(),
                        statement.types());
                if (request.rows().isEmpty()) {
                    throw new IllegalArgumentException("the bulk execute has no rows");
                }
                List<List<String>> rows = new ArrayList<>(request.rows().size());
                for (List<ParameterValue> row : request.rows()) {
                    rows.add(ParameterLiterals.of(row));
                }
                sql = statement.text().bindRows(rows);
            } catch (IllegalArgumentException e) {
                fail(PreparedErrors.wrongArguments(e.getMessage() + "; the statement has "
                        + statement.parameterCount() + " parameters"));
                return;
            } catch (ProxyException e) {
                fail(e);
                return;
            }
            run(connection.statementBytes(sql), sql, null);
        } finally {
            release(frames);
        }
    }

    /** COM_STMT_SEND_LONG_DATA, whole: kept for an owned statement's next execute (no answer), else relayed. */
    void sendLongData(List<ByteBuf> frames, ByteBuf payload) {
        long id = ExecuteRequest.statementId(payload);
        if (!owns(id)) {
            commands.relayAll(frames, Commands.COM_STMT_SEND_LONG_DATA);
            return;
        }
        try {
            OwnedStatement statement = statements.get(id);
            if (statement != null && payload.readableBytes() >= 7) {
                int parameter = payload.getUnsignedShortLE(payload.readerIndex() + 5);
                byte[] chunk = new byte[payload.readableBytes() - 7];
                payload.getBytes(payload.readerIndex() + 7, chunk);
                statement.appendLongData(parameter, chunk, maxAiStatementBytes);
            }
        } finally {
            release(frames);
        }
    }

    /** COM_STMT_CLOSE: forgets an owned statement (no answer), else relayed. */
    void close(ByteBuf frame) {
        long id = frame.getUnsignedIntLE(Packets.payloadIndex(frame) + 1);
        if (!owns(id)) {
            commands.relay(frame, Commands.COM_STMT_CLOSE);
            return;
        }
        frame.release();
        statements.remove(id == ExecuteRequest.LAST_PREPARED && statements.get(id) != null
                ? statements.get(id).id() : id);
    }

    /** COM_STMT_RESET: clears an owned statement's long data and answers OK, else relayed. */
    void reset(ByteBuf frame) {
        long id = frame.getUnsignedIntLE(Packets.payloadIndex(frame) + 1);
        if (!owns(id)) {
            commands.relay(frame, Commands.COM_STMT_RESET);
            return;
        }
        frame.release();
        OwnedStatement statement = statements.get(id);
        if (statement == null) {
            fail(PreparedErrors.unknownStatement(id, "mysqld_stmt_reset"));
            return;
        }
        statement.clearLongData();
        statement.cursor(null);
        commands.runWhenIdle(CommandRelay.PendingStatement.answer(() -> CompletableFuture.completedFuture(
                PipelineResult.reply(Packets.ok(client.alloc(), 1, 0, 0, connection.serverStatus(), 0, null,
                        connection.sessionTrack())))));
    }

    /** COM_STMT_FETCH: up to n rows of an owned statement's cursor (once its execute is answered), else relayed. */
    void fetch(ByteBuf frame) {
        int payload = Packets.payloadIndex(frame);
        long id = frame.getUnsignedIntLE(payload + 1);
        if (!owns(id)) {
            commands.relay(frame, Commands.COM_STMT_FETCH);
            return;
        }
        long rows = Packets.payloadLength(frame) >= 9 ? frame.getUnsignedIntLE(payload + 5) : 0;
        frame.release();
        commands.runWhenIdle(CommandRelay.PendingStatement.answer(() -> {
            OwnedStatement statement = statements.get(id);
            if (statement == null) {
                return CompletableFuture.failedFuture(PreparedErrors.unknownStatement(id, "mysqld_stmt_fetch"));
            }
            RowCursor cursor = statement.cursor();
            if (cursor == null || !cursor.isOpen()) {
                return CompletableFuture.failedFuture(new ProxyException(ProxyError.NO_OPEN_CURSOR, "the statement"
                        + " has no open cursor: execute it with a cursor (JDBC: useCursorFetch=true and a fetch"
                        + " size) first; its cursor closes after its last row, at COM_STMT_RESET and at the next"
                        + " execute"));
            }
            return CompletableFuture.completedFuture(PipelineResult.reply(cursor.fetch(Math.max(1, rows),
                    client.alloc(), connection.deprecateEof(), connection.serverStatus())));
        }));
    }

    /** COM_RESET_CONNECTION or COM_CHANGE_USER: the backend forgets its statements, the proxy its own. */
    void sessionReset() {
        statements.clear();
    }

    /**
     * Whether the proxy answers for statement {@code id}: one of its ids, or MariaDB's "last prepared" when the
     * last prepare was the proxy's (or failed in the proxy). Relayed ids cost one range test.
     */
    private boolean owns(long id) {
        if (id == ExecuteRequest.LAST_PREPARED) {
            PreparedStatements.Last last = statements.last();
            return last == PreparedStatements.Last.OWNED || last == PreparedStatements.Last.FAILED;
        }
        return PreparedStatements.inOwnedRange(id);
    }

    /**
     * Runs the bound statement ({@code sql}, encoded as {@code bytes}) through the pipeline once the backend is
     * idle; its rows go out as binary rows, or are kept in {@code cursor} when it is not null.
     */
    private void run(byte[] bytes, String sql, RowCursor cursor) {
        ScanResult scan = pipeline.scanner(connection).scan(bytes, 0, bytes.length,
                connection.textTracker().scanMode());
        commands.runWhenIdle(scan.isPlain() ? CommandRelay.PendingStatement.forwardBinary(sql, cursor)
                : CommandRelay.PendingStatement.execute(bytes, scan, cursor));
    }

    /** Answers {@code error} in turn (after the responses before it). */
    private void fail(ProxyException error) {
        commands.runWhenIdle(CommandRelay.PendingStatement.answer(() -> CompletableFuture.failedFuture(error)));
    }

    private boolean extendedMetadata() {
        return connection.extendedMetadata();
    }

    private static void release(List<ByteBuf> frames) {
        frames.forEach(ByteBuf::release);
    }
}
