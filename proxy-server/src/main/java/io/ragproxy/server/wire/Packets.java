package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Reading frame headers and writing the few packets the proxy composes itself (OK, ERR), per the MySQL
 * client/server protocol. Stateless functions over Netty buffers.
 */
public final class Packets {
    /** Size of a frame header: 3 bytes payload length, 1 byte sequence id. */
    public static final int HEADER_SIZE = 4;
    /** A frame carrying this many payload bytes is followed by a continuation frame. */
    public static final int MAX_FRAME_PAYLOAD = 0xFFFFFF;

    private Packets() {}

    /** Payload length of the frame at the start of {@code frame}. */
    public static int payloadLength(ByteBuf frame) {
        return frame.getUnsignedMediumLE(frame.readerIndex());
    }

    /** Sequence id of the frame at the start of {@code frame}. */
    public static int sequenceId(ByteBuf frame) {
        return frame.getUnsignedByte(frame.readerIndex() + 3);
    }

    /** Overwrites the sequence id of {@code frame} in place. */
    public static void setSequenceId(ByteBuf frame, int sequenceId) {
        frame.setByte(frame.readerIndex() + 3, sequenceId);
    }

    /** First payload byte of the frame, or -1 for an empty payload. */
    public static int firstByte(ByteBuf frame) {
        return payloadLength(frame) == 0 ? -1 : frame.getUnsignedByte(frame.readerIndex() + HEADER_SIZE);
    }

    /** Whether a continuation frame follows this one. */
    public static boolean continues(ByteBuf frame) {
        return payloadLength(frame) == MAX_FRAME_PAYLOAD;
    }

    /** Index of the first payload byte. */
    public static int payloadIndex(ByteBuf frame) {
        return frame.readerIndex() + HEADER_SIZE;
    }

    /**
     * Frames {@code payload} (consumed and released) as one or more frames starting at {@code sequenceId},
     * splitting at 16 MiB - 1 as the protocol requires.
     */
    public static ByteBuf frame(ByteBufAllocator alloc, int sequenceId, ByteBuf payload) {
        try {
            int length = payload.readableBytes();
            ByteBuf out = alloc.buffer(length + HEADER_SIZE * (1 + length / MAX_FRAME_PAYLOAD));
            int seq = sequenceId;
            do {
                int chunk = Math.min(payload.readableBytes(), MAX_FRAME_PAYLOAD);
                out.writeMediumLE(chunk).writeByte(seq++ & 0xFF).writeBytes(payload, chunk);
                if (chunk < MAX_FRAME_PAYLOAD) {
                    break;
                }
            } while (true);
            return out;
        } finally {
            payload.release();
        }
    }

    /**
     * An ERR packet frame.
     *
     * @param sequenceId the frame's sequence id (1 when answering a command)
     * @param code MySQL error number
     * @param sqlState five-character SQLSTATE
     * @param message the text the user sees
     */
    public static ByteBuf err(ByteBufAllocator alloc, int sequenceId, int code, String sqlState, String message) {
        if (sqlState.length() != 5) {
            throw new IllegalArgumentException("SQLSTATE must have 5 characters: " + sqlState);
        }
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuf payload = alloc.buffer(9 + text.length);
        payload.writeByte(0xFF).writeShortLE(code).writeByte('#')
                .writeBytes(sqlState.getBytes(StandardCharsets.US_ASCII)).writeBytes(text);
        return frame(alloc, sequenceId, payload);
    }

    /**
     * A MariaDB progress report frame (for clients that negotiated MARIADB_CLIENT_PROGRESS): an ERR header with error
     * code 0xFFFF, then, as MariaDB's server writes it, the number of strings (1), the stage and the number of stages
     * (both 1-based), the progress within the stage in thousandths of a percent (0 to 100,000, 3 bytes) and the
     * stage's name. Clients show it and read on; it does not end the command's response.
     */
    public static ByteBuf progress(ByteBufAllocator alloc, int sequenceId, int stage, int maxStage,
            int thousandthsOfPercent, String stageName) {
        byte[] name = stageName.getBytes(StandardCharsets.UTF_8);
        ByteBuf payload = alloc.buffer(12 + name.length);
        payload.writeByte(0xFF).writeShortLE(0xFFFF).writeByte(1).writeByte(stage).writeByte(maxStage)
                .writeMediumLE(Math.max(0, Math.min(100_000, thousandthsOfPercent)));
        writeLengthEncodedString(payload, name);
        return frame(alloc, sequenceId, payload);
    }

    /** An OK packet frame (protocol 4.1 layout, no session-state info), for a connection without CLIENT_SESSION_TRACK. */
    public static ByteBuf ok(ByteBufAllocator alloc, int sequenceId, long affectedRows, long lastInsertId,
            int statusFlags, int warnings, String info) {
        return ok(alloc, sequenceId, affectedRows, lastInsertId, statusFlags, warnings, info, false);
    }

    /**
     * An OK packet frame; the info text is length-encoded (with CLIENT_SESSION_TRACK negotiated also when empty), as
     * servers send it (and no session-state changes follow, so SERVER_SESSION_STATE_CHANGED, which the backend's last packet
     * may have carried, is cleared).
     */
    public static ByteBuf ok(ByteBufAllocator alloc, int sequenceId, long affectedRows, long lastInsertId,
            int statusFlags, int warnings, String info, boolean sessionTrack) {
        ByteBuf payload = alloc.buffer(32);
        payload.writeByte(0x00);
        writeLengthEncodedInt(payload, affectedRows);
        writeLengthEncodedInt(payload, lastInsertId);
        payload.writeShortLE(statusFlags & ~io.ragproxy.server.protocol.ServerStatus.SESSION_STATE_CHANGED)
                .writeShortLE(warnings);
        byte[] text = info == null ? new byte[0] : info.getBytes(StandardCharsets.UTF_8);
        // Length-encoded either way, as MySQL and MariaDB servers write it (net_send_ok stores the message with
        // net_store_data) and as clients read it (MySQL Connector/J always, libmariadb whenever bytes follow);
        // without CLIENT_SESSION_TRACK an empty info is left out.
        if (sessionTrack || text.length > 0) {
            writeLengthEncodedString(payload, text);
        }
        return frame(alloc, sequenceId, payload);
    }

    /**
     * Adds {@code count} to the warning count of the OK or EOF packet in {@code frame} (a single frame, header
     * first), in place, saturating at 65535 as the 2-byte field must. Anything else (ERR, a row) is left alone.
     *
     * @param deprecateEof whether CLIENT_DEPRECATE_EOF was negotiated: then a 0xFE header starts an OK packet (the
     *     end of a result set), otherwise an EOF packet
     * @return whether the frame was an OK or EOF packet and was patched
     */
    public static boolean addWarnings(ByteBuf frame, int count, boolean deprecateEof) {
        int index = warningsIndex(frame, deprecateEof);
        if (index < 0) {
            return false;
        }
        frame.setShortLE(index, (int) Math.min(0xFFFF, (long) frame.getUnsignedShortLE(index) + Math.max(0, count)));
        return true;
    }

    /** The warning count of the OK or EOF packet in {@code frame}, or -1 when it is neither (see {@link #addWarnings}). */
    public static int warnings(ByteBuf frame, boolean deprecateEof) {
        int index = warningsIndex(frame, deprecateEof);
        return index < 0 ? -1 : frame.getUnsignedShortLE(index);
    }

    /**
     * The last frame of a buffer of whole frames (a composed reply), as a slice sharing its bytes: patching it
     * patches the reply. Empty buffers give an empty slice.
     */
    public static ByteBuf lastFrame(ByteBuf frames) {
        int i = frames.readerIndex();
        int end = frames.writerIndex();
        int last = i;
        while (i + HEADER_SIZE <= end) {
            last = i;
            i += HEADER_SIZE + frames.getUnsignedMediumLE(i);
        }
        return frames.slice(last, Math.max(0, Math.min(end, i) - last));
    }

    /**
     * Renumbers a buffer of whole frames numbered from 1 (a composed reply) to continue an exchange whose next
     * sequence id is {@code first}: each frame's id moves by {@code first - 1}, wrapping at 256.
     */
    public static void renumber(ByteBuf frames, int first) {
        int i = frames.readerIndex();
        int end = frames.writerIndex();
        while (i + HEADER_SIZE <= end) {
            frames.setByte(i + 3, (frames.getUnsignedByte(i + 3) + first - 1) & 0xFF);
            i += HEADER_SIZE + frames.getUnsignedMediumLE(i);
        }
    }

    /** Index of the 2-byte warning count of an OK or EOF frame, or -1. */
    private static int warningsIndex(ByteBuf frame, boolean deprecateEof) {
        if (frame.readableBytes() < HEADER_SIZE) {
            return -1;
        }
        int length = payloadLength(frame);
        if (length == 0 || length >= MAX_FRAME_PAYLOAD || frame.readableBytes() < HEADER_SIZE + length) {
            return -1;
        }
        int p = payloadIndex(frame);
        int end = p + length;
        int first = frame.getUnsignedByte(p);
        if (first == 0xFE && !deprecateEof) {
            return length >= 5 ? p + 1 : -1; // EOF: 0xFE, warnings, status
        }
        if (first != 0x00 && first != 0xFE) {
            return -1;
        }
        // OK: header, affected rows, last insert id (both length-encoded), status, warnings, …
        int i = p + 1;
        if (i >= end) {
            return -1;
        }
        i += lengthEncodedIntSize(frame, i);
        if (i >= end) {
            return -1;
        }
        i += lengthEncodedIntSize(frame, i);
        return i + 4 <= end ? i + 2 : -1;
    }

    /** Writes a length-encoded integer. */
    public static void writeLengthEncodedInt(ByteBuf buf, long value) {
        if (value < 0) {
            buf.writeByte(0xFE).writeLongLE(value);
        } else if (value < 251) {
            buf.writeByte((int) value);
        } else if (value < 0x10000) {
            buf.writeByte(0xFC).writeShortLE((int) value);
        } else if (value < 0x1000000) {
            buf.writeByte(0xFD).writeMediumLE((int) value);
        } else {
            buf.writeByte(0xFE).writeLongLE(value);
        }
    }

    /** Writes a length-encoded string. */
    public static void writeLengthEncodedString(ByteBuf buf, byte[] value) {
        writeLengthEncodedInt(buf, value.length);
        buf.writeBytes(value);
    }

    /**
     * Reads a length-encoded integer at {@code index} without moving the reader index.
     *
     * @return the value, or -1 for the NULL marker (0xFB)
     */
    public static long getLengthEncodedInt(ByteBuf buf, int index) {
        int first = buf.getUnsignedByte(index);
        if (first < 0xFB) {
            return first;
        }
        return switch (first) {
            case 0xFB -> -1;
            case 0xFC -> buf.getUnsignedShortLE(index + 1);
            case 0xFD -> buf.getUnsignedMediumLE(index + 1);
            case 0xFE -> buf.getLongLE(index + 1);
            default -> throw new IllegalArgumentException("0xFF is not a length-encoded integer");
        };
    }

    /** Number of bytes the length-encoded integer at {@code index} occupies. */
    public static int lengthEncodedIntSize(ByteBuf buf, int index) {
        int first = buf.getUnsignedByte(index);
        return switch (first) {
            case 0xFC -> 3;
            case 0xFD -> 4;
            case 0xFE -> 9;
            default -> 1;
        };
    }

    /**
     * The collation id of a text-protocol column definition payload (readable bytes): its values are in that
     * collation's character set. The definition ends with 0x0C and twelve fixed bytes, the first two the id,
     * whatever extended metadata comes before them.
     */
    public static int columnCollationId(ByteBuf definition) {
        return definition.getUnsignedShortLE(definition.writerIndex() - 12);
    }

    /** Like {@link #columnCollationId(ByteBuf)} for a definition at {@code p}, {@code length} bytes long. */
    public static int columnCollationId(ByteBuf frame, int p, int length) {
        return frame.getUnsignedShortLE(p + length - 12);
    }
}
