package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.expression.Expression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConstantValuesTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;


    static Expression arg(String literal) {
        return StatementAnalysis.parse("SELECT EMBED(" + literal + ")", PARSER).calls().get(0).text();
    }

    @Test
    void unescapesMysqlEscapes() {
        assertEquals("it's", ConstantValues.unescape("it''s"));
        assertEquals("it's", ConstantValues.unescape("it\\'s"));
        assertEquals("a\\b", ConstantValues.unescape("a\\\\b"));
        assertEquals("a\nb\rc\td", ConstantValues.unescape("a\\nb\\rc\\td"));
        assertEquals("nul\0end", ConstantValues.unescape("nul\\0end"));
        assertEquals("\b\u001A", ConstantValues.unescape("\\b\\Z"));
        assertEquals("say \"hi\"", ConstantValues.unescape("say \\\"hi\\\""));
        assertEquals("\\%\\_", ConstantValues.unescape("\\%\\_"), "\\% and \\_ keep their backslash");
        assertEquals("x", ConstantValues.unescape("\\x"), "unknown escapes drop the backslash");
        assertEquals("trailing\\", ConstantValues.unescape("trailing\\"));
        assertEquals("", ConstantValues.unescape(""));
    }

    @Test
    void literalValues() {
        assertEquals("it's", ConstantValues.literal(arg("'it''s'")));
        assertEquals("a\\c\nd", ConstantValues.literal(arg("'a\\\\c\\nd'")));
        assertEquals("42", ConstantValues.literal(arg("42")));
        assertEquals("-5", ConstantValues.literal(arg("-5")));
        assertEquals("1.50", ConstantValues.literal(arg("1.50")));
        assertEquals("-2.5", ConstantValues.literal(arg("-2.5")));
        assertNull(ConstantValues.literal(arg("NULL")));
        assertEquals("double quoted", ConstantValues.literal(arg("\"double quoted\"")));
        assertEquals("say \"hi\"", ConstantValues.literal(arg("\"say \"\"hi\"\"\"")));
        assertEquals("中文", ConstantValues.literal(arg("'中文'")));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"@q", "CONCAT('a', 'b')", "X'4142'", "1 + 1", "`col`", "t.c", "(SELECT 1)"})
    void nonLiterals(String expr) {
        assertSame(ConstantValues.NOT_LITERAL, ConstantValues.literal(arg(expr)));
    }

    private static final Pattern HEX = Pattern.compile("_utf8mb4 X'([0-9a-f]*)'");

    /** Reads quote()'s output back the way MySQL would. */
    static String readBack(String literal) {
        Matcher m = HEX.matcher(literal);
        if (m.matches()) {
            return new String(HexFormat.of().parseHex(m.group(1)), StandardCharsets.UTF_8);
        }
        Object v = ConstantValues.literal(arg(literal));
        return (String) v;
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "it's", "''", "back\\slash", "nul\0byte", "中文：什么是 TiDB？", "emoji 🚀👍🏽",
        "mixed ' \\ \0 中 🚀", "new\nline\ttab", "", "\"double\"", "\\'", "'\\"})
    void quoteRoundTrips(String text) {
        String q = ConstantValues.quote(text);
        assertEquals(text, readBack(q), q);
        if (text.chars().anyMatch(c -> c == '\\' || c == 0 || c >= 0x80)) {
            assertTrue(HEX.matcher(q).matches(), "backslash/NUL/non-ASCII text must be written as a hex literal: " + q);
        } else {
            assertTrue(q.startsWith("'") && q.endsWith("'"), q);
        }
    }

    @Test
    void quoteDoublesQuotes() {
        assertEquals("'it''s'", ConstantValues.quote("it's"));
        assertEquals("''", ConstantValues.quote(""));
        assertEquals("_utf8mb4 X'615c62'", ConstantValues.quote("a\\b"));
        assertEquals("_utf8mb4 X'6100'", ConstantValues.quote("a\0"));
    }
}
