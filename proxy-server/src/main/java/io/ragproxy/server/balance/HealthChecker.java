package io.ragproxy.server.balance;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Checks backends the way TiProxy does: connect, read the server's handshake, close (no login, so it needs no
 * account). Every backend is checked every {@code interval}, each on its own schedule, with non-blocking Netty
 * connects on one event loop of the checker's own, so a backend that does not answer delays nobody: not the other
 * backends' checks and never the proxy's event loops.
 */
final class HealthChecker implements AutoCloseable {
    /** Protocol version 10, the first payload byte of every MySQL and MariaDB handshake. */
    private static final int HANDSHAKE_V10 = 0x0a;

    private final EventLoopGroup group = new NioEventLoopGroup(1, new DefaultThreadFactory("ragproxy-health", true));
    private final Duration interval;
    private final Duration timeout;

    HealthChecker(Duration interval, Duration timeout) {
        this.interval = interval;
        this.timeout = timeout;
    }

    /** Starts checking {@code servers}: the first check at once, then {@code interval} after each check ends. */
    void start(List<BackendServer> servers) {
        servers.forEach(s -> group.execute(() -> checkThenReschedule(s)));
    }

    private void checkThenReschedule(BackendServer server) {
        if (group.isShuttingDown()) {
            return;
        }
        check(server).addListener(f -> {
            server.checked((String) f.getNow());
            if (!group.isShuttingDown()) {
                group.schedule(() -> checkThenReschedule(server), interval.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
    }

    /** One check; completes with null when the backend greeted, else with what went wrong. Never fails. */
    private Promise<String> check(BackendServer server) {
        Promise<String> result = group.next().newPromise();
        int millis = (int) timeout.toMillis();
        ChannelFuture connect = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, millis)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ReadTimeoutHandler(millis, TimeUnit.MILLISECONDS),
                                new GreetingCheck(result, millis));
                    }
                })
                .connect(server.host(), server.port());
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                result.trySuccess(describe(f.cause()));
            }
        });
        return result;
    }

    static String describe(Throwable t) {
        String message = t.getMessage();
        return message == null ? t.getClass().getSimpleName() : message;
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Reads the first five bytes (3-byte length, sequence id, protocol version) and closes. */
    private static final class GreetingCheck extends ChannelInboundHandlerAdapter {
        private final Promise<String> result;
        private final int millis;
        private final byte[] head = new byte[5];
        private int read;

        GreetingCheck(Promise<String> result, int millis) {
            this.result = result;
            this.millis = millis;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                int n = Math.min(buf.readableBytes(), head.length - read);
                buf.readBytes(head, read, n);
                read += n;
            } finally {
                buf.release();
            }
            if (read == head.length) {
                int first = head[4] & 0xff;
                result.trySuccess(first == HANDSHAKE_V10 ? null : first == 0xff
                        ? "the backend refused the connection with an error" : "unexpected handshake (protocol "
                        + first + ")");
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.trySuccess("the connection closed before the handshake");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.trySuccess(cause instanceof ReadTimeoutException ? "no handshake within " + millis + " ms"
                    : describe(cause));
            ctx.close();
        }
    }
}
