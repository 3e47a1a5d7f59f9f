package io.ragproxy.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.ragproxy.server.wire.CursorMemory;
import io.ragproxy.server.balance.BackendPool;
import io.ragproxy.server.balance.BackendServer;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.net.Transport;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.pipeline.UnavailablePipeline;
import io.ragproxy.server.session.ConnectionLimiter;
import io.ragproxy.server.session.ConnectionRegistry;
import io.ragproxy.server.session.FrontendInitializer;
import io.ragproxy.server.tls.TlsContexts;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy as an object: binds the listen address, accepts MySQL clients and gives each one its own backend
 * connection, on the healthy backend with the fewest connections ({@link BackendPool}, checked while it runs). {@link #start()} binds; {@link #close()} drains: it stops accepting, lets running statements finish
 * for up to {@code proxy.drain_timeout_s} while new commands are refused with error 7060, stops what still runs (a
 * backfill then reports its committed rows, as for KILL QUERY), then closes every connection.
 *
 * <p>Used by {@code RagProxyMain} and, in-JVM, by the integration tests and benchmarks.
 */
public final class RagProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RagProxyServer.class);

    /** How long stopped statements get to report (a backfill's committed rows) before their connections close. */
    private static final long INTERRUPT_GRACE_NANOS = 5_000_000_000L;

    private final ProxyConfig config;
    private final StatementPipeline pipeline;
    private final ProxyMetrics metrics;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    /** Authenticated connections by the id their clients see, so a KILL on one reaches another's AI statement. */
    private final ConnectionRegistry connections = new ConnectionRegistry();
    /** Time between two health checks of a backend. */
    private static final Duration HEALTH_CHECK_INTERVAL = Duration.ofSeconds(3);
    /** Connect and read timeout of one health check. */
    private static final Duration HEALTH_CHECK_TIMEOUT = Duration.ofSeconds(2);

    private BackendPool backends;
    private EventLoopGroup bossGroup;
    private EventLoopGroup ioGroup;
    private Channel serverChannel;
    private Transport transport;

    /**
     * @param config the resolved configuration
     * @param pipeline what handles statements the scan flags (AI functions, proxy statements)
     */
    public RagProxyServer(ProxyConfig config, StatementPipeline pipeline) {
        this(config, pipeline, new ProxyMetrics());
    }

    /**
     * @param config the resolved configuration
     * @param pipeline what handles statements the scan flags (AI functions, proxy statements)
     * @param metrics where the connections count themselves and their statements
     */
    public RagProxyServer(ProxyConfig config, StatementPipeline pipeline, ProxyMetrics metrics) {
        this.config = config;
        this.pipeline = pipeline;
        this.metrics = metrics;
    }

    /** A server whose pipeline answers every flagged statement with "not available" (the proxy core alone). */
    public RagProxyServer(ProxyConfig config) {
        this(config, new UnavailablePipeline());
    }

    /** Binds the listen address; returns when the proxy accepts connections. */
    public synchronized RagProxyServer start() throws InterruptedException {
        if (serverChannel != null) {
            throw new IllegalStateException("already started");
        }
        SslContext clientTls = config.clientTls() ? TlsContexts.forClients(config) : null;
        SslContext backendTls = config.backendTls() ? TlsContexts.forBackend(config) : null;
        transport = Transport.choose(config.transport());
        if (transport.fallbackReason() != null) {
            log.info("the native epoll transport cannot load ({}); using NIO", transport.fallbackReason());
        }
        metrics.transport(transport.name());
        bossGroup = transport.newGroup(1);
        int threads = config.eventLoops();
        ioGroup = transport.newGroup(threads);
        ConnectionLimiter limiter = new ConnectionLimiter(config.maxConnections());
        backends = BackendPool.checked(config.backends().stream()
                .map(b -> new BackendServer(b.host(), b.port())).toList(), HEALTH_CHECK_INTERVAL, HEALTH_CHECK_TIMEOUT);
        metrics.watchBackends(backends);
        FrontendInitializer initializer = new FrontendInitializer(config, clientTls, backendTls, pipeline, limiter,
                connections, metrics, backends, transport, new CursorMemory(CursorMemory.DEFAULT_MAX_BYTES));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, ioGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        clients.add(ch);
                        initializer.initChannel(ch);
                    }
                });
        try {
            serverChannel = bootstrap.bind(config.listenHost(), config.listenPort()).sync().channel();
        } catch (Exception e) {
            shutdownGroups();
            backends.close();
            throw new IllegalStateException("cannot listen on " + config.listenAddress() + ": " + e.getMessage()
                    + " (choose another address with --listen HOST:PORT)", e);
        }
        log.info("ragproxy listening on {} for backend{} {}{} ({} transport, {} event loops)", localAddress(),
                config.backends().size() > 1 ? "s" : "", config.backendAddresses(),
                config.backendTls() ? " (TLS)" : "", transport.name(), threads);
        return this;
    }

    /** The bound address (useful when the configured port was 0). */
    public InetSocketAddress localAddress() {
        if (serverChannel == null) {
            throw new IllegalStateException("not started");
        }
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The backends and their health (checked while the server runs). */
    public BackendPool backends() {
        if (backends == null) {
            throw new IllegalStateException("not started");
        }
        return backends;
    }

    /** The number of event loops the connections share ({@code proxy.io_threads}). */
    public int eventLoops() {
        if (ioGroup == null) {
            throw new IllegalStateException("not started");
        }
        int n = 0;
        for (var ignored : ioGroup) {
            n++;
        }
        return n;
    }

    /** The socket transport in use (epoll or NIO), chosen by {@link #start()}. */
    public Transport transport() {
        if (transport == null) {
            throw new IllegalStateException("not started");
        }
        return transport;
    }

    /** The metrics its connections count themselves in. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The configuration this server runs with. */
    public ProxyConfig config() {
        return config;
    }

    /** Number of client connections currently open. */
    public int openConnections() {
        return clients.size();
    }

    @Override
    public synchronized void close() {
        if (serverChannel == null) {
            return;
        }
        serverChannel.close().awaitUninterruptibly();
        // The drain: nothing new is accepted; running statements get the drain timeout to finish while a new
        // command on any connection is refused with 7060; then what still runs is stopped as KILL QUERY would.
        connections.drainAll();
        long deadline = System.nanoTime() + config.drainTimeout().toNanos();
        int busy = awaitIdle(deadline);
        if (busy > 0) {
            log.info("stopping {} statement(s) still running after the drain timeout of {} s (proxy.drain_timeout_s)",
                    busy, config.drainTimeout().toSeconds());
            connections.interruptAll("the proxy is shutting down and proxy.drain_timeout_s ran out");
            awaitIdle(System.nanoTime() + INTERRUPT_GRACE_NANOS);
        }
        if (!clients.isEmpty()) {
            log.info("closing {} connection(s)", clients.size());
        }
        clients.close().awaitUninterruptibly();
        shutdownGroups();
        backends.close();
        serverChannel = null;
        log.info("ragproxy stopped");
    }

    /** Waits until no connection runs a statement, or {@code deadline}; returns how many still do. */
    private int awaitIdle(long deadline) {
        int busy;
        while ((busy = connections.busy()) > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return busy;
    }

    private void shutdownGroups() {
        if (ioGroup != null) {
            ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }
}
