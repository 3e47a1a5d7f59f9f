package io.ragproxy.server.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.Unpooled;
import io.ragproxy.server.testing.FrameBuilder;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** COM_STMT_EXECUTE and COM_STMT_BULK_EXECUTE payloads as drivers send them, decoded. */
class ExecuteRequestTest {

    @Test
    void decodesTypesNullsLongDataAndReusesTypes() {
        byte[] payload = FrameBuilder.payload().u8(0x17).u32(0x7F000001L).u8(0).u32(1)
                .u8(0b0010) // parameter 1 is NULL
                .u8(1).u16(ColumnType.LONGLONG | 0x8000).u16(ColumnType.VAR_STRING).u16(ColumnType.DATETIME)
                .u16(ColumnType.BLOB)
                .u64(-1L) // unsigned: 2^64 - 1
                .u8(7).u16(2024).u8(5).u8(1).u8(12).u8(0).u8(0)
                .bytes();
        byte[][] longData = {null, null, null, "long".getBytes()};
        ExecuteRequest r = ExecuteRequest.decode(Unpooled.wrappedBuffer(payload), 4, null, longData);
        assertEquals(0x7F000001L, r.statementId());
        assertEquals(new ParameterValue.Integer(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE)),
                r.values().get(0));
        assertInstanceOf(ParameterValue.Null.class, r.values().get(1));
        assertEquals(new ParameterValue.Temporal("2024-05-01 12:00:00"), r.values().get(2));
        assertEquals("long", ((ParameterValue.Bytes) r.values().get(3)).text());

        byte[] again = FrameBuilder.payload().u8(0x17).u32(0x7F000001L).u8(0).u32(1).u8(0b1110).u8(0).u64(5)
                .bytes();
        ExecuteRequest second = ExecuteRequest.decode(Unpooled.wrappedBuffer(again), 4, r.types(), null);
        assertEquals(new ParameterValue.Integer(BigInteger.valueOf(5)), second.values().get(0));
    }

    @Test
    void aShortPacketOrMissingTypesIsRefused() {
        byte[] noTypes = FrameBuilder.payload().u8(0x17).u32(1).u8(0).u32(1).u8(0).u8(0).bytes();
        assertThrows(IllegalArgumentException.class,
                () -> ExecuteRequest.decode(Unpooled.wrappedBuffer(noTypes), 1, null, null));
        byte[] shortValue = FrameBuilder.payload().u8(0x17).u32(1).u8(0).u32(1).u8(0).u8(1).u16(ColumnType.LONG)
                .u8(1).bytes();
        assertThrows(IllegalArgumentException.class,
                () -> ExecuteRequest.decode(Unpooled.wrappedBuffer(shortValue), 1, null, null));
    }

    @Test
    void bulkRowsCarryIndicators() {
        byte[] payload = FrameBuilder.payload().u8(0xFA).u32(0xFFFFFFFFL).u16(BulkExecuteRequest.SEND_TYPES_TO_SERVER)
                .u16(ColumnType.LONG).u16(ColumnType.VAR_STRING)
                .u8(0).u32(1).u8(0).lenencStr("one")
                .u8(0).u32(2).u8(1)
                .u8(2).u8(0).lenencStr("three")
                .bytes();
        BulkExecuteRequest r = BulkExecuteRequest.decode(Unpooled.wrappedBuffer(payload), 2, null);
        assertEquals(ExecuteRequest.LAST_PREPARED, r.statementId());
        assertEquals(3, r.rows().size());
        assertEquals("one", ((ParameterValue.Bytes) r.rows().get(0).get(1)).text());
        assertEquals(List.of(new ParameterValue.Integer(BigInteger.TWO), ParameterValue.NULL), r.rows().get(1));
        assertEquals(ParameterValue.DEFAULT, r.rows().get(2).get(0));
    }

    @Test
    void prepareOkAnnouncesTheParameters() {
        var out = PrepareOk.write(io.netty.buffer.ByteBufAllocator.DEFAULT, 0x7F000002L, 2, false, false,
                java.util.List.of(), 2);
        // OK (12 bytes), two parameter definitions, EOF
        assertEquals(12, out.getUnsignedMediumLE(0));
        assertEquals(0x7F000002L, out.getUnsignedIntLE(5));
        assertEquals(2, out.getUnsignedShortLE(4 + 7));
        int i = 0;
        int frames = 0;
        while (i < out.writerIndex()) {
            frames++;
            assertEquals(frames, out.getUnsignedByte(i + 3));
            i += 4 + out.getUnsignedMediumLE(i);
        }
        assertEquals(4, frames);
        out.release();
    }

    @Test
    void prepareOkCarriesTheColumnDefinitionsItIsGiven() {
        byte[] column = {3, 'd', 'e', 'f'};
        var out = PrepareOk.write(io.netty.buffer.ByteBufAllocator.DEFAULT, 0x7F000003L, 1, false, false,
                List.of(column, column), 2);
        assertEquals(2, out.getUnsignedShortLE(4 + 5)); // num_columns
        // OK, the parameter, EOF, two columns (as given), EOF; sequence ids 1..6
        int i = 0;
        int frames = 0;
        while (i < out.writerIndex()) {
            frames++;
            assertEquals(frames, out.getUnsignedByte(i + 3));
            if (frames == 4 || frames == 5) {
                assertEquals(4, out.getUnsignedMediumLE(i));
                assertEquals('d', out.getByte(i + 5));
            }
            i += 4 + out.getUnsignedMediumLE(i);
        }
        assertEquals(6, frames);
        out.release();
        var deprecated = PrepareOk.write(io.netty.buffer.ByteBufAllocator.DEFAULT, 0x7F000003L, 0, true, false,
                List.of(column), 2);
        assertEquals(12 + 4 + 4 + 4, deprecated.writerIndex()); // OK and the column, no EOF
        deprecated.release();
    }
}
