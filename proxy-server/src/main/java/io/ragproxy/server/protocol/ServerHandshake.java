package io.ragproxy.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;

/**
 * The backend's initial handshake (Protocol::HandshakeV10), as far as the proxy needs to read and rewrite it.
 *
 * <p>The proxy hands the client the backend's own scramble and auth plugin so that the client's auth response is
 * valid for the backend: authentication passes through and the proxy stores no passwords. It changes only the
 * version string (a {@code -ragproxy} suffix) and the capability flags.
 *
 * @param serverVersion the backend's version string, e.g. {@code 5.5.5-11.8.3-MariaDB} or {@code 8.0.11-TiDB-v8.5.0}
 * @param connectionId the backend's thread id for this connection (what {@code CONNECTION_ID()} returns)
 * @param capabilities the backend's 32-bit capability flags
 * @param mariadbCapabilities MariaDB's extended capability flags (0 for MySQL and TiDB)
 * @param characterSet the backend's default collation id
 * @param afterVersion the payload bytes after the version string's terminating NUL, kept for re-encoding
 */
public record ServerHandshake(
        String serverVersion,
        long connectionId,
        long capabilities,
        long mariadbCapabilities,
        int characterSet,
        byte[] afterVersion) {

    /** Offsets within {@link #afterVersion}. */
    private static final int CAPS_LOW = 13;
    private static final int CHARSET = 15;
    private static final int CAPS_HIGH = 18;
    private static final int MARIADB_CAPS = 27;
    private static final int MIN_AFTER_VERSION = 31;

    /**
     * Parses the handshake frame (header included).
     *
     * @throws IllegalArgumentException when the frame is not a protocol-10 handshake the proxy can relay
     */
    public static ServerHandshake parse(ByteBuf frame) {
        int start = Packets.payloadIndex(frame);
        int end = start + Packets.payloadLength(frame);
        if (end <= start || frame.getUnsignedByte(start) != 10) {
            throw new IllegalArgumentException("the backend did not send a protocol-10 handshake");
        }
        int nul = frame.indexOf(start + 1, end, (byte) 0);
        if (nul < 0) {
            throw new IllegalArgumentException("the backend's handshake has no version terminator");
        }
        String version = frame.toString(start + 1, nul - start - 1, StandardCharsets.UTF_8);
        byte[] rest = ByteBufUtil.getBytes(frame, nul + 1, end - nul - 1);
        if (rest.length < MIN_AFTER_VERSION) {
            throw new IllegalArgumentException("the backend's handshake is too short (a pre-4.1 server?)");
        }
        long connectionId = (rest[0] & 0xFFL) | (rest[1] & 0xFFL) << 8 | (rest[2] & 0xFFL) << 16 | (rest[3] & 0xFFL) << 24;
        long caps = u16(rest, CAPS_LOW) | u16(rest, CAPS_HIGH) << 16;
        long mariadbCaps = Capabilities.has(caps, Capabilities.CLIENT_MYSQL) ? 0 : u32(rest, MARIADB_CAPS);
        if (!Capabilities.has(caps, Capabilities.CLIENT_PROTOCOL_41)) {
            throw new IllegalArgumentException("the backend does not speak protocol 4.1");
        }
        return new ServerHandshake(version, connectionId, caps, mariadbCaps, rest[CHARSET] & 0xFF, rest);
    }

    /** Whether the backend is TiDB (it says so in its version string). */
    public boolean isTidb() {
        return serverVersion.contains("TiDB");
    }

    /** Whether the backend is MariaDB. */
    public boolean isMariadb() {
        return serverVersion.contains("MariaDB");
    }

    /**
     * The handshake to send the client: the same scramble and plugin, {@code versionSuffix} appended to the
     * version, and the given capability sets in place of the backend's.
     */
    public ByteBuf toClientFrame(ByteBufAllocator alloc, String versionSuffix, long clientCapabilities,
            long clientMariadbCapabilities) {
        byte[] rest = afterVersion.clone();
        putU16(rest, CAPS_LOW, (int) clientCapabilities);
        putU16(rest, CAPS_HIGH, (int) (clientCapabilities >>> 16));
        if (mariadbCapabilities != 0) {
            putU32(rest, MARIADB_CAPS, clientMariadbCapabilities);
        }
        byte[] version = (serverVersion + versionSuffix).getBytes(StandardCharsets.UTF_8);
        ByteBuf payload = alloc.buffer(2 + version.length + rest.length);
        payload.writeByte(10).writeBytes(version).writeByte(0).writeBytes(rest);
        return Packets.frame(alloc, 0, payload);
    }

    private static long u16(byte[] b, int i) {
        return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8;
    }

    private static long u32(byte[] b, int i) {
        return u16(b, i) | u16(b, i + 2) << 16;
    }

    private static void putU16(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >>> 8);
    }

    private static void putU32(byte[] b, int i, long v) {
        putU16(b, i, (int) v);
        putU16(b, i + 2, (int) (v >>> 16));
    }
}
