package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a MySQL byte stream into frames: each output is a retained slice holding one frame's 4-byte header
 * (3-byte little-endian payload length, 1-byte sequence id) followed by its payload.
 *
 * <p>Frames are not reassembled: a payload of 16 MiB - 1 bytes or more arrives as several frames, the first ones
 * with length {@link Packets#MAX_FRAME_PAYLOAD}. Keeping the header in the slice lets the relay write the very
 * same bytes it read, with no re-encoding.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= Packets.HEADER_SIZE) {
            int payloadLength = in.getUnsignedMediumLE(in.readerIndex());
            int frameLength = Packets.HEADER_SIZE + payloadLength;
            if (in.readableBytes() < frameLength) {
                return;
            }
            out.add(in.readRetainedSlice(frameLength));
        }
    }
}
