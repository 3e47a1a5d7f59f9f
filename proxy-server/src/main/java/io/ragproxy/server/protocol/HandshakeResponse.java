package io.ragproxy.server.protocol;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;

/**
 * Reads and rewrites, in place, the fixed head of a client's Protocol::HandshakeResponse41 (or its 32-byte
 * prefix, the SSLRequest): capability flags, and MariaDB's extended capabilities in the filler.
 */
public final class HandshakeResponse {
    /** Length of an SSLRequest payload, which is also the fixed head of a full handshake response. */
    public static final int FIXED_HEAD = 32;
    private static final int MARIADB_CAPS = 28;

    private HandshakeResponse() {}

    /** The client's 32-bit capability flags, or 0 when the payload is shorter than the 4.1 head. */
    public static long capabilities(ByteBuf frame) {
        if (Packets.payloadLength(frame) < 4) {
            return 0;
        }
        return frame.getUnsignedIntLE(Packets.payloadIndex(frame));
    }

    /** Whether this frame is an SSLRequest: exactly the fixed head, with CLIENT_SSL set. */
    public static boolean isSslRequest(ByteBuf frame) {
        return Packets.payloadLength(frame) == FIXED_HEAD
                && Capabilities.has(capabilities(frame), Capabilities.CLIENT_SSL);
    }

    /** Whether the frame is long enough to be a protocol-4.1 handshake response. */
    public static boolean isProtocol41(ByteBuf frame) {
        return Packets.payloadLength(frame) >= FIXED_HEAD
                && Capabilities.has(capabilities(frame), Capabilities.CLIENT_PROTOCOL_41);
    }

    /** The user name, or the empty string when absent. */
    public static String userName(ByteBuf frame) {
        int start = Packets.payloadIndex(frame) + FIXED_HEAD;
        int end = Packets.payloadIndex(frame) + Packets.payloadLength(frame);
        if (start >= end) {
            return "";
        }
        int nul = frame.indexOf(start, end, (byte) 0);
        return frame.toString(start, (nul < 0 ? end : nul) - start, StandardCharsets.UTF_8);
    }

    /** Overwrites the capability flags. */
    public static void setCapabilities(ByteBuf frame, long capabilities) {
        frame.setIntLE(Packets.payloadIndex(frame), (int) capabilities);
    }

    /** MariaDB's extended capabilities from the filler (meaningful only when the client cleared CLIENT_MYSQL). */
    public static long mariadbCapabilities(ByteBuf frame) {
        return frame.getUnsignedIntLE(Packets.payloadIndex(frame) + MARIADB_CAPS);
    }

    /** Overwrites MariaDB's extended capabilities. */
    public static void setMariadbCapabilities(ByteBuf frame, long capabilities) {
        frame.setIntLE(Packets.payloadIndex(frame) + MARIADB_CAPS, (int) capabilities);
    }
}
