package io.ragproxy.server.command;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.wire.Packets;
import java.util.ArrayDeque;

/**
 * Follows the backend's responses to relayed commands, frame by frame, so the proxy knows when the backend
 * connection is idle (every response complete) and which client frames are not commands (LOAD DATA LOCAL
 * uploads, COM_CHANGE_USER auth data, continuation frames).
 *
 * <p>It reads at most a frame's first few bytes: the relay itself never copies or re-encodes a frame. Commands a
 * client pipelines are queued in order. A command whose response shape the proxy does not know (replication, for
 * instance) makes the tracker {@linkplain #isOpaque() opaque}: from then on the connection is relayed blindly and
 * never reported idle.
 *
 * <p>Not thread-safe: a connection's frames are handled on its event loop.
 */
public final class ResponseTracker {

    private enum Shape { SINGLE, RESULT, PREPARE, FETCH, FIELD_LIST, CHANGE_USER, OPAQUE }

    private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS, COUNT }

    /**
     * The payload bytes of a frame {@link #onBackendFrame(ByteBuf, int)} may read, at most: an OK packet's status
     * flags come after two length-encoded integers (1 + 9 + 9 + 2 bytes).
     */
    public static final int INSPECTED_PAYLOAD_BYTES = 32;

    private final boolean deprecateEof;
    private final ArrayDeque<Shape> pending = new ArrayDeque<>();
    private State state = State.FIRST;
    private long remaining;
    private boolean backendContinuation;
    private boolean infileUpload;
    private boolean clientContinuation;

    /**
     * @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated (result sets end with an OK packet and
     *     column definitions are not followed by an EOF packet)
     */
    public ResponseTracker(boolean deprecateEof) {
        this.deprecateEof = deprecateEof;
    }

    /** Whether no relayed command awaits (part of) its response. */
    public boolean isIdle() {
        return pending.isEmpty() && !infileUpload;
    }

    /** Whether the connection carries a command whose response the proxy cannot follow. */
    public boolean isOpaque() {
        return pending.contains(Shape.OPAQUE);
    }

    /**
     * Whether the client's next frame belongs to the current exchange rather than starting a new command: a
     * continuation frame, a LOAD DATA LOCAL upload, or an auth response during COM_CHANGE_USER.
     */
    public boolean expectsClientData() {
        return clientContinuation || infileUpload || pending.peekFirst() == Shape.CHANGE_USER;
    }

    /** Records a client frame that {@link #expectsClientData()} claimed, or that started a command. */
    public void onClientFrame(ByteBuf frame) {
        boolean wasContinuation = clientContinuation;
        clientContinuation = Packets.continues(frame);
        if (infileUpload && !wasContinuation && Packets.payloadLength(frame) == 0) {
            // The empty packet ends the upload; the backend's OK or ERR follows.
            infileUpload = false;
        }
    }

    /** Records that the client's command (its first payload byte) was sent to the backend. */
    public void onCommand(int command) {
        Shape shape = switch (command) {
            case Commands.COM_STMT_CLOSE, Commands.COM_STMT_SEND_LONG_DATA, Commands.COM_QUIT -> null;
            case Commands.COM_QUERY, Commands.COM_STMT_EXECUTE, Commands.COM_PROCESS_INFO,
                    Commands.COM_STMT_BULK_EXECUTE -> Shape.RESULT;
            case Commands.COM_STMT_PREPARE -> Shape.PREPARE;
            case Commands.COM_STMT_FETCH -> Shape.FETCH;
            case Commands.COM_FIELD_LIST -> Shape.FIELD_LIST;
            case Commands.COM_CHANGE_USER -> Shape.CHANGE_USER;
            case Commands.COM_SLEEP, Commands.COM_INIT_DB, Commands.COM_CREATE_DB, Commands.COM_DROP_DB,
                    Commands.COM_REFRESH, Commands.COM_SHUTDOWN, Commands.COM_STATISTICS, Commands.COM_CONNECT,
                    Commands.COM_PROCESS_KILL, Commands.COM_DEBUG, Commands.COM_PING, Commands.COM_STMT_RESET,
                    Commands.COM_SET_OPTION, Commands.COM_RESET_CONNECTION -> Shape.SINGLE;
            default -> Shape.OPAQUE;
        };
        if (shape != null) {
            if (pending.isEmpty()) {
                startResponse(shape);
            }
            pending.addLast(shape);
        }
    }

    /**
     * Follows one frame from the backend.
     *
     * @return true when this frame completed the response of the oldest pending command
     */
    public boolean onBackendFrame(ByteBuf frame) {
        return onBackendFrame(frame, frame.readerIndex());
    }

    /**
     * Follows one frame from the backend that starts at {@code start} in {@code buf} (its header there); only its
     * header and first {@link #INSPECTED_PAYLOAD_BYTES} payload bytes are read, so {@code buf} may hold just those.
     *
     * @return true when this frame completed the response of the oldest pending command
     */
    public boolean onBackendFrame(ByteBuf buf, int start) {
        if (backendContinuation) {
            backendContinuation = continues(buf, start);
            return false;
        }
        backendContinuation = continues(buf, start);
        Shape shape = pending.peekFirst();
        if (shape == null || shape == Shape.OPAQUE) {
            return false; // unsolicited (e.g. an error before the backend closes) or not followed
        }
        boolean done = switch (shape) {
            case SINGLE -> true;
            case RESULT -> result(buf, start);
            case FETCH -> rows(buf, start);
            case PREPARE -> prepare(buf, start);
            case FIELD_LIST -> isErr(buf, start) || isTerminator(buf, start);
            case CHANGE_USER -> isErr(buf, start) || firstByte(buf, start) == 0x00;
            case OPAQUE -> false;
        };
        if (done) {
            pending.removeFirst();
            Shape next = pending.peekFirst();
            if (next != null) {
                startResponse(next);
            }
        }
        return done;
    }

    private void startResponse(Shape shape) {
        state = shape == Shape.FETCH ? State.ROWS : State.FIRST;
        remaining = 0;
    }

    private boolean result(ByteBuf frame, int f) {
        switch (state) {
            case FIRST -> {
                int first = firstByte(frame, f);
                if (first == 0x00) {
                    return !moreResults(okStatus(frame, f));
                }
                if (first == 0xFF) {
                    return !isProgress(frame, f);
                }
                if (first == 0xFB) {
                    infileUpload = true; // the client now uploads the file; OK or ERR follows
                    return false;
                }
                remaining = Packets.getLengthEncodedInt(frame, f + Packets.HEADER_SIZE);
                state = remaining > 0 ? State.COLUMNS : (deprecateEof ? State.ROWS : State.COLUMNS_EOF);
                return false;
            }
            case COLUMNS -> {
                if (--remaining == 0) {
                    state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
                }
                return false;
            }
            case COLUMNS_EOF -> {
                if (isErr(frame, f)) {
                    return true;
                }
                if ((eofStatus(frame, f) & ServerStatus.CURSOR_EXISTS) != 0) {
                    return true; // a cursor was opened: rows come with COM_STMT_FETCH
                }
                state = State.ROWS;
                return false;
            }
            case ROWS -> {
                return rows(frame, f);
            }
            default -> {
                return false;
            }
        }
    }

    private boolean rows(ByteBuf frame, int f) {
        if (isErr(frame, f)) {
            return !isProgress(frame, f);
        }
        if (!isTerminator(frame, f)) {
            return false;
        }
        int status = deprecateEof ? okStatus(frame, f) : eofStatus(frame, f);
        if (moreResults(status)) {
            state = State.FIRST;
            return false;
        }
        return true;
    }

    private boolean prepare(ByteBuf frame, int f) {
        if (state == State.FIRST) {
            if (isErr(frame, f)) {
                return true;
            }
            int p = f + Packets.HEADER_SIZE;
            int columns = frame.getUnsignedShortLE(p + 5);
            int params = frame.getUnsignedShortLE(p + 7);
            int eofs = deprecateEof ? 0 : (columns > 0 ? 1 : 0) + (params > 0 ? 1 : 0);
            remaining = (long) columns + params + eofs;
            state = State.COUNT;
            return remaining == 0;
        }
        return --remaining == 0;
    }

    private static boolean moreResults(int status) {
        return (status & ServerStatus.MORE_RESULTS_EXISTS) != 0;
    }

    private static int payloadLength(ByteBuf buf, int f) {
        return buf.getUnsignedMediumLE(f);
    }

    private static int firstByte(ByteBuf buf, int f) {
        return payloadLength(buf, f) == 0 ? -1 : buf.getUnsignedByte(f + Packets.HEADER_SIZE);
    }

    private static boolean continues(ByteBuf buf, int f) {
        return payloadLength(buf, f) == Packets.MAX_FRAME_PAYLOAD;
    }

    private static boolean isErr(ByteBuf buf, int f) {
        return firstByte(buf, f) == 0xFF;
    }

    /** A MariaDB progress report: an ERR-headed packet with error code 0xFFFF that does not end anything. */
    private static boolean isProgress(ByteBuf buf, int f) {
        return payloadLength(buf, f) >= 3 && buf.getUnsignedShortLE(f + Packets.HEADER_SIZE + 1) == 0xFFFF;
    }

    /** An EOF packet, or with DEPRECATE_EOF an OK packet with the 0xFE header; a row never looks like one. */
    private static boolean isTerminator(ByteBuf buf, int f) {
        return firstByte(buf, f) == 0xFE && payloadLength(buf, f) < Packets.MAX_FRAME_PAYLOAD;
    }

    private static int eofStatus(ByteBuf buf, int f) {
        if (payloadLength(buf, f) < 5) {
            return 0;
        }
        return buf.getUnsignedShortLE(f + Packets.HEADER_SIZE + 3);
    }

    private static int okStatus(ByteBuf buf, int f) {
        int length = payloadLength(buf, f);
        int start = f + Packets.HEADER_SIZE;
        int i = start + 1;
        if (length < 3) {
            return 0;
        }
        i += Packets.lengthEncodedIntSize(buf, i);
        if (i - start >= length) {
            return 0;
        }
        i += Packets.lengthEncodedIntSize(buf, i);
        if (i + 2 - start > length) {
            return 0;
        }
        return buf.getUnsignedShortLE(i);
    }
}
