package io.ragproxy.server.session;

import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.ragproxy.server.wire.CursorMemory;
import io.ragproxy.server.balance.BackendPool;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.config.SessionLimits;
import io.ragproxy.server.net.Transport;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.wire.FrameDecoder;
import java.util.concurrent.TimeUnit;

/** Builds a client channel's pipeline: idle detection, frame decoding and the connection's own handler. */
public final class FrontendInitializer {
    /** Pipeline name of the client leg's frame decoder (replaced when the client upgrades to TLS). */
    static final String FRAMES = "frames";

    private final ProxyConfig config;
    private final SslContext clientTls;
    private final SslContext backendTls;
    private final StatementPipeline pipeline;
    private final ConnectionLimiter limiter;
    private final ConnectionRegistry registry;
    private final ProxyMetrics metrics;
    private final BackendPool backends;
    private final Transport transport;
    private final CursorMemory cursorMemory;

    /**
     * @param limiter the server's connection count
     * @param registry the server's live connections, by the connection id their clients see (for KILL)
     * @param metrics where connections count themselves and their statements
     * @param backends where each new connection gets its backend
     * @param transport the server's socket transport, which the backend connections use too
     * @param cursorMemory the server's bound on the cursor rows all connections keep together
     */
    public FrontendInitializer(ProxyConfig config, SslContext clientTls, SslContext backendTls,
            StatementPipeline pipeline, ConnectionLimiter limiter, ConnectionRegistry registry, ProxyMetrics metrics,
            BackendPool backends, Transport transport, CursorMemory cursorMemory) {
        this.backends = backends;
        this.cursorMemory = cursorMemory;
        this.metrics = metrics;
        this.transport = transport;
        this.config = config;
        this.clientTls = clientTls;
        this.backendTls = backendTls;
        this.pipeline = pipeline;
        this.limiter = limiter;
        this.registry = registry;
    }

    /** Adds the handlers of a newly accepted client channel. */
    public void initChannel(SocketChannel ch) {
        long idleSeconds = config.idleTimeout().toSeconds();
        if (idleSeconds > 0) {
            // Idle means the client sent nothing (MySQL's wait_timeout); a statement still answering is not idle
            // (ProxyConnection.clientIdle checks). Watching reads only keeps the handler off the write path: watching
            // writes costs a promise and a listener per write.
            ch.pipeline().addLast("idle", new IdleStateHandler(idleSeconds, 0, 0, TimeUnit.SECONDS));
        }
        // Login packets are limited until the backend accepts the login (ProxyConnection.authenticated).
        ch.pipeline().addLast(FRAMES, new FrameDecoder(SessionLimits.MAX_LOGIN_PACKET_BYTES));
        ch.pipeline().addLast("connection", new FrontendHandler(
                new ProxyConnection(ch, config, clientTls, backendTls, pipeline, limiter, registry,
                        ProxyConnection.tcpConnector(config, transport), metrics, backends, cursorMemory)));
    }
}
