package io.ragproxy.server.session;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.RowStream;
import io.ragproxy.server.balance.BackendPool;
import io.ragproxy.server.balance.BackendServer;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.net.Transport;
import io.ragproxy.server.config.SessionLimits;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.protocol.Capabilities;
import io.ragproxy.server.wire.CursorMemory;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.Packets;
import io.ragproxy.server.text.ClientCharset;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.wire.ResultSetWriter;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its own backend connection: its lifecycle (connect, phases, close and clean-up) and
 * the routing of each frame to the part that owns it now. {@link HandshakeRelay} takes the connection to the
 * command phase (DESIGN.md §2); there {@link CommandRelay} relays every frame as the same bytes except a COM_QUERY
 * the scan flags, which {@link LocalStatements} runs through the {@link StatementPipeline} once the backend is idle,
 * using the backend through {@link BackendQueries}.
 *
 * <p>Who owns the backend's responses in the command phase, in the order {@link #fromBackend} asks: a query of the
 * proxy's own ({@link BackendQueries#inProgress}), else a statement the proxy runs ({@link LocalStatements#running},
 * whose backend frames are unsolicited), else the relay. The client's frames go to an upload for the proxy's own
 * query ({@link LocalStatements#uploading}), else to the relay, which holds them while the proxy works.
 *
 * <p>A {@code KILL [QUERY] <id>} (flagged by the scan) is relayed unchanged; when the backend accepts it, the
 * {@link ConnectionRegistry} also completes the target connection's {@link #cancellation()}, so a pipeline statement
 * that waits on model calls stops too. The client going away or the backend connection ending does the same.
 *
 * <p>Both channels run on the client channel's event loop, so this object and its parts are confined to one thread
 * and need no locks (the running statement's cancellation is the one field another connection reads). Reads follow
 * writability in both directions: a slow reader stops the other side from being read, so a large result never piles
 * up in proxy memory.
 */
final class ProxyConnection implements StatementSession {
    private static final Logger log = LoggerFactory.getLogger("io.ragproxy.connections");
    /** How long a pipeline statement may take to stop and report after the backend connection ended. */
    private static final long BACKEND_GONE_GRACE_SECONDS = 5;

    /** Where the connection is in its life; frames are routed by it. */
    enum Phase { CONNECTING, GREETED, CLIENT_TLS, AUTHENTICATING, COMMAND, CLOSED }

    private final Channel client;
    private final ProxyConfig config;
    private final StatementPipeline pipeline;
    private final ConnectionLimiter limiter;
    private final ConnectionRegistry registry;
    private final BackendConnector connector;
    private final BackendPool backends;
    /** Backends this connection tried to reach, in vain, before the current one. */
    private final Set<BackendServer> unreachable = new HashSet<>();
    /** The backend this connection is on (counted against it); null before the choice and after clean-up. */
    private BackendServer server;
    /** The address of the backend chosen last, for messages and logs (kept after clean-up). */
    private String backendAddress;
    private final ProxyMetrics metrics;
    private final long openedNanos = System.nanoTime();
    private final HandshakeRelay handshake;
    private final LocalStatements local;
    private final CommandRelay commands;
    private final BackendQueries queries;
    private final SessionTextTracker textTracker = new SessionTextTracker();

    private Phase phase = Phase.CONNECTING;
    private Channel backend;
    private boolean slotTaken;
    private boolean loggedOpen;
    private boolean cleanedUp;
    /** The backend connection ended while a pipeline statement ran; the client is closed once it has reported. */
    private boolean backendGone;
    private RagSettings settings;
    /** CURRENT_USER() as the pipeline read it; cleared when the backend resets or replaces the session. */
    private volatile String currentUser;
    /** Closes the connection if the login is not over in time; cancelled by {@link #authenticated()}. */
    private ScheduledFuture<?> loginTimer;
    /** The server's bound on the cursor rows all connections keep. */
    private final CursorMemory cursorMemory;

    ProxyConnection(Channel client, ProxyConfig config, SslContext clientTls, SslContext backendTls,
            StatementPipeline pipeline, ConnectionLimiter limiter, ConnectionRegistry registry) {
        this(client, config, clientTls, backendTls, pipeline, limiter, registry, tcpConnector(config, Transport.NIO));
    }
    /** The server is draining: the next command gets error 7060 and the connection closes. */
    private volatile boolean draining;

    /** With {@code connector} opening the backend channel (tests pass an {@code EmbeddedChannel}'s). */
    ProxyConnection(Channel client, ProxyConfig config, SslContext clientTls, SslContext backendTls,
            StatementPipeline pipeline, ConnectionLimiter limiter, ConnectionRegistry registry,
            BackendConnector connector) {
        this(client, config, clientTls, backendTls, pipeline, limiter, registry, connector, new ProxyMetrics(),
                uncheckedPool(config), new CursorMemory(CursorMemory.DEFAULT_MAX_BYTES));
    }

    /**
     * With {@code connector} opening the backend channel, counting itself in {@code metrics}, on the backend
     * {@code backends} chooses, keeping cursor rows within the server's {@code cursorMemory}.
     */
    ProxyConnection(Channel client, ProxyConfig config, SslContext clientTls, SslContext backendTls,
            StatementPipeline pipeline, ConnectionLimiter limiter, ConnectionRegistry registry,
            BackendConnector connector, ProxyMetrics metrics, BackendPool backends, CursorMemory cursorMemory) {
        this.cursorMemory = cursorMemory;
        this.connector = connector;
        this.backends = backends;
        this.metrics = metrics;
        this.client = client;
        this.config = config;
        this.pipeline = pipeline;
        this.limiter = limiter;
        this.registry = registry;
        this.handshake = new HandshakeRelay(this, client, config, clientTls, backendTls);
        this.local = new LocalStatements(this, client, pipeline, metrics);
        this.commands = new CommandRelay(this, client, pipeline, local, registry,
                config.limits().maxAiStatementBytes(), metrics);
        this.queries = new BackendQueries(this, client);
    }

    // ---- connection setup -------------------------------------------------------------------------------

    void clientActive() {
        client.config().setAutoRead(false);
        if (!limiter.tryAcquire()) {
            metrics.connectionRefused(ProxyMetrics.Refusal.TOO_MANY_CONNECTIONS);
            failClient(0, new ProxyException(ProxyError.TOO_MANY_CONNECTIONS, "Too many connections: ragproxy accepts "
                    + limiter.max() + " at once (raise proxy.max_connections in ragproxy.toml)"));
            return;
        }
        slotTaken = true;
        long loginSeconds = config.limits().loginTimeout().toSeconds();
        loginTimer = client.eventLoop().schedule(this::loginTimedOut, loginSeconds, TimeUnit.SECONDS);
        metrics.connectionOpened();
        connectBackend();
    }

    /**
     * Connects to the usable backend with the fewest connections; when that connect fails, to the next one, until
     * none is left: the client then gets 2003 at once, naming each backend's state.
     */
    private void connectBackend() {
        BackendServer chosen = backends.acquire(unreachable);
        if (chosen == null) {
            metrics.connectionRefused(ProxyMetrics.Refusal.BACKEND_UNREACHABLE);
            String which = backends.servers().size() == 1 ? "the backend at " + backends.servers().get(0)
                    : "any backend (" + backends.describe() + ")";
            failClient(0, new ProxyException(ProxyError.BACKEND_UNREACHABLE, "ragproxy cannot reach " + which
                    + (unreachable.isEmpty() ? "; the health checks (every 3 s) find it down" : "")
                    + "; start it with 'bin/local-backend start' or point --backend at a running TiDB or MariaDB"));
            return;
        }
        server = chosen;
        backendAddress = chosen.address();
        var connect = connector.connect(client.eventLoop(), chosen, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                FrameDecoder frames = new FrameDecoder();
                ch.pipeline().addLast("forward", new ResponseForwarder(ProxyConnection.this, frames));
                ch.pipeline().addLast("frames", frames);
                ch.pipeline().addLast("connection", new BackendHandler(ProxyConnection.this));
            }
        });
        backend = connect.channel();
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() && phase != Phase.CLOSED) {
                log.warn("cannot reach backend {} ({}); trying another", chosen, describe(f.cause()));
                unreachable.add(chosen);
                releaseServer();
                connectBackend();
            }
        });
    }

    /** Gives this connection's place on its backend back (once). */
    private void releaseServer() {
        if (server != null) {
            server.release();
            server = null;
        }
    }

    /** A TCP connection to the chosen backend, on {@code transport} (that of the client's event loop). */
    static BackendConnector tcpConnector(ProxyConfig config, Transport transport) {
        return (loop, server, handler) -> new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(handler)
                .connect(server.host(), server.port());
    }

    /** A pool of the configured backends without health checks (tests that build a connection alone). */
    static BackendPool uncheckedPool(ProxyConfig config) {
        return BackendPool.unchecked(config.backends().stream()
                .map(b -> new BackendServer(b.host(), b.port())).toList());
    }

    /** The address of the backend this connection is on ({@code host:port}). */
    String backendAddress() {
        return backendAddress != null ? backendAddress : config.backendAddress();
    }

    /** The backend this connection is on, or null before the choice and after clean-up. */
    BackendServer server() {
        return server;
    }

    /** The backend accepted the login: the command phase starts. */
    void authenticated() {
        phase = Phase.COMMAND;
        loginTimer.cancel(false);
        FrameDecoder frames = client.pipeline().get(FrameDecoder.class);
        if (frames != null) {
            frames.unlimit();
        }
        commands.start(handshake.deprecateEof());
        settings = pipeline.initialSettings();
        loggedOpen = true;
        registry.register(this);
        log.info("open conn={} user={} client={} tls={} backend={}", connectionId(), user(),
                address(client.remoteAddress()), client.pipeline().get(SslHandler.class) != null,
                backendAddress());
        // The pipeline may check its catalog on this session first; the client's commands wait for it.
        local.awaitSessionStart(pipeline.sessionStarted(this));
    }

    /** The login did not finish within proxy.login_timeout_s. */
    private void loginTimedOut() {
        String reason = "the login did not finish within " + config.limits().loginTimeout().toSeconds()
                + " s (proxy.login_timeout_s)";
        if (phase == Phase.CONNECTING) {
            failClient(0, new ProxyException(ProxyError.LOGIN_TIMEOUT, "ragproxy closed the connection: " + reason
                    + "; the backend at " + backendAddress() + " did not greet in time"));
        } else if (phase != Phase.COMMAND && phase != Phase.CLOSED) {
            // Mid-exchange the client waits for the backend's packets, not an ERR of the proxy's own: just close.
            closeBoth(reason);
        }
    }

    /** A client frame longer than the frame decoder accepts: only logins are limited (64 kB per packet). */
    void clientFrameTooLong(FrameDecoder.Oversize oversize) {
        if (phase == Phase.CLOSED) {
            return;
        }
        failClient(oversize.sequenceId() + 1, new ProxyException(ProxyError.LOGIN_PACKET_TOO_LARGE, "ragproxy closed"
                + " the connection: a login packet of " + oversize.payloadLength() + " bytes is larger than the "
                + SessionLimits.MAX_LOGIN_PACKET_BYTES + " bytes a login may send"));
    }

    // ---- routing ------------------------------------------------------------------------------------------

    void fromBackend(ByteBuf frame) {
        switch (phase) {
            case CONNECTING -> handshake.backendGreeting(frame);
            case AUTHENTICATING -> handshake.backendAuth(frame);
            case COMMAND -> {
                if (queries.inProgress()) {
                    queries.fromBackend(frame);
                } else if (local.running()) {
                    frame.release(); // unsolicited (an error before the backend closes): the running statement answers
                } else {
                    commands.fromBackend(frame);
                }
            }
            default -> frame.release();
        }
    }

    void fromClient(ByteBuf frame) {
        switch (phase) {
            case GREETED, CLIENT_TLS -> handshake.clientResponse(frame, phase);
            case AUTHENTICATING -> handshake.clientAuth(frame);
            case COMMAND -> {
                if (local.uploading()) {
                    local.upload(frame);
                } else {
                    commands.fromClient(frame);
                }
            }
            default -> frame.release();
        }
    }

    // ---- the parts' view of the connection ----------------------------------------------------------------

    void enter(Phase next) {
        phase = next;
    }

    boolean inCommandPhase() {
        return phase == Phase.COMMAND;
    }

    /** The backend connection ended while a pipeline statement ran. */
    boolean backendGone() {
        return backendGone;
    }

    Channel backend() {
        return backend;
    }

    CommandRelay commands() {
        return commands;
    }

    LocalStatements local() {
        return local;
    }

    BackendQueries queries() {
        return queries;
    }

    @Override
    public long connectionId() {
        return handshake.greeting().connectionId();
    }

    /** The server's bound on the cursor rows all connections keep together. */
    CursorMemory cursorMemory() {
        return cursorMemory;
    }

    /** Whether the backend numbers connections cluster-wide (TiDB's global kill), not per server. */
    boolean clusterWideIds() {
        return handshake.greeting().isTidb();
    }

    @Override
    public String clientAddress() {
        return address(client.remoteAddress());
    }

    // ---- flow control and closing -----------------------------------------------------------------------

    void flushBackend() {
        if (backend != null) {
            backend.flush();
        }
    }

    /**
     * Whether backend bytes may go to the client as read: the command phase, no query or statement of the proxy's
     * own, and nothing to add to or learn from the relayed responses ({@link CommandRelay#forwardsBlindly()}).
     */
    boolean relaysBlindly() {
        return phase == Phase.COMMAND && !queries.inProgress() && !local.running() && commands.forwardsBlindly();
    }

    /** Writes relayed backend bytes to the client (flushed at the end of the read batch). */
    void writeClient(ByteBuf bytes) {
        client.write(bytes, client.voidPromise());
    }

    void flushClient() {
        client.flush();
    }

    /** Reads on each side only while the other side can take writes and nothing is held back. */
    void updateReads() {
        if (phase == Phase.CLOSED || phase == Phase.CONNECTING || backend == null) {
            return;
        }
        client.config().setAutoRead(backend.isWritable() && commands.mayReadClient());
        backend.config().setAutoRead(client.isWritable() && !queries.paused());
    }

    void clientIdle() {
        if (phase != Phase.COMMAND || commands.idle()) {
            closeBoth("idle for " + config.idleTimeout().toSeconds() + " s (proxy.idle_timeout)");
        }
    }

    void clientClosed() {
        phase = Phase.CLOSED;
        local.interruptNow("the client disconnected");
        if (backend != null && backend.isOpen()) {
            // Flush what the client sent last (COM_QUIT), then close.
            backend.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
        cleanUp();
    }

    void backendClosed() {
        if (phase == Phase.CONNECTING) {
            failClient(0, new ProxyException(ProxyError.BACKEND_UNREACHABLE, "the backend at "
                    + backendAddress() + " closed the connection before its handshake"));
            return;
        }
        if (phase == Phase.COMMAND && local.running()) {
            // KILL CONNECTION or a backend restart under a running pipeline statement: stop it, let it tell the
            // client what it wrote (LocalStatements.finish), then close; a statement that does not stop is cut off.
            backendGone = true;
            local.interruptNow("the backend closed the connection");
            queries.failCollected();
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
            log.debug("client connection failed (user={} client={})", user(), address(client.remoteAddress()), cause);
        }
        closeBoth(null);
    }

    void backendFailed(Throwable cause) {
        log.warn("backend connection failed (user={} backend={}): {}", user(), backendAddress(),
                describe(cause));
        closeBoth(null);
    }

    /** Refuses the client with {@code error} and closes both legs. */
    void failClient(int sequenceId, ProxyException error) {
        phase = Phase.CLOSED;
        client.writeAndFlush(Packets.err(client.alloc(), sequenceId, error.code(),
                error.sqlState(), error.getMessage())).addListener(ChannelFutureListener.CLOSE);
        if (backend != null) {
            backend.close();
        }
        log.info("refused client={}: {}", address(client.remoteAddress()), error.getMessage());
    }

    /** Closes both legs, logging {@code reason} when given. */
    void closeBoth(String reason) {
        if (reason != null) {
            log.info("closing conn={} user={} client={}: {}",
                    handshake.greeting() == null ? "-" : handshake.greeting().connectionId(),
                    user(), address(client.remoteAddress()), reason);
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
        if (loginTimer != null) {
            loginTimer.cancel(false);
        }
        queries.abortStream();
        if (loggedOpen) {
            registry.unregister(this);
        }
        queries.failCollected();
        commands.releaseHeld();
        releaseServer();
        if (slotTaken) {
            limiter.release();
            metrics.connectionClosed();
        }
        long millis = (System.nanoTime() - openedNanos) / 1_000_000;
        if (loggedOpen) {
            log.info("close conn={} user={} client={} duration={}ms", connectionId(), user(),
                    address(client.remoteAddress()), millis);
        } else {
            log.info("close user={} client={} duration={}ms (not authenticated)", user(),
                    address(client.remoteAddress()), millis);
        }
    }

    /** From any thread: the server drains; what runs now runs on, the next command is refused. */
    void drain() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }

    /** From any thread: whether a statement runs now (completes on the event loop; false once closed). */
    io.netty.util.concurrent.Future<Boolean> busy() {
        return client.eventLoop().submit(() -> phase == Phase.COMMAND && !commands.idle());
    }

    /** A command arrived while the server drains: error 7060, then the connection closes. */
    void refuseWhileDraining(ByteBuf frame) {
        frame.release();
        metrics.connectionRefused(ProxyMetrics.Refusal.DRAINING);
        phase = Phase.CLOSED;
        client.writeAndFlush(Packets.err(client.alloc(), 1, ProxyError.SHUTTING_DOWN.code(),
                ProxyError.SHUTTING_DOWN.sqlState(), "ragproxy is shutting down and takes no new statements on this"
                        + " connection; reconnect (through your load balancer, to another proxy) and run it again"))
                .addListener(ChannelFutureListener.CLOSE);
        if (backend != null) {
            backend.close();
        }
        log.info("closing conn={} user={} client={}: a command arrived while the proxy drains", connectionId(),
                user(), address(client.remoteAddress()));
    }

    /**
     * Stops the pipeline statement running now, if any (from any thread: a KILL accepted on another connection).
     * The statement as of this call is the one stopped; one started after it is not affected.
     */
    void interruptRunning(String by) {
        local.interruptRunning(by);
    }

    static String address(SocketAddress address) {
        return address == null ? "-" : address.toString().replaceFirst("^/", "");
    }

    /** The root cause's message, for logs and error messages. */
    static String describe(Throwable t) {
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
        return handshake.user();
    }

    @Override
    public String currentUser() {
        return currentUser;
    }

    @Override
    public void currentUser(String account) {
        currentUser = account;
    }

    @Override
    public String backendVersion() {
        return handshake.greeting().serverVersion();
    }

    @Override
    public boolean deprecateEof() {
        return handshake.deprecateEof();
    }

    @Override
    public ResultSetWriter resultSetWriter() {
        SessionText text = textTracker.current();
        return new ResultSetWriter(deprecateEof(), extendedMetadata(),
                text.supported() ? text.results() : ClientCharset.UTF8MB4);
    }

    /** Whether the client asked for MariaDB progress reports (MARIADB_CLIENT_PROGRESS, passed on to the backend). */
    boolean progressReports() {
        return Capabilities.has(handshake.negotiatedMariadb(), Capabilities.MARIADB_CLIENT_PROGRESS);
    }

    /** Whether MariaDB's MARIADB_CLIENT_EXTENDED_METADATA was negotiated (column definitions carry one more field). */
    boolean extendedMetadata() {
        return Capabilities.has(handshake.negotiatedMariadb(), Capabilities.MARIADB_CLIENT_EXTENDED_METADATA);
    }

    @Override
    public SessionText sessionText() {
        return textTracker.current();
    }

    /** Follows the session's character sets and sql_mode. */
    SessionTextTracker textTracker() {
        return textTracker;
    }

    /** Statement text the proxy sends for this session, in the bytes its {@code character_set_client} reads. */
    byte[] statementBytes(String sql) {
        SessionText text = textTracker.current();
        return text.supported() ? text.client().encodeStatement(sql)
                : sql.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public boolean sessionTrack() {
        return Capabilities.has(handshake.negotiated(), Capabilities.CLIENT_SESSION_TRACK);
    }

    @Override
    public int serverStatus() {
        return queries.serverStatus();
    }

    @Override
    public CompletableFuture<QueryResult> query(String sql) {
        return queries.query(sql, false);
    }

    @Override
    public CompletableFuture<QueryResult> queryRelayingLocalInfile(String sql) {
        return queries.query(sql, true);
    }

    @Override
    public void queryStream(String sql, RowStream rows) {
        queries.queryStream(sql, rows);
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
    public EventLoop eventLoop() {
        return client.eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return client.alloc();
    }

    @Override
    public void warn(int code, String message) {
        local.warn(code, message);
    }

    @Override
    public CompletableFuture<Void> cancellation() {
        return local.cancellation();
    }

    @Override
    public void progress(long rowsDone, long rowsExpected) {
        local.progress(rowsDone, rowsExpected);
    }

    @Override
    public void plan(String kind) {
        local.plan(kind);
    }

    @Override
    public String plan() {
        return local.plan();
    }

    @Override
    public io.ragproxy.catalog.invoke.AsyncLimiter statementLimiter(int width) {
        return local.statementLimiter(width);
    }

    @Override
    public java.util.List<io.ragproxy.server.command.RunningStatement> runningStatements() {
        return registry.running();
    }

    /** The AI statement this connection runs now, or null. Any thread. */
    io.ragproxy.server.command.RunningStatement runningStatement() {
        return local.runningStatement();
    }

    @Override
    public boolean backendLost() {
        return backendGone && !local.killedThroughProxy();
    }
}
