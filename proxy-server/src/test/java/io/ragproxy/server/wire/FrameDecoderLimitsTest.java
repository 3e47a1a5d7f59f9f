package io.ragproxy.server.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The frame decoder's two refusals: a frame over its limit, and the rest of a packet it was told to skip. */
class FrameDecoderLimitsTest {

    private static ByteBuf header(int payloadLength, int sequenceId) {
        ByteBuf b = Unpooled.buffer(4);
        b.writeMediumLE(payloadLength);
        b.writeByte(sequenceId);
        return b;
    }

    private static ByteBuf frame(int payloadLength, int sequenceId, int fill) {
        ByteBuf b = header(payloadLength, sequenceId);
        for (int i = 0; i < payloadLength; i++) {
            b.writeByte(fill);
        }
        return b;
    }

    @Test
    void aFrameOverTheLimitIsAnEventAndItsBytesAreSkipped() {
        FrameDecoder decoder = new FrameDecoder(64 * 1024);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(header(15_000_000, 1));
        FrameDecoder.Oversize oversize = assertInstanceOf(FrameDecoder.Oversize.class, ch.readInbound());
        assertEquals(15_000_000, oversize.payloadLength());
        assertEquals(1, oversize.sequenceId());
        // The payload's bytes are dropped as they come: nothing accumulates.
        for (int i = 0; i < 10; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[1_000_000]));
            assertNull(ch.readInbound());
        }
        ch.finishAndReleaseAll();
    }

    @Test
    void unlimitAcceptsLargeFramesAfterTheLogin() {
        FrameDecoder decoder = new FrameDecoder(10);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        decoder.unlimit();
        ch.writeInbound(frame(100, 0, 'a'));
        ByteBuf f = ch.readInbound();
        assertEquals(104, f.readableBytes());
        f.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void theRestOfAPacketIsSkippedThenTheNextFrameComes() {
        FrameDecoder decoder = new FrameDecoder();
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ByteBuf first = header(Packets.MAX_FRAME_PAYLOAD, 0);
        first.writeZero(Packets.MAX_FRAME_PAYLOAD);
        ch.writeInbound(first);
        ByteBuf f = ch.readInbound();
        assertTrue(Packets.continues(f));
        f.release();
        assertTrue(decoder.discardRestOfPacket());
        // Frame 1 full, frame 2 short (the packet's last); arrive in pieces.
        ch.writeInbound(header(Packets.MAX_FRAME_PAYLOAD, 1));
        for (int i = 0; i < 15; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[1024 * 1024]));
        }
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[1024 * 1024 - 1]));
        assertNull(ch.readInbound());
        ch.writeInbound(frame(5, 2, 'x'));
        FrameDecoder.Skipped skipped = assertInstanceOf(FrameDecoder.Skipped.class, ch.readInbound());
        assertEquals(2, skipped.lastSequenceId());
        ch.writeInbound(frame(3, 0, 'y'));
        ByteBuf next = ch.readInbound();
        assertEquals(7, next.readableBytes());
        next.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void nothingToSkipAfterAPacketsLastFrame() {
        FrameDecoder decoder = new FrameDecoder();
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(frame(3, 0, 'a'));
        ((ByteBuf) ch.readInbound()).release();
        assertTrue(!decoder.discardRestOfPacket());
        ch.finishAndReleaseAll();
    }
}
