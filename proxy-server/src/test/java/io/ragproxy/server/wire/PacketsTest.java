package io.ragproxy.server.wire;

import static io.ragproxy.server.testing.FrameBuilder.readable;
import static io.ragproxy.server.testing.FrameBuilder.unhex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.ragproxy.server.testing.FrameBuilder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PacketsTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final int MAX = Packets.MAX_FRAME_PAYLOAD;

    // ---- ERR / OK against the protocol documentation's examples ----

    @Test
    void errMatchesDocumentedExample() {
        // dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html:
        // 17 00 00 01 ff 48 04 23 48 59 30 30 30 4e 6f 20 74 61 62 6c 65 73 20 75 73 65 64
        ByteBuf f = Packets.err(ALLOC, 1, 1096, "HY000", "No tables used");
        assertArrayEquals(unhex("17000001ff48042348593030304e6f207461626c65732075736564"), readable(f));
        f.release();
    }

    @Test
    void errWithUtf8MessageAndHighErrorCode() {
        ByteBuf f = Packets.err(ALLOC, 2, 65534, "42S02", "Tabelle ‘ä’");
        byte[] msg = "Tabelle ‘ä’".getBytes(StandardCharsets.UTF_8);
        assertEquals(9 + msg.length, Packets.payloadLength(f));
        assertEquals(2, Packets.sequenceId(f));
        assertEquals(0xFF, Packets.firstByte(f));
        assertEquals(65534, f.getUnsignedShortLE(5));
        assertEquals('#', f.getByte(7));
        assertEquals("42S02", f.toString(8, 5, StandardCharsets.US_ASCII));
        assertEquals("Tabelle ‘ä’", f.toString(13, msg.length, StandardCharsets.UTF_8));
        assertEquals(4 + 9 + msg.length, f.readableBytes());
        f.release();
    }

    @Test
    void errRejectsBadSqlState() {
        assertThrows(IllegalArgumentException.class, () -> Packets.err(ALLOC, 1, 1, "HY00", "x"));
        assertThrows(IllegalArgumentException.class, () -> Packets.err(ALLOC, 1, 1, "HY0000", "x"));
    }

    @Test
    void okMatchesDocumentedExample() {
        // page_protocol_basic_ok_packet.html: "OK with CLIENT_PROTOCOL_41. 0 affected rows, last-insert-id was 0,
        // AUTOCOMMIT enabled, 0 warnings. No further info." 07 00 00 02 00 00 00 02 00 00 00
        ByteBuf f = Packets.ok(ALLOC, 2, 0, 0, 0x0002, 0, null);
        assertArrayEquals(unhex("0700000200000002000000"), readable(f));
        f.release();
        ByteBuf g = Packets.ok(ALLOC, 2, 0, 0, 0x0002, 0, "");
        assertArrayEquals(unhex("0700000200000002000000"), readable(g));
        g.release();
    }

    @Test
    void okWithLargeCountsAndInfo() {
        // The info is length-encoded without CLIENT_SESSION_TRACK too: MariaDB 11.8 answers an UPDATE with
        // 00 03 00 22 00 00 00 28 "Rows matched: 3  Changed: 3  Warnings: 0" (0x28 = its length), and MySQL
        // Connector/J reads it so.
        ByteBuf f = Packets.ok(ALLOC, 1, 300, 70000, 0x0003, 2, "Rows matched: 1");
        byte[] expected = FrameBuilder.payload().u8(0).u8(0xFC).u16(300).u8(0xFD).u24(70000).u16(3).u16(2)
                .lenencStr("Rows matched: 1").bytes();
        assertEquals(expected.length, Packets.payloadLength(f));
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(readable(f), 4, f.readableBytes()));
        f.release();
    }

    // ---- frame splitting ----

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    /** Frames {@code n} bytes and checks the result against the protocol's splitting rule. */
    private static void checkFrame(int n, int seq) {
        byte[] data = pattern(n);
        ByteBuf payload = Unpooled.wrappedBuffer(data);
        ByteBuf out = Packets.frame(ALLOC, seq, payload);
        assertEquals(0, payload.refCnt(), "payload released");
        int expectedFrames = n / MAX + 1; // an exact multiple needs a trailing empty frame
        assertEquals(n + 4 * expectedFrames, out.readableBytes(), "bytes for " + n);
        int off = 0;
        int idx = out.readerIndex();
        for (int i = 0; i < expectedFrames; i++) {
            ByteBuf f = out.slice(idx, out.writerIndex() - idx);
            int len = Packets.payloadLength(f);
            assertEquals(Math.min(MAX, n - off), len, "frame " + i + " length for " + n);
            assertEquals((seq + i) & 0xFF, Packets.sequenceId(f), "frame " + i + " seq");
            assertEquals(i < expectedFrames - 1, Packets.continues(f));
            for (int j : new int[] {0, len / 2, len - 1}) {
                if (len > 0) {
                    assertEquals(data[off + j], f.getByte(4 + j));
                }
            }
            off += len;
            idx += 4 + len;
        }
        assertEquals(n, off);
        assertEquals(out.writerIndex(), idx);
        out.release();
    }

    @Test
    void frameEmptyPayload() {
        ByteBuf out = Packets.frame(ALLOC, 5, Unpooled.buffer(0));
        assertArrayEquals(new byte[] {0, 0, 0, 5}, readable(out));
        out.release();
    }

    @Test
    void frameSmallPayload() {
        ByteBuf out = Packets.frame(ALLOC, 0, Unpooled.wrappedBuffer(new byte[] {0x0E}));
        assertArrayEquals(new byte[] {1, 0, 0, 0, 0x0E}, readable(out));
        out.release();
    }

    @Test
    void frameJustBelowMax() {
        checkFrame(MAX - 1, 0);
    }

    @Test
    void frameExactlyMaxNeedsTrailingEmptyFrame() {
        checkFrame(MAX, 1);
    }

    @Test
    void frameJustAboveMax() {
        checkFrame(MAX + 1, 2);
    }

    @Test
    void frameExactlyTwiceMaxNeedsTrailingEmptyFrame() {
        checkFrame(2 * MAX, 3);
    }

    @Test
    void frameSequenceWrapsAt256() {
        checkFrame(MAX + 10, 255);
    }

    @Test
    void frameHonoursPayloadReaderIndex() {
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[] {9, 9, 1, 2, 3});
        payload.skipBytes(2);
        ByteBuf out = Packets.frame(ALLOC, 0, payload);
        assertArrayEquals(new byte[] {3, 0, 0, 0, 1, 2, 3}, readable(out));
        out.release();
    }

    // ---- header accessors ----

    @Test
    void headerAccessorsRespectReaderIndex() {
        ByteBuf b = Unpooled.buffer();
        b.writeBytes(new byte[] {(byte) 0xAA, (byte) 0xBB});
        b.writeMediumLE(0xFFFFFF).writeByte(9).writeByte(0xFE);
        b.skipBytes(2);
        assertEquals(MAX, Packets.payloadLength(b));
        assertEquals(9, Packets.sequenceId(b));
        assertEquals(0xFE, Packets.firstByte(b));
        assertTrue(Packets.continues(b));
        assertEquals(6, Packets.payloadIndex(b));
        Packets.setSequenceId(b, 200);
        assertEquals(200, Packets.sequenceId(b));
        assertEquals(0xAA, b.getUnsignedByte(0), "bytes before the reader index untouched");
    }

    @Test
    void firstByteOfEmptyPayloadIsMinusOne() {
        ByteBuf b = FrameBuilder.empty(1);
        assertEquals(-1, Packets.firstByte(b));
        assertFalse(Packets.continues(b));
    }

    // ---- length-encoded integers ----

    @ParameterizedTest
    @CsvSource({
        "0, 00",
        "1, 01",
        "250, fa",
        "251, fcfb00",
        "252, fcfc00",
        "65535, fcffff",
        "65536, fd000001",
        "16777215, fdffffff",
        "16777216, fe0000000100000000",
        "4294967296, fe0000000001000000",
        "9223372036854775807, feffffffffffffff7f",
    })
    void lengthEncodedIntBoundaries(long value, String hex) {
        byte[] expected = unhex(hex);
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0x77); // a prefix byte: reading must honour the index
        Packets.writeLengthEncodedInt(b, value);
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(readable(b), 1, b.readableBytes()), "encoding of " + value);
        assertEquals(value, Packets.getLengthEncodedInt(b, 1));
        assertEquals(expected.length, Packets.lengthEncodedIntSize(b, 1));
    }

    @Test
    void lengthEncodedIntNegativeIsUnsigned64() {
        ByteBuf b = Unpooled.buffer();
        Packets.writeLengthEncodedInt(b, -1);
        assertArrayEquals(unhex("feffffffffffffffff"), readable(b));
        assertEquals(-1L, Packets.getLengthEncodedInt(b, 0));
        assertEquals(9, Packets.lengthEncodedIntSize(b, 0));
    }

    @Test
    void lengthEncodedNullAndInvalid() {
        ByteBuf b = Unpooled.wrappedBuffer(new byte[] {(byte) 0xFB, (byte) 0xFF});
        assertEquals(-1, Packets.getLengthEncodedInt(b, 0));
        assertEquals(1, Packets.lengthEncodedIntSize(b, 0));
        assertThrows(IllegalArgumentException.class, () -> Packets.getLengthEncodedInt(b, 1));
    }

    @ParameterizedTest
    @CsvSource({"0", "1", "250", "251", "65535", "65536", "16777215", "16777216"})
    void lengthEncodedStringRoundTrip(int length) {
        byte[] value = pattern(length);
        ByteBuf b = Unpooled.buffer();
        Packets.writeLengthEncodedString(b, value);
        int size = Packets.lengthEncodedIntSize(b, 0);
        assertEquals(length, Packets.getLengthEncodedInt(b, 0));
        assertEquals(size + length, b.readableBytes());
        if (length > 0) {
            assertEquals(value[length - 1], b.getByte(size + length - 1));
            assertEquals(value[0], b.getByte(size));
        }
    }

    @Test
    void renumberContinuesAnExchange() {
        io.netty.buffer.ByteBuf frames = io.netty.buffer.Unpooled.buffer();
        frames.writeBytes(Packets.ok(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, 1, 0, 0, 2, 0, null));
        frames.writeBytes(Packets.ok(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, 2, 0, 0, 2, 0, "x"));
        Packets.renumber(frames, 255);
        org.junit.jupiter.api.Assertions.assertEquals(255, Packets.sequenceId(frames));
        org.junit.jupiter.api.Assertions.assertEquals(0, Packets.sequenceId(Packets.lastFrame(frames)));
        frames.release();
    }

    @Test
    void aProgressReportIsAnErrHeaderWithCodeFfffAndMariadbsLayout() {
        ByteBuf frame = Packets.progress(UnpooledByteBufAllocator.DEFAULT, 3, 1, 1, 42_500, "backfill");
        assertEquals(3, Packets.sequenceId(frame));
        int p = Packets.payloadIndex(frame);
        assertEquals(0xFF, frame.getUnsignedByte(p));
        assertEquals(0xFFFF, frame.getUnsignedShortLE(p + 1));
        assertEquals(1, frame.getUnsignedByte(p + 3), "number of strings");
        assertEquals(1, frame.getUnsignedByte(p + 4), "stage");
        assertEquals(1, frame.getUnsignedByte(p + 5), "stages");
        assertEquals(42_500, frame.getUnsignedMediumLE(p + 6));
        assertEquals(8, frame.getUnsignedByte(p + 9));
        assertEquals("backfill", frame.toString(p + 10, 8, StandardCharsets.UTF_8));
        assertEquals(18, Packets.payloadLength(frame));
        frame.release();
        ByteBuf capped = Packets.progress(UnpooledByteBufAllocator.DEFAULT, 1, 1, 1, 250_000, "x");
        assertEquals(100_000, capped.getUnsignedMediumLE(Packets.payloadIndex(capped) + 6), "at most 100 %");
        capped.release();
    }
}
