package io.ragproxy.server.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.protocol.Commands;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyWarningsTest {

    @Test
    void recognisesTheStatementsThatReadWarnings() {
        ProxyWarnings.Read all = ProxyWarnings.reader("SHOW WARNINGS");
        assertEquals(ProxyWarnings.Kind.LIST, all.kind());
        assertEquals(0, all.offset());
        assertEquals(Long.MAX_VALUE, all.limit());
        ProxyWarnings.Read some = ProxyWarnings.reader("  show   warnings limit 5 ;");
        assertEquals(5, some.limit());
        ProxyWarnings.Read page = ProxyWarnings.reader("SHOW WARNINGS LIMIT 2, 3");
        assertEquals(2, page.offset());
        assertEquals(3, page.limit());
        ProxyWarnings.Read count = ProxyWarnings.reader("SHOW COUNT(*) WARNINGS");
        assertEquals(ProxyWarnings.Kind.COUNT, count.kind());
        assertEquals("@@session.warning_count", count.label());
        assertEquals("@@warning_count", ProxyWarnings.reader("select @@warning_count").label());
        assertEquals("@@session.warning_count", ProxyWarnings.reader("SELECT @@session.warning_count;").label());
    }

    @Test
    void otherStatementsAreNotReaders() {
        for (String sql : List.of("SHOW ERRORS", "SELECT 1", "SHOW WARNINGS; SELECT 1", "SELECT @@warning_count, 1",
                "SHOW COUNT(*) ERRORS", "SHOW WARNINGS LIMIT x", "SELECT @@global.warning_count")) {
            assertNull(ProxyWarnings.reader(sql), sql);
        }
        assertNull(ProxyWarnings.reader("SHOW WARNINGS" + " ".repeat(ProxyWarnings.MAX_READER_LENGTH)));
    }

    @Test
    void statementsClearThemPingsDoNot() {
        assertTrue(ProxyWarnings.clearedBy(Commands.COM_STMT_EXECUTE));
        assertTrue(ProxyWarnings.clearedBy(Commands.COM_INIT_DB));
        assertFalse(ProxyWarnings.clearedBy(Commands.COM_PING));
        assertFalse(ProxyWarnings.clearedBy(Commands.COM_STMT_CLOSE));
    }

    @Test
    void listsAtMost64AndCountsThemAll() {
        ProxyWarnings w = new ProxyWarnings();
        assertTrue(w.isEmpty());
        for (int i = 0; i < 100; i++) {
            w.add(7104, "failed " + i);
        }
        assertEquals(100, w.count());
        List<List<String>> rows = w.rows();
        assertEquals(ProxyWarnings.MAX_LISTED, rows.size());
        assertEquals(List.of("Warning", "7104", "failed 0"), rows.get(0));
        assertEquals(List.of("Warning", "7104", "failed 62"), rows.get(62));
        assertTrue(rows.get(63).get(2).contains("37 more"), rows.get(63).toString());
    }

    @Test
    void exactly64AreAllListed() {
        ProxyWarnings w = new ProxyWarnings();
        for (int i = 0; i < ProxyWarnings.MAX_LISTED; i++) {
            w.add(7100, "m" + i);
        }
        assertEquals(List.of("Warning", "7100", "m63"), w.rows().get(63));
    }
}
