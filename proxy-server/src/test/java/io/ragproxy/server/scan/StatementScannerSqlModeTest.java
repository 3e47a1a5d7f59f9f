package io.ragproxy.server.scan;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ragproxy.server.text.SqlMode;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The scan reads strings and {@code "…"} as the session's sql_mode does, and in every mode when it is not known. */
class StatementScannerSqlModeTest {

    static final SqlMode NO_BACKSLASH_ESCAPES = new SqlMode(true, false);
    static final SqlMode ANSI_QUOTES = new SqlMode(false, true);
    static final SqlMode BOTH = new SqlMode(true, true);
    /** The session's mode is not known. */
    static final SqlMode UNKNOWN = null;

    static final StatementScanner SCANNER = new StatementScanner(StatementScannerTest.CATALOG, FunctionNames.empty(),
            FunctionNames.of("notes"));

    static ScanResult scan(String sql, SqlMode mode) {
        byte[] bytes = sql.getBytes(UTF_8);
        return SCANNER.scan(bytes, 0, bytes.length, mode);
    }

    static void assertCall(String sql, SqlMode mode, String name) {
        ScanResult result = scan(sql, mode);
        assertEquals(ScanResult.Kind.FUNCTION_CALL, result.kind(), sql + " in " + mode);
        assertEquals(name, result.name(), sql + " in " + mode);
    }

    static void assertPlain(String sql, SqlMode mode) {
        assertSame(ScanResult.PLAIN, scan(sql, mode), sql + " in " + mode);
    }

    @Test
    void aLiteralEndingInABackslashEndsThereUnderNoBackslashEscapes() {
        String sql = "SELECT 'C:\\', GENERATE('x')";
        assertPlain(sql, SqlMode.DEFAULT); // the default reading: 'C:\', GENERATE(' is one string
        assertCall(sql, NO_BACKSLASH_ESCAPES, "generate");
        assertCall(sql, BOTH, "generate");
        assertCall(sql, UNKNOWN, "generate");
        assertEquals(sql.indexOf("GENERATE"), scan(sql, NO_BACKSLASH_ESCAPES).offset());
    }

    @Test
    void aBackslashQuoteIsNoEscapeUnderNoBackslashEscapes() {
        // Default: 'a\'b' is one string, then a call. NO_BACKSLASH_ESCAPES: 'a\' b ', embed(1) ' — all strings.
        String sql = "SELECT 'a\\'b', embed(1) '";
        assertCall(sql, SqlMode.DEFAULT, "embed");
        assertPlain(sql, NO_BACKSLASH_ESCAPES);
        assertCall(sql, UNKNOWN, "embed"); // a hit in any mode is a hit
    }

    @Test
    void doubleQuotesAreIdentifiersWithoutEscapesUnderAnsiQuotes() {
        String sql = "SELECT \"a\\\", GENERATE('x')";
        assertPlain(sql, SqlMode.DEFAULT);
        assertCall(sql, ANSI_QUOTES, "generate");
        assertCall(sql, NO_BACKSLASH_ESCAPES, "generate");
        assertCall(sql, UNKNOWN, "generate");
    }

    @Test
    void aDoubleQuotedNameBeforeAParenIsNoCallInAnyMode() {
        for (SqlMode mode : new SqlMode[] {SqlMode.DEFAULT, ANSI_QUOTES, NO_BACKSLASH_ESCAPES, BOTH, UNKNOWN}) {
            assertPlain("SELECT \"generate\"('x')", mode); // a string, or a quoted identifier like `generate`
            assertPlain("SELECT \"a\"\"generate(\"", mode);
        }
    }

    @Test
    void aDoubleQuotedTableNameCountsUnderAnsiQuotes() {
        String sql = "INSERT INTO \"notes\" (body) VALUES ('x')";
        assertPlain(sql, SqlMode.DEFAULT); // the string "notes" is no table
        assertCall(sql, ANSI_QUOTES, "notes");
        assertCall(sql, UNKNOWN, "notes");
    }

    @Test
    void statementsWithoutBackslashOrDoubleQuoteReadAlikeInEveryMode() {
        for (SqlMode mode : new SqlMode[] {SqlMode.DEFAULT, ANSI_QUOTES, NO_BACKSLASH_ESCAPES, BOTH, UNKNOWN}) {
            assertPlain("SELECT 'embed(x)', a FROM t", mode);
            assertCall("SELECT 'it''s', embed('x')", mode, "embed");
        }
    }

    @Test
    void theScanWithoutAModeReadsTheDefaultMode() {
        byte[] sql = "SELECT 'C:\\', GENERATE('x')".getBytes(UTF_8);
        assertSame(ScanResult.PLAIN, SCANNER.scan(sql, 0, sql.length));
    }

    @Test
    void byteBuffersAreScannedInTheModeToo() {
        byte[] sql = "SELECT 'C:\\', GENERATE('x')".getBytes(UTF_8);
        ByteBuf direct = Unpooled.directBuffer(sql.length + 2).writeBytes("xx".getBytes(UTF_8)).writeBytes(sql);
        try {
            ScanResult result = SCANNER.scan(direct, 2, sql.length, UNKNOWN);
            assertEquals(ScanResult.Kind.FUNCTION_CALL, result.kind());
            assertEquals(2 + "SELECT 'C:\\', ".length(), result.offset());
            assertSame(ScanResult.PLAIN, SCANNER.scan(direct, 2, sql.length, SqlMode.DEFAULT));
        } finally {
            direct.release();
        }
    }

    @Test
    void plainScansInAnUnknownModeAllocateNothing() {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean)
                || !bean.isThreadAllocatedMemorySupported() || !bean.isThreadAllocatedMemoryEnabled()) {
            return;
        }
        byte[] sql = "SELECT \"a\\\"b\", 'c\\'d' FROM docs WHERE path = 'C:\\\\' -- embed(\n".getBytes(UTF_8);
        int iterations = 20_000;
        long before = bean.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < iterations; i++) {
            if (!SCANNER.scan(sql, 0, sql.length, UNKNOWN).isPlain()) {
                throw new AssertionError("hit");
            }
        }
        long allocated = bean.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < iterations, "allocated " + allocated + " bytes");
    }
}
