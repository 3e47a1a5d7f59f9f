package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.time.Duration;
import net.sf.jsqlparser.JSQLParserException;
import org.junit.jupiter.api.Test;

class BoundedParserTest {

    @Test
    void parsesOnTheCallingThread() throws Exception {
        try (BoundedParser parser = new BoundedParser(Duration.ofSeconds(30))) {
            assertNotNull(parser.parse("SELECT EMBED('a') FROM t WHERE (a = 1 AND (b = 2 OR c = 3))"));
        }
    }

    @Test
    void unbalancedParenthesesFailWithoutTheSlowComplexParse() {
        // JSqlParser's own entry point retries this with its complex parse and runs into its timeout.
        try (BoundedParser parser = new BoundedParser(Duration.ofSeconds(30))) {
            assertThrows(JSQLParserException.class, () -> parser.parse("SELECT " + "(".repeat(9) + "1"));
        }
    }

    @Test
    void theDeadlineStopsTheParser() {
        // Balanced, shallow enough for the complex parse, and slow in it.
        String slow = "SELECT " + "(".repeat(10) + "1 +" + ")".repeat(10);
        try (BoundedParser parser = new BoundedParser(Duration.ofMillis(50))) {
            ProxyException e = assertThrows(ProxyException.class, () -> parser.parse(slow));
            assertEquals(ProxyError.PARSE_TIMEOUT.code(), e.code());
            assertTrue(e.getMessage().contains("proxy.parse_timeout_ms"), e.getMessage());
        }
    }

    @Test
    void tooDeepIsRefusedBeforeParsing() {
        try (BoundedParser parser = new BoundedParser(Duration.ofSeconds(30))) {
            ProxyException e = assertThrows(ProxyException.class,
                    () -> parser.parse("SELECT " + "EMBED(".repeat(200) + "'x'"));
            assertEquals(ProxyError.STATEMENT_TOO_DEEP.code(), e.code());
        }
    }

    @Test
    void aLongStatementsFastParseGetsTheTimeoutPerSixteenKilobytes() {
        try (BoundedParser parser = new BoundedParser(Duration.ofMillis(2000))) {
            long timeout = Duration.ofMillis(2000).toNanos();
            assertEquals(timeout, parser.fastParseBudget(10));
            assertEquals(timeout, parser.fastParseBudget(BoundedParser.FAST_PARSE_UNIT));
            assertEquals(2 * timeout, parser.fastParseBudget(BoundedParser.FAST_PARSE_UNIT + 1));
            // A MariaDB bulk batch of 1,000 rows of an AI INSERT, bound into one statement: about 50 KB.
            assertEquals(4 * timeout, parser.fastParseBudget(50_000));
        }
    }
}
