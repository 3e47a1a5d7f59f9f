package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyWarnings;
import io.ragproxy.server.command.ResponseTracker;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The command phase: every client command is relayed as the same bytes and its response relayed back, matched by a
 * {@link ResponseTracker} (pipelined commands go at once); {@link #command} dispatches on the command byte to the
 * commands the proxy intercepts. A COM_QUERY the scan flags waits for the backend to be idle and then runs in
 * {@link LocalStatements}; the client's frames are held meanwhile. A relayed {@code KILL} is watched: when the
 * backend accepts it, the target's pipeline statement stops too.
 *
 * <p>Event loop only. The plain relay path allocates nothing per packet.
 */
final class CommandRelay {
    /** Frames a pipelining client may get ahead by while the proxy runs a statement of its own. */
    private static final int MAX_HELD_FRAMES = 256;

    /**
     * A statement waiting for the backend to become idle: a flagged one, or (read non-null) one reading the proxy
     * warnings of the statement before.
     */
    record PendingStatement(String sql, ScanResult scan, ProxyWarnings.Read read) {}

    private final ProxyConnection connection;
    private final Channel client;
    private final StatementPipeline pipeline;
    private final LocalStatements local;
    private final ConnectionRegistry registry;
    private final ProxyMetrics metrics;
    /** Client frames that arrived while the proxy ran a statement (or one waited): replayed in order after it. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();

    private ResponseTracker tracker;
    /** The frames so far of a COM_QUERY longer than one frame; null when none is being read. */
    private List<ByteBuf> queryFrames;
    private PendingStatement waiting;
    /** The plan's own statements to run once the forwarded statement's response is complete. */
    private List<String> afterForward;
    /** Proxy warnings to add to the final packet of the next relayed response: a rewritten statement's. */
    private int relayWarnings;
    /** A relayed KILL whose response is the next one to complete. */
    private ScanResult killWatch;

    CommandRelay(ProxyConnection connection, Channel client, StatementPipeline pipeline, LocalStatements local,
            ConnectionRegistry registry, ProxyMetrics metrics) {
        this.metrics = metrics;
        this.connection = connection;
        this.client = client;
        this.pipeline = pipeline;
        this.local = local;
        this.registry = registry;
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
        return held.size() < MAX_HELD_FRAMES;
    }

    // ---- client to backend --------------------------------------------------------------------------------

    /** A client frame in the command phase (not a LOCAL INFILE upload for the proxy's own query). */
    void fromClient(ByteBuf frame) {
        if (local.running() || waiting != null || !held.isEmpty()) {
            held.add(frame);
            connection.updateReads();
        } else {
            command(frame);
        }
    }

    /** A client frame, when nothing is held back: the rest of a command, data it sends, or a new command. */
    private void command(ByteBuf frame) {
        if (queryFrames != null) {
            // Extension point: refuse an oversize AI statement here, at the frame that makes it too long.
            queryFrames.add(frame);
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
        // One case per command the proxy intercepts; the rest are relayed as they are. Extension point: the
        // prepared-statement handlers (COM_STMT_PREPARE, _EXECUTE, _SEND_LONG_DATA, _RESET, _CLOSE, _FETCH and
        // COM_STMT_BULK_EXECUTE) go here as cases of their own.
        switch (command) {
            case Commands.COM_QUERY -> query(frame);
            case Commands.COM_CHANGE_USER, Commands.COM_RESET_CONNECTION -> sessionReset(frame, command);
            default -> relay(frame, command);
        }
    }

    /** COM_QUERY: its first frame; a query longer than one frame is gathered before it is scanned. */
    private void query(ByteBuf frame) {
        if (Packets.continues(frame)) {
            // Extension point: an oversize AI statement could be refused at this first frame.
            queryFrames = new ArrayList<>();
            queryFrames.add(frame);
        } else {
            dispatchQuery(List.of(frame));
        }
    }

    /**
     * COM_CHANGE_USER and COM_RESET_CONNECTION: relayed. Extension point: the backend resets the session, so state
     * the proxy tracks for it (prepared statements, session settings) is reset here.
     */
    private void sessionReset(ByteBuf frame, int command) {
        relay(frame, command);
    }

    /** Any command the proxy does not intercept: to the backend as it is, its response expected. */
    private void relay(ByteBuf frame, int command) {
        if (command == Commands.COM_STMT_EXECUTE) {
            metrics.statementRelayed();
        }
        local.commandRelayed(command);
        tracker.onCommand(command);
        tracker.onClientFrame(frame);
        Channel backend = connection.backend();
        backend.write(frame, backend.voidPromise());
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
            // The pipeline's current scanner: the catalog's names change while a session lives.
            scan = pipeline.scanner(connection).scan(sql, sql.readerIndex(), sql.readableBytes());
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
            if ((scan.isPlain() && read == null) || (kill && (tracker.isIdle() || tracker.isOpaque()))) {
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
            }
            // Extension point: decode with the session's character set. Today the session's character set is
            // utf8mb4 for every client we know of; other sets are decoded as UTF-8.
            waiting = new PendingStatement(sql.toString(StandardCharsets.UTF_8), scan, read);
        } finally {
            if (sql instanceof CompositeByteBuf) {
                sql.release();
            }
            frames.forEach(ReferenceCountUtil::release);
        }
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
    void forward(String sql, int warnings, List<String> afterwards) {
        relayWarnings = warnings;
        tracker.onCommand(Commands.COM_QUERY);
        if (!afterwards.isEmpty()) {
            afterForward = afterwards;
        }
        Channel backend = connection.backend();
        backend.writeAndFlush(BackendQueries.queryFrame(backend.alloc(), sql));
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
            command(held.poll());
        }
        connection.flushBackend();
        connection.updateReads();
    }

    // ---- backend to client --------------------------------------------------------------------------------

    /** A backend frame of a relayed response: to the client as it is (plus the proxy's warnings on its last). */
    void fromBackend(ByteBuf frame) {
        boolean completed = tracker.onBackendFrame(frame);
        if (completed && relayWarnings != 0) {
            Packets.addWarnings(frame, relayWarnings, connection.deprecateEof());
            relayWarnings = 0;
        }
        if (completed && killWatch != null) {
            killAnswered(Packets.firstByte(frame) == 0x00);
        }
        client.write(frame, client.voidPromise());
        if (completed && afterForward != null && tracker.isIdle()) {
            List<String> statements = afterForward;
            afterForward = null;
            local.runAfterwards(statements);
        } else if (completed && waiting != null && tracker.isIdle()) {
            runWaiting();
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
            registry.killed(kill.killTarget(), kill.killsConnection(), connection.connectionId());
        }
    }

    /** The connection closed: releases the frames not relayed. */
    void releaseHeld() {
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        if (queryFrames != null) {
            queryFrames.forEach(ReferenceCountUtil::release);
            queryFrames = null;
        }
    }
}
