package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.Packets;

/**
 * The client leg's fast path in the command phase, before its frame decoder: a read that brings exactly one whole
 * frame (a client's command, as a request-response client sends it) is handed to the connection as it is, with no
 * slice, no decoder pass and no pipeline hop; the read buffer is the frame. Anything else (several frames in one
 * read, part of one, a frame of a packet longer than one frame) goes to the frame decoder, as does every read while
 * the decoder holds bytes, so frames stay in order.
 *
 * <p>The backend is flushed once per read batch ({@code channelReadComplete}), as the connection's last handler
 * does. Event loop only.
 */
final class CommandForwarder extends ChannelInboundHandlerAdapter {
    private final ProxyConnection connection;
    private final FrameDecoder decoder;
    /** Whether the frame decoder got a read in this batch (then it gets the read-complete event too). */
    private boolean decoderRead;

    /** @param decoder the frame decoder right after this handler */
    CommandForwarder(ProxyConnection connection, FrameDecoder decoder) {
        this.connection = connection;
        this.decoder = decoder;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf in && isOneWholeFrame(in) && decoder.atPacketBoundary()) {
            connection.fromClient(in);
            return;
        }
        decoderRead = true;
        ctx.fireChannelRead(msg);
    }

    /** Whether {@code in} holds one frame, whole, that ends its packet (a shorter payload than a frame's most). */
    private static boolean isOneWholeFrame(ByteBuf in) {
        int readable = in.readableBytes();
        if (readable < Packets.HEADER_SIZE) {
            return false;
        }
        int payload = in.getUnsignedMediumLE(in.readerIndex());
        return payload < Packets.MAX_FRAME_PAYLOAD && readable == Packets.HEADER_SIZE + payload;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (decoderRead) {
            decoderRead = false;
            ctx.fireChannelReadComplete(); // the decoder's own bookkeeping; the last handler flushes the backend
        } else {
            connection.flushBackend();
        }
    }
}
