package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.ragproxy.server.wire.FrameDecoder;

/** The client channel's last handler: hands frames and channel events to its {@link ProxyConnection}. */
final class FrontendHandler extends ChannelInboundHandlerAdapter {
    private final ProxyConnection connection;

    FrontendHandler(ProxyConnection connection) {
        this.connection = connection;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connection.clientActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf frame) {
            connection.fromClient(frame);
        } else if (msg instanceof FrameDecoder.Oversize oversize) {
            connection.clientFrameTooLong(oversize);
        } else if (msg instanceof FrameDecoder.Skipped skipped) {
            connection.commands().packetSkipped(skipped);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        connection.flushBackend();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        connection.updateReads();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            connection.clientIdle();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.clientClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.clientFailed(cause);
    }
}
