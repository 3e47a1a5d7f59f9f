package io.ragproxy.server.session;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.ragproxy.server.balance.BackendServer;

/**
 * Opens a connection's backend channel on the client's event loop, with {@code handler} (the frame decoder and the
 * connection's {@link BackendHandler}) as its pipeline: a TCP connection to {@code server} in the proxy,
 * an {@code EmbeddedChannel} in tests. {@code server} is the backend the connection was given.
 */
@FunctionalInterface
interface BackendConnector {
    ChannelFuture connect(EventLoop loop, BackendServer server, ChannelHandler handler);
}
