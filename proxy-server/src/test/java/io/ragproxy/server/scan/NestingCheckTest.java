package io.ragproxy.server.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import org.junit.jupiter.api.Test;

class NestingCheckTest {

    @Test
    void measuresDepthAndBalance() {
        NestingCheck.Nesting n = NestingCheck.check("SELECT EMBED(CONCAT('a', (1 + 2))) FROM t WHERE (x IN (1, 2))");
        assertEquals(3, n.depth());
        assertTrue(n.balanced());
        assertFalse(NestingCheck.check("SELECT EMBED(EMBED('a')").balanced());
        assertFalse(NestingCheck.check("SELECT EMBED('a'))").balanced());
    }

    @Test
    void parenthesesInStringsIdentifiersAndCommentsDoNotCount() {
        NestingCheck.Nesting n = NestingCheck.check("SELECT EMBED('((((', `a(b`, \"))\") /* ((( */ -- (((\n# ((\n");
        assertEquals(1, n.depth());
        assertTrue(n.balanced());
    }

    @Test
    void refusesMoreThanTheLimit() {
        String ok = "SELECT " + "(".repeat(NestingCheck.MAX_DEPTH) + "1" + ")".repeat(NestingCheck.MAX_DEPTH);
        assertEquals(NestingCheck.MAX_DEPTH, NestingCheck.check(ok).depth());
        String deep = "SELECT " + "EMBED(".repeat(200) + "'x'";
        ProxyException e = assertThrows(ProxyException.class, () -> NestingCheck.check(deep));
        assertEquals(ProxyError.STATEMENT_TOO_DEEP.code(), e.code());
        assertEquals("54001", e.sqlState());
        assertTrue(e.getMessage().contains("more than 64 deep"), e.getMessage());
    }

    @Test
    void anUnterminatedStringIsAParseError() {
        ProxyException e = assertThrows(ProxyException.class, () -> NestingCheck.check("SELECT EMBED((('x"));
        assertEquals(ProxyError.PARSE_ERROR.code(), e.code());
    }
}
