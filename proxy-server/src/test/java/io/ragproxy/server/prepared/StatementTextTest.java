package io.ragproxy.server.prepared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.wire.ColumnType;
import io.ragproxy.server.wire.ParameterValue;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Placeholders found outside strings and comments, values bound as literals that read the same in every sql_mode. */
class StatementTextTest {

    @Test
    void placeholdersInStringsAndCommentsAreText() {
        StatementText t = StatementText.of("SELECT GENERATE(?), '?', `?` /* ? */ FROM t WHERE a = ? -- ?\n");
        assertEquals(2, t.parameterCount());
        assertEquals("SELECT GENERATE('x'), '?', `?` /* ? */ FROM t WHERE a = 5 -- ?\n",
                t.bind(List.of("'x'", "5")));
        assertThrows(IllegalArgumentException.class, () -> t.bind(List.of("1")));
        assertThrows(ProxyException.class, () -> StatementText.of("SELECT GENERATE('unterminated)"));
    }

    @Test
    void anInsertWithOneValuesRowRepeatsIt() {
        StatementText t = StatementText.of("INSERT INTO d (id, v) VALUES (?, EMBED(?)) ON DUPLICATE KEY UPDATE v = 1");
        assertTrue(t.hasOneValuesRow());
        assertEquals("INSERT INTO d (id, v) VALUES (1, EMBED('a')), (2, EMBED(NULL)) ON DUPLICATE KEY UPDATE v = 1",
                t.bindRows(List.of(List.of("1", "'a'"), List.of("2", "NULL"))));
        assertFalse(StatementText.of("INSERT INTO d VALUES (1, EMBED('a')) ON DUPLICATE KEY UPDATE v = ?")
                .hasOneValuesRow());
        assertFalse(StatementText.of("SELECT EMBED(?)").hasOneValuesRow());
    }

    @Test
    void literalsReadTheSameUnderEverySqlMode() {
        assertEquals("'it''s'", ParameterLiterals.of(new ParameterValue.Bytes("it's".getBytes(), ColumnType.STRING)));
        assertEquals("CONVERT(X'615c' USING utf8mb4)",
                ParameterLiterals.of(new ParameterValue.Bytes("a\\".getBytes(), ColumnType.VAR_STRING)));
        assertEquals("X'ff00'", ParameterLiterals.of(new ParameterValue.Bytes(new byte[] {-1, 0}, ColumnType.BLOB)));
        assertEquals("-12.5", ParameterLiterals.of(new ParameterValue.Bytes("-12.5".getBytes(), ColumnType.NEWDECIMAL)));
        assertEquals("NULL", ParameterLiterals.of(ParameterValue.NULL));
        assertEquals("DEFAULT", ParameterLiterals.of(ParameterValue.DEFAULT));
        assertEquals("42", ParameterLiterals.of(new ParameterValue.Integer(BigInteger.valueOf(42))));
        assertEquals("'2024-01-02'", ParameterLiterals.of(new ParameterValue.Temporal("2024-01-02")));
        ProxyException nan = assertThrows(ProxyException.class,
                () -> ParameterLiterals.of(new ParameterValue.Real(Double.NaN)));
        assertEquals(1210, nan.code());
        assertThrows(ProxyException.class, () -> ParameterLiterals.of(
                new ParameterValue.Bytes("1; DROP".getBytes(), ColumnType.DECIMAL)));
    }
}
