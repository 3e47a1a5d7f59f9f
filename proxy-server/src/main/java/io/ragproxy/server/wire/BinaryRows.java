package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a text-protocol response (the answer to a COM_QUERY, composed or relayed) into the binary protocol's answer
 * to a COM_STMT_EXECUTE: OK, ERR, column definitions and terminators pass unchanged; each text row becomes a binary
 * row (a 0x00 header, the NULL bitmap at offset 2, and each value in its column type's binary form).
 *
 * <p>One instance follows one response, packet by packet, result set after result set. Not thread-safe. Frames
 * going out are numbered by it from 1, so a row that changes size may change how many frames it takes.
 */
public final class BinaryRows {
    private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS }

    private final boolean deprecateEof;
    private final boolean extendedMetadata;
    private State state = State.FIRST;
    private int columnCount;
    private int columnsRead;
    private int[] types = new int[0];
    private boolean[] unsigned = new boolean[0];
    /** Payload bytes of a packet longer than one frame, gathered before it is transcoded. */
    private ByteBuf partial;
    private int sequence = 1;
    /** Where the first result set's rows are kept when the execute asked for a cursor; null otherwise or after it. */
    private RowCursor cursor;
    /** The EOF after the column definitions, held until the rows are kept (no CLIENT_DEPRECATE_EOF). */
    private ByteBuf columnsEof;

    /**
     * @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated
     * @param extendedMetadata whether MariaDB's MARIADB_CLIENT_EXTENDED_METADATA was negotiated (column definitions
     *     then carry one more length-encoded field)
     */
    public BinaryRows(boolean deprecateEof, boolean extendedMetadata) {
        this(deprecateEof, extendedMetadata, null);
    }

    /**
     * A transcoder that, with a {@code cursor}, keeps the first result set's rows there instead of sending them:
     * the response then ends after the column definitions with an EOF carrying SERVER_STATUS_CURSOR_EXISTS, and
     * the rows go out with COM_STMT_FETCH. A response without a result set passes unchanged.
     */
    public BinaryRows(boolean deprecateEof, boolean extendedMetadata, RowCursor cursor) {
        this.deprecateEof = deprecateEof;
        this.extendedMetadata = extendedMetadata;
        this.cursor = cursor;
    }

    /** Whether rows are being kept for a cursor (then {@link #packet} returns null for each row). */
    public boolean keepsRows() {
        return cursor != null;
    }

    /**
     * Takes the next packet's payload (consumed) and returns the binary response's packet in its place, or null
     * when there is none to send (a row or EOF kept for a cursor).
     *
     * @throws IllegalArgumentException when a value does not read as its column's type
     */
    public ByteBuf packet(ByteBuf payload) {
        int first = payload.isReadable() ? payload.getUnsignedByte(payload.readerIndex()) : -1;
        switch (state) {
            case FIRST -> {
                if (first != 0x00 && first != 0xFF && first != 0xFB) {
                    startColumns((int) Packets.getLengthEncodedInt(payload, payload.readerIndex()));
                } else if (cursor != null) {
                    cursor.close(); // no result set: no cursor opens
                    cursor = null;
                }
                return payload;
            }
            case COLUMNS -> {
                column(payload);
                if (++columnsRead == columnCount) {
                    state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
                }
                return payload;
            }
            case COLUMNS_EOF -> {
                state = first == 0xFF ? State.FIRST : State.ROWS;
                if (cursor != null && first != 0xFF) {
                    columnsEof = payload;
                    return null;
                }
                return payload;
            }
            default -> {
                if (first == 0xFF || (first == 0xFE && payload.readableBytes() < Packets.MAX_FRAME_PAYLOAD)) {
                    state = State.FIRST; // the end of this result set; another may follow
                    return cursor != null ? endCursor(payload, first == 0xFF) : payload;
                }
                try {
                    ByteBuf row = row(payload, payload.alloc());
                    if (cursor != null) {
                        cursor.add(row);
                        return null;
                    }
                    return row;
                } finally {
                    payload.release();
                }
            }
        }
    }

    /**
     * Takes the next frame of a relayed response (consumed) and returns the frames to send in its place, or null
     * while a packet longer than one frame is being gathered.
     */
    public ByteBuf frame(ByteBuf frame, ByteBufAllocator alloc) {
        ByteBuf payload;
        try {
            if (partial == null && !Packets.continues(frame)) {
                payload = frame.retainedSlice(Packets.payloadIndex(frame), Packets.payloadLength(frame));
            } else {
                if (partial == null) {
                    partial = alloc.buffer();
                }
                partial.writeBytes(frame, Packets.payloadIndex(frame), Packets.payloadLength(frame));
                if (Packets.continues(frame)) {
                    return null;
                }
                payload = partial;
                partial = null;
            }
        } finally {
            frame.release();
        }
        ByteBuf out = packet(payload);
        if (out == null) {
            return null;
        }
        int frames = 1 + out.readableBytes() / Packets.MAX_FRAME_PAYLOAD;
        ByteBuf framed = Packets.frame(alloc, sequence, out);
        sequence = (sequence + frames) & 0xFF;
        return framed;
    }

    /** Transcodes a whole composed reply (frames numbered from 1, consumed). */
    public ByteBuf frames(ByteBuf frames, ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(frames.readableBytes());
        try {
            int i = frames.readerIndex();
            int end = frames.writerIndex();
            while (i + Packets.HEADER_SIZE <= end) {
                int length = frames.getUnsignedMediumLE(i);
                ByteBuf next = frame(frames.retainedSlice(i, Packets.HEADER_SIZE + length), alloc);
                if (next != null) {
                    out.writeBytes(next);
                    next.release();
                }
                i += Packets.HEADER_SIZE + length;
            }
            return out;
        } finally {
            frames.release();
        }
    }

    /** Releases a packet being gathered, if any, and the rows kept for a cursor. */
    public void discard() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
        if (columnsEof != null) {
            columnsEof.release();
            columnsEof = null;
        }
        if (cursor != null) {
            cursor.close();
            cursor = null;
        }
    }

    /**
     * The end of the result set whose rows the cursor kept: an ERR, or the cursor's overflow, is sent as the answer
     * (the cursor closed); else the EOF that ends the execute's answer, with the end's status and warnings plus
     * SERVER_STATUS_CURSOR_EXISTS.
     */
    private ByteBuf endCursor(ByteBuf end, boolean error) {
        ByteBufAllocator alloc = end.alloc();
        RowCursor kept = cursor;
        cursor = null;
        ByteBuf held = columnsEof;
        columnsEof = null;
        if (error || kept.overflowed()) {
            kept.close();
            if (held != null) {
                held.release();
            }
            if (error) {
                return end;
            }
            ByteBuf refusal = kept.overflowError(alloc);
            end.release();
            return refusal;
        }
        int warnings;
        int status;
        int i = end.readerIndex() + 1;
        if (deprecateEof) {
            i += Packets.lengthEncodedIntSize(end, i);
            i += Packets.lengthEncodedIntSize(end, i);
            status = end.getUnsignedShortLE(i);
            warnings = end.getUnsignedShortLE(i + 2);
        } else {
            warnings = end.getUnsignedShortLE(i);
            status = end.getUnsignedShortLE(i + 2);
        }
        end.release();
        if (held != null) {
            held.release();
        }
        kept.open();
        status = (status & ~io.ragproxy.server.protocol.ServerStatus.SESSION_STATE_CHANGED)
                | io.ragproxy.server.protocol.ServerStatus.CURSOR_EXISTS;
        ByteBuf eof = alloc.buffer(12);
        if (deprecateEof) {
            eof.writeByte(0xFE).writeByte(0).writeByte(0).writeShortLE(status).writeShortLE(warnings);
        } else {
            eof.writeByte(0xFE).writeShortLE(warnings).writeShortLE(status);
        }
        return eof;
    }

    private void startColumns(int count) {
        columnCount = count;
        columnsRead = 0;
        types = new int[count];
        unsigned = new boolean[count];
        state = count > 0 ? State.COLUMNS : (deprecateEof ? State.ROWS : State.COLUMNS_EOF);
    }

    /** Reads a column definition's type and UNSIGNED flag. */
    private void column(ByteBuf def) {
        int i = def.readerIndex();
        for (int field = 0; field < (extendedMetadata ? 7 : 6); field++) {
            long length = Packets.getLengthEncodedInt(def, i);
            i += Packets.lengthEncodedIntSize(def, i) + (int) Math.max(0, length);
        }
        i += Packets.lengthEncodedIntSize(def, i); // length of the fixed fields (0x0C)
        types[columnsRead] = def.getUnsignedByte(i + 6);
        unsigned[columnsRead] = (def.getUnsignedShortLE(i + 7) & ColumnType.UNSIGNED_FLAG) != 0;
    }

    private ByteBuf row(ByteBuf text, ByteBufAllocator alloc) {
        int nullBytes = (columnCount + 7 + 2) / 8;
        ByteBuf out = alloc.buffer(text.readableBytes() + 1 + nullBytes);
        out.writeByte(0x00);
        int bitmap = out.writerIndex();
        out.writeZero(nullBytes);
        int i = text.readerIndex();
        for (int c = 0; c < columnCount; c++) {
            long length = Packets.getLengthEncodedInt(text, i);
            i += Packets.lengthEncodedIntSize(text, i);
            if (length < 0) {
                int bit = c + 2;
                out.setByte(bitmap + bit / 8, out.getByte(bitmap + bit / 8) | (1 << (bit % 8)));
                continue;
            }
            value(out, text, i, (int) length, c);
            i += (int) length;
        }
        return out;
    }

    private void value(ByteBuf out, ByteBuf text, int index, int length, int column) {
        int type = types[column];
        if (ColumnType.fixedWidth(type) < 0 && !ColumnType.isTemporal(type)) {
            Packets.writeLengthEncodedInt(out, length);
            out.writeBytes(text, index, length);
            return;
        }
        String value = text.toString(index, length, StandardCharsets.US_ASCII);
        try {
            switch (type) {
                case ColumnType.TINY -> out.writeByte(Integer.parseInt(value));
                case ColumnType.SHORT, ColumnType.YEAR -> out.writeShortLE(Integer.parseInt(value));
                case ColumnType.LONG, ColumnType.INT24 -> out.writeIntLE((int) Long.parseLong(value));
                case ColumnType.LONGLONG -> out.writeLongLE(unsigned[column]
                        ? new BigInteger(value).longValue() : Long.parseLong(value));
                case ColumnType.FLOAT -> out.writeFloatLE(Float.parseFloat(value));
                case ColumnType.DOUBLE -> out.writeDoubleLE(Double.parseDouble(value));
                case ColumnType.TIME -> time(out, value);
                case ColumnType.NULL -> { }
                default -> dateTime(out, value);
            }
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("the value '" + value + "' does not read as column type " + type, e);
        }
    }

    /** {@code YYYY-MM-DD[ HH:MM:SS[.ffffff]]} as a length byte and the fields the value needs. */
    private static void dateTime(ByteBuf out, String value) {
        int year = Integer.parseInt(value.substring(0, 4));
        int month = Integer.parseInt(value.substring(5, 7));
        int day = Integer.parseInt(value.substring(8, 10));
        int hour = 0;
        int minute = 0;
        int second = 0;
        int micros = 0;
        if (value.length() >= 19) {
            hour = Integer.parseInt(value.substring(11, 13));
            minute = Integer.parseInt(value.substring(14, 16));
            second = Integer.parseInt(value.substring(17, 19));
            micros = fraction(value, 19);
        }
        if (micros != 0) {
            out.writeByte(11).writeShortLE(year).writeByte(month).writeByte(day).writeByte(hour).writeByte(minute)
                    .writeByte(second).writeIntLE(micros);
        } else if (hour != 0 || minute != 0 || second != 0) {
            out.writeByte(7).writeShortLE(year).writeByte(month).writeByte(day).writeByte(hour).writeByte(minute)
                    .writeByte(second);
        } else if (year != 0 || month != 0 || day != 0) {
            out.writeByte(4).writeShortLE(year).writeByte(month).writeByte(day);
        } else {
            out.writeByte(0);
        }
    }

    /** {@code [-]H…H:MM:SS[.ffffff]} as a length byte, the sign, days and the time of day. */
    private static void time(ByteBuf out, String value) {
        boolean negative = value.startsWith("-");
        String v = negative ? value.substring(1) : value;
        String[] parts = v.split(":");
        long hours = Long.parseLong(parts[0]);
        int minute = Integer.parseInt(parts[1]);
        int second = Integer.parseInt(parts[2].substring(0, 2));
        int micros = fraction(parts[2], 2);
        if (hours == 0 && minute == 0 && second == 0 && micros == 0) {
            out.writeByte(0);
            return;
        }
        out.writeByte(micros != 0 ? 12 : 8).writeByte(negative ? 1 : 0).writeIntLE((int) (hours / 24))
                .writeByte((int) (hours % 24)).writeByte(minute).writeByte(second);
        if (micros != 0) {
            out.writeIntLE(micros);
        }
    }

    /** The microseconds of a fraction {@code .f…} starting at {@code dot}, or 0 when there is none. */
    private static int fraction(String value, int dot) {
        if (value.length() <= dot + 1 || value.charAt(dot) != '.') {
            return 0;
        }
        char[] digits = new char[6];
        Arrays.fill(digits, '0');
        String f = value.substring(dot + 1);
        for (int k = 0; k < Math.min(6, f.length()); k++) {
            digits[k] = f.charAt(k);
        }
        return Integer.parseInt(new String(digits));
    }
}
