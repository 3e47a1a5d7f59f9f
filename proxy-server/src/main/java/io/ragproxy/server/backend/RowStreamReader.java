package io.ragproxy.server.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows the backend's response to a COM_QUERY the proxy streams, frame by frame, and hands the first result set
 * to a {@link RowStream} as it arrives. Frames are borrowed (the caller releases them); only the column definitions
 * are held until the last one is in, and a row of 16 MiB or more until its last frame.
 *
 * <p>Further result sets (a statement cannot produce them here, but a stored function might) are read and
 * dropped. MariaDB progress reports are skipped. If the receiver throws, it is told {@link RowStream#failed} once
 * the response has been read to its end, so the connection is idle again when it hears.
 *
 * <p>Not thread-safe: used on the session's event loop.
 */
public final class RowStreamReader {
    private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS, DONE }

    private final boolean deprecateEof;
    private final RowStream rows;
    private State state = State.FIRST;
    private long columnsLeft;
    private List<ByteBuf> definitions;
    private ByteBuf partial;
    private boolean delivered;
    private int warnings;
    private int status = ServerStatus.AUTOCOMMIT;
    private Throwable error;

    /**
     * @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated
     * @param rows the receiver (already {@linkplain RowStream#start started} by the session)
     */
    public RowStreamReader(boolean deprecateEof, RowStream rows) {
        this.deprecateEof = deprecateEof;
        this.rows = rows;
    }

    /**
     * Takes the next frame.
     *
     * @return true when the response is complete: then call {@link #finish()} (after marking the connection idle)
     */
    public boolean accept(ByteBuf frame) {
        if (state == State.DONE) {
            return true;
        }
        int p = Packets.payloadIndex(frame);
        int length = Packets.payloadLength(frame);
        if (partial != null || (state == State.ROWS && Packets.continues(frame))) {
            gather(frame, p, length);
            return false;
        }
        int first = length == 0 ? -1 : frame.getUnsignedByte(p);
        if (first == 0xFF && length >= 3 && frame.getUnsignedShortLE(p + 1) == 0xFFFF) {
            return false; // a MariaDB progress report, not an error
        }
        switch (state) {
            case FIRST -> {
                if (first == 0x00) {
                    ok(frame, p, length);
                } else if (first == 0xFF) {
                    err(frame, p, length);
                } else if (first == 0xFB) {
                    fail(new ProxyException(ProxyError.INTERNAL, "the backend asked ragproxy for a LOCAL INFILE"));
                    state = State.DONE;
                } else {
                    columnsLeft = Packets.getLengthEncodedInt(frame, p);
                    definitions = new ArrayList<>();
                    state = columnsLeft > 0 ? State.COLUMNS : columnsDone();
                }
            }
            case COLUMNS -> {
                definitions.add(frame.retainedSlice(p, length));
                if (--columnsLeft == 0) {
                    state = columnsDone();
                }
            }
            case COLUMNS_EOF -> {
                if (first == 0xFF) {
                    err(frame, p, length);
                } else {
                    state = State.ROWS;
                }
            }
            case ROWS -> {
                if (first == 0xFF) {
                    err(frame, p, length);
                } else if (first == 0xFE && length < Packets.MAX_FRAME_PAYLOAD) {
                    if (deprecateEof) {
                        ok(frame, p, length);
                    } else {
                        warnings = length >= 5 ? frame.getUnsignedShortLE(p + 1) : 0;
                        status = length >= 5 ? frame.getUnsignedShortLE(p + 3) : 0;
                        state = moreResults() ? State.FIRST : State.DONE;
                    }
                    delivered = true;
                } else {
                    deliverRow(frame.slice(p, length));
                }
            }
            default -> { }
        }
        return state == State.DONE;
    }

    /** Tells the receiver how the response ended. Call once, after {@link #accept} returned true. */
    public void finish() {
        if (error != null) {
            rows.failed(error);
        } else {
            if (!delivered) {
                deliverColumns(); // a statement without a result set: no columns, no rows
            }
            if (error != null) {
                rows.failed(error);
            } else {
                rows.end(warnings, status & ~ServerStatus.MORE_RESULTS_EXISTS);
            }
        }
    }

    /** The connection closed mid-response: frees what is held and tells the receiver. */
    public void abort(Throwable cause) {
        state = State.DONE;
        release();
        rows.failed(cause);
    }

    /** Server status flags of the last OK or EOF packet. */
    public int status() {
        return status & ~ServerStatus.MORE_RESULTS_EXISTS;
    }

    private State columnsDone() {
        if (!delivered) {
            deliverColumns();
        } else {
            releaseDefinitions();
        }
        return deprecateEof ? State.ROWS : State.COLUMNS_EOF;
    }

    private void deliverColumns() {
        List<ByteBuf> defs = definitions == null ? List.of() : definitions;
        definitions = null;
        try {
            if (error == null) {
                rows.columns(defs);
            }
        } catch (RuntimeException e) {
            fail(e);
        } finally {
            defs.forEach(ByteBuf::release);
        }
    }

    private void deliverRow(ByteBuf payload) {
        if (delivered || error != null) {
            return; // a later result set, or the receiver gave up: read to the end, drop
        }
        try {
            rows.row(payload);
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void gather(ByteBuf frame, int p, int length) {
        if (partial == null) {
            partial = Unpooled.buffer(length);
        }
        partial.writeBytes(frame, p, length);
        if (length == Packets.MAX_FRAME_PAYLOAD) {
            return;
        }
        ByteBuf whole = partial;
        partial = null;
        try {
            deliverRow(whole);
        } finally {
            whole.release();
        }
    }

    private void ok(ByteBuf frame, int p, int length) {
        int i = p + 1;
        int end = p + length;
        i += Packets.lengthEncodedIntSize(frame, i);
        if (i < end) {
            i += Packets.lengthEncodedIntSize(frame, i);
        }
        if (i + 4 <= end) {
            status = frame.getUnsignedShortLE(i);
            warnings = frame.getUnsignedShortLE(i + 2);
        }
        state = moreResults() ? State.FIRST : State.DONE;
    }

    private void err(ByteBuf frame, int p, int length) {
        fail(BackendException.ofErrPacket(frame, p, length));
        state = State.DONE;
    }

    private boolean moreResults() {
        return (status & ServerStatus.MORE_RESULTS_EXISTS) != 0;
    }

    private void fail(Throwable e) {
        if (error == null) {
            error = e;
        }
    }

    private void release() {
        releaseDefinitions();
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }

    private void releaseDefinitions() {
        if (definitions != null) {
            definitions.forEach(ByteBuf::release);
            definitions = null;
        }
    }
}
