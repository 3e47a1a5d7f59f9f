package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.ragproxy.server.protocol.ServerStatus;
import java.util.ArrayDeque;

/**
 * The rows of a prepared statement's execute that asked for a cursor, kept by the proxy and handed out by
 * COM_STMT_FETCH: each fetch answers up to n binary rows, then an EOF (an OK with a 0xFE header under
 * CLIENT_DEPRECATE_EOF) with SERVER_STATUS_CURSOR_EXISTS, and SERVER_STATUS_LAST_ROW_SENT once no row is left.
 *
 * <p>At most {@code maxBytes} of row payloads are kept, and only while the proxy's {@link CursorMemory} has room for
 * them; past either the cursor {@link #overflowed() overflows}, drops its rows and the execute is answered with an
 * error instead. Confined to the connection's event loop.
 */
public final class RowCursor {
    private final long maxBytes;
    private final CursorMemory shared;
    private final int overflowCode;
    private final String overflowState;
    private final String overflowMessage;
    private final ArrayDeque<ByteBuf> rows = new ArrayDeque<>();
    private long bytes;
    private boolean overflowed;
    private boolean closed;
    /** Set once the execute's answer announced the cursor (its result ended without error). */
    private boolean opened;

    /**
     * @param maxBytes the most bytes of binary row payloads kept
     * @param shared what all the proxy's cursors keep together; this cursor's rows count there until fetched or dropped
     * @param overflowCode, overflowState, overflowMessage the ERR that answers the execute when they are exceeded
     */
    public RowCursor(long maxBytes, CursorMemory shared, int overflowCode, String overflowState,
            String overflowMessage) {
        this.maxBytes = maxBytes;
        this.shared = shared;
        this.overflowCode = overflowCode;
        this.overflowState = overflowState;
        this.overflowMessage = overflowMessage;
    }

    /** The ERR payload (no frame header) that answers the execute in place of an overflowed cursor. */
    ByteBuf overflowError(ByteBufAllocator alloc) {
        ByteBuf payload = alloc.buffer();
        payload.writeByte(0xFF).writeShortLE(overflowCode).writeByte('#')
                .writeBytes(overflowState.getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .writeBytes(overflowMessage.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return payload;
    }

    /** The bound this cursor was made with. */
    public long maxBytes() {
        return maxBytes;
    }

    /** Keeps a binary row's payload (consumed); past the bound every row is dropped and the cursor overflows. */
    public void add(ByteBuf row) {
        if (overflowed || closed) {
            row.release();
            return;
        }
        int n = row.readableBytes();
        if (bytes + n > maxBytes || !shared.reserve(n)) {
            row.release();
            overflowed = true;
            close();
            return;
        }
        bytes += n;
        rows.add(row);
    }

    /** Whether the rows exceeded the bound (none is kept then). */
    public boolean overflowed() {
        return overflowed;
    }

    /** The execute's answer announced this cursor: fetches may read it. */
    void open() {
        opened = true;
    }

    /** Whether a fetch can be answered: the execute announced the cursor and its last row is not sent yet. */
    public boolean isOpen() {
        return opened && !closed && !overflowed;
    }

    /** Rows not fetched yet. */
    public int remaining() {
        return rows.size();
    }

    /**
     * The answer to COM_STMT_FETCH of {@code count} rows: the rows and their EOF, framed from sequence id 1. The
     * cursor closes once its last row is sent.
     *
     * @param serverStatus the session's status flags (autocommit, transaction)
     */
    public ByteBuf fetch(long count, ByteBufAllocator alloc, boolean deprecateEof, int serverStatus) {
        ByteBuf out = alloc.buffer();
        int sequence = 1;
        for (long i = 0; i < count && !rows.isEmpty(); i++) {
            ByteBuf row = rows.poll();
            bytes -= row.readableBytes();
            shared.release(row.readableBytes());
            int frames = 1 + row.readableBytes() / Packets.MAX_FRAME_PAYLOAD;
            ByteBuf framed = Packets.frame(alloc, sequence, row);
            out.writeBytes(framed);
            framed.release();
            sequence = (sequence + frames) & 0xFF;
        }
        int status = (serverStatus & ~(ServerStatus.MORE_RESULTS_EXISTS | ServerStatus.SESSION_STATE_CHANGED))
                | ServerStatus.CURSOR_EXISTS;
        if (rows.isEmpty()) {
            status |= ServerStatus.LAST_ROW_SENT;
            close();
        }
        ByteBuf eof = alloc.buffer(12);
        if (deprecateEof) {
            eof.writeByte(0xFE).writeByte(0).writeByte(0).writeShortLE(status).writeShortLE(0);
        } else {
            eof.writeByte(0xFE).writeShortLE(0).writeShortLE(status);
        }
        ByteBuf framed = Packets.frame(alloc, sequence, eof);
        out.writeBytes(framed);
        framed.release();
        return out;
    }

    /** Drops the rows not fetched (COM_STMT_RESET, COM_STMT_CLOSE, a new execute, the connection's end). */
    public void close() {
        closed = true;
        rows.forEach(ByteBuf::release);
        rows.clear();
        shared.release(bytes);
        bytes = 0;
    }
}
