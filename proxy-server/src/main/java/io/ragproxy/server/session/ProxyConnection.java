package io.ragproxy.server.session;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.RowStream;
import io.ragproxy.server.backend.RowStreamReader;
import io.ragproxy.server.backend.TextResultCollector;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.ProxyWarnings;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.ReplyStream;
import io.ragproxy.server.command.ResponseTracker;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.protocol.Capabilities;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.protocol.HandshakeResponse;
import io.ragproxy.server.protocol.ServerHandshake;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.Packets;
import io.ragproxy.server.wire.ResultSetWriter;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its own backend connection: the handshake and passthrough authentication
 * (DESIGN.md §2), then the command phase, where every frame is relayed as the same bytes except a COM_QUERY the
 * scan flags, which goes to the {@link StatementPipeline} once the backend is idle.
 *
 * <p>A {@code KILL [QUERY] <id>} (flagged by the scan) is relayed unchanged; when the backend accepts it, the
 * {@link ConnectionRegistry} also completes the target connection's {@link #cancellation()}, so a pipeline statement
 * that waits on model calls stops too. The client going away or the backend connection ending does the same.
 *
 * <p>Both channels run on the client channel's event loop, so this object is confined to one thread and needs no
 * locks (the running statement's cancellation is the one field another connection reads). Reads follow writability
 * in both directions: a slow reader stops the other side from being read, so a large result never piles up in proxy
 * memory.
 */
final class ProxyConnection implements StatementSession {
    private static final Logger log = LoggerFactory.getLogger("io.ragproxy.connections");
    private static final String VERSION_SUFFIX = "-ragproxy";
    /** Frames a pipelining client may get ahead by while the proxy runs a statement of its own. */
    private static final int MAX_HELD_FRAMES = 256;
    /** How long a pipeline statement may take to stop and report after the backend connection ended. */
    private static final long BACKEND_GONE_GRACE_SECONDS = 5;
    /** MariaDB's ER_CONNECTION_KILLED ("Connection was killed", 70100). */
    private static final int ER_CONNECTION_KILLED = 1927;

    private enum Phase { CONNECTING, GREETED, CLIENT_TLS, AUTHENTICATING, COMMAND, CLOSED }

    private final SocketChannel client;
    private final ProxyConfig config;
    private final SslContext clientTls;
    private final SslContext backendTls;
    private final StatementPipeline pipeline;
    private final ConnectionLimiter limiter;
    private final ConnectionRegistry registry;
    private final long openedNanos = System.nanoTime();
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();

    private Phase phase = Phase.CONNECTING;
    private Channel backend;
    private ServerHandshake handshake;
    private long clientCapabilities;
    private long clientMariadbCapabilities;
    private long negotiated;
    private int sequenceOffset;
    private String user = "-";
    private boolean slotTaken;
    private boolean loggedOpen;
    private boolean cleanedUp;
    private ResponseTracker tracker;
    private List<ByteBuf> queryFrames;
    private PendingStatement waiting;
    private boolean localRunning;
    private List<String> afterForward;
    private long negotiatedMariadb;
    private TextResultCollector collector;
    private CompletableFuture<QueryResult> collected;
    private int serverStatus = ServerStatus.AUTOCOMMIT;
    private RagSettings settings;
    /** The proxy's own streamed query (a streamed SELECT), while its response is read. */
    private RowStreamReader streaming;
    /** Whether that stream asked to stop reading the backend (its batches are full). */
    private boolean streamPaused;
    /** Warnings the proxy raises while it runs a statement itself; added to from model-call threads. */
    private volatile ProxyWarnings statementWarnings;
    /** The last statement's proxy warnings, for SHOW WARNINGS; null when there are none, so plain SQL pays nothing. */
    private ProxyWarnings lastWarnings;
    /** Proxy warnings to add to the final packet of the next relayed response: a rewritten statement's. */
    private int relayWarnings;
    /** The running pipeline statement's cancellation (null between statements); read by KILLs on other loops. */
    private volatile CompletableFuture<Void> running;
    /** A relayed KILL whose response is the next one to complete. */
    private ScanResult killWatch;
    /** The backend connection ended while a pipeline statement ran; the client is closed once it has reported. */
    private boolean backendGone;
    /** The proxy's query in progress may relay a LOCAL INFILE request: its first response frame is not read yet. */
    private boolean infileRequestAllowed;
    /** The client is uploading a LOCAL INFILE for the proxy's query: its frames go to the backend. */
    private boolean infileUploading;
    /** Whether the last uploaded frame was a full one continued by the next (so an empty one does not end the file). */
    private boolean uploadContinues;
    /** Sequence id of the pipeline statement's reply to the client: 1, or after a relayed upload, what follows it. */
    private int replySequence = 1;

    /**
     * A statement waiting for the backend to become idle: a flagged one, or (read non-null) one reading the proxy
     * warnings of the statement before.
     */
    private record PendingStatement(String sql, ScanResult scan, ProxyWarnings.Read read) {}

    ProxyConnection(SocketChannel client, ProxyConfig config, SslContext clientTls, SslContext backendTls,
            StatementPipeline pipeline, ConnectionLimiter limiter, ConnectionRegistry registry) {
        this.client = client;
        this.config = config;
        this.clientTls = clientTls;
        this.backendTls = backendTls;
        this.pipeline = pipeline;
        this.limiter = limiter;
        this.registry = registry;
    }

    // ---- connection setup -------------------------------------------------------------------------------

    void clientActive() {
        client.config().setAutoRead(false);
        if (!limiter.tryAcquire()) {
            failClient(0, new ProxyException(ProxyError.TOO_MANY_CONNECTIONS, "Too many connections: ragproxy accepts "
                    + limiter.max() + " at once (raise proxy.max_connections in ragproxy.toml)"));
            return;
        }
        slotTaken = true;
        Bootstrap bootstrap = new Bootstrap()
                .group(client.eventLoop())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("frames", new FrameDecoder());
                        ch.pipeline().addLast("connection", new BackendHandler(ProxyConnection.this));
                    }
                });
        var connect = bootstrap.connect(config.backendHost(), config.backendPort());
        backend = connect.channel();
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() && phase != Phase.CLOSED) {
                failClient(0, new ProxyException(ProxyError.BACKEND_UNREACHABLE, "ragproxy cannot reach the backend at "
                        + config.backendAddress() + " (" + describe(f.cause()) + "); start it with"
                        + " 'bin/local-backend start' or point --backend at a running TiDB or MariaDB"));
            }
        });
    }

    private void onBackendHandshake(ByteBuf frame) {
        try {
            if (Packets.firstByte(frame) == 0xFF) {
                // The backend refused us before greeting (too many connections, host blocked): pass it on.
                client.writeAndFlush(frame.retain()).addListener(ChannelFutureListener.CLOSE);
                phase = Phase.CLOSED;
                return;
            }
            handshake = ServerHandshake.parse(frame);
        } catch (RuntimeException e) {
            failClient(0, new ProxyException(ProxyError.INTERNAL, "the backend at " + config.backendAddress()
                    + " sent a handshake ragproxy cannot relay: " + e.getMessage()));
            return;
        } finally {
            frame.release();
        }
        clientCapabilities = (handshake.capabilities() & ~Capabilities.UNSUPPORTED & ~Capabilities.CLIENT_SSL)
                | (clientTls != null ? Capabilities.CLIENT_SSL : 0);
        clientMariadbCapabilities = handshake.mariadbCapabilities() & ~Capabilities.MARIADB_UNSUPPORTED;
        client.writeAndFlush(handshake.toClientFrame(client.alloc(), VERSION_SUFFIX, clientCapabilities,
                clientMariadbCapabilities));
        phase = Phase.GREETED;
        updateReads();
    }

    private void onClientHandshake(ByteBuf frame) {
        if (phase == Phase.GREETED && HandshakeResponse.isSslRequest(frame)) {
            frame.release();
            if (clientTls == null) {
                closeBoth("the client asked for TLS, which this proxy does not offer");
                return;
            }
            phase = Phase.CLIENT_TLS;
            startClientTls();
            return;
        }
        int clientSequence = Packets.sequenceId(frame);
        if (!HandshakeResponse.isProtocol41(frame)) {
            frame.release();
            failClient(clientSequence + 1, new ProxyException(ProxyError.INTERNAL,
                    "ragproxy needs a client that speaks the MySQL 4.1 protocol"));
            return;
        }
        user = HandshakeResponse.userName(frame);
        long requested = HandshakeResponse.capabilities(frame);
        long backendLeg = (requested & clientCapabilities & ~Capabilities.CLIENT_SSL)
                | (backendTls != null ? Capabilities.CLIENT_SSL : 0);
        negotiated = backendLeg & handshake.capabilities();
        HandshakeResponse.setCapabilities(frame, backendLeg);
        if (handshake.mariadbCapabilities() != 0 && !Capabilities.has(requested, Capabilities.CLIENT_MYSQL)) {
            negotiatedMariadb = HandshakeResponse.mariadbCapabilities(frame) & clientMariadbCapabilities;
            HandshakeResponse.setMariadbCapabilities(frame, negotiatedMariadb);
        }
        phase = Phase.AUTHENTICATING;
        if (backendTls == null) {
            sequenceOffset = clientSequence - 1;
            Packets.setSequenceId(frame, 1);
            backend.writeAndFlush(frame);
            return;
        }
        startBackendTls(frame, clientSequence);
    }

    private void startClientTls() {
        SslHandler ssl = clientTls.newHandler(client.alloc());
        ChannelPipeline p = client.pipeline();
        // Bytes already read past the SSLRequest are TLS records: replace() hands them to the SslHandler.
        p.addAfter(FrontendInitializer.FRAMES, "frames-tls", new FrameDecoder());
        p.replace(FrontendInitializer.FRAMES, "tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                closeBoth("client TLS handshake failed: " + describe(f.cause()));
            }
        });
    }

    private void startBackendTls(ByteBuf response, int clientSequence) {
        if (!Capabilities.has(handshake.capabilities(), Capabilities.CLIENT_SSL)) {
            response.release();
            failClient(clientSequence + 1, new ProxyException(ProxyError.BACKEND_UNREACHABLE, "backend.tls is on but the"
                    + " backend at " + config.backendAddress() + " does not offer TLS (set backend.tls = false)"));
            return;
        }
        sequenceOffset = clientSequence - 2;
        ByteBuf sslRequest = response.retainedSlice(Packets.payloadIndex(response), HandshakeResponse.FIXED_HEAD);
        backend.writeAndFlush(Packets.frame(backend.alloc(), 1, sslRequest));
        SslHandler ssl = backendTls.newHandler(backend.alloc(), config.backendHost(), config.backendPort());
        if (config.backendTlsVerify()) {
            SSLEngine engine = ssl.engine();
            SSLParameters params = engine.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(params);
        }
        backend.pipeline().addFirst("tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                Packets.setSequenceId(response, 2);
                backend.writeAndFlush(response);
            } else {
                response.release();
                failClient(clientSequence + 1, new ProxyException(ProxyError.BACKEND_UNREACHABLE,
                        "TLS to the backend at " + config.backendAddress() + " failed: " + describe(f.cause())
                                + " (check backend.tls_verify and the backend's certificate)"));
            }
        });
    }

    // ---- frames -----------------------------------------------------------------------------------------

    void fromBackend(ByteBuf frame) {
        switch (phase) {
            case CONNECTING -> onBackendHandshake(frame);
            case AUTHENTICATING -> {
                int first = Packets.firstByte(frame);
                Packets.setSequenceId(frame, Packets.sequenceId(frame) + sequenceOffset);
                client.write(frame);
                if (first == 0x00) {
                    authenticated();
                } else if (first == 0xFF) {
                    client.flush();
                    phase = Phase.CLOSED; // the backend closes the connection after a failed login
                }
            }
            case COMMAND -> {
                if (streaming != null) {
                    streamFrame(frame);
                    return;
                }
                if (collector != null) {
                    if (infileRequestAllowed) {
                        infileRequestAllowed = false;
                        if (Packets.firstByte(frame) == 0xFB) {
                            // LOAD DATA LOCAL: the client names no file to the proxy; it answers the backend's request.
                            infileUploading = true;
                            uploadContinues = false;
                            client.writeAndFlush(frame, client.voidPromise());
                            return;
                        }
                    }
                    collect(frame);
                    return;
                }
                if (localRunning) {
                    frame.release(); // unsolicited (an error before the backend closes): the running statement answers
                    return;
                }
                boolean completed = tracker.onBackendFrame(frame);
                if (completed && relayWarnings != 0) {
                    Packets.addWarnings(frame, relayWarnings, deprecateEof());
                    relayWarnings = 0;
                }
                if (completed && killWatch != null) {
                    killAnswered(Packets.firstByte(frame) == 0x00);
                }
                client.write(frame, client.voidPromise());
                if (completed && afterForward != null && tracker.isIdle()) {
                    runAfterForward();
                } else if (completed && waiting != null && tracker.isIdle()) {
                    runLocal();
                }
            }
            default -> frame.release();
        }
    }

    void fromClient(ByteBuf frame) {
        switch (phase) {
            case GREETED, CLIENT_TLS -> onClientHandshake(frame);
            case AUTHENTICATING -> {
                Packets.setSequenceId(frame, Packets.sequenceId(frame) - sequenceOffset);
                backend.write(frame, backend.voidPromise());
            }
            case COMMAND -> {
                if (infileUploading) {
                    upload(frame);
                    return;
                }
                if (localRunning || waiting != null || !held.isEmpty()) {
                    held.add(frame);
                    updateReads();
                } else {
                    command(frame);
                }
            }
            default -> frame.release();
        }
    }

    private void authenticated() {
        phase = Phase.COMMAND;
        tracker = new ResponseTracker(Capabilities.has(negotiated, Capabilities.CLIENT_DEPRECATE_EOF));
        settings = pipeline.initialSettings();
        loggedOpen = true;
        registry.register(handshake.connectionId(), this);
        log.info("open conn={} user={} client={} tls={} backend={}", handshake.connectionId(), user,
                address(client.remoteAddress()), client.pipeline().get(SslHandler.class) != null,
                config.backendAddress());
        // The pipeline may check its catalog on this session first; the client's commands wait for it.
        CompletableFuture<Void> ready = pipeline.sessionStarted(this);
        if (!ready.isDone()) {
            localRunning = true;
            ready.whenComplete((v, e) -> client.eventLoop().execute(() -> {
                localRunning = false;
                drainHeld();
            }));
        }
    }

    /** A frame of the client's LOCAL INFILE upload for the proxy's own query: to the backend as it is. */
    private void upload(ByteBuf frame) {
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

    /** A client frame in the command phase, when nothing is held back. */
    private void command(ByteBuf frame) {
        if (queryFrames != null) {
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
            backend.write(frame, backend.voidPromise());
            return;
        }
        int command = Packets.firstByte(frame);
        if (command == Commands.COM_QUERY) {
            if (Packets.continues(frame)) {
                queryFrames = new ArrayList<>();
                queryFrames.add(frame);
            } else {
                dispatchQuery(List.of(frame));
            }
            return;
        }
        relay(frame, command);
    }

    private void relay(ByteBuf frame, int command) {
        if (lastWarnings != null && ProxyWarnings.clearedBy(command)) {
            lastWarnings = null;
        }
        tracker.onCommand(command);
        tracker.onClientFrame(frame);
        backend.write(frame, backend.voidPromise());
    }

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
            scan = pipeline.scanner(this).scan(sql, sql.readerIndex(), sql.readableBytes());
            ProxyWarnings.Read read = null;
            if (lastWarnings != null) {
                read = sql.readableBytes() <= ProxyWarnings.MAX_READER_LENGTH
                        ? ProxyWarnings.reader(sql.toString(StandardCharsets.UTF_8)) : null;
                if (read == null) {
                    lastWarnings = null; // any other statement clears them
                }
            }
            boolean kill = scan.kind() == ScanResult.Kind.KILL;
            if ((scan.isPlain() && read == null) || (kill && (tracker.isIdle() || tracker.isOpaque()))) {
                if (kill && tracker.isIdle()) {
                    killWatch = scan; // relayed as is; the next response to complete is its own
                }
                tracker.onCommand(Commands.COM_QUERY);
                for (ByteBuf f : frames) {
                    tracker.onClientFrame(f);
                    backend.write(f, backend.voidPromise());
                }
                frames = List.of();
                return;
            }
            // The session's character set is utf8mb4 for every client we know of; other sets are decoded as UTF-8.
            waiting = new PendingStatement(sql.toString(StandardCharsets.UTF_8), scan, read);
        } finally {
            if (sql instanceof CompositeByteBuf) {
                sql.release();
            }
            frames.forEach(ReferenceCountUtil::release);
        }
        updateReads();
        if (tracker.isOpaque()) {
            waiting = null;
            client.writeAndFlush(Packets.err(client.alloc(), 1, ProxyError.CONNECTION_BUSY.code(),
                    ProxyError.CONNECTION_BUSY.sqlState(), "this connection relays a stream ragproxy cannot follow;"
                            + " run AI statements on another connection"));
            drainHeld();
        } else if (tracker.isIdle()) {
            runLocal();
        }
    }

    private void runLocal() {
        PendingStatement statement = waiting;
        waiting = null;
        if (statement.scan().kind() == ScanResult.Kind.KILL) {
            // A KILL the client pipelined behind other commands: their responses are complete, so it goes now.
            killWatch = statement.scan();
            tracker.onCommand(Commands.COM_QUERY);
            backend.writeAndFlush(queryFrame(statement.sql()));
            drainHeld();
            return;
        }
        localRunning = true;
        running = new CompletableFuture<>();
        CompletableFuture<PipelineResult> result;
        try {
            if (statement.read() != null) {
                ProxyWarnings last = lastWarnings;
                result = last != null ? last.answer(this, statement.read())
                        : CompletableFuture.completedFuture(PipelineResult.forward(statement.sql()));
            } else {
                lastWarnings = null;
                statementWarnings = new ProxyWarnings();
                result = pipeline.execute(this, statement.sql(), statement.scan());
            }
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((outcome, error) -> onEventLoop(() -> finishLocal(outcome, error)));
    }

    private void onEventLoop(Runnable task) {
        EventLoop loop = client.eventLoop();
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private void finishLocal(PipelineResult result, Throwable error) {
        localRunning = false;
        CompletableFuture<Void> cancellation = running;
        running = null;
        int sequence = replySequence;
        replySequence = 1;
        infileRequestAllowed = false;
        if (sequence != 1 && error == null && !(result instanceof PipelineResult.Reply)) {
            // The backend's answer to a forwarded statement would restart at 1, after the client's upload.
            error = new ProxyException(ProxyError.INTERNAL, "ragproxy cannot forward a statement after a LOCAL INFILE"
                    + " exchange; nothing more was sent");
            result = null;
        }
        if (phase != Phase.COMMAND) {
            if (result instanceof PipelineResult.Reply reply) {
                reply.frames().release();
            }
            statementWarnings = null;
            return;
        }
        if (cancellation != null && cancellation.isDone() && !(result instanceof PipelineResult.Reply)) {
            // Killed: a statement not sent yet is not sent; a plan that stopped midway reports what it wrote.
            error = interrupted(error);
            result = null;
        }
        if (result instanceof PipelineResult.Reply reply && sequence != 1) {
            Packets.renumber(reply.frames(), sequence);
        }
        if (backendGone) {
            ByteBuf last = result instanceof PipelineResult.Reply reply ? reply.frames() : errorFrame(error, sequence);
            phase = Phase.CLOSED;
            client.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ProxyWarnings warnings = statementWarnings;
        int warningCount = warnings == null ? 0 : warnings.count();
        if (error != null) {
            client.writeAndFlush(errorFrame(error, sequence));
        } else if (result instanceof PipelineResult.Reply reply) {
            if (warningCount > 0) {
                Packets.addWarnings(Packets.lastFrame(reply.frames()), warningCount, deprecateEof());
            }
            client.writeAndFlush(reply.frames());
        } else if (result instanceof PipelineResult.Forward forward) {
            // The rewritten statement takes the client's place; its response is relayed like any other.
            relayWarnings = warningCount;
            tracker.onCommand(Commands.COM_QUERY);
            if (!forward.afterwards().isEmpty()) {
                afterForward = forward.afterwards();
            }
            backend.writeAndFlush(queryFrame(forward.sql()));
        } else if (result instanceof PipelineResult.Streamed streamed) {
            startStreamed(streamed);
            return;
        }
        endStatement();
        drainHeld();
    }

    /**
     * The plan's own statements after a forwarded statement's response (dropping its temporary tables): run
     * before the client's next command, which is held meanwhile; their outcome is not the client's business.
     */
    private void runAfterForward() {
        List<String> statements = afterForward;
        afterForward = null;
        localRunning = true;
        flushClient();
        CompletableFuture<QueryResult> chain = CompletableFuture.completedFuture(null);
        for (String sql : statements) {
            chain = chain.handle((r, e) -> null).thenCompose(v -> query(sql));
        }
        chain.whenComplete((r, e) -> client.eventLoop().execute(() -> {
            localRunning = false;
            if (phase != Phase.COMMAND) {
                return;
            }
            if (waiting != null) {
                runLocal();
            } else {
                drainHeld();
            }
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

    private void startStreamed(PipelineResult.Streamed streamed) {
        localRunning = true;
        ClientReply out = new ClientReply();
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
        if (phase != Phase.COMMAND) {
            statementWarnings = null;
            return;
        }
        if (error != null) {
            // In place of the next row when rows were sent: clients read an ERR there as the statement's failure.
            client.writeAndFlush(errorFrame(error, out.sequence));
        }
        endStatement();
        drainHeld();
    }

    /** The client's side of a streamed reply: frames each packet with the next sequence id. Event loop only. */
    private final class ClientReply implements ReplyStream {
        private int sequence = 1;

        @Override
        public void packet(ByteBuf payload) {
            if (phase != Phase.COMMAND) {
                payload.release();
                return;
            }
            int frames = 1 + payload.readableBytes() / Packets.MAX_FRAME_PAYLOAD;
            client.write(Packets.frame(client.alloc(), sequence, payload), client.voidPromise());
            sequence = (sequence + frames) & 0xFF;
        }

        @Override
        public void last(ByteBuf payload) {
            if (phase != Phase.COMMAND) {
                payload.release();
                return;
            }
            ByteBuf frame = Packets.frame(client.alloc(), sequence, payload);
            ProxyWarnings warnings = statementWarnings;
            if (warnings != null && !warnings.isEmpty()) {
                Packets.addWarnings(frame, warnings.count(), deprecateEof());
            }
            sequence = (sequence + 1) & 0xFF;
            client.writeAndFlush(frame, client.voidPromise());
        }

        @Override
        public void flush() {
            client.flush();
        }
    }

    private ByteBuf queryFrame(String sql) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf payload = backend.alloc().buffer(1 + text.length);
        payload.writeByte(Commands.COM_QUERY).writeBytes(text);
        return Packets.frame(backend.alloc(), 0, payload);
    }

    private void collect(ByteBuf frame) {
        try {
            if (!collector.accept(frame)) {
                return;
            }
        } catch (RuntimeException e) {
            collector.discard();
            collector = null;
            CompletableFuture<QueryResult> f = collected;
            collected = null;
            f.completeExceptionally(new ProxyException(ProxyError.INTERNAL,
                    "ragproxy could not read the backend's answer to its own query: " + describe(e), e));
            closeBoth("unreadable backend response");
            return;
        } finally {
            frame.release();
        }
        TextResultCollector done = collector;
        CompletableFuture<QueryResult> f = collected;
        collector = null;
        collected = null;
        serverStatus = done.status();
        if (done.error() != null) {
            f.completeExceptionally(done.error());
        } else {
            f.complete(done.result());
        }
    }

    @Override
    public void queryStream(String sql, RowStream rows) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> queryStream(sql, rows));
            return;
        }
        if (phase != Phase.COMMAND) {
            rows.failed(new ProxyException(ProxyError.INTERNAL, "the connection is closed"));
            return;
        }
        if (collector != null || streaming != null || !tracker.isIdle()) {
            rows.failed(new IllegalStateException("the backend connection is busy"));
            return;
        }
        streaming = new RowStreamReader(deprecateEof(), rows);
        rows.start(streamReads);
        backend.writeAndFlush(queryFrame(sql));
    }

    /** The running stream's hold on the backend's reads. */
    private final RowStream.Reads streamReads = new RowStream.Reads() {
        @Override
        public void pause() {
            streamPaused = true;
            updateReads();
        }

        @Override
        public void resume() {
            streamPaused = false;
            updateReads();
        }
    };

    private void streamFrame(ByteBuf frame) {
        RowStreamReader reader = streaming;
        boolean done;
        try {
            done = reader.accept(frame);
        } catch (RuntimeException e) {
            streaming = null;
            streamPaused = false;
            reader.abort(new ProxyException(ProxyError.INTERNAL,
                    "ragproxy could not read the backend's answer to its own query: " + describe(e), e));
            closeBoth("unreadable backend response");
            return;
        } finally {
            frame.release();
        }
        if (done) {
            // Idle again before the stream hears of the end: it may start the next query right away.
            streaming = null;
            streamPaused = false;
            serverStatus = reader.status();
            updateReads();
            reader.finish();
        }
    }

    @Override
    public CompletableFuture<QueryResult> query(String sql) {
        return query(sql, false);
    }

    @Override
    public CompletableFuture<QueryResult> queryRelayingLocalInfile(String sql) {
        return query(sql, true);
    }

    private CompletableFuture<QueryResult> query(String sql, boolean relayInfile) {
        if (!client.eventLoop().inEventLoop()) {
            CompletableFuture<QueryResult> hop = new CompletableFuture<>();
            client.eventLoop().execute(() -> query(sql, relayInfile).whenComplete((r, e) -> {
                if (e != null) {
                    hop.completeExceptionally(e);
                } else {
                    hop.complete(r);
                }
            }));
            return hop;
        }
        if (phase != Phase.COMMAND || backendGone) {
            return CompletableFuture.failedFuture(new ProxyException(ProxyError.INTERNAL, "the connection is closed"));
        }
        if (collector != null || streaming != null || !tracker.isIdle()) {
            return CompletableFuture.failedFuture(new IllegalStateException("the backend connection is busy"));
        }
        collector = new TextResultCollector(deprecateEof(), sessionTrack());
        collected = new CompletableFuture<>();
        infileRequestAllowed = relayInfile;
        CompletableFuture<QueryResult> result = collected;
        backend.writeAndFlush(queryFrame(sql));
        return result;
    }

    @Override
    public ResultSetWriter resultSetWriter() {
        return new ResultSetWriter(deprecateEof(),
                Capabilities.has(negotiatedMariadb, Capabilities.MARIADB_CLIENT_EXTENDED_METADATA));
    }

    @Override
    public RagSettings settings() {
        return settings;
    }

    @Override
    public void settings(RagSettings settings) {
        this.settings = settings;
    }

    @Override
    public boolean sessionTrack() {
        return Capabilities.has(negotiated, Capabilities.CLIENT_SESSION_TRACK);
    }

    @Override
    public int serverStatus() {
        return serverStatus;
    }

    private ByteBuf errorFrame(Throwable error, int sequenceId) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ProxyException pe) {
            return Packets.err(client.alloc(), sequenceId, pe.code(), pe.sqlState(), pe.getMessage());
        }
        log.warn("statement failed in the proxy (conn={} user={})", handshake.connectionId(), user, cause);
        return Packets.err(client.alloc(), sequenceId, ProxyError.INTERNAL.code(), ProxyError.INTERNAL.sqlState(),
                "ragproxy failed while running the statement (" + describe(cause) + "); nothing was written, the"
                        + " connection is still usable");
    }

    private void drainHeld() {
        while (!held.isEmpty() && !localRunning && waiting == null && phase == Phase.COMMAND) {
            command(held.poll());
        }
        flushBackend();
        updateReads();
    }

    // ---- flow control and closing -----------------------------------------------------------------------

    void flushBackend() {
        if (backend != null) {
            backend.flush();
        }
    }

    void flushClient() {
        client.flush();
    }

    /** Reads on each side only while the other side can take writes and nothing is held back. */
    void updateReads() {
        if (phase == Phase.CLOSED || phase == Phase.CONNECTING || backend == null) {
            return;
        }
        client.config().setAutoRead(backend.isWritable() && held.size() < MAX_HELD_FRAMES);
        backend.config().setAutoRead(client.isWritable() && !streamPaused);
    }

    void clientIdle() {
        if (phase != Phase.COMMAND || (tracker.isIdle() && !localRunning && waiting == null)) {
            closeBoth("idle for " + config.idleTimeout().toSeconds() + " s (proxy.idle_timeout)");
        }
    }

    void clientClosed() {
        phase = Phase.CLOSED;
        interrupt(running, "the client disconnected");
        if (backend != null && backend.isOpen()) {
            // Flush what the client sent last (COM_QUIT), then close.
            backend.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        cleanUp();
    }

    void backendClosed() {
        if (phase == Phase.CONNECTING) {
            failClient(0, new ProxyException(ProxyError.BACKEND_UNREACHABLE, "the backend at "
                    + config.backendAddress() + " closed the connection before its handshake"));
            return;
        }
        if (phase == Phase.COMMAND && localRunning) {
            // KILL CONNECTION or a backend restart under a running pipeline statement: stop it, let it tell the
            // client what it wrote (finishLocal), then close; a statement that does not stop is cut off.
            backendGone = true;
            interrupt(running, "the backend closed the connection");
            failCollected();
            client.eventLoop().schedule(() -> {
                if (phase == Phase.COMMAND) {
                    closeBoth("the backend closed the connection and the statement did not stop");
                }
            }, BACKEND_GONE_GRACE_SECONDS, TimeUnit.SECONDS);
            return;
        }
        phase = Phase.CLOSED;
        if (client.isOpen()) {
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    void clientFailed(Throwable cause) {
        if (!(cause instanceof IOException)) {
            log.debug("client connection failed (user={} client={})", user, address(client.remoteAddress()), cause);
        }
        closeBoth(null);
    }

    void backendFailed(Throwable cause) {
        log.warn("backend connection failed (user={} backend={}): {}", user, config.backendAddress(), describe(cause));
        closeBoth(null);
    }

    private void failClient(int sequenceId, ProxyException error) {
        phase = Phase.CLOSED;
        client.writeAndFlush(Packets.err(client.alloc(), sequenceId, error.code(), error.sqlState(), error.getMessage()))
                .addListener(ChannelFutureListener.CLOSE);
        if (backend != null) {
            backend.close();
        }
        log.info("refused client={}: {}", address(client.remoteAddress()), error.getMessage());
    }

    private void closeBoth(String reason) {
        if (reason != null) {
            log.info("closing conn={} user={} client={}: {}", handshake == null ? "-" : handshake.connectionId(),
                    user, address(client.remoteAddress()), reason);
        }
        phase = Phase.CLOSED;
        client.close();
        if (backend != null) {
            backend.close();
        }
    }

    private void cleanUp() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        if (streaming != null) {
            RowStreamReader reader = streaming;
            streaming = null;
            reader.abort(new ProxyException(ProxyError.INTERNAL, "the connection closed"));
        }
        if (loggedOpen) {
            registry.unregister(handshake.connectionId(), this);
        }
        failCollected();
        held.forEach(ReferenceCountUtil::release);
        held.clear();
        if (queryFrames != null) {
            queryFrames.forEach(ReferenceCountUtil::release);
            queryFrames = null;
        }
        if (slotTaken) {
            limiter.release();
        }
        long millis = (System.nanoTime() - openedNanos) / 1_000_000;
        if (loggedOpen) {
            log.info("close conn={} user={} client={} duration={}ms", handshake.connectionId(), user,
                    address(client.remoteAddress()), millis);
        } else {
            log.info("close user={} client={} duration={}ms (not authenticated)", user,
                    address(client.remoteAddress()), millis);
        }
    }

    /** Fails the pipeline's backend query in progress, if any: its connection is gone. */
    private void failCollected() {
        infileRequestAllowed = false;
        infileUploading = false;
        if (collector != null) {
            TextResultCollector c = collector;
            CompletableFuture<QueryResult> f = collected;
            collector = null;
            collected = null;
            c.discard();
            f.completeExceptionally(new ProxyException(ProxyError.INTERNAL, "the connection closed"));
        }
    }

    // ---- KILL ---------------------------------------------------------------------------------------------

    /**
     * The backend answered a KILL this connection relayed. Only when it accepted it (the issuer's own rights decide,
     * and "Unknown thread id" reaches the client as usual) does the target's pipeline statement stop too.
     */
    private void killAnswered(boolean accepted) {
        ScanResult kill = killWatch;
        killWatch = null;
        if (accepted) {
            registry.killed(kill.killTarget(), kill.killsConnection(), handshake.connectionId());
        }
    }

    /**
     * Stops the pipeline statement running now, if any (from any thread: a KILL accepted on another connection).
     * The statement as of this call is the one stopped; one started after it is not affected.
     */
    void interruptRunning(String by) {
        CompletableFuture<Void> statement = running;
        if (statement != null) {
            client.eventLoop().execute(() -> interrupt(statement, by));
        }
    }

    /** On the event loop: completes {@code statement}'s cancellation if it is still the one running. */
    private void interrupt(CompletableFuture<Void> statement, String by) {
        if (statement != null && statement == running && !statement.isDone()) {
            log.info("interrupting the statement of conn={} user={}: {}", handshake.connectionId(), user, by);
            statement.complete(null);
        }
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

    private static String address(SocketAddress address) {
        return address == null ? "-" : address.toString().replaceFirst("^/", "");
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "unknown cause";
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }

    // ---- StatementSession -------------------------------------------------------------------------------

    @Override
    public String user() {
        return user;
    }

    @Override
    public String backendVersion() {
        return handshake.serverVersion();
    }

    @Override
    public boolean deprecateEof() {
        return Capabilities.has(negotiated, Capabilities.CLIENT_DEPRECATE_EOF);
    }

    @Override
    public EventLoop eventLoop() {
        return client.eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return client.alloc();
    }

    @Override
    public void warn(int code, String message) {
        ProxyWarnings warnings = statementWarnings;
        if (warnings != null) {
            warnings.add(code, message);
        }
    }

    @Override
    public CompletableFuture<Void> cancellation() {
        CompletableFuture<Void> statement = running;
        return statement != null ? statement : new CompletableFuture<>();
    }
}
