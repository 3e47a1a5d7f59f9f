package io.ragproxy.server.wire;

import static io.ragproxy.server.testing.FrameBuilder.concat;
import static io.ragproxy.server.testing.FrameBuilder.frame;
import static io.ragproxy.server.testing.FrameBuilder.readable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.ragproxy.server.testing.FrameBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
    private EmbeddedChannel ch;

    @BeforeEach
    void setUp() {
        ch = new EmbeddedChannel(new FrameDecoder());
    }

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private List<ByteBuf> drain() {
        List<ByteBuf> out = new ArrayList<>();
        ByteBuf b;
        while ((b = ch.readInbound()) != null) {
            out.add(b);
        }
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void oneFrameInOneReadIncludesHeader() {
        ByteBuf f = frame(3, ascii("\u0003SELECT 1"));
        byte[] expected = readable(f);
        ch.writeInbound(f);
        List<ByteBuf> out = drain();
        assertEquals(1, out.size());
        assertArrayEquals(expected, readable(out.get(0)));
        assertEquals(9, Packets.payloadLength(out.get(0)));
        assertEquals(3, Packets.sequenceId(out.get(0)));
        assertEquals(0x03, Packets.firstByte(out.get(0)));
        out.forEach(ByteBuf::release);
    }

    @Test
    void frameSplitAcrossReadsAtEveryByte() {
        byte[] stream = readable(frame(1, ascii("hello world")));
        for (int cut = 1; cut < stream.length; cut++) {
            EmbeddedChannel c = new EmbeddedChannel(new FrameDecoder());
            assertFalse(c.writeInbound(Unpooled.wrappedBuffer(stream, 0, cut)), "no output after " + cut + " bytes");
            assertNull(c.readInbound());
            assertTrue(c.writeInbound(Unpooled.wrappedBuffer(stream, cut, stream.length - cut)));
            ByteBuf out = c.readInbound();
            assertArrayEquals(stream, readable(out), "cut at " + cut);
            out.release();
            assertNull(c.readInbound());
            assertFalse(c.finishAndReleaseAll());
        }
    }

    @Test
    void headerSplitByteByByte() {
        byte[] stream = readable(frame(7, ascii("abc")));
        for (int i = 0; i < stream.length - 1; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {stream[i]}));
            assertNull(ch.readInbound());
        }
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {stream[stream.length - 1]}));
        ByteBuf out = ch.readInbound();
        assertArrayEquals(stream, readable(out));
        out.release();
    }

    @Test
    void severalFramesInOneRead() {
        ByteBuf a = frame(0, ascii("\u0003select 1"));
        ByteBuf b = frame(1, new byte[0]);
        ByteBuf c = frame(2, ascii("xyz"));
        byte[] ea = readable(a);
        byte[] eb = readable(b);
        byte[] ec = readable(c);
        ch.writeInbound(concat(a, b, c));
        List<ByteBuf> out = drain();
        assertEquals(3, out.size());
        assertArrayEquals(ea, readable(out.get(0)));
        assertArrayEquals(eb, readable(out.get(1)));
        assertArrayEquals(ec, readable(out.get(2)));
        assertEquals(-1, Packets.firstByte(out.get(1)));
        assertEquals(1, Packets.sequenceId(out.get(1)));
        out.forEach(ByteBuf::release);
    }

    @Test
    void twoAndAHalfFramesThenTheRest() {
        byte[] stream = readable(concat(frame(0, ascii("one")), frame(1, ascii("two")), frame(2, ascii("three"))));
        int cut = 7 + 7 + 4; // two frames and the third's header
        ch.writeInbound(Unpooled.wrappedBuffer(stream, 0, cut));
        assertEquals(2, drain().stream().peek(ByteBuf::release).count());
        ch.writeInbound(Unpooled.wrappedBuffer(stream, cut, stream.length - cut));
        List<ByteBuf> out = drain();
        assertEquals(1, out.size());
        assertEquals("three", out.get(0).toString(4, 5, StandardCharsets.US_ASCII));
        out.forEach(ByteBuf::release);
    }

    @Test
    void emptyPayloadFrames() {
        ch.writeInbound(concat(FrameBuilder.empty(4), FrameBuilder.empty(5)));
        List<ByteBuf> out = drain();
        assertEquals(2, out.size());
        for (int i = 0; i < 2; i++) {
            assertEquals(4, out.get(i).readableBytes());
            assertEquals(0, Packets.payloadLength(out.get(i)));
            assertEquals(4 + i, Packets.sequenceId(out.get(i)));
            assertFalse(Packets.continues(out.get(i)));
        }
        out.forEach(ByteBuf::release);
    }

    @Test
    void maxFrameThenContinuationFrame() {
        ByteBuf big = FrameBuilder.frameOfLength(0, Packets.MAX_FRAME_PAYLOAD, 0xFE, 0x61);
        ByteBuf tail = frame(1, ascii("tail"));
        ByteBuf stream = concat(big, tail);
        big.release();
        // deliver in 64 KiB reads as a socket would
        int total = stream.readableBytes();
        int chunk = 65536;
        List<ByteBuf> out = new ArrayList<>();
        for (int off = 0; off < total; off += chunk) {
            ch.writeInbound(stream.retainedSlice(off, Math.min(chunk, total - off)));
            out.addAll(drain());
        }
        stream.release();
        assertEquals(2, out.size());
        ByteBuf first = out.get(0);
        assertEquals(4 + Packets.MAX_FRAME_PAYLOAD, first.readableBytes());
        assertEquals(Packets.MAX_FRAME_PAYLOAD, Packets.payloadLength(first));
        assertTrue(Packets.continues(first));
        assertEquals(0xFE, Packets.firstByte(first));
        assertEquals(0x61, first.getUnsignedByte(first.readerIndex() + first.readableBytes() - 1));
        ByteBuf second = out.get(1);
        assertEquals(1, Packets.sequenceId(second));
        assertFalse(Packets.continues(second));
        assertEquals("tail", second.toString(second.readerIndex() + 4, 4, StandardCharsets.US_ASCII));
        out.forEach(ByteBuf::release);
    }

    @Test
    void maxFrameThenEmptyContinuation() {
        ByteBuf big = FrameBuilder.frameOfLength(3, Packets.MAX_FRAME_PAYLOAD, 0x03, 0x20);
        ch.writeInbound(concat(big, FrameBuilder.empty(4)));
        big.release();
        List<ByteBuf> out = drain();
        assertEquals(2, out.size());
        assertTrue(Packets.continues(out.get(0)));
        assertEquals(0, Packets.payloadLength(out.get(1)));
        assertEquals(4, Packets.sequenceId(out.get(1)));
        out.forEach(ByteBuf::release);
    }

    @Test
    void outputIsRetainedSliceIndependentOfInput() {
        ByteBuf in = concat(frame(0, ascii("aa")), frame(1, ascii("bb")));
        ch.writeInbound(in);
        List<ByteBuf> out = drain();
        assertEquals(2, out.size());
        // the decoder released its own reference to the cumulation; our slices must still be readable
        assertEquals("bb", out.get(1).toString(4, 2, StandardCharsets.US_ASCII));
        out.forEach(ByteBuf::release);
    }

    @Test
    void incompleteFrameStaysBufferedAtChannelClose() {
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {5, 0, 0, 0, 'a'}));
        assertNull(ch.readInbound());
        // nothing is emitted for a partial frame, even when the channel closes
        assertFalse(ch.finish());
        assertNull(ch.readInbound());
    }
}
