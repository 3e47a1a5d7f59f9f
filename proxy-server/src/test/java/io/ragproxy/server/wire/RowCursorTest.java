package io.ragproxy.server.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.testing.FrameBuilder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An execute with a cursor: its answer ends after the column definitions with SERVER_STATUS_CURSOR_EXISTS, and
 * COM_STMT_FETCH hands out the rows, the last fetch with SERVER_STATUS_LAST_ROW_SENT.
 */
class RowCursorTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static byte[] column(String name, int type) {
        return FrameBuilder.payload().lenencStr("def").lenencStr("db").lenencStr("t").lenencStr("t").lenencStr(name)
                .lenencStr(name).u8(0x0C).u16(45).u32(20).u8(type).u16(0).u8(0).u16(0).bytes();
    }

    /** The packets the client gets for a text result of {@code rows} one-INT-column rows. */
    private static List<ByteBuf> answer(BinaryRows binary, boolean deprecateEof, int rows) {
        List<byte[]> in = new ArrayList<>();
        in.add(FrameBuilder.payload().lenenc(1).bytes());
        in.add(column("id", ColumnType.LONG));
        if (!deprecateEof) {
            in.add(FrameBuilder.payload().u8(0xFE).u16(0).u16(ServerStatus.AUTOCOMMIT).bytes());
        }
        for (int i = 1; i <= rows; i++) {
            in.add(FrameBuilder.payload().lenencStr(Integer.toString(i)).bytes());
        }
        in.add(deprecateEof ? FrameBuilder.payload().u8(0xFE).u8(0).u8(0).u16(ServerStatus.AUTOCOMMIT).u16(1).bytes()
                : FrameBuilder.payload().u8(0xFE).u16(1).u16(ServerStatus.AUTOCOMMIT).bytes());
        List<ByteBuf> out = new ArrayList<>();
        for (byte[] p : in) {
            ByteBuf sent = binary.packet(Unpooled.wrappedBuffer(p));
            if (sent != null) {
                out.add(sent);
            }
        }
        return out;
    }

    @Test
    void theExecuteEndsAfterTheColumnsAndFetchesHandOutTheRows() {
        for (boolean deprecateEof : new boolean[] {true, false}) {
            RowCursor cursor = new RowCursor(1 << 20, new CursorMemory(1 << 30), 7052, "HY000", "too large");
            List<ByteBuf> sent = answer(new BinaryRows(deprecateEof, false, cursor), deprecateEof, 10);
            assertEquals(3, sent.size(), "column count, definition, EOF");
            ByteBuf eof = sent.get(2);
            assertEquals(0xFE, eof.getUnsignedByte(0));
            int status = eof.getUnsignedShortLE(3); // after 0xFE and two one-byte lengths, or 0xFE and the warnings
            assertEquals(ServerStatus.AUTOCOMMIT | ServerStatus.CURSOR_EXISTS, status);
            assertEquals(1, deprecateEof ? eof.getUnsignedShortLE(5) : eof.getUnsignedShortLE(1), "warnings");
            sent.forEach(ByteBuf::release);
            assertTrue(cursor.isOpen());

            int[] got = {0};
            int fetches = 0;
            while (cursor.isOpen()) {
                ByteBuf frames = cursor.fetch(3, ALLOC, deprecateEof, ServerStatus.AUTOCOMMIT);
                fetches++;
                int rows = 0;
                int last = -1;
                while (frames.isReadable()) {
                    int length = frames.readUnsignedMediumLE();
                    assertEquals(rows + 1, frames.readUnsignedByte(), "sequence id");
                    ByteBuf payload = frames.readSlice(length);
                    if (payload.getUnsignedByte(0) == 0xFE) {
                        last = payload.getUnsignedShortLE(3);
                    } else {
                        assertEquals(++got[0], payload.getIntLE(2), "row value");
                        rows++;
                    }
                }
                frames.release();
                assertTrue(rows <= 3);
                assertEquals(ServerStatus.CURSOR_EXISTS | ServerStatus.AUTOCOMMIT
                        | (cursor.isOpen() ? 0 : ServerStatus.LAST_ROW_SENT), last);
            }
            assertEquals(10, got[0]);
            assertEquals(4, fetches);
        }
    }

    @Test
    void rowsPastTheBoundAnswerTheExecuteWithTheCursorsError() {
        RowCursor cursor = new RowCursor(20, new CursorMemory(1 << 30), 7052, "HY000", "too large");
        List<ByteBuf> sent = answer(new BinaryRows(false, false, cursor), false, 10);
        assertEquals(3, sent.size(), "column count, definition, ERR (the held EOF dropped)");
        ByteBuf err = sent.get(2);
        assertEquals(0xFF, err.getUnsignedByte(0));
        assertEquals(7052, err.getUnsignedShortLE(1));
        sent.forEach(ByteBuf::release);
        assertFalse(cursor.isOpen());
        assertTrue(cursor.overflowed());
    }

    @Test
    void theProxysSharedBoundOverflowsAnotherConnectionsCursorAndIsGivenBackByFetchesAndClose() {
        CursorMemory shared = new CursorMemory(100);
        RowCursor first = new RowCursor(1 << 20, shared, 7052, "HY000", "too large");
        for (int i = 0; i < 6; i++) {
            first.add(Unpooled.wrappedBuffer(new byte[10]));
        }
        assertEquals(60, shared.used());
        RowCursor second = new RowCursor(1 << 20, shared, 7052, "HY000", "too large");
        for (int i = 0; i < 5; i++) {
            second.add(Unpooled.wrappedBuffer(new byte[10]));
        }
        assertTrue(second.overflowed(), "60 + 50 bytes pass the proxy's 100 though each cursor's own bound is 1 MiB");
        assertEquals(60, shared.used(), "the overflowed cursor gave back what it had taken");
        first.open();
        first.fetch(2, UnpooledByteBufAllocator.DEFAULT, false, ServerStatus.AUTOCOMMIT).release();
        assertEquals(40, shared.used(), "fetched rows are given back");
        first.close();
        assertEquals(0, shared.used(), "a closed cursor gives back the rest");
    }

    @Test
    void aResultWithoutRowsOpensNoCursor() {
        RowCursor cursor = new RowCursor(1 << 20, new CursorMemory(1 << 30), 7052, "HY000", "too large");
        BinaryRows binary = new BinaryRows(true, false, cursor);
        ByteBuf ok = binary.packet(Unpooled.wrappedBuffer(FrameBuilder.payload().u8(0).u8(1).u8(0).u16(2).u16(0)
                .bytes()));
        assertEquals(0, ok.getUnsignedByte(0));
        assertFalse(cursor.isOpen());
        assertFalse(binary.keepsRows());
    }
}
