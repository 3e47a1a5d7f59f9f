package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.text.SqlMode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NeutralSqlTest {
    private static final SessionText NBE = new SessionText("utf8mb4", "utf8mb4", new SqlMode(true, false));
    private static final SessionText ANSI = new SessionText("utf8mb4", "utf8mb4", new SqlMode(false, true));

    @Test
    void theDefaultSessionsStatementIsReturnedAsItIs() {
        String sql = "SELECT 'C:\\new', GENERATE(\"x\")";
        assertSame(sql, NeutralSql.of(sql, SessionText.DEFAULT));
    }

    @Test
    void underNoBackslashEscapesALiteralWithABackslashBecomesTheHexOfItsBytes() {
        assertEquals("SELECT CONVERT(X'433a5c6e6577' USING utf8mb4), GENERATE(CONVERT(X'433a5c' USING utf8mb4))",
                NeutralSql.of("SELECT 'C:\\new', GENERATE('C:\\')", NBE));
        assertEquals("SELECT CONVERT(X'5c' USING latin1), 'plain'", NeutralSql.of("SELECT _latin1'\\', 'plain'", NBE));
    }

    @Test
    void underAnsiQuotesADoubleQuotedNameIsBackquoted() {
        assertEquals("SELECT GENERATE(`c`), 'a\"b', `x``y`", NeutralSql.of("SELECT GENERATE(\"c\"), 'a\"b', \"x`y\"", ANSI));
    }

    @Test
    void inABinarySessionLiteralsAboveAsciiKeepTheirBytes() {
        SessionText binary = new SessionText("binary", "binary", SqlMode.DEFAULT);
        String sql = new String("SELECT GENERATE('café')".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        assertEquals("SELECT GENERATE(X'636166c3a9')", NeutralSql.of(sql, binary));
    }

    @Test
    void theLexerReadsLiteralsAsTheSessionsModeSays() {
        List<SqlLexer.Token> nbe = SqlLexer.tokenize("'C:\\' \"q\"", new SqlMode(true, true));
        assertEquals(SqlLexer.Type.STRING, nbe.get(0).type());
        assertEquals("C:\\", nbe.get(0).text());
        assertEquals(SqlLexer.Type.QUOTED_IDENT, nbe.get(1).type());
        assertEquals("C:\n", SqlLexer.tokenize("'C:\\n'").get(0).text());
    }

    @Test
    void theParserTakesTheNeutralSpelling() {
        StatementAnalysis a;
        try (BoundedParser parser = new BoundedParser(java.time.Duration.ofSeconds(30))) {
            a = StatementAnalysis.parse(NeutralSql.of("SELECT GENERATE('C:\\new') FROM t", NBE), parser);
        }
        assertEquals(1, a.calls().size());
        assertEquals(ConstantValues.NOT_LITERAL, ConstantValues.literal(a.calls().get(0).text()));
    }
}
