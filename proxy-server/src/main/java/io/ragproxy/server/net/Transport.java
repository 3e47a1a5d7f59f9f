package io.ragproxy.server.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The socket transport the proxy's event loops, listening socket and backend connections share: Netty's native
 * epoll (fewer system calls and no selector garbage per read) or the JDK's NIO. Both legs of a connection run on
 * the same event loop, so both must come from the same transport.
 *
 * <p>Immutable. {@link #choose(String)} picks one from the {@code proxy.transport} setting.
 *
 * @param name {@code epoll} or {@code nio}, as the start-up log line and {@code ragproxy_transport_info} show it
 * @param fallbackReason why {@code auto} fell back to NIO (null when it did not)
 */
public record Transport(String name, String fallbackReason) {

    /** The native epoll transport. */
    public static final Transport EPOLL = new Transport("epoll", null);
    /** The JDK's NIO transport. */
    public static final Transport NIO = new Transport("nio", null);

    /**
     * The transport for a {@code proxy.transport} setting.
     *
     * @param setting {@code auto} (epoll where it loads, else NIO with the reason kept), {@code nio}, or {@code epoll}
     * @throws IllegalStateException for {@code epoll} where the native transport cannot load
     */
    public static Transport choose(String setting) {
        return switch (setting) {
            case "nio" -> NIO;
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("proxy.transport = \"epoll\" but the native epoll transport cannot"
                            + " load here (" + Epoll.unavailabilityCause() + "); use \"auto\" or \"nio\"");
                }
                yield EPOLL;
            }
            case "auto" -> Epoll.isAvailable() ? EPOLL : new Transport("nio", String.valueOf(Epoll.unavailabilityCause()));
            default -> throw new IllegalArgumentException("proxy.transport must be auto, nio or epoll, got '" + setting
                    + "'");
        };
    }

    /** Whether this is the native epoll transport. */
    public boolean isEpoll() {
        return name.equals("epoll");
    }

    /** A new group of {@code threads} event loops. */
    public EventLoopGroup newGroup(int threads) {
        return isEpoll() ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    }

    /** The listening socket's channel class. */
    public Class<? extends ServerChannel> serverChannel() {
        return isEpoll() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** The class of a connected socket's channel (the backend leg). */
    public Class<? extends SocketChannel> socketChannel() {
        return isEpoll() ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
