package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Writes the answer to a COM_STMT_PREPARE the proxy owns: COM_STMT_PREPARE_OK with the statement id and counts, one
 * definition per parameter ({@code ?}, no type: clients send the types at execute), and the EOF packet after them
 * unless CLIENT_DEPRECATE_EOF was negotiated, then the result's column definitions when they are known before
 * execute (the backend's, copied as they are) and their EOF packet likewise.
 */
public final class PrepareOk {
    private static final int BINARY_COLLATION = 63;
    private static final int BINARY_FLAG = 0x80;

    private PrepareOk() {}

    /**
     * The whole response, sequence ids from 1.
     *
     * @param statementId the id the client uses in its executes
     * @param parameters the number of {@code ?} placeholders
     * @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated
     * @param extendedMetadata whether MariaDB's MARIADB_CLIENT_EXTENDED_METADATA was negotiated
     * @param columns the column definition payloads (no frame header) of the execute's result; empty when none
     *     or not known before execute
     * @param status server status flags for the EOF packet
     */
    public static ByteBuf write(ByteBufAllocator alloc, long statementId, int parameters, boolean deprecateEof,
            boolean extendedMetadata, java.util.List<byte[]> columns, int status) {
        ByteBuf out = alloc.buffer();
        ByteBuf ok = alloc.buffer(12);
        ok.writeByte(0x00).writeIntLE((int) statementId).writeShortLE(columns.size()).writeShortLE(parameters).writeByte(0)
                .writeShortLE(0);
        int seq = append(out, alloc, 1, ok);
        for (int i = 0; i < parameters; i++) {
            seq = append(out, alloc, seq, parameter(alloc, extendedMetadata));
        }
        if (parameters > 0 && !deprecateEof) {
            seq = append(out, alloc, seq, eof(alloc, status));
        }
        for (byte[] column : columns) {
            seq = append(out, alloc, seq, alloc.buffer(column.length).writeBytes(column));
        }
        if (!columns.isEmpty() && !deprecateEof) {
            append(out, alloc, seq, eof(alloc, status));
        }
        return out;
    }

    private static ByteBuf eof(ByteBufAllocator alloc, int status) {
        return alloc.buffer(5).writeByte(0xFE).writeShortLE(0).writeShortLE(status);
    }

    private static ByteBuf parameter(ByteBufAllocator alloc, boolean extendedMetadata) {
        ByteBuf p = alloc.buffer(32);
        Packets.writeLengthEncodedString(p, "def".getBytes(StandardCharsets.US_ASCII));
        p.writeByte(0).writeByte(0).writeByte(0); // schema, table, org_table
        Packets.writeLengthEncodedString(p, new byte[] {'?'});
        p.writeByte(0); // org_name
        if (extendedMetadata) {
            p.writeByte(0);
        }
        p.writeByte(0x0C).writeShortLE(BINARY_COLLATION).writeIntLE(0).writeByte(ColumnType.VAR_STRING)
                .writeShortLE(BINARY_FLAG).writeByte(0).writeShortLE(0);
        return p;
    }

    private static int append(ByteBuf out, ByteBufAllocator alloc, int seq, ByteBuf payload) {
        ByteBuf framed = Packets.frame(alloc, seq, payload);
        out.writeBytes(framed);
        framed.release();
        return (seq + 1) & 0xFF;
    }
}
