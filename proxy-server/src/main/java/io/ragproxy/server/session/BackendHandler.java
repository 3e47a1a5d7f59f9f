package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** The backend channel's last handler: hands frames and channel events to its {@link ProxyConnection}. */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    private final ProxyConnection connection;

    BackendHandler(ProxyConnection connection) {
        this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        connection.fromBackend((ByteBuf) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        connection.flushClient();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        connection.updateReads();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.backendClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.backendFailed(cause);
    }
}
