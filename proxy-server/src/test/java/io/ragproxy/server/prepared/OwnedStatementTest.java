package io.ragproxy.server.prepared;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Long data kept for an owned statement's next execute: joined per parameter, and never more than the limit. */
class OwnedStatementTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void chunksJoinPerParameterUntilTheExecute() {
        OwnedStatement s = new OwnedStatement(1, StatementText.of("SELECT GENERATE(?), ?"));
        assertNull(s.longData());
        assertTrue(s.appendLongData(1, bytes("ab"), 100));
        assertTrue(s.appendLongData(1, bytes("cd"), 100));
        assertFalse(s.appendLongData(2, bytes("x"), 100), "no third parameter");
        byte[][] data = s.longData();
        assertNull(data[0]);
        assertArrayEquals(bytes("abcd"), data[1]);
        assertEquals(4, s.longDataBytes());
        s.clearLongData();
        assertNull(s.longData());
        assertEquals(0, s.longDataBytes());
    }

    @Test
    void longDataOverTheLimitIsDroppedAndRememberedUntilTheExecute() {
        OwnedStatement s = new OwnedStatement(1, StatementText.of("SELECT GENERATE(?), ?"));
        assertTrue(s.appendLongData(0, new byte[6], 10));
        assertFalse(s.longDataTooLarge());
        assertTrue(s.appendLongData(1, new byte[5], 10));
        assertTrue(s.longDataTooLarge(), "11 bytes over a limit of 10");
        assertNull(s.longData(), "nothing is kept");
        assertTrue(s.appendLongData(1, new byte[5], 10));
        assertNull(s.longData(), "later chunks are dropped too");
        assertEquals(11, s.longDataBytes());
        s.clearLongData();
        assertFalse(s.longDataTooLarge(), "the next execute starts afresh");
        assertTrue(s.appendLongData(0, new byte[10], 10));
        assertArrayEquals(new byte[10], s.longData()[0]);
    }
}
