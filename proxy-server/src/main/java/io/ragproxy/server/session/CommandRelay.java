package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.ProxyWarnings;
import io.ragproxy.server.command.ResponseTracker;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.BinaryRows;
import io.ragproxy.server.wire.RowCursor;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The command phase: every client command is relayed as the same bytes and its response relayed back, matched by a
 * {@link ResponseTracker} (pipelined commands go at once); {@link #command} dispatches on the command byte to the
 * commands the proxy intercepts. A COM_QUERY the scan flags waits for the backend to be idle and then runs in
 * {@link LocalStatements}; the client's frames are held meanwhile. The binary protocol's commands go to
 * {@link PreparedCommands}, which relays them unless they concern a prepared statement the proxy owns. A relayed {@code KILL} is watched: when the
 * backend accepts it, the target's pipeline statement stops too.
 *
 * <p>Event loop only. The plain relay path allocates nothing per packet.
 */
final class CommandRelay {
    /** Frames a pipelining client may get ahead by while the proxy runs a statement of its own. */
    private static final int MAX_HELD_FRAMES = 256;
    /** Bytes of held frames above which the client is not read (one more frame, up to 16 MiB, may arrive). */
    private static final long MAX_HELD_BYTES = Packets.MAX_FRAME_PAYLOAD;

    /**
     * A statement waiting for the backend to become idle: a flagged one, (read non-null) one reading the proxy
     * warnings of the statement before, or (answer non-null) a reply the proxy composes in turn (a prepared
     * statement's PREPARE_OK or ERR). With {@code binaryRows} it answers a COM_STMT_EXECUTE: its rows go out as
     * binary rows, kept in {@code cursor} instead when it is not null (an execute that asked for a cursor).
     */
    record PendingStatement(byte[] sql, ScanResult scan, ProxyWarnings.Read read, ProxyException refused,
            int replySequence, boolean binaryRows, Supplier<CompletableFuture<PipelineResult>> answer,
            RowCursor cursor) {
        PendingStatement(byte[] sql, ScanResult scan, ProxyWarnings.Read read) {
            this(sql, scan, read, null, 1, false, null, null);
        }

        /** A statement refused without running it: its ERR waits for the responses before it. */
        static PendingStatement refusal(ProxyException error, int replySequence) {
            return new PendingStatement(null, null, null, error, replySequence, false, null, null);
        }

        /**
         * An owned prepared statement's execute: the bound text (in the session's character_set_client) through the
         * pipeline, rows as binary rows (kept in {@code cursor} when not null).
         */
        static PendingStatement execute(byte[] sql, ScanResult scan, RowCursor cursor) {
            return new PendingStatement(sql, scan, null, null, 1, true, null, cursor);
        }

        /** An owned statement's bound text the scan no longer flags: forwarded, its rows as binary rows. */
        static PendingStatement forwardBinary(String sql, RowCursor cursor) {
            return new PendingStatement(new byte[0], ScanResult.PLAIN, null, null, 1, true,
                    () -> CompletableFuture.completedFuture(PipelineResult.forward(sql)), cursor);
        }

        /** A reply the proxy composes once the responses before it are complete. */
        static PendingStatement answer(Supplier<CompletableFuture<PipelineResult>> answer) {
            return new PendingStatement(new byte[0], ScanResult.PLAIN, null, null, 1, false, answer, null);
        }
    }

    private final ProxyConnection connection;
    private final Channel client;
    private final StatementPipeline pipeline;
    private final LocalStatements local;
    private final ConnectionRegistry registry;
    private final PreparedCommands prepared;
    private final ProxyMetrics metrics;
    /** Client frames that arrived while the proxy ran a statement (or one waited): replayed in order after it. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    /** The largest statement with an AI call the proxy reads (proxy.max_ai_statement_bytes). */
    private final long maxAiStatementBytes;
    private long heldBytes;
    /** The rest of a COM_QUERY longer than one frame that the scan of its first frame did not flag: relayed as read. */
    private boolean relayingQuery;
    /** A COM_QUERY refused for its size whose remaining frames are being skipped; null when none. */
    private ProxyException refusing;
    /** Whether this relay (not the frame decoder) skips the refused statement's remaining frames. */
    private boolean skippingHere;
    /** Bytes read so far of the multi-frame COM_QUERY in {@link #queryFrames}. */
    private long queryBytes;

    private ResponseTracker tracker;
    /** The frames so far of a flagged COM_QUERY longer than one frame; null when none is being read. */
    private List<ByteBuf> queryFrames;
    /** The frames so far of another command longer than one frame (prepared statements); null when none. */
    private List<ByteBuf> commandFrames;
    private PendingStatement waiting;
    /** The plan's own statements to run once the forwarded statement's response is complete. */
    private List<String> afterForward;
    /** Proxy warnings to add to the final packet of the next relayed response: a rewritten statement's. */
    private int relayWarnings;
    /** The next relayed response answers a prepared statement's execute: its text rows become binary rows. */
    private BinaryRows relayBinary;
    /** A relayed KILL whose response is the next one to complete. */
    private ScanResult killWatch;

    CommandRelay(ProxyConnection connection, Channel client, StatementPipeline pipeline, LocalStatements local,
            ConnectionRegistry registry, long maxAiStatementBytes, ProxyMetrics metrics) {
        this.maxAiStatementBytes = maxAiStatementBytes;
        this.metrics = metrics;
        this.connection = connection;
        this.client = client;
        this.pipeline = pipeline;
        this.local = local;
        this.registry = registry;
        this.prepared = new PreparedCommands(connection, client, pipeline, this, maxAiStatementBytes);
    }

    /** The handshake ended: responses are tracked from here on. */
    void start(boolean deprecateEof) {
        tracker = new ResponseTracker(deprecateEof);
    }

    /** No relayed response is open (the proxy may use the backend). */
    boolean backendIdle() {
        return tracker.isIdle();
    }

    /** Nothing in flight: no open response, no statement of the proxy's running or waiting. */
    boolean idle() {
        return tracker.isIdle() && !local.running() && waiting == null;
    }

    /** Whether the client may be read: the held frames are below their bound. */
    boolean mayReadClient() {
        return held.size() < MAX_HELD_FRAMES && heldBytes < MAX_HELD_BYTES;
    }

    // ---- client to backend --------------------------------------------------------------------------------

    /** A client frame in the command phase (not a LOCAL INFILE upload for the proxy's own query). */
    void fromClient(ByteBuf frame) {
        if (local.running() || waiting != null || !held.isEmpty()) {
            held.add(frame);
            heldBytes += frame.readableBytes();
            connection.updateReads();
        } else {
            command(frame, true);
        }
    }

    /**
     * A client frame, when nothing is held back: the rest of a command, data it sends, or a new command.
     *
     * @param direct whether the frame decoder emitted it just now (it was not held), so the decoder is right after it
     */
    private void command(ByteBuf frame, boolean direct) {
        if (relayingQuery) {
            relayingQuery = Packets.continues(frame);
            tracker.onClientFrame(frame);
            Channel backend = connection.backend();
            backend.write(frame, backend.voidPromise());
            return;
        }
        if (skippingHere) {
            int sequenceId = Packets.sequenceId(frame);
            boolean last = !Packets.continues(frame);
            frame.release();
            if (last) {
                skippingHere = false;
                refused(sequenceId);
            }
            return;
        }
        if (commandFrames != null) {
            commandFrames.add(frame);
            if (!Packets.continues(frame)) {
                List<ByteBuf> frames = commandFrames;
                commandFrames = null;
                dispatchWhole(frames);
            }
            return;
        }
        if (queryFrames != null) {
            queryFrames.add(frame);
            queryBytes += Packets.payloadLength(frame);
            if (queryBytes - 1 > maxAiStatementBytes) {
                // A statement with an AI call, gathered up to the limit: refused at the frame that makes it too long.
                int sequenceId = Packets.sequenceId(frame);
                boolean last = !Packets.continues(frame);
                queryFrames.forEach(ReferenceCountUtil::release);
                queryFrames = null;
                refuseTooLarge(sequenceId, last, direct);
                return;
            }
            if (!Packets.continues(frame)) {
                List<ByteBuf> frames = queryFrames;
                queryFrames = null;
                dispatchQuery(frames);
            }
            return;
        }
        if (tracker.expectsClientData()) {
            tracker.onClientFrame(frame);
            Channel backend = connection.backend();
            backend.write(frame, backend.voidPromise());
            return;
        }
        int command = Packets.firstByte(frame);
        if (connection.draining() && command != Commands.COM_QUIT) {
            connection.refuseWhileDraining(frame);
            return;
        }
        // One case per command the proxy intercepts; the rest are relayed as they are.
        switch (command) {
            case Commands.COM_QUERY -> query(frame, direct);
            case Commands.COM_STMT_PREPARE, Commands.COM_STMT_SEND_LONG_DATA,
                    Commands.COM_STMT_BULK_EXECUTE -> whole(frame);
            case Commands.COM_STMT_EXECUTE -> {
                if (Packets.continues(frame)) {
                    whole(frame);
                } else {
                    prepared.execute(frame);
                }
            }
            case Commands.COM_STMT_CLOSE -> prepared.close(frame);
            case Commands.COM_STMT_RESET -> prepared.reset(frame);
            case Commands.COM_STMT_FETCH -> prepared.fetch(frame);
            case Commands.COM_CHANGE_USER, Commands.COM_RESET_CONNECTION -> sessionReset(frame, command);
            default -> relay(frame, command);
        }
    }

    /**
     * COM_QUERY: its first frame. A query longer than one frame (16 MiB) is judged by its first frame: when the scan
     * of that frame flags nothing, the query is relayed frame by frame as it arrives, at any size; when it flags an AI
     * call, the query is refused at once if it is certainly longer than proxy.max_ai_statement_bytes (the default,
     * 16 MiB, allows no second frame), else gathered up to that limit.
     */
    private void query(ByteBuf frame, boolean direct) {
        if (!Packets.continues(frame)) {
            dispatchQuery(List.of(frame));
            return;
        }
        int sqlLength = Packets.payloadLength(frame) - 1;
        SessionTextTracker texts = connection.textTracker();
        texts.statement(frame, Packets.payloadIndex(frame) + 1, sqlLength);
        ScanResult head = pipeline.scanner(connection).scan(frame, Packets.payloadIndex(frame) + 1, sqlLength,
                texts.scanMode());
        if (head.isPlain()) {
            local.clearLastWarnings();
            relayingQuery = true;
            tracker.onCommand(Commands.COM_QUERY);
            tracker.onClientFrame(frame);
            Channel backend = connection.backend();
            backend.write(frame, backend.voidPromise());
            return;
        }
        if (maxAiStatementBytes <= Packets.MAX_FRAME_PAYLOAD + 1L || sqlLength > maxAiStatementBytes) {
            int sequenceId = Packets.sequenceId(frame);
            frame.release();
            refuseTooLarge(sequenceId, false, direct);
            return;
        }
        queryFrames = new ArrayList<>();
        queryFrames.add(frame);
        queryBytes = Packets.payloadLength(frame);
    }

    /**
     * Refuses a statement with an AI call for its size; its remaining frames are skipped as they arrive (by the
     * frame decoder when it is right after the last frame read, else here), then the ERR is answered.
     */
    private void refuseTooLarge(int sequenceId, boolean lastFrameRead, boolean direct) {
        refusing = new ProxyException(ProxyError.STATEMENT_TOO_LARGE, "this statement calls an AI function and is"
                + " longer than proxy.max_ai_statement_bytes = " + maxAiStatementBytes + " bytes; ragproxy refused it"
                + " without reading the rest. Send the large values as separate statements (one row per INSERT), or"
                + " raise proxy.max_ai_statement_bytes (the statement was not sent to the backend)");
        if (lastFrameRead) {
            refused(sequenceId);
            return;
        }
        FrameDecoder frames = direct ? client.pipeline().get(FrameDecoder.class) : null;
        if (frames == null || !frames.discardRestOfPacket()) {
            skippingHere = true;
        }
    }

    /** The frame decoder skipped the rest of the refused statement. */
    void packetSkipped(FrameDecoder.Skipped skipped) {
        if (refusing != null && !skippingHere) {
            refused(skipped.lastSequenceId());
        }
    }

    /** The refused statement's last frame is read: its ERR follows the responses before it. */
    private void refused(int lastSequenceId) {
        ProxyException error = refusing;
        refusing = null;
        waiting = PendingStatement.refusal(error, (lastSequenceId + 1) & 0xFF);
        connection.updateReads();
        if (tracker.isIdle()) {
            runWaiting();
        }
    }

    /** A command the proxy reads whole: its first frame; one longer than a frame is gathered first. */
    private void whole(ByteBuf frame) {
        if (Packets.continues(frame)) {
            // Extension point: an oversize AI statement could be refused at this first frame.
            commandFrames = new ArrayList<>();
            commandFrames.add(frame);
        } else {
            dispatchWhole(List.of(frame));
        }
    }

    /** A whole command read by {@link #whole}: to its handler with its payload (from the command byte). */
    private void dispatchWhole(List<ByteBuf> frames) {
        int command = Packets.firstByte(frames.get(0));
        if (command == Commands.COM_QUERY) {
            dispatchQuery(frames);
            return;
        }
        ByteBuf payload = payload(frames);
        try {
            switch (command) {
                case Commands.COM_STMT_PREPARE -> prepared.prepare(frames, payload);
                case Commands.COM_STMT_EXECUTE -> prepared.execute(frames, payload);
                case Commands.COM_STMT_BULK_EXECUTE -> prepared.bulkExecute(frames, payload);
                default -> prepared.sendLongData(frames, payload);
            }
        } finally {
            if (payload instanceof CompositeByteBuf) {
                payload.release();
            }
        }
    }

    /** The payload of a command's frames (one slice, or a composite of retained slices the caller releases). */
    private ByteBuf payload(List<ByteBuf> frames) {
        if (frames.size() == 1) {
            ByteBuf f = frames.get(0);
            return f.slice(Packets.payloadIndex(f), Packets.payloadLength(f));
        }
        CompositeByteBuf all = client.alloc().compositeBuffer(frames.size());
        for (ByteBuf f : frames) {
            all.addComponent(true, f.retainedSlice(Packets.payloadIndex(f), Packets.payloadLength(f)));
        }
        return all;
    }

    /**
     * COM_CHANGE_USER and COM_RESET_CONNECTION: relayed. The backend resets the session, so state the proxy tracks
     * for it is reset here: its character sets and sql_mode are read again before the next AI statement, and its
     * model calls are counted afresh (and, with {@code [cache] scope = "account"}, the account is read again), and
     * the {@code rag_*} settings go back to their defaults, as the backend's session variables do (a pooled
     * connection's next borrower must not inherit the last one's {@code SET rag_…}).
     */
    private void sessionReset(ByteBuf frame, int command) {
        connection.textTracker().sessionReset();
        connection.currentUser(null); // COM_CHANGE_USER: another account from now on
        connection.settings(pipeline.initialSettings());
        prepared.sessionReset();
        relay(frame, command);
    }

    /** A command of several frames the proxy does not intercept after all: each to the backend as it is. */
    void relayAll(List<ByteBuf> frames, int command) {
        executesPrepared(command);
        local.commandRelayed(command);
        tracker.onCommand(command);
        Channel backend = connection.backend();
        for (ByteBuf f : frames) {
            tracker.onClientFrame(f);
            backend.write(f, backend.voidPromise());
        }
    }

    /** Any command the proxy does not intercept: to the backend as it is, its response expected. */
    void relay(ByteBuf frame, int command) {
        if (command == Commands.COM_STMT_EXECUTE) {
            metrics.statementRelayed();
        }
        executesPrepared(command);
        local.commandRelayed(command);
        tracker.onCommand(command);
        tracker.onClientFrame(frame);
        Channel backend = connection.backend();
        backend.write(frame, backend.voidPromise());
    }

    /** A relayed execute of a statement the backend prepared may run SET NAMES or SET sql_mode. */
    private void executesPrepared(int command) {
        if (command == Commands.COM_STMT_EXECUTE || command == Commands.COM_STMT_BULK_EXECUTE) {
            connection.textTracker().executed();
        }
    }

    /** A whole COM_QUERY: relayed unless the scan flags it; a flagged one waits for the backend to be idle. */
    private void dispatchQuery(List<ByteBuf> frames) {
        ScanResult scan;
        ByteBuf sql;
        if (frames.size() == 1) {
            ByteBuf f = frames.get(0);
            sql = f.slice(Packets.payloadIndex(f) + 1, Packets.payloadLength(f) - 1);
        } else {
            CompositeByteBuf all = client.alloc().compositeBuffer(frames.size());
            for (ByteBuf f : frames) {
                all.addComponent(true, f.retainedSlice(Packets.payloadIndex(f), Packets.payloadLength(f)));
            }
            all.skipBytes(1);
            sql = all;
        }
        try {
            // First the tracker: a statement that may change sql_mode itself is scanned in every mode.
            SessionTextTracker texts = connection.textTracker();
            texts.statement(sql, sql.readerIndex(), sql.readableBytes());
            // The pipeline's current scanner: the catalog's names change while a session lives.
            scan = pipeline.scanner(connection).scan(sql, sql.readerIndex(), sql.readableBytes(), texts.scanMode());
            ProxyWarnings.Read read = null;
            ProxyWarnings lastWarnings = local.lastWarnings();
            if (lastWarnings != null) {
                read = sql.readableBytes() <= ProxyWarnings.MAX_READER_LENGTH
                        ? ProxyWarnings.reader(sql.toString(StandardCharsets.UTF_8)) : null;
                if (read == null) {
                    local.clearLastWarnings(); // any other statement clears them
                }
            }
            boolean kill = scan.kind() == ScanResult.Kind.KILL;
            String otherBackend = kill ? killTargetElsewhere(scan.killTarget()) : null;
            if (otherBackend != null) {
                waiting = PendingStatement.refusal(new ProxyException(ProxyError.KILL_ON_OTHER_BACKEND, "connection "
                        + scan.killTarget() + " is a ragproxy connection on backend " + otherBackend + ", this one is on "
                        + connection.backendAddress() + "; separate MariaDB and MySQL servers number their connections"
                        + " each on their own, so this KILL would reach another connection. Connect to " + otherBackend
                        + " directly to KILL it (nothing was sent to the backend)"),
                        (Packets.sequenceId(frames.get(frames.size() - 1)) + 1) & 0xFF);
            } else if ((scan.isPlain() && read == null) || (kill && (tracker.isIdle() || tracker.isOpaque()))) {
                if (kill && tracker.isIdle()) {
                    killWatch = scan; // relayed as is; the next response to complete is its own
                }
                metrics.statementRelayed();
                tracker.onCommand(Commands.COM_QUERY);
                Channel backend = connection.backend();
                for (ByteBuf f : frames) {
                    tracker.onClientFrame(f);
                    backend.write(f, backend.voidPromise());
                }
                frames = List.of();
                return;
            } else {
                // Kept as bytes: they are decoded in the session's character set once it is known (LocalStatements).
                byte[] bytes = new byte[sql.readableBytes()];
                sql.getBytes(sql.readerIndex(), bytes);
                waiting = new PendingStatement(bytes, scan, read);
            }
        } finally {
            if (sql instanceof CompositeByteBuf) {
                sql.release();
            }
            frames.forEach(ReferenceCountUtil::release);
        }
        awaitIdle();
    }

    /**
     * Runs {@code statement} once every response before it is complete (at once when the backend is idle); the
     * client's later commands are held meanwhile.
     */
    void runWhenIdle(PendingStatement statement) {
        waiting = statement;
        awaitIdle();
    }

    private void awaitIdle() {
        connection.updateReads();
        if (tracker.isOpaque()) {
            waiting = null;
            client.writeAndFlush(Packets.err(client.alloc(), 1, ProxyError.CONNECTION_BUSY.code(),
                    ProxyError.CONNECTION_BUSY.sqlState(), "this connection relays a stream ragproxy cannot follow;"
                            + " run AI statements on another connection"));
            drainHeld();
        } else if (tracker.isIdle()) {
            runWaiting();
        }
    }

    /** Runs the waiting statement now that the backend is idle. */
    private void runWaiting() {
        PendingStatement statement = waiting;
        waiting = null;
        if (statement.refused() != null) {
            ProxyException e = statement.refused();
            client.writeAndFlush(Packets.err(client.alloc(), statement.replySequence(), e.code(), e.sqlState(),
                    e.getMessage()));
            drainHeld();
            return;
        }
        if (statement.scan().kind() == ScanResult.Kind.KILL) {
            // A KILL the client pipelined behind other commands: their responses are complete, so it goes now.
            killWatch = statement.scan();
            tracker.onCommand(Commands.COM_QUERY);
            Channel backend = connection.backend();
            backend.writeAndFlush(BackendQueries.queryFrame(backend.alloc(), statement.sql()));
            drainHeld();
            return;
        }
        local.run(statement);
    }

    /**
     * A pipeline statement's rewrite takes the client's statement's place: its response is relayed like any other,
     * with the proxy's warnings added, and the plan's {@code afterwards} run once it is complete.
     */
    void forward(String sql, int warnings, List<String> afterwards, BinaryRows binary) {
        relayWarnings = warnings;
        relayBinary = binary;
        tracker.onCommand(Commands.COM_QUERY);
        if (!afterwards.isEmpty()) {
            afterForward = afterwards;
        }
        Channel backend = connection.backend();
        backend.writeAndFlush(BackendQueries.queryFrame(backend.alloc(), connection.statementBytes(sql)));
    }

    /** The proxy's own work ended: the waiting statement runs, else the held frames are replayed. */
    void next() {
        if (waiting != null) {
            runWaiting();
        } else {
            drainHeld();
        }
    }

    /** Replays the held client frames until one makes the proxy run a statement (or wait for one). */
    void drainHeld() {
        while (!held.isEmpty() && !local.running() && waiting == null && connection.inCommandPhase()) {
            ByteBuf frame = held.poll();
            heldBytes -= frame.readableBytes();
            command(frame, false);
        }
        connection.flushBackend();
        connection.updateReads();
    }

    // ---- backend to client --------------------------------------------------------------------------------

    /**
     * Whether the relayed responses may go to the client as read, walked in place ({@link ResponseForwarder}): none
     * gets the proxy's warnings, binary rows or a follow-up of the plan, no KILL is watched, no statement waits.
     */
    boolean forwardsBlindly() {
        return tracker != null && waiting == null && afterForward == null && relayWarnings == 0 && relayBinary == null
                && killWatch == null;
    }

    /** A frame {@link ResponseForwarder} forwarded, at {@code start} in {@code buf}; true when it ended a response. */
    boolean trackForwarded(ByteBuf buf, int start) {
        return tracker.onBackendFrame(buf, start);
    }

    /** A response {@link ResponseForwarder} forwarded has ended: a statement waiting for the backend may run. */
    void forwardedResponseEnded() {
        if (waiting != null && tracker.isIdle()) {
            runWaiting();
        }
    }

    /** A backend frame of a relayed response: to the client as it is (plus the proxy's warnings on its last). */
    void fromBackend(ByteBuf frame) {
        boolean completed = tracker.onBackendFrame(frame);
        // The backend's own warnings of a statement the plan cleans up after: the clean-up would reset them.
        int backendWarnings = completed && afterForward != null ? Packets.warnings(frame, connection.deprecateEof()) : 0;
        if (completed && relayWarnings != 0) {
            Packets.addWarnings(frame, relayWarnings, connection.deprecateEof());
            relayWarnings = 0;
        }
        if (completed && killWatch != null) {
            killAnswered(Packets.firstByte(frame) == 0x00);
        }
        if (relayBinary != null) {
            BinaryRows binary = relayBinary;
            if (completed) {
                relayBinary = null;
            }
            frame = binaryFrame(binary, frame);
            if (frame == null) {
                return;
            }
        }
        client.write(frame, client.voidPromise());
        if (completed && afterForward != null && tracker.isIdle()) {
            List<String> statements = afterForward;
            afterForward = null;
            local.runAfterwards(statements, Math.max(0, backendWarnings));
        } else if (completed && waiting != null && tracker.isIdle()) {
            runWaiting();
        }
    }

    /** A frame of a prepared execute's relayed response, as binary rows; null while a long row is gathered. */
    private ByteBuf binaryFrame(BinaryRows binary, ByteBuf frame) {
        try {
            return binary.frame(frame, client.alloc());
        } catch (RuntimeException e) {
            binary.discard();
            connection.closeBoth("a prepared statement's result could not be sent as binary rows: "
                    + ProxyConnection.describe(e));
            return null;
        }
    }

    /**
     * The backend answered a KILL this connection relayed. Only when it accepted it (the issuer's own rights decide,
     * and "Unknown thread id" reaches the client as usual) does the target's pipeline statement stop too.
     */
    private void killAnswered(boolean accepted) {
        ScanResult kill = killWatch;
        killWatch = null;
        if (accepted) {
            registry.killed(kill.killTarget(), kill.killsConnection(), connection, connection.clusterWideIds());
        }
    }

    /**
     * The backend of the ragproxy connection a {@code KILL <id>} names when that is not this connection's backend and
     * ids are per server (MariaDB, MySQL), else null: the KILL is then relayed to this connection's backend as usual.
     */
    private String killTargetElsewhere(long id) {
        return connection.clusterWideIds() ? null : registry.elsewhere(connection.backendAddress(), id);
    }

    /** The connection closed: releases the frames not relayed and the rows kept for cursors. */
    void releaseHeld() {
        prepared.sessionReset();
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        heldBytes = 0;
        if (queryFrames != null) {
            queryFrames.forEach(ReferenceCountUtil::release);
            queryFrames = null;
        }
        if (commandFrames != null) {
            commandFrames.forEach(ReferenceCountUtil::release);
            commandFrames = null;
        }
        if (relayBinary != null) {
            relayBinary.discard();
        }
    }
}
