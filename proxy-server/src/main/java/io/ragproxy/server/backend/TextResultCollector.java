package io.ragproxy.server.backend;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.text.ClientCharset;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the backend's response to a COM_QUERY the proxy sent itself into a {@link QueryResult}, frame by frame.
 * Frames are read, never retained: the caller releases them.
 *
 * <p>Values are decoded in the character set their column definition names (the session's
 * {@code character_set_results}, or with results NULL or binary the column's own); column names as UTF-8.
 */
public final class TextResultCollector {
    private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS, DONE }

    private final boolean deprecateEof;
    private final List<QueryResult.ResultSet> resultSets = new ArrayList<>();
    private State state = State.FIRST;
    private long columnsLeft;
    private List<String> columns;
    private List<byte[]> definitions;
    private List<ClientCharset> charsets;
    private List<List<String>> rows;
    private long affectedRows;
    private long lastInsertId;
    private int warnings;
    private int status = ServerStatus.AUTOCOMMIT;
    private String info = "";
    private BackendException error;
    private ByteBuf partial;

    /** @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated (an OK, not an EOF, ends a result set) */
    public TextResultCollector(boolean deprecateEof) {
        this.deprecateEof = deprecateEof;
    }

    /**
     * Takes the next frame.
     *
     * @return true when the response is complete (then {@link #result()} or {@link #error()} is set)
     */
    public boolean accept(ByteBuf frame) {
        if (state == State.DONE) {
            return true;
        }
        if (partial != null || Packets.continues(frame)) {
            // A row of 16 MiB or more: gather its frames' payloads before decoding.
            if (partial == null) {
                partial = frame.alloc().buffer();
            }
            partial.writeBytes(frame, Packets.payloadIndex(frame), Packets.payloadLength(frame));
            if (Packets.continues(frame)) {
                return false;
            }
            ByteBuf payload = partial;
            partial = null;
            try {
                row(payload, payload.readerIndex(), payload.readableBytes());
            } finally {
                payload.release();
            }
            return false;
        }
        int p = Packets.payloadIndex(frame);
        int length = Packets.payloadLength(frame);
        int first = length == 0 ? -1 : frame.getUnsignedByte(p);
        if (first == 0xFF && length >= 3 && frame.getUnsignedShortLE(p + 1) == 0xFFFF) {
            // A MariaDB progress report (a long LOAD DATA or ALTER on a client that asked for them): not an end.
            return false;
        }
        switch (state) {
            case FIRST -> {
                if (first == 0x00) {
                    ok(frame, p, length);
                } else if (first == 0xFF) {
                    err(frame, p, length);
                } else if (first == 0xFB) {
                    error = new BackendException(7000, "HY000", "the backend asked ragproxy for a LOCAL INFILE");
                    state = State.DONE;
                } else {
                    columnsLeft = Packets.getLengthEncodedInt(frame, p);
                    columns = new ArrayList<>();
                    definitions = new ArrayList<>();
                    charsets = new ArrayList<>();
                    rows = new ArrayList<>();
                    state = State.COLUMNS;
                }
            }
            case COLUMNS -> {
                columns.add(columnName(frame, p));
                byte[] definition = new byte[length];
                frame.getBytes(p, definition);
                definitions.add(definition);
                charsets.add(ClientCharset.ofCollation(Packets.columnCollationId(frame, p, length)));
                if (--columnsLeft == 0) {
                    state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
                }
            }
            case COLUMNS_EOF -> state = State.ROWS;
            case ROWS -> {
                if (first == 0xFF) {
                    err(frame, p, length);
                } else if (first == 0xFE && length < Packets.MAX_FRAME_PAYLOAD) {
                    resultSets.add(new QueryResult.ResultSet(columns, rows, definitions));
                    if (deprecateEof) {
                        ok(frame, p, length);
                    } else {
                        warnings = length >= 5 ? frame.getUnsignedShortLE(p + 1) : 0;
                        status = length >= 5 ? frame.getUnsignedShortLE(p + 3) : 0;
                        state = (status & ServerStatus.MORE_RESULTS_EXISTS) != 0 ? State.FIRST : State.DONE;
                    }
                } else {
                    row(frame, p, length);
                }
            }
            default -> { }
        }
        return state == State.DONE;
    }

    /** The decoded result, once complete without error. */
    public QueryResult result() {
        return new QueryResult(resultSets, affectedRows, lastInsertId, warnings, info);
    }

    /** The backend's error, or null. */
    public BackendException error() {
        return error;
    }

    /** Server status flags of the last OK or EOF packet. */
    public int status() {
        return status & ~ServerStatus.MORE_RESULTS_EXISTS;
    }

    /** Frees a partly gathered row when the connection closes mid-response. */
    public void discard() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }

    private void ok(ByteBuf frame, int p, int length) {
        int i = p + 1;
        int end = p + length;
        affectedRows = Packets.getLengthEncodedInt(frame, i);
        i += Packets.lengthEncodedIntSize(frame, i);
        lastInsertId = Packets.getLengthEncodedInt(frame, i);
        i += Packets.lengthEncodedIntSize(frame, i);
        if (i + 4 <= end) {
            status = frame.getUnsignedShortLE(i);
            warnings = frame.getUnsignedShortLE(i + 2);
            i += 4;
        }
        if (i < end && frame.getUnsignedByte(p) == 0x00) {
            // Human-readable info: length-encoded, with or without SESSION_TRACK (servers write it with net_store_data).
            long n = Packets.getLengthEncodedInt(frame, i);
            int start = i + Packets.lengthEncodedIntSize(frame, i);
            info = frame.toString(start, (int) Math.max(0, Math.min(n, end - start)), StandardCharsets.UTF_8);
        }
        state = (status & ServerStatus.MORE_RESULTS_EXISTS) != 0 ? State.FIRST : State.DONE;
    }

    private void err(ByteBuf frame, int p, int length) {
        error = BackendException.ofErrPacket(frame, p, length);
        state = State.DONE;
    }

    private static String columnName(ByteBuf frame, int p) {
        int i = p;
        for (int skip = 0; skip < 4; skip++) { // catalog, schema, table, org_table
            long len = Packets.getLengthEncodedInt(frame, i);
            i += Packets.lengthEncodedIntSize(frame, i) + (int) Math.max(0, len);
        }
        long len = Packets.getLengthEncodedInt(frame, i);
        i += Packets.lengthEncodedIntSize(frame, i);
        return frame.toString(i, (int) len, StandardCharsets.UTF_8);
    }

    private void row(ByteBuf buf, int p, int length) {
        List<String> values = new ArrayList<>(columns.size());
        int i = p;
        int end = p + length;
        while (i < end && values.size() < columns.size()) {
            if (buf.getUnsignedByte(i) == 0xFB) {
                values.add(null);
                i++;
                continue;
            }
            long len = Packets.getLengthEncodedInt(buf, i);
            i += Packets.lengthEncodedIntSize(buf, i);
            byte[] value = new byte[(int) len];
            buf.getBytes(i, value);
            values.add(charsets.get(values.size()).decodeValue(value, 0, value.length));
            i += (int) len;
        }
        rows.add(values);
    }
}
