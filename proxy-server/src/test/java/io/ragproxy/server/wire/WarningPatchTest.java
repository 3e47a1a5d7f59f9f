package io.ragproxy.server.wire;

import static io.ragproxy.server.testing.FrameBuilder.readable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.ragproxy.server.backend.TextResultCollector;
import io.ragproxy.server.testing.FrameBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Adding the proxy's warnings to the warning count of a reply's final packet, in place: the relayed OK or EOF of a
 * rewritten statement, and the last packet of a reply the proxy composed.
 */
class WarningPatchTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    @Test
    void okPacketKeepsEverythingButTheCount() {
        // 300 affected rows and a large insert id make both counters multi-byte length-encoded integers.
        ByteBuf ok = FrameBuilder.payload().u8(0x00).lenenc(300).lenenc(70_000).u16(0x0002).u16(1)
                .lenencStr("Rows matched: 300  Changed: 300  Warnings: 1").frame(1);
        byte[] before = readable(ok);
        assertTrue(Packets.addWarnings(ok, 3, false));
        assertEquals(4, Packets.warnings(ok, false));
        byte[] after = readable(ok);
        // Only the two warning bytes changed: header, counters, status and info are untouched.
        int at = 4 + 1 + 3 + 4 + 2;
        for (int i = 0; i < before.length; i++) {
            if (i != at && i != at + 1) {
                assertEquals(before[i], after[i], "byte " + i);
            }
        }
        assertEquals(4, after[at]);
    }

    @Test
    void okFromTheBackendDecodesWithTheNewCount() {
        ByteBuf ok = FrameBuilder.ok(1, 2, 0, 0x0002, 0);
        assertTrue(Packets.addWarnings(ok, 2, true));
        TextResultCollector collector = new TextResultCollector(true);
        assertTrue(collector.accept(ok));
        assertEquals(2, collector.result().warnings());
        assertEquals(2, collector.result().affectedRows());
        assertEquals(0x0002, collector.status());
    }

    @Test
    void eofPacketWithoutDeprecateEof() {
        ByteBuf eof = FrameBuilder.payload().u8(0xFE).u16(5).u16(0x0022).frame(7);
        assertTrue(Packets.addWarnings(eof, 2, false));
        assertArrayEquals(FrameBuilder.payload().u8(0xFE).u16(7).u16(0x0022).frame(7).array(), readable(eof));
    }

    @Test
    void okWithEofHeaderUnderDeprecateEof() {
        ByteBuf end = FrameBuilder.okEof(9, 0x0002);
        assertTrue(Packets.addWarnings(end, 1, true));
        assertEquals(1, Packets.warnings(end, true));
        assertEquals(0x0002, end.getUnsignedShortLE(4 + 3), "status untouched");
    }

    @Test
    void countSaturatesAtTheFieldsWidth() {
        ByteBuf ok = FrameBuilder.ok(1, 0, 0, 0x0002, 65_000);
        assertTrue(Packets.addWarnings(ok, 1_000, false));
        assertEquals(65_535, Packets.warnings(ok, false));
    }

    @Test
    void errAndRowsAreLeftAlone() {
        ByteBuf err = FrameBuilder.err(1, 1146, "42S02", "Table 't' doesn't exist");
        byte[] before = readable(err);
        assertFalse(Packets.addWarnings(err, 1, true));
        assertArrayEquals(before, readable(err));
        ByteBuf row = FrameBuilder.textRow(3, "1", "x");
        assertFalse(Packets.addWarnings(row, 1, false));
        assertEquals(-1, Packets.warnings(row, false));
        assertFalse(Packets.addWarnings(FrameBuilder.empty(1), 1, false), "an empty payload is no OK packet");
    }

    @Test
    void lastFrameOfAComposedResultSetIsItsTerminator() {
        for (boolean deprecateEof : List.of(true, false)) {
            ByteBuf frames = new ResultSetWriter(deprecateEof, false).write(ALLOC, List.of("a", "b"),
                    List.of(List.of("1", "2"), List.of("3", "4")), 0x0002);
            int length = frames.readableBytes();
            ByteBuf last = Packets.lastFrame(frames);
            assertEquals(0xFE, Packets.firstByte(last));
            assertTrue(Packets.addWarnings(last, 2, deprecateEof));
            assertEquals(length, frames.readableBytes(), "patched in place");
            // Decoding the whole reply shows the count, and the rows unchanged.
            TextResultCollector collector = new TextResultCollector(deprecateEof);
            boolean done = false;
            while (frames.isReadable()) {
                int size = Packets.HEADER_SIZE + Packets.payloadLength(frames);
                done = collector.accept(frames.readSlice(size));
            }
            assertTrue(done);
            assertEquals(2, collector.result().warnings(), "deprecateEof=" + deprecateEof);
            assertEquals(List.of(List.of("1", "2"), List.of("3", "4")), collector.result().first().rows());
            frames.release();
        }
    }

    @Test
    void lastFrameOfASingleOk() {
        ByteBuf ok = Packets.ok(ALLOC, 1, 5, 0, 0x0002, 0, "done", true);
        assertTrue(Packets.addWarnings(Packets.lastFrame(ok), 4, false));
        assertEquals(4, Packets.warnings(ok, false));
        ok.release();
    }
}
