package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.ragproxy.server.text.ClientCharset;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes a result set the proxy composes itself (SHOW RAG …, EXPLAIN RAG …) in the text protocol, honouring the
 * connection's CLIENT_DEPRECATE_EOF and MariaDB's extended metadata. Every column is sent as a string (VAR_STRING)
 * in the session's {@code character_set_results} (the column definitions say which); clients convert numbers from
 * text as they do for {@code SHOW STATUS}. A reply built from a backend's result ({@link #writeDefined}) keeps the
 * backend's column definitions instead.
 */
public final class ResultSetWriter {
    private static final int TYPE_VAR_STRING = 0xFD;
    private static final int TYPE_BLOB = 0xFC;
    private static final int FLAG_BLOB = 0x10;

    private final boolean deprecateEof;
    private final boolean extendedMetadata;
    private final ClientCharset results;

    /** A writer of utf8mb4 results. */
    public ResultSetWriter(boolean deprecateEof, boolean extendedMetadata) {
        this(deprecateEof, extendedMetadata, ClientCharset.UTF8MB4);
    }

    /**
     * @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated
     * @param extendedMetadata whether MariaDB's MARIADB_CLIENT_EXTENDED_METADATA was negotiated
     * @param results the session's character_set_results, which values and column names are written in
     */
    public ResultSetWriter(boolean deprecateEof, boolean extendedMetadata, ClientCharset results) {
        this.deprecateEof = deprecateEof;
        this.extendedMetadata = extendedMetadata;
        this.results = results;
    }

    /** {@code value} in the bytes of the session's character_set_results (characters it lacks as {@code ?}). */
    public byte[] encode(String value) {
        return results.encodeValue(value);
    }

    /**
     * The whole response: column count, definitions, rows and terminator, sequence ids from 1.
     *
     * @param columns column names
     * @param rows rows of values (null is SQL NULL), each as long as {@code columns}
     * @param status server status flags for the terminator
     */
    public ByteBuf write(ByteBufAllocator alloc, List<String> columns, List<List<String>> rows, int status) {
        for (List<String> row : rows) {
            if (row.size() != columns.size()) {
                throw new IllegalArgumentException("row has " + row.size() + " values for " + columns.size() + " columns");
            }
        }
        ByteBuf out = alloc.buffer();
        int seq = append(out, alloc, 1, columnCount(alloc, columns.size()));
        for (String column : columns) {
            seq = append(out, alloc, seq, column(alloc, column, 65535 * 4, TYPE_VAR_STRING, 0, 0x1F));
        }
        ByteBuf endOfColumns = endOfColumns(alloc, status);
        if (endOfColumns != null) {
            seq = append(out, alloc, seq, endOfColumns);
        }
        for (List<String> row : rows) {
            ByteBuf p = alloc.buffer();
            for (String value : row) {
                if (value == null) {
                    p.writeByte(0xFB);
                } else {
                    Packets.writeLengthEncodedString(p, results.encodeValue(value));
                }
            }
            seq = append(out, alloc, seq, p);
        }
        append(out, alloc, seq, endOfRows(alloc, status, 0));
        return out;
    }

    /**
     * The whole response for columns described by {@code definitions} (column definition payloads: the backend's,
     * relayed as it sent them, or {@link #longTextDefinition}'s), sequence ids from 1. Each value is written in the
     * character set its column's definition names, so a column keeps the type and character set the backend gave it.
     *
     * @param rows rows of values (null is SQL NULL), each as long as {@code definitions}
     * @param status server status flags for the terminator
     */
    public ByteBuf writeDefined(ByteBufAllocator alloc, List<byte[]> definitions, List<List<String>> rows, int status) {
        ClientCharset[] charsets = new ClientCharset[definitions.size()];
        for (int i = 0; i < charsets.length; i++) {
            byte[] d = definitions.get(i);
            int collation = (d[d.length - 12] & 0xFF) | (d[d.length - 11] & 0xFF) << 8;
            charsets[i] = collation == results.resultCollationId() ? results : ClientCharset.ofCollation(collation);
        }
        for (List<String> row : rows) {
            if (row.size() != charsets.length) {
                throw new IllegalArgumentException("row has " + row.size() + " values for " + charsets.length + " columns");
            }
        }
        ByteBuf out = alloc.buffer();
        int seq = append(out, alloc, 1, columnCount(alloc, charsets.length));
        for (byte[] definition : definitions) {
            seq = append(out, alloc, seq, alloc.buffer(definition.length).writeBytes(definition));
        }
        ByteBuf endOfColumns = endOfColumns(alloc, status);
        if (endOfColumns != null) {
            seq = append(out, alloc, seq, endOfColumns);
        }
        for (List<String> row : rows) {
            ByteBuf p = alloc.buffer();
            for (int i = 0; i < charsets.length; i++) {
                String value = row.get(i);
                if (value == null) {
                    p.writeByte(0xFB);
                } else {
                    Packets.writeLengthEncodedString(p, charsets[i].encodeValue(value));
                }
            }
            seq = append(out, alloc, seq, p);
        }
        append(out, alloc, seq, endOfRows(alloc, status, 0));
        return out;
    }

    /** {@link #longTextColumn}'s definition as bytes, for {@link #writeDefined}. */
    public byte[] longTextDefinition(String label) {
        ByteBuf p = column(UnpooledByteBufAllocator.DEFAULT, label, -1, TYPE_BLOB, FLAG_BLOB, 0);
        try {
            return ByteBufUtil.getBytes(p);
        } finally {
            p.release();
        }
    }

    /** Whether result sets end with an OK packet (CLIENT_DEPRECATE_EOF) rather than EOF packets. */
    public boolean deprecateEof() {
        return deprecateEof;
    }

    // ---- single packets, for replies written row by row (streamed SELECT) -------------------------------------
    // Each returns a payload without frame header; the caller frames it with the next sequence id.

    /** The column-count packet that starts a result set. */
    public ByteBuf columnCount(ByteBufAllocator alloc, int columns) {
        ByteBuf p = alloc.buffer(9);
        Packets.writeLengthEncodedInt(p, columns);
        return p;
    }

    /**
     * The definition of a computed LONGTEXT column (in character_set_results) named {@code label} (no table), as the backend describes
     * a text expression of unknown length: clients read it as a character column (JDBC LONGVARCHAR).
     */
    public ByteBuf longTextColumn(ByteBufAllocator alloc, String label) {
        return column(alloc, label, -1, TYPE_BLOB, FLAG_BLOB, 0); // length 2^32 - 1: LONGTEXT
    }

    /** A column definition named {@code label}, of no table, in character_set_results. */
    private ByteBuf column(ByteBufAllocator alloc, String label, int length, int type, int flags, int decimals) {
        ByteBuf p = alloc.buffer();
        byte[] name = results.encodeValue(label);
        Packets.writeLengthEncodedString(p, "def".getBytes(StandardCharsets.US_ASCII));
        p.writeByte(0).writeByte(0).writeByte(0); // schema, table, org_table
        Packets.writeLengthEncodedString(p, name);
        Packets.writeLengthEncodedString(p, name);
        if (extendedMetadata) {
            p.writeByte(0); // no extended type information
        }
        p.writeByte(0x0C).writeShortLE(results.resultCollationId()).writeIntLE(length).writeByte(type).writeShortLE(flags)
                .writeByte(decimals).writeShortLE(0);
        return p;
    }

    /** The EOF packet after the column definitions, or null when CLIENT_DEPRECATE_EOF leaves it out. */
    public ByteBuf endOfColumns(ByteBufAllocator alloc, int status) {
        return deprecateEof ? null : eof(alloc, status);
    }

    /** The packet that ends the rows: an EOF packet, or with CLIENT_DEPRECATE_EOF an OK packet with the 0xFE header. */
    public ByteBuf endOfRows(ByteBufAllocator alloc, int status, int warnings) {
        ByteBuf p = alloc.buffer(7);
        if (deprecateEof) {
            return p.writeByte(0xFE).writeByte(0).writeByte(0).writeShortLE(status).writeShortLE(warnings);
        }
        return p.writeByte(0xFE).writeShortLE(warnings).writeShortLE(status);
    }

    private static ByteBuf eof(ByteBufAllocator alloc, int status) {
        return alloc.buffer(5).writeByte(0xFE).writeShortLE(0).writeShortLE(status);
    }

    /** Frames {@code payload} into {@code out}; returns the next sequence id. */
    private static int append(ByteBuf out, ByteBufAllocator alloc, int seq, ByteBuf payload) {
        int frames = 1 + payload.readableBytes() / Packets.MAX_FRAME_PAYLOAD;
        ByteBuf framed = Packets.frame(alloc, seq, payload);
        out.writeBytes(framed);
        framed.release();
        return (seq + frames) & 0xFF;
    }
}
