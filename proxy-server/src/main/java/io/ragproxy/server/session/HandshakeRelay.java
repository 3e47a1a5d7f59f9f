package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.config.SessionLimits;
import io.ragproxy.server.protocol.Capabilities;
import io.ragproxy.server.protocol.HandshakeResponse;
import io.ragproxy.server.protocol.ServerHandshake;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.Packets;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * A connection's way to the command phase (DESIGN.md §2): relays the backend's greeting with the capabilities the
 * proxy cannot relay masked out, starts TLS on either leg, and relays the authentication exchange with the client's
 * sequence ids shifted to the backend's, until the backend's OK hands over to {@link CommandRelay}.
 *
 * <p>Keeps what the handshake settled (the backend's greeting, the user, the negotiated capabilities) for the rest
 * of the connection. Event loop only.
 */
final class HandshakeRelay {
    private static final String VERSION_SUFFIX = "-ragproxy";

    private final ProxyConnection connection;
    private final Channel client;
    private final ProxyConfig config;
    private final SslContext clientTls;
    private final SslContext backendTls;

    private ServerHandshake handshake;
    private long clientCapabilities;
    private long clientMariadbCapabilities;
    private long negotiated;
    private long negotiatedMariadb;
    /** Client sequence id minus backend sequence id during authentication (TLS to the backend adds a packet). */
    private int sequenceOffset;
    private String user = "-";

    HandshakeRelay(ProxyConnection connection, Channel client, ProxyConfig config, SslContext clientTls,
            SslContext backendTls) {
        this.connection = connection;
        this.client = client;
        this.config = config;
        this.clientTls = clientTls;
        this.backendTls = backendTls;
    }

    // ---- what the handshake settled -------------------------------------------------------------------

    /** The backend's greeting; null before it arrived. */
    ServerHandshake greeting() {
        return handshake;
    }

    String user() {
        return user;
    }

    /** Capabilities both the client and the backend use on this connection. */
    long negotiated() {
        return negotiated;
    }

    /** MariaDB extended capabilities both sides use (0 for MySQL clients). */
    long negotiatedMariadb() {
        return negotiatedMariadb;
    }

    boolean deprecateEof() {
        return Capabilities.has(negotiated, Capabilities.CLIENT_DEPRECATE_EOF);
    }

    // ---- frames, by phase -----------------------------------------------------------------------------

    /** CONNECTING: the backend's greeting (or its refusal), relayed to the client with capabilities masked. */
    void backendGreeting(ByteBuf frame) {
        try {
            if (Packets.firstByte(frame) == 0xFF) {
                // The backend refused us before greeting (too many connections, host blocked): pass it on.
                client.writeAndFlush(frame.retain()).addListener(ChannelFutureListener.CLOSE);
                connection.enter(ProxyConnection.Phase.CLOSED);
                return;
            }
            handshake = ServerHandshake.parse(frame);
        } catch (RuntimeException e) {
            connection.failClient(0, new ProxyException(ProxyError.INTERNAL, "the backend at "
                    + connection.backendAddress() + " sent a handshake ragproxy cannot relay: " + e.getMessage()));
            return;
        } finally {
            frame.release();
        }
        clientCapabilities = (handshake.capabilities() & ~Capabilities.UNSUPPORTED & ~Capabilities.CLIENT_SSL)
                | (clientTls != null ? Capabilities.CLIENT_SSL : 0);
        clientMariadbCapabilities = handshake.mariadbCapabilities() & ~Capabilities.MARIADB_UNSUPPORTED;
        client.writeAndFlush(handshake.toClientFrame(client.alloc(), VERSION_SUFFIX, clientCapabilities,
                clientMariadbCapabilities));
        connection.enter(ProxyConnection.Phase.GREETED);
        connection.updateReads();
    }

    /**
     * GREETED or CLIENT_TLS: the client's SSLRequest or its handshake response, passed on with the capabilities
     * both legs can use. The frame is the whole response: the client's frame decoder refuses one over 64 kB.
     */
    void clientResponse(ByteBuf frame, ProxyConnection.Phase phase) {
        if (phase == ProxyConnection.Phase.GREETED && HandshakeResponse.isSslRequest(frame)) {
            frame.release();
            if (clientTls == null) {
                connection.closeBoth("the client asked for TLS, which this proxy does not offer");
                return;
            }
            connection.enter(ProxyConnection.Phase.CLIENT_TLS);
            startClientTls();
            return;
        }
        int clientSequence = Packets.sequenceId(frame);
        if (!HandshakeResponse.isProtocol41(frame)) {
            frame.release();
            connection.failClient(clientSequence + 1, new ProxyException(ProxyError.INTERNAL,
                    "ragproxy needs a client that speaks the MySQL 4.1 protocol"));
            return;
        }
        user = HandshakeResponse.userName(frame);
        if (config.clientTlsRequired() && phase != ProxyConnection.Phase.CLIENT_TLS) {
            frame.release();
            connection.failClient(clientSequence + 1, new ProxyException(ProxyError.TLS_REQUIRED, "Connections using"
                    + " insecure transport are prohibited: this ragproxy requires TLS (tls.required = true), and '"
                    + user + "' connected without it; connect with TLS (mysql --ssl, Connector/J sslMode=trust or"
                    + " verify-full with the proxy's certificate)"));
            return;
        }
        long requested = HandshakeResponse.capabilities(frame);
        long backendLeg = (requested & clientCapabilities & ~Capabilities.CLIENT_SSL)
                | (backendTls != null ? Capabilities.CLIENT_SSL : 0);
        negotiated = backendLeg & handshake.capabilities();
        HandshakeResponse.setCapabilities(frame, backendLeg);
        if (handshake.mariadbCapabilities() != 0 && !Capabilities.has(requested, Capabilities.CLIENT_MYSQL)) {
            negotiatedMariadb = HandshakeResponse.mariadbCapabilities(frame) & clientMariadbCapabilities;
            HandshakeResponse.setMariadbCapabilities(frame, negotiatedMariadb);
        }
        connection.enter(ProxyConnection.Phase.AUTHENTICATING);
        Channel backend = connection.backend();
        if (backendTls == null) {
            sequenceOffset = clientSequence - 1;
            Packets.setSequenceId(frame, 1);
            backend.writeAndFlush(frame);
            return;
        }
        startBackendTls(frame, clientSequence);
    }

    /**
     * AUTHENTICATING: a client frame of the auth exchange (auth switch, more data), to the backend renumbered.
     * Frames over 64 kB never get here (the frame decoder's login limit); the login timeout is ProxyConnection's.
     */
    void clientAuth(ByteBuf frame) {
        Channel backend = connection.backend();
        Packets.setSequenceId(frame, Packets.sequenceId(frame) - sequenceOffset);
        backend.write(frame, backend.voidPromise());
    }

    /** AUTHENTICATING: a backend frame of the auth exchange, to the client; its OK ends the handshake. */
    void backendAuth(ByteBuf frame) {
        int first = Packets.firstByte(frame);
        Packets.setSequenceId(frame, Packets.sequenceId(frame) + sequenceOffset);
        client.write(frame);
        if (first == 0x00) {
            connection.authenticated();
        } else if (first == 0xFF) {
            client.flush();
            connection.enter(ProxyConnection.Phase.CLOSED); // the backend closes the connection after a failed login
        }
    }

    // ---- TLS ----------------------------------------------------------------------------------------------

    private void startClientTls() {
        SslHandler ssl = clientTls.newHandler(client.alloc());
        ChannelPipeline p = client.pipeline();
        // Bytes already read past the SSLRequest are TLS records: replace() hands them to the SslHandler.
        p.addAfter(FrontendInitializer.FRAMES, "frames-tls", new FrameDecoder(SessionLimits.MAX_LOGIN_PACKET_BYTES));
        p.replace(FrontendInitializer.FRAMES, "tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (!f.isSuccess()) {
                connection.closeBoth("client TLS handshake failed: " + ProxyConnection.describe(f.cause()));
            }
        });
    }

    private void startBackendTls(ByteBuf response, int clientSequence) {
        if (!Capabilities.has(handshake.capabilities(), Capabilities.CLIENT_SSL)) {
            response.release();
            connection.failClient(clientSequence + 1, new ProxyException(ProxyError.BACKEND_UNREACHABLE,
                    "backend.tls is on but the backend at " + connection.backendAddress()
                            + " does not offer TLS (set backend.tls = false)"));
            return;
        }
        Channel backend = connection.backend();
        sequenceOffset = clientSequence - 2;
        ByteBuf sslRequest = response.retainedSlice(Packets.payloadIndex(response), HandshakeResponse.FIXED_HEAD);
        backend.writeAndFlush(Packets.frame(backend.alloc(), 1, sslRequest));
        SslHandler ssl = backendTls.newHandler(backend.alloc(), connection.server().host(), connection.server().port());
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
                connection.failClient(clientSequence + 1, new ProxyException(ProxyError.BACKEND_UNREACHABLE,
                        "TLS to the backend at " + connection.backendAddress() + " failed: "
                                + ProxyConnection.describe(f.cause())
                                + " (check backend.tls_verify and the backend's certificate)"));
            }
        });
    }
}
