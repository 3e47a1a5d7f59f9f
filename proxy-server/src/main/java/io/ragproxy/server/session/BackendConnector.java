package io.ragproxy.server.session;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;

/**
 * Opens a connection's backend channel on the client's event loop, with {@code handler} (the frame decoder and the
 * connection's {@link BackendHandler}) as its pipeline: a TCP connection to the configured backend in the server,
 * an {@code EmbeddedChannel} in tests.
 */
@FunctionalInterface
interface BackendConnector {
    ChannelFuture connect(EventLoop loop, ChannelHandler handler);
}
