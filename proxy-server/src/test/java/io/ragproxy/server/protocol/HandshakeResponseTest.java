package io.ragproxy.server.protocol;

import static io.ragproxy.server.testing.FrameBuilder.readable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ragproxy.server.testing.FrameBuilder;
import org.junit.jupiter.api.Test;

class HandshakeResponseTest {
    static final long CLIENT_CAPS = Capabilities.CLIENT_PROTOCOL_41 | Capabilities.CLIENT_SECURE_CONNECTION
            | Capabilities.CLIENT_PLUGIN_AUTH | Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | Capabilities.CLIENT_CONNECT_WITH_DB | Capabilities.CLIENT_MULTI_RESULTS | Capabilities.CLIENT_COMPRESS
            | Capabilities.CLIENT_DEPRECATE_EOF | Capabilities.CLIENT_CONNECT_ATTRS | Capabilities.CLIENT_LOCAL_FILES;

    /** The fixed 32-byte head: caps, max packet, charset, 19 filler bytes, MariaDB extended caps. */
    static FrameBuilder head(long caps, long mariadbExt) {
        return FrameBuilder.payload().u32(caps).u32(16 * 1024 * 1024).u8(45).fill(19, 0).u32(mariadbExt);
    }

    static ByteBuf sslRequest(long caps) {
        return head(caps, 0).frame(1);
    }

    static ByteBuf fullResponse(long caps, long ext, String user) {
        return head(caps, ext)
                .nulStr(user)
                .lenenc(20).fill(20, 0x5A) // auth response
                .nulStr("test")              // database
                .nulStr("mysql_native_password")
                .lenenc(10).lenencStr("_os").lenencStr("x")
                .frame(1);
    }

    @Test
    void sslRequestIsDetected() {
        ByteBuf f = sslRequest(CLIENT_CAPS | Capabilities.CLIENT_SSL);
        assertEquals(32, HandshakeResponse.FIXED_HEAD);
        assertTrue(HandshakeResponse.isSslRequest(f));
        assertTrue(HandshakeResponse.isProtocol41(f));
        assertEquals("", HandshakeResponse.userName(f));
    }

    @Test
    void sslRequestNeedsTheSslBit() {
        assertFalse(HandshakeResponse.isSslRequest(sslRequest(CLIENT_CAPS)));
    }

    @Test
    void fullResponseWithSslBitIsNotAnSslRequest() {
        ByteBuf f = fullResponse(CLIENT_CAPS | Capabilities.CLIENT_SSL, 0, "root");
        assertFalse(HandshakeResponse.isSslRequest(f));
        assertTrue(HandshakeResponse.isProtocol41(f));
    }

    @Test
    void readsCapabilitiesAndUserName() {
        ByteBuf f = fullResponse(CLIENT_CAPS, 0x1D, "app_user");
        assertEquals(CLIENT_CAPS, HandshakeResponse.capabilities(f));
        assertEquals(0x1D, HandshakeResponse.mariadbCapabilities(f));
        assertEquals("app_user", HandshakeResponse.userName(f));
    }

    @Test
    void userNameIsUtf8() {
        assertEquals("jörg_人", HandshakeResponse.userName(fullResponse(CLIENT_CAPS, 0, "jörg_人")));
    }

    @Test
    void emptyUserName() {
        assertEquals("", HandshakeResponse.userName(fullResponse(CLIENT_CAPS, 0, "")));
    }

    @Test
    void userNameWithoutTerminatorRunsToTheEnd() {
        ByteBuf f = head(CLIENT_CAPS, 0).str("bob").frame(1);
        assertEquals("bob", HandshakeResponse.userName(f));
    }

    @Test
    void userNameDoesNotReadPastThePayload() {
        // a second frame follows in the same buffer; its bytes must not leak into the name
        ByteBuf first = head(CLIENT_CAPS, 0).str("eve").frame(1);
        ByteBuf both = FrameBuilder.concat(first, FrameBuilder.payload().str("mallory").u8(0).frame(2));
        assertEquals("eve", HandshakeResponse.userName(both));
    }

    @Test
    void shortPayloadHasNoCapabilities() {
        ByteBuf f = FrameBuilder.payload().u8(1).u8(2).u8(3).frame(1);
        assertEquals(0, HandshakeResponse.capabilities(f));
        assertFalse(HandshakeResponse.isSslRequest(f));
        assertFalse(HandshakeResponse.isProtocol41(f));
        assertEquals("", HandshakeResponse.userName(f));
    }

    @Test
    void pre41ResponseIsNotProtocol41() {
        ByteBuf f = head(CLIENT_CAPS & ~Capabilities.CLIENT_PROTOCOL_41, 0).nulStr("old").frame(1);
        assertFalse(HandshakeResponse.isProtocol41(f));
    }

    @Test
    void capabilityRewriteIsInPlaceAndTouchesNothingElse() {
        ByteBuf f = fullResponse(CLIENT_CAPS | 0x8000_0000L, 0x1F, "root");
        byte[] before = readable(f);
        long masked = (CLIENT_CAPS | 0x8000_0000L) & ~Capabilities.UNSUPPORTED;
        HandshakeResponse.setCapabilities(f, masked);
        HandshakeResponse.setMariadbCapabilities(f, 0x1F & ~Capabilities.MARIADB_UNSUPPORTED);
        byte[] after = readable(f);
        assertEquals(before.length, after.length);
        assertEquals(masked, HandshakeResponse.capabilities(f));
        assertFalse(Capabilities.has(HandshakeResponse.capabilities(f), Capabilities.CLIENT_COMPRESS));
        assertEquals(0x1F & ~Capabilities.MARIADB_UNSUPPORTED, HandshakeResponse.mariadbCapabilities(f));
        for (int i = 0; i < before.length; i++) {
            boolean caps = (i >= 4 && i < 8) || (i >= 4 + 28 && i < 4 + 32);
            if (!caps) {
                assertEquals(before[i], after[i], "byte " + i);
            }
        }
        assertEquals("root", HandshakeResponse.userName(f));
    }

    @Test
    void rewriteHonoursReaderIndex() {
        ByteBuf inner = fullResponse(CLIENT_CAPS, 0x1F, "root");
        ByteBuf f = Unpooled.buffer();
        f.writeBytes(new byte[] {(byte) 0xEE, (byte) 0xEE}).writeBytes(inner);
        f.skipBytes(2);
        HandshakeResponse.setCapabilities(f, Capabilities.CLIENT_PROTOCOL_41);
        HandshakeResponse.setMariadbCapabilities(f, 0x04);
        assertEquals(Capabilities.CLIENT_PROTOCOL_41, HandshakeResponse.capabilities(f));
        assertEquals(0x04, HandshakeResponse.mariadbCapabilities(f));
        assertEquals("root", HandshakeResponse.userName(f));
        assertArrayEquals(new byte[] {(byte) 0xEE, (byte) 0xEE}, new byte[] {f.getByte(0), f.getByte(1)});
        assertEquals(1, f.getUnsignedByte(2 + 3), "sequence id untouched");
    }
}
