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
 * same bytes it read, with no re-encoding. One frame is decoded at a time, so what the next handler decides about a
 * frame ({@link #discardRestOfPacket}) applies to the very next bytes.
 *
 * <p>Two things are never buffered: a frame longer than the decoder's {@linkplain #FrameDecoder(int) limit} (the
 * login's 64 kB) gives an {@link Oversize} event instead and its bytes are skipped; and after
 * {@link #discardRestOfPacket()} the remaining frames of the current packet are skipped as they arrive, then a
 * {@link Skipped} event says where the packet ended. Event loop only.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    /** A frame whose payload is longer than the decoder's limit; its bytes are skipped, not buffered. */
    public record Oversize(int sequenceId, int payloadLength) {}

    /** The frames of a packet after {@link #discardRestOfPacket()} were skipped; the last had this sequence id. */
    public record Skipped(int lastSequenceId) {}

    private int maxPayload;
    /** Whether the last frame emitted had a full payload (its packet continues in the next frame). */
    private boolean midPacket;
    /** Skipping frames until the end of the current packet. */
    private boolean skippingPacket;
    /** Payload bytes of the frame being skipped still to come. */
    private long skipBytes;
    /** Whether the frame being skipped is the last of its packet. */
    private boolean skipEndsPacket;
    private int skipSequenceId;

    /** A decoder without a frame size limit (frames up to the protocol's 16 MiB - 1). */
    public FrameDecoder() {
        this(Packets.MAX_FRAME_PAYLOAD);
    }

    /** @param maxPayload the longest frame payload accepted; a longer one gives an {@link Oversize} event */
    public FrameDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    /** Accepts frames of any length from now on (the login is over). */
    public void unlimit() {
        maxPayload = Packets.MAX_FRAME_PAYLOAD;
    }

    /**
     * Skips the rest of the packet whose frame was emitted last, as its bytes arrive, and then emits {@link Skipped}.
     * Does nothing when that frame ended its packet.
     *
     * @return whether there was a rest to skip
     */
    public boolean discardRestOfPacket() {
        if (!midPacket) {
            return false;
        }
        skippingPacket = true;
        return true;
    }

    /** Whether the decoder holds part of a frame, or skips one: its next bytes must come to it, in order. */
    public boolean isBuffering() {
        return internalBuffer().isReadable() || skipBytes > 0 || skippingPacket;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (skipBytes > 0) {
            int n = (int) Math.min(skipBytes, in.readableBytes());
            in.skipBytes(n);
            skipBytes -= n;
            if (skipBytes > 0) {
                return;
            }
            skipped(out);
            return;
        }
        if (in.readableBytes() < Packets.HEADER_SIZE) {
            return;
        }
        int payloadLength = in.getUnsignedMediumLE(in.readerIndex());
        int sequenceId = in.getUnsignedByte(in.readerIndex() + 3);
        if (skippingPacket || payloadLength > maxPayload) {
            if (!skippingPacket) {
                out.add(new Oversize(sequenceId, payloadLength));
            }
            in.skipBytes(Packets.HEADER_SIZE);
            skipBytes = payloadLength;
            skipEndsPacket = payloadLength < Packets.MAX_FRAME_PAYLOAD;
            skipSequenceId = sequenceId;
            if (payloadLength == 0) {
                skipped(out);
            }
            return;
        }
        int frameLength = Packets.HEADER_SIZE + payloadLength;
        if (in.readableBytes() < frameLength) {
            return;
        }
        midPacket = payloadLength == Packets.MAX_FRAME_PAYLOAD;
        out.add(in.readRetainedSlice(frameLength));
    }

    /** A skipped frame is complete: the packet's end ends the skipping. */
    private void skipped(List<Object> out) {
        midPacket = !skipEndsPacket;
        if (skippingPacket && skipEndsPacket) {
            skippingPacket = false;
            out.add(new Skipped(skipSequenceId));
        }
    }
}
