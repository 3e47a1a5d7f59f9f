package io.ragproxy.server.protocol;

import static io.ragproxy.server.testing.FrameBuilder.readable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.ragproxy.server.testing.FrameBuilder;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ServerHandshakeTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    static final String MARIADB_VERSION = "5.5.5-11.8.6-MariaDB-0+deb13u1";
    static final String TIDB_VERSION = "8.0.11-TiDB-v8.5.0";
    static final byte[] SCRAMBLE_1 = "A7%;bQ<y".getBytes(StandardCharsets.US_ASCII);
    static final byte[] SCRAMBLE_2 = "k(Xz9]P@!q2s".getBytes(StandardCharsets.US_ASCII);
    static final long CONNECTION_ID = 0x0102_0304L + 0x8000_0000L; // needs all 32 bits, unsigned
    /** What MariaDB 11.8 sends without TLS configured: CLIENT_MYSQL (bit 0) cleared, CLIENT_SSL cleared. */
    static final long MARIADB_CAPS = 0xA1FF_F7FEL;
    /** MariaDB's extended capabilities: progress, COM_MULTI, bulk operations, extended metadata, cache metadata. */
    static final long MARIADB_EXT = 0x0000_001FL;
    /** TiDB: CLIENT_MYSQL set, PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, DEPRECATE_EOF, ... */
    static final long TIDB_CAPS = 0x01BF_A28FL | Capabilities.CLIENT_PROTOCOL_41 | Capabilities.CLIENT_SECURE_CONNECTION;

    /** The bytes after the version's NUL, laid out as Protocol::HandshakeV10. */
    static byte[] afterVersion(long connId, long caps, int charset, int status, byte[] reserved10, String plugin) {
        return FrameBuilder.payload()
                .u32(connId)
                .raw(SCRAMBLE_1)
                .u8(0) // filler
                .u16((int) caps)
                .u8(charset)
                .u16(status)
                .u16((int) (caps >>> 16))
                .u8(SCRAMBLE_1.length + SCRAMBLE_2.length + 1)
                .raw(reserved10)
                .raw(SCRAMBLE_2).u8(0)
                .nulStr(plugin)
                .bytes();
    }

    static byte[] mariadbReserved(long ext) {
        return FrameBuilder.payload().fill(6, 0).u32(ext).bytes();
    }

    static byte[] handshakePayload(String version, byte[] afterVersion) {
        return FrameBuilder.payload().u8(10).nulStr(version).raw(afterVersion).bytes();
    }

    static ByteBuf mariadbFrame() {
        return FrameBuilder.frame(0, handshakePayload(MARIADB_VERSION,
                afterVersion(CONNECTION_ID, MARIADB_CAPS, 45, 0x0002, mariadbReserved(MARIADB_EXT), "mysql_native_password")));
    }

    static ByteBuf tidbFrame(byte[] reserved) {
        return FrameBuilder.frame(0, handshakePayload(TIDB_VERSION,
                afterVersion(4123, TIDB_CAPS, 46, 0x0002, reserved, "caching_sha2_password")));
    }

    @Test
    void parsesMariadbHandshake() {
        ServerHandshake h = ServerHandshake.parse(mariadbFrame());
        assertEquals(MARIADB_VERSION, h.serverVersion());
        assertEquals(CONNECTION_ID, h.connectionId());
        assertEquals(MARIADB_CAPS, h.capabilities());
        assertFalse(Capabilities.has(h.capabilities(), Capabilities.CLIENT_MYSQL));
        assertEquals(MARIADB_EXT, h.mariadbCapabilities());
        assertEquals(45, h.characterSet());
        assertTrue(h.isMariadb());
        assertFalse(h.isTidb());
    }

    @Test
    void parsesTidbHandshakeAndIgnoresReservedBytesWhenClientMysqlIsSet() {
        byte[] reserved = FrameBuilder.payload().fill(6, 0).u32(0xDEADBEEFL).bytes();
        ServerHandshake h = ServerHandshake.parse(tidbFrame(reserved));
        assertEquals(TIDB_VERSION, h.serverVersion());
        assertEquals(4123, h.connectionId());
        assertEquals(TIDB_CAPS, h.capabilities());
        assertEquals(0, h.mariadbCapabilities());
        assertEquals(46, h.characterSet());
        assertTrue(h.isTidb());
        assertFalse(h.isMariadb());
    }

    @Test
    void parseHonoursReaderIndex() {
        ByteBuf f = mariadbFrame();
        ByteBuf shifted = Unpooled.buffer();
        shifted.writeBytes(new byte[] {1, 2, 3}).writeBytes(f.duplicate());
        shifted.skipBytes(3);
        assertArrayEquals(ServerHandshake.parse(f).afterVersion(), ServerHandshake.parse(shifted).afterVersion());
        assertEquals(MARIADB_VERSION, ServerHandshake.parse(shifted).serverVersion());
        assertEquals(MARIADB_EXT, ServerHandshake.parse(shifted).mariadbCapabilities());
    }

    @Test
    void mariadbToClientFrameRewritesOnlyVersionAndCapabilities() {
        ServerHandshake h = ServerHandshake.parse(mariadbFrame());
        byte[] originalAfter = h.afterVersion().clone();
        long clientCaps = (MARIADB_CAPS & ~Capabilities.UNSUPPORTED) | Capabilities.CLIENT_SSL;
        long clientExt = MARIADB_EXT & ~Capabilities.MARIADB_UNSUPPORTED;
        ByteBuf out = h.toClientFrame(ALLOC, "-ragproxy", clientCaps, clientExt);

        byte[] expected = handshakePayload(MARIADB_VERSION + "-ragproxy",
                afterVersion(CONNECTION_ID, clientCaps, 45, 0x0002, mariadbReserved(clientExt), "mysql_native_password"));
        assertEquals(0, Packets.sequenceId(out));
        assertEquals(expected.length, Packets.payloadLength(out));
        assertArrayEquals(expected, Arrays.copyOfRange(readable(out), 4, out.readableBytes()));
        assertArrayEquals(originalAfter, h.afterVersion(), "the parsed record is not mutated");

        // scramble and plugin name byte-identical to the backend's
        byte[] payload = Arrays.copyOfRange(readable(out), 4, out.readableBytes());
        int after = 1 + (MARIADB_VERSION + "-ragproxy").length() + 1;
        assertArrayEquals(SCRAMBLE_1, Arrays.copyOfRange(payload, after + 4, after + 12));
        assertArrayEquals(SCRAMBLE_2, Arrays.copyOfRange(payload, after + 31, after + 43));
        assertEquals("mysql_native_password\0",
                new String(payload, after + 44, payload.length - after - 44, StandardCharsets.US_ASCII));

        ServerHandshake again = ServerHandshake.parse(out);
        assertEquals(MARIADB_VERSION + "-ragproxy", again.serverVersion());
        assertEquals(CONNECTION_ID, again.connectionId());
        assertEquals(clientCaps, again.capabilities());
        assertEquals(clientExt, again.mariadbCapabilities());
        assertEquals(45, again.characterSet());
        assertTrue(again.isMariadb());
        out.release();
    }

    @Test
    void byteDiffIsConfinedToCapabilityBytes() {
        ServerHandshake h = ServerHandshake.parse(mariadbFrame());
        ByteBuf out = h.toClientFrame(ALLOC, "", 0xFFFF_FFFEL, 0xFFFF_FFFFL);
        byte[] a = handshakePayload(MARIADB_VERSION, h.afterVersion());
        byte[] b = Arrays.copyOfRange(readable(out), 4, out.readableBytes());
        assertEquals(a.length, b.length, "empty suffix keeps the length");
        int base = 1 + MARIADB_VERSION.length() + 1;
        for (int i = 0; i < a.length; i++) {
            int rel = i - base;
            boolean capsByte = rel == 13 || rel == 14 || rel == 18 || rel == 19 || (rel >= 27 && rel <= 30);
            if (!capsByte) {
                assertEquals(a[i], b[i], "byte " + i + " (after-version offset " + rel + ") must be unchanged");
            }
        }
        out.release();
    }

    @Test
    void tidbToClientFrameLeavesReservedBytesAlone() {
        byte[] reserved = new byte[10];
        ServerHandshake h = ServerHandshake.parse(tidbFrame(reserved));
        long clientCaps = TIDB_CAPS & ~Capabilities.CLIENT_COMPRESS;
        ByteBuf out = h.toClientFrame(ALLOC, "-ragproxy", clientCaps, 0x1F);
        byte[] expected = handshakePayload(TIDB_VERSION + "-ragproxy",
                afterVersion(4123, clientCaps, 46, 0x0002, reserved, "caching_sha2_password"));
        assertArrayEquals(expected, Arrays.copyOfRange(readable(out), 4, out.readableBytes()));
        ServerHandshake again = ServerHandshake.parse(out);
        assertEquals(0, again.mariadbCapabilities());
        assertEquals(clientCaps, again.capabilities());
        assertEquals(TIDB_VERSION + "-ragproxy", again.serverVersion());
        assertTrue(again.isTidb());
        out.release();
    }

    @Test
    void minimalHandshakeWithoutScramblePart2AndPlugin() {
        // 31 bytes after the version is the least a 4.1 server sends
        byte[] rest = Arrays.copyOf(afterVersion(7, MARIADB_CAPS, 8, 2, mariadbReserved(1), "x"), 31);
        ServerHandshake h = ServerHandshake.parse(FrameBuilder.frame(0, handshakePayload("5.5.5-10.0", rest)));
        assertEquals(7, h.connectionId());
        assertEquals(1, h.mariadbCapabilities());
        ByteBuf out = h.toClientFrame(ALLOC, "-p", MARIADB_CAPS, 0);
        assertEquals(0, ServerHandshake.parse(out).mariadbCapabilities());
        out.release();
    }

    @Test
    void rejectsProtocol9() {
        byte[] p = handshakePayload("3.23.58", afterVersion(1, MARIADB_CAPS, 8, 2, new byte[10], "x"));
        p[0] = 9;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerHandshake.parse(FrameBuilder.frame(0, p)));
        assertTrue(e.getMessage().contains("protocol-10"), e.getMessage());
    }

    @Test
    void rejectsErrPacketInsteadOfHandshake() {
        // a backend that refuses the connection (too many connections, host blocked) sends ERR first
        ByteBuf err = FrameBuilder.err(0, 1040, "08004", "Too many connections");
        assertThrows(IllegalArgumentException.class, () -> ServerHandshake.parse(err));
    }

    @Test
    void rejectsEmptyPayload() {
        assertThrows(IllegalArgumentException.class, () -> ServerHandshake.parse(FrameBuilder.empty(0)));
    }

    @Test
    void rejectsMissingVersionTerminator() {
        byte[] p = FrameBuilder.payload().u8(10).str(MARIADB_VERSION).fill(40, 'x').bytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerHandshake.parse(FrameBuilder.frame(0, p)));
        assertTrue(e.getMessage().contains("terminator"), e.getMessage());
    }

    @Test
    void rejectsTruncatedHandshakeAtEveryLength() {
        byte[] full = handshakePayload(MARIADB_VERSION,
                afterVersion(CONNECTION_ID, MARIADB_CAPS, 45, 2, mariadbReserved(MARIADB_EXT), "mysql_native_password"));
        int versionEnd = 1 + MARIADB_VERSION.length() + 1;
        for (int len = 1; len < versionEnd + 31; len++) {
            byte[] p = Arrays.copyOf(full, len);
            assertThrows(IllegalArgumentException.class, () -> ServerHandshake.parse(FrameBuilder.frame(0, p)),
                    "length " + len);
        }
        ServerHandshake.parse(FrameBuilder.frame(0, Arrays.copyOf(full, versionEnd + 31)));
    }

    @Test
    void rejectsServerWithoutProtocol41() {
        long caps = MARIADB_CAPS & ~Capabilities.CLIENT_PROTOCOL_41;
        ByteBuf f = FrameBuilder.frame(0, handshakePayload(MARIADB_VERSION,
                afterVersion(1, caps, 8, 2, mariadbReserved(MARIADB_EXT), "mysql_native_password")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServerHandshake.parse(f));
        assertTrue(e.getMessage().contains("4.1"), e.getMessage());
    }
}
