package io.ragproxy.server.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ClientCharsetTest {

    @Test
    void latin1IsCp1252WithTheServersFiveExtraBytes() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        String text = ClientCharset.LATIN1.decodeStatement(all);
        assertEquals('\u20AC', text.charAt(0x80)); // €
        assertEquals('\u0081', text.charAt(0x81));
        assertEquals('\u009D', text.charAt(0x9D));
        assertEquals('é', text.charAt(0xE9));
        assertArrayEquals(all, ClientCharset.LATIN1.encodeStatement(text)); // every byte back as it came
    }

    @Test
    void charactersASetLacksBecomeQuestionMarksAsTheServerWritesThem() {
        assertArrayEquals("caf\u00e9 ?".getBytes(StandardCharsets.ISO_8859_1),
                ClientCharset.LATIN1.encodeValue("café \uD83D\uDE00"));
        assertEquals("café ?", new String(ClientCharset.UTF8MB3.encodeValue("café \uD83D\uDE00"), StandardCharsets.UTF_8));
        assertEquals("café \uD83D\uDE00",
                new String(ClientCharset.UTF8MB4.encodeValue("café \uD83D\uDE00"), StandardCharsets.UTF_8));
        assertFalse(ClientCharset.LATIN1.canEncode("\uD83D\uDE00"));
        assertTrue(ClientCharset.LATIN1.canEncode("café naïve €"));
    }

    @Test
    void binaryStatementsComeBackByteForByteAndTheirValuesReadAsUtf8() {
        byte[] sql = "SELECT 'café', X'ff00'".getBytes(StandardCharsets.UTF_8);
        sql[sql.length - 3] = (byte) 0xFF;
        String decoded = ClientCharset.BINARY.decodeStatement(sql);
        assertArrayEquals(sql, ClientCharset.BINARY.encodeStatement(decoded));
        byte[] value = "naïve\0".getBytes(StandardCharsets.UTF_8);
        assertEquals("naïve\0", ClientCharset.BINARY.decodeValue(value, 0, value.length));
        assertEquals(45, ClientCharset.BINARY.resultCollationId());
    }

    @Test
    void collationIdsNameTheirSets() {
        assertEquals(ClientCharset.LATIN1, ClientCharset.ofCollation(8));
        assertEquals(ClientCharset.LATIN1, ClientCharset.ofCollation(47));
        assertEquals(ClientCharset.BINARY, ClientCharset.ofCollation(63));
        assertEquals(ClientCharset.UTF8MB4, ClientCharset.ofCollation(2304)); // utf8mb4_uca1400_ai_ci
        assertEquals(ClientCharset.UTF8MB3, ClientCharset.named("utf8"));
        assertNull(ClientCharset.named("sjis"));
    }

    @Test
    void aSessionInASetRagproxyDoesNotHandleIsRefusedWithWhatToDo() {
        SessionText sjis = new SessionText("sjis", "sjis", SqlMode.DEFAULT);
        assertFalse(sjis.supported());
        ProxyException e = assertThrows(ProxyException.class, sjis::client);
        assertEquals(7040, e.code());
        assertTrue(e.getMessage().contains("SET NAMES utf8mb4"), e.getMessage());
        assertEquals(ClientCharset.BINARY, new SessionText("latin1", null, SqlMode.DEFAULT).results());
    }

    @Test
    void sqlModeFlags() {
        assertEquals(SqlMode.DEFAULT, SqlMode.parse("STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"));
        assertEquals(new SqlMode(true, false), SqlMode.parse("strict_trans_tables,no_backslash_escapes"));
        assertEquals(new SqlMode(false, true), SqlMode.parse("PIPES_AS_CONCAT,ANSI_QUOTES"));
        assertEquals(new SqlMode(false, true), SqlMode.parse("ANSI"));
    }
}
