package io.ragproxy.server.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.ragproxy.server.testing.FrameBuilder;
import org.junit.jupiter.api.Test;

/** Text result sets in, binary result sets out: what a client of the binary protocol reads for each column type. */
class BinaryRowsTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static byte[] column(String name, int type, int flags) {
        return FrameBuilder.payload().lenencStr("def").lenencStr("db").lenencStr("t").lenencStr("t").lenencStr(name)
                .lenencStr(name).u8(0x0C).u16(45).u32(20).u8(type).u16(flags).u8(0).u16(0).bytes();
    }

    private static ByteBuf transcode(BinaryRows rows, byte[] payload) {
        return rows.packet(Unpooled.wrappedBuffer(payload));
    }

    @Test
    void numbersDatesAndStringsBecomeTheirBinaryForms() {
        BinaryRows rows = new BinaryRows(true, false);
        int[] types = {ColumnType.TINY, ColumnType.LONGLONG, ColumnType.DOUBLE, ColumnType.DATETIME, ColumnType.TIME,
                ColumnType.VAR_STRING, ColumnType.NEWDECIMAL, ColumnType.DATE};
        ByteBuf count = transcode(rows, FrameBuilder.payload().lenenc(types.length).bytes());
        assertEquals(types.length, count.getByte(0));
        for (int i = 0; i < types.length; i++) {
            int flags = types[i] == ColumnType.LONGLONG ? ColumnType.UNSIGNED_FLAG : 0;
            transcode(rows, column("c" + i, types[i], flags)).release();
        }
        byte[] text = FrameBuilder.payload().lenencStr("-5").lenencStr("18446744073709551615").lenencStr("0.5")
                .lenencStr("2024-02-29 13:14:15.000250").lenencStr("-25:00:01").u8(0xFB).lenencStr("1.50")
                .lenencStr("0000-00-00").bytes();
        ByteBuf binary = transcode(rows, text);
        byte[] expected = FrameBuilder.payload().u8(0x00)
                .u8(0x80).u8(0) // NULL bitmap: column 5 is bit 7 (offset 2)
                .u8(0xFB) // -5
                .u64(-1L)
                .u64(Double.doubleToLongBits(0.5))
                .u8(11).u16(2024).u8(2).u8(29).u8(13).u8(14).u8(15).u32(250)
                .u8(8).u8(1).u32(1).u8(1).u8(0).u8(1)
                .lenencStr("1.50")
                .u8(0)
                .bytes();
        assertArrayEquals(expected, ByteBufUtil.getBytes(binary));
        binary.release();
        ByteBuf end = transcode(rows, FrameBuilder.payload().u8(0xFE).u8(0).u8(0).u16(2).u16(0).bytes());
        assertEquals(0xFE, end.getUnsignedByte(0));
        end.release();
    }

    @Test
    void okAndErrPassUnchangedAndFramesAreRenumbered() {
        BinaryRows rows = new BinaryRows(false, false);
        ByteBuf reply = FrameBuilder.concat(FrameBuilder.columnCount(1, 1),
                FrameBuilder.frame(2, column("n", ColumnType.LONG, 0)), FrameBuilder.eof(3, 2),
                FrameBuilder.payload().lenencStr("7").frame(4), FrameBuilder.eof(5, 2));
        ByteBuf out = rows.frames(reply, ALLOC);
        // count, column, EOF, row (0x00, bitmap of 1 byte, 4-byte int), EOF
        int i = 0;
        int seq = 1;
        int[] lengths = new int[5];
        while (i < out.writerIndex()) {
            assertEquals(seq++, out.getUnsignedByte(i + 3));
            lengths[seq - 2] = out.getUnsignedMediumLE(i);
            i += 4 + out.getUnsignedMediumLE(i);
        }
        assertEquals(6, seq);
        assertEquals(1 + 1 + 4, lengths[3]);
        out.release();
        ByteBuf ok = new BinaryRows(true, false).frames(FrameBuilder.ok(1, 1, 0, 2, 0), ALLOC);
        assertEquals(0x00, ok.getUnsignedByte(4));
        ok.release();
    }

    @Test
    void extendedMetadataColumnsAreRead() {
        BinaryRows rows = new BinaryRows(true, true);
        transcode(rows, FrameBuilder.payload().lenenc(1).bytes()).release();
        byte[] def = FrameBuilder.payload().lenencStr("def").lenencStr("").lenencStr("").lenencStr("")
                .lenencStr("n").lenencStr("").lenencStr("\u0000json").u8(0x0C).u16(45).u32(20).u8(ColumnType.SHORT)
                .u16(0).u8(0).u16(0).bytes();
        transcode(rows, def).release();
        ByteBuf row = transcode(rows, FrameBuilder.payload().lenencStr("300").bytes());
        assertArrayEquals(FrameBuilder.payload().u8(0).u8(0).u16(300).bytes(), ByteBufUtil.getBytes(row));
        row.release();
    }
}
