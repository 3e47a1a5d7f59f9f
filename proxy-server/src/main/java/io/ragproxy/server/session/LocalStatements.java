package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.ProxyWarnings;
import io.ragproxy.server.command.ReplyStream;
import io.ragproxy.server.command.RunningStatement;
import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.wire.BinaryRows;
import io.ragproxy.server.wire.RowCursor;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.wire.Packets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The statements the proxy runs itself: a flagged statement through the {@link StatementPipeline}, its reply to the
 * client (whole, streamed, or a rewritten statement handed back to {@link CommandRelay}), the proxy warnings it
 * raised, its cancellation (KILL, the client or the backend going away), and the client's LOCAL INFILE upload for
 * one of the proxy's own queries.
 *
 * <p>While {@link #running()} the backend belongs to the statement (through {@link BackendQueries}) and the client's
 * next commands are held by {@link CommandRelay}. Event loop only, except {@link #interruptRunning},
 * {@link #cancellation} and {@link #warn}, which model-call threads and other connections call.
 */
final class LocalStatements {
    private static final Logger log = LoggerFactory.getLogger("io.ragproxy.connections");
    /** MariaDB's ER_CONNECTION_KILLED ("Connection was killed", 70100). */
    private static final int ER_CONNECTION_KILLED = 1927;

    private final ProxyConnection connection;
    private final Channel client;
    private final StatementPipeline pipeline;
    private final ProxyMetrics metrics;
    /** When the running pipeline statement started ({@link System#nanoTime()}); 0 for none or a warnings read. */
    private long startedNanos;
    /** The running pipeline statement as SHOW RAG PROCESSLIST sees it; null between statements. */
    private volatile Tracked tracked;
    /** When the last progress report went to the client ({@link System#nanoTime()}), or the statement started. */
    private long lastReportNanos;
    /** The shortest time between two progress reports to a client. */
    private static final long REPORT_INTERVAL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    /** A pipeline statement (or the session's start, or a plan's clean-up) owns the backend and holds the client. */
    private boolean localRunning;
    /** The running pipeline statement's cancellation (null between statements); read by KILLs on other loops. */
    private volatile CompletableFuture<Void> running;
    /** Whether a KILL accepted through a proxy stopped the running statement (set from other connections' loops). */
    private volatile boolean killedThroughProxy;
    /** Warnings the proxy raises while it runs a statement itself; added to from model-call threads. */
    private volatile ProxyWarnings statementWarnings;
    /** The last statement's proxy warnings, for SHOW WARNINGS; null when there are none, so plain SQL pays nothing. */
    private ProxyWarnings lastWarnings;
    /** The client is uploading a LOCAL INFILE for the proxy's query: its frames go to the backend. */
    private boolean infileUploading;
    /** Whether the last uploaded frame was a full one continued by the next (so an empty one does not end the file). */
    private boolean uploadContinues;
    /** Sequence id of the pipeline statement's reply to the client: 1, or after a relayed upload, what follows it. */
    private int replySequence = 1;
    /** The running statement answers a prepared statement's execute: its rows go out as binary rows. */
    private boolean binaryRows;
    /** Where the running execute's binary rows are kept when it asked for a cursor; else null. */
    private RowCursor cursor;

    LocalStatements(ProxyConnection connection, Channel client, StatementPipeline pipeline, ProxyMetrics metrics) {
        this.metrics = metrics;
        this.connection = connection;
        this.client = client;
        this.pipeline = pipeline;
    }

    /** Whether the proxy owns the backend for a statement of its own; the client's commands wait meanwhile. */
    boolean running() {
        return localRunning;
    }

    /** Whether the client's frames are a LOCAL INFILE upload for the proxy's query. */
    boolean uploading() {
        return infileUploading;
    }

    /** The previous statement's proxy warnings, or null. */
    ProxyWarnings lastWarnings() {
        return lastWarnings;
    }

    void clearLastWarnings() {
        lastWarnings = null;
    }

    /** A relayed command: SHOW WARNINGS' source is cleared by the commands that clear the backend's warnings. */
    void commandRelayed(int command) {
        if (lastWarnings != null && ProxyWarnings.clearedBy(command)) {
            lastWarnings = null;
        }
    }

    /** The pipeline may check its catalog on this session first; the client's commands wait for {@code ready}. */
    void awaitSessionStart(CompletableFuture<Void> ready) {
        if (!ready.isDone()) {
            localRunning = true;
            ready.whenComplete((v, e) -> client.eventLoop().execute(() -> {
                localRunning = false;
                connection.commands().drainHeld();
            }));
        }
    }

    // ---- a pipeline statement -----------------------------------------------------------------------------

    /** Runs a flagged statement (or a SHOW WARNINGS reading the last one's proxy warnings); the backend is idle. */
    void run(CommandRelay.PendingStatement statement) {
        localRunning = true;
        killedThroughProxy = false;
        running = new CompletableFuture<>();
        binaryRows = statement.binaryRows();
        cursor = statement.cursor();
        CompletableFuture<PipelineResult> result;
        try {
            if (statement.answer() != null) {
                result = statement.answer().get();
            } else if (statement.read() != null) {
                ProxyWarnings last = lastWarnings;
                result = last != null ? last.answer(connection, statement.read())
                        : CompletableFuture.completedFuture(PipelineResult.forward(
                                connection.textTracker().current().supported()
                                        ? connection.textTracker().current().client().decodeStatement(statement.sql())
                                        : new String(statement.sql(), java.nio.charset.StandardCharsets.UTF_8)));
            } else {
                lastWarnings = null;
                statementWarnings = new ProxyWarnings();
                // The session's character sets and sql_mode first: the statement's text is read with them.
                SessionTextTracker tracker = connection.textTracker();
                startedNanos = System.nanoTime();
                lastReportNanos = startedNanos;
                Tracked t = new Tracked(startedNanos);
                tracked = t;
                result = tracker.refresh(connection::query).thenCompose(text -> {
                    // Scanned again in the session's sql_mode, now known: the scan that flagged it may have read
                    // it in every mode. Flagged in another mode only, it goes to the backend as written.
                    byte[] bytes = statement.sql();
                    ScanResult scan = pipeline.scanner(connection).scan(bytes, 0, bytes.length, text.sqlMode());
                    if (scan.isPlain()) {
                        return CompletableFuture.completedFuture(PipelineResult.forward(text.supported()
                                ? text.client().decodeStatement(bytes)
                                : new String(bytes, java.nio.charset.StandardCharsets.UTF_8)));
                    }
                    String sql = text.client().decodeStatement(bytes);
                    t.info = sql.length() <= RunningStatement.INFO_LENGTH ? sql
                            : sql.substring(0, RunningStatement.INFO_LENGTH);
                    text.results(); // refused before any work when the results cannot be written
                    tracker.statement(sql); // the statement may change them itself (SET rag_…, NAMES …)
                    return pipeline.execute(connection, sql, scan);
                });
            }
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((outcome, error) -> onEventLoop(() -> finish(outcome, error)));
    }

    private void onEventLoop(Runnable task) {
        EventLoop loop = client.eventLoop();
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private void finish(PipelineResult result, Throwable error) {
        localRunning = false;
        Tracked statement = tracked;
        tracked = null;
        if (startedNanos != 0) {
            metrics.statementRewritten(System.nanoTime() - startedNanos);
            startedNanos = 0;
        }
        CompletableFuture<Void> cancellation = running;
        running = null;
        int sequence = replySequence;
        replySequence = 1;
        BinaryRows binary = binaryRows ? binaryRows() : null;
        binaryRows = false;
        cursor = null;
        connection.queries().statementEnded();
        if (sequence != 1 && error == null && !(result instanceof PipelineResult.Reply)) {
            // The backend's answer to a forwarded statement would restart at 1, after the client's upload.
            error = new ProxyException(ProxyError.INTERNAL, "ragproxy cannot forward a statement after a LOCAL INFILE"
                    + " exchange; nothing more was sent");
            result = null;
        }
        if (!connection.inCommandPhase()) {
            if (result instanceof PipelineResult.Reply reply) {
                reply.frames().release();
            }
            statementWarnings = null;
            return;
        }
        if (cancellation != null && cancellation.isDone() && !(result instanceof PipelineResult.Reply)) {
            // Killed: a statement not sent yet is not sent; a plan that stopped midway reports what it wrote.
            error = connection.backendLost() ? lost(error) : interrupted(error);
            result = null;
        }
        if (result instanceof PipelineResult.Reply reply && binary != null && error == null) {
            try {
                result = PipelineResult.reply(binary.frames(reply.frames(), client.alloc()));
            } catch (RuntimeException e) {
                error = e;
                result = null;
            }
        }
        if (result instanceof PipelineResult.Reply reply && sequence != 1) {
            Packets.renumber(reply.frames(), sequence);
        }
        if (connection.backendGone()) {
            ByteBuf last = result instanceof PipelineResult.Reply reply ? reply.frames() : errorFrame(error, sequence);
            connection.enter(ProxyConnection.Phase.CLOSED);
            client.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ProxyWarnings warnings = statementWarnings;
        int warningCount = warnings == null ? 0 : warnings.count();
        if (error != null) {
            client.writeAndFlush(errorFrame(error, sequence));
        } else if (result instanceof PipelineResult.Reply reply) {
            if (warningCount > 0) {
                Packets.addWarnings(Packets.lastFrame(reply.frames()), warningCount, connection.deprecateEof());
            }
            client.writeAndFlush(reply.frames());
        } else if (result instanceof PipelineResult.Forward forward) {
            // The rewritten statement takes the client's place; its response is relayed like any other.
            connection.commands().forward(forward.sql(), warningCount, forward.afterwards(), binary);
        } else if (result instanceof PipelineResult.Streamed streamed) {
            tracked = statement; // it runs on while its rows stream out
            startStreamed(streamed, binary);
            return;
        }
        endStatement();
        connection.commands().drainHeld();
    }

    /**
     * The running statement's progress ({@link io.ragproxy.server.command.StatementSession#progress}), from any
     * thread: counted in the metrics, kept for SHOW RAG PROCESSLIST, and reported to a client that asked for MariaDB
     * progress reports, at most once a second.
     */
    void progress(long done, long expected) {
        Tracked t = tracked;
        if (t == null) {
            return;
        }
        long delta;
        synchronized (t) {
            if (expected >= 0) {
                t.rowsExpected = expected;
            }
            delta = done - t.rowsDone;
            if (delta > 0) {
                t.rowsDone = done;
            }
        }
        if (delta > 0 && t.writesRows()) {
            metrics.backfillRows(delta);
        }
        if (delta > 0 && connection.progressReports()) {
            onEventLoop(() -> report(t));
        }
    }

    /** On the event loop: a progress report of {@code t} to the client, unless one went out less than a second ago. */
    private void report(Tracked t) {
        long now = System.nanoTime();
        if (t != tracked || !localRunning || !"backfill".equals(t.plan) || t.rowsExpected <= 0
                || now - lastReportNanos < REPORT_INTERVAL_NANOS || !connection.inCommandPhase()) {
            return; // only a backfill's reply (one OK or ERR) can follow reports: it takes the next sequence id
        }
        lastReportNanos = now;
        int thousandths = (int) Math.min(100_000, t.rowsDone * 100_000 / t.rowsExpected);
        client.writeAndFlush(Packets.progress(client.alloc(), replySequence, 1, 1, thousandths, "backfill"),
                client.voidPromise());
        replySequence = (replySequence + 1) & 0xFF;
    }

    /** The running statement's plan; null when none was named (or no statement runs). */
    String plan() {
        Tracked t = tracked;
        return t == null ? null : t.plan;
    }

    /** Names the running statement's plan. */
    void plan(String kind) {
        Tracked t = tracked;
        if (t != null) {
            t.plan = kind;
        }
    }

    /** A limiter for the running statement's model calls, whose permits count as its calls. */
    AsyncLimiter statementLimiter(int width) {
        AsyncLimiter limiter = new AsyncLimiter(width);
        Tracked t = tracked;
        if (t != null) {
            t.limiters.add(limiter);
        }
        return limiter;
    }

    /** The running AI statement (one with a plan), or null: a snapshot for SHOW RAG PROCESSLIST. Any thread. */
    RunningStatement runningStatement() {
        Tracked t = tracked;
        if (t == null || t.plan == null) {
            return null;
        }
        long calls = 0;
        for (AsyncLimiter limiter : t.limiters) {
            calls += limiter.granted();
        }
        long done;
        long expected;
        synchronized (t) {
            done = t.rowsDone;
            expected = t.rowsExpected;
        }
        return new RunningStatement(connection.connectionId(), connection.user(), t.plan, t.info, done, expected,
                calls, java.time.Duration.ofNanos(System.nanoTime() - t.startedNanos));
    }

    /** What SHOW RAG PROCESSLIST reads of a running statement; written by the plan's threads, read by any. */
    private static final class Tracked {
        final long startedNanos;
        final List<AsyncLimiter> limiters = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile String info = "";
        volatile String plan;
        /** Guarded by this. */
        long rowsDone;
        /** Guarded by this; -1 while unknown. */
        long rowsExpected = -1;

        Tracked(long startedNanos) {
            this.startedNanos = startedNanos;
        }

        /** Whether the rows this plan reports are rows it wrote (counted in ragproxy_backfill_rows), not rows sent. */
        boolean writesRows() {
            return "backfill".equals(plan) || "knowledge base insert".equals(plan);
        }
    }

    /**
     * The plan's own statements after a forwarded statement's response (dropping its temporary tables): run
     * before the client's next command, which is held meanwhile; their outcome is not the client's business. When
     * the response carried {@code backendWarnings} of the backend's own, they are read first and kept for SHOW
     * WARNINGS, since the clean-up resets the backend's diagnostics area.
     */
    void runAfterwards(List<String> statements, int backendWarnings) {
        localRunning = true;
        connection.flushClient();
        CompletableFuture<QueryResult> chain = CompletableFuture.completedFuture(null);
        if (backendWarnings > 0) {
            chain = connection.query("SHOW WARNINGS").thenApply(shown -> {
                client.eventLoop().execute(() -> {
                    ProxyWarnings kept = lastWarnings != null ? lastWarnings : new ProxyWarnings();
                    kept.backendWarnings(shown, backendWarnings);
                    lastWarnings = kept;
                });
                return shown;
            });
        }
        for (String sql : statements) {
            chain = chain.handle((r, e) -> null).thenCompose(v -> connection.query(sql));
        }
        chain.whenComplete((r, e) -> client.eventLoop().execute(() -> {
            localRunning = false;
            if (!connection.inCommandPhase()) {
                return;
            }
            connection.commands().next();
        }));
    }

    /** Keeps the finished statement's proxy warnings for SHOW WARNINGS. */
    private void endStatement() {
        ProxyWarnings warnings = statementWarnings;
        statementWarnings = null;
        if (warnings != null && !warnings.isEmpty()) {
            lastWarnings = warnings;
        }
    }

    private ByteBuf errorFrame(Throwable error, int sequenceId) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ProxyException pe) {
            return Packets.err(client.alloc(), sequenceId, pe.code(), pe.sqlState(), pe.getMessage());
        }
        log.warn("statement failed in the proxy (conn={} user={})", connection.connectionId(), connection.user(), cause);
        return Packets.err(client.alloc(), sequenceId, ProxyError.INTERNAL.code(), ProxyError.INTERNAL.sqlState(),
                "ragproxy failed while running the statement (" + ProxyConnection.describe(cause) + "); nothing was"
                        + " written, the connection is still usable");
    }

    // ---- streamed replies ---------------------------------------------------------------------------------

    /** A transcoder of this connection's text results into binary rows. */
    private BinaryRows binaryRows() {
        return new BinaryRows(connection.deprecateEof(), connection.extendedMetadata(), cursor);
    }

    private void startStreamed(PipelineResult.Streamed streamed, BinaryRows binary) {
        localRunning = true;
        ClientReply out = new ClientReply(binary);
        CompletableFuture<Void> done;
        try {
            done = streamed.reply().start(out);
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        done.whenComplete((v, error) -> onEventLoop(() -> finishStreamed(out, error)));
    }

    private void finishStreamed(ClientReply out, Throwable error) {
        localRunning = false;
        tracked = null;
        if (out.binary != null) {
            out.binary.discard(); // what a failed statement left: a partial packet, rows kept for its cursor
        }
        if (!connection.inCommandPhase()) {
            statementWarnings = null;
            return;
        }
        if (error != null) {
            // In place of the next row when rows were sent: clients read an ERR there as the statement's failure.
            client.writeAndFlush(errorFrame(error, out.sequence));
        }
        endStatement();
        connection.commands().drainHeld();
    }

    /** The client's side of a streamed reply: frames each packet with the next sequence id. Event loop only. */
    private final class ClientReply implements ReplyStream {
        /** Turns text rows into binary rows when the reply answers a prepared statement's execute; else null. */
        private final BinaryRows binary;
        private int sequence = 1;

        ClientReply(BinaryRows binary) {
            this.binary = binary;
        }

        @Override
        public void packet(ByteBuf payload) {
            if (!connection.inCommandPhase()) {
                payload.release();
                return;
            }
            if (binary != null) {
                payload = binary.packet(payload);
                if (payload == null) {
                    return; // a row kept for the cursor
                }
            }
            int frames = 1 + payload.readableBytes() / Packets.MAX_FRAME_PAYLOAD;
            client.write(Packets.frame(client.alloc(), sequence, payload), client.voidPromise());
            sequence = (sequence + frames) & 0xFF;
        }

        @Override
        public void last(ByteBuf payload) {
            if (!connection.inCommandPhase()) {
                payload.release();
                return;
            }
            if (binary != null && binary.keepsRows()) {
                payload = binary.packet(payload); // the result's end becomes the cursor's
            }
            ByteBuf frame = Packets.frame(client.alloc(), sequence, payload);
            ProxyWarnings warnings = statementWarnings;
            if (warnings != null && !warnings.isEmpty()) {
                Packets.addWarnings(frame, warnings.count(), connection.deprecateEof());
            }
            sequence = (sequence + 1) & 0xFF;
            client.writeAndFlush(frame, client.voidPromise());
        }

        @Override
        public void flush() {
            client.flush();
        }
    }

    // ---- LOCAL INFILE for the proxy's own query -----------------------------------------------------------

    /** The backend asked for the file of the proxy's query (a 0xFB frame): the client answers it. */
    void infileRequested(ByteBuf request) {
        infileUploading = true;
        uploadContinues = false;
        client.writeAndFlush(request, client.voidPromise());
    }

    /** The backend connection is gone: no upload continues. */
    void infileEnded() {
        infileUploading = false;
    }

    /** A frame of the client's LOCAL INFILE upload for the proxy's own query: to the backend as it is. */
    void upload(ByteBuf frame) {
        Channel backend = connection.backend();
        boolean last = !uploadContinues && Packets.payloadLength(frame) == 0;
        uploadContinues = Packets.continues(frame);
        if (last) {
            // The empty packet ends the file; the backend's OK or ERR (for the proxy) follows, then the reply.
            infileUploading = false;
            replySequence = (Packets.sequenceId(frame) + 1) & 0xFF;
            backend.writeAndFlush(frame, backend.voidPromise());
        } else {
            backend.write(frame, backend.voidPromise());
        }
    }

    // ---- warnings and cancellation (any thread) -----------------------------------------------------------

    void warn(int code, String message) {
        ProxyWarnings warnings = statementWarnings;
        if (warnings != null) {
            warnings.add(code, message);
        }
    }

    /** Whether the running (or last) statement was stopped by a KILL accepted through a proxy. */
    boolean killedThroughProxy() {
        return killedThroughProxy;
    }

    CompletableFuture<Void> cancellation() {
        CompletableFuture<Void> statement = running;
        return statement != null ? statement : new CompletableFuture<>();
    }

    /**
     * Stops the pipeline statement running now, if any (from any thread: a KILL accepted on another connection).
     * The statement as of this call is the one stopped; one started after it is not affected.
     */
    void interruptRunning(String by) {
        CompletableFuture<Void> statement = running;
        if (statement != null) {
            killedThroughProxy = true;
            client.eventLoop().execute(() -> interrupt(statement, by));
        }
    }

    /** On the event loop: stops the statement running now, if any. */
    void interruptNow(String by) {
        interrupt(running, by);
    }

    /** On the event loop: completes {@code statement}'s cancellation if it is still the one running. */
    private void interrupt(CompletableFuture<Void> statement, String by) {
        if (statement != null && statement == running && !statement.isDone()) {
            log.info("interrupting the statement of conn={} user={}: {}", connection.connectionId(),
                    connection.user(), by);
            statement.complete(null);
        }
    }

    /**
     * The error of a statement whose backend connection was lost: the plan's own 2013 (a backfill names the rows it
     * committed), else a 2013 saying the statement itself never reached the backend.
     */
    private static Throwable lost(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ProxyException pe && pe.code() == ProxyError.BACKEND_LOST.code()) {
            return pe;
        }
        return new ProxyException(ProxyError.BACKEND_LOST, "Lost connection to the backend while ragproxy prepared the"
                + " statement (its model calls or lookups); the statement itself was not sent, so nothing of it was"
                + " written. Reconnect and run it again");
    }

    /**
     * The error a stopped statement answers with: the plan's own (a backfill's 1317 says how many rows it
     * committed; the backend's 1317 or 1927 when it killed the plan's query), else a 1317 saying nothing was sent.
     */
    private static Throwable interrupted(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ProxyException pe && (pe.code() == ProxyError.QUERY_INTERRUPTED.code()
                || pe.code() == ER_CONNECTION_KILLED)) {
            return pe;
        }
        return new ProxyException(ProxyError.QUERY_INTERRUPTED, "Query execution was interrupted (KILL QUERY, or the"
                + " connection closed) before ragproxy sent the statement to the backend; nothing was written");
    }
}
