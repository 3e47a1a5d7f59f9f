package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.RawMysqlClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sessions that are not utf8mb4 or not in the default sql_mode, through the proxy with the Bedrock emulator (whose
 * text model answers {@code echo: } + the prompt): the model gets the text the client meant, the stored value is
 * that answer, and the client gets it in its own character set; under NO_BACKSLASH_ESCAPES and ANSI_QUOTES the
 * model's input is what the backend reads in the same literal.
 */
class SessionTextTest {
    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld("ragproxy_it_session_text");

    private static final String TEXT = "café naïve";
    private static final Charset CP1252 = Charset.forName("windows-1252");

    @BeforeAll
    static void tables() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "CREATE TABLE src (id INT PRIMARY KEY, txt TEXT, gen TEXT) CHARSET utf8mb4");
            exec(c, "INSERT INTO src VALUES (1, 'café naïve', NULL), (2, 'naïve café', NULL), (3, 'a\\0b', NULL)");
            exec(c, "CREATE TABLE out_rows (id INT, body TEXT) CHARSET utf8mb4");
        }
    }

    @BeforeEach
    void quiet() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        WORLD.emulator().clearRequests();
    }

    private static Connection latin1() throws Exception {
        Connection c = Driver.MYSQL_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), WORLD.database(),
                LocalBackend.USER, LocalBackend.PASSWORD, false, "characterEncoding=Cp1252");
        assertEquals("latin1", scalar(c, "SELECT @@character_set_client"));
        return c;
    }

    /** Whether a model request carried exactly {@code text} as a message's text. */
    private static boolean modelGot(String text) {
        return WORLD.emulator().requests().stream().anyMatch(r -> {
            for (JsonNode t : r.json().findValues("text")) {
                if (t.asText().equals(text)) {
                    return true;
                }
            }
            return false;
        });
    }

    @Test
    void latin1SessionLiteralPlanSendsTheTextAndStoresTheAnswer() throws Exception {
        try (Connection c = latin1()) {
            List<List<String>> r = rows(c, "SELECT 'café naïve', GENERATE('café naïve'), GENERATE('a\\0b')");
            assertEquals(List.of(TEXT, "echo: " + TEXT, "echo: a\0b"), r.get(0));
            // The emulator echoes its input: the answers show the model got the text (NUL included).
            exec(c, "DELETE FROM out_rows");
            exec(c, "INSERT INTO out_rows SELECT 1, GENERATE('café naïve')");
        }
        try (Connection utf8 = WORLD.proxy().connect(WORLD.database())) {
            assertEquals("echo: " + TEXT, scalar(utf8, "SELECT body FROM out_rows WHERE id = 1"), "stored as text");
        }
    }

    @Test
    void latin1SessionMaterializedStreamedAndBackfillPlans() throws Exception {
        try (Connection c = latin1()) {
            // materialized: a WHERE over a column, and INSERT … SELECT
            assertEquals(List.of(List.of("1")), rows(c, "SELECT id FROM src WHERE GENERATE(txt) = 'echo: café naïve'"));
            exec(c, "DELETE FROM out_rows");
            exec(c, "INSERT INTO out_rows SELECT id, GENERATE(txt) FROM src");
            assertEquals(List.of(List.of("1", "echo: " + TEXT), List.of("2", "echo: naïve café"),
                    List.of("3", "echo: a\0b")), rows(c, "SELECT id, body FROM out_rows ORDER BY id"));
            // streamed: the answers reach the latin1 client in latin1
            assertEquals(List.of(List.of("1", "echo: " + TEXT), List.of("2", "echo: naïve café"),
                    List.of("3", "echo: a\0b")), rows(c, "SELECT id, GENERATE(txt) FROM src ORDER BY id"));
        }
        // backfill, in a raw latin1 session (MySQL Connector/J misreads the backfill's composed OK packet; see the
        // branch notes)
        try (RawMysqlClient raw = rawLogin()) {
            raw.queryFirstValue("SET NAMES latin1");
            assertEquals("OK", raw.queryFirstValue("UPDATE src SET gen = GENERATE(txt)"));
        }
        try (Connection utf8 = WORLD.proxy().connect(WORLD.database())) {
            assertEquals(List.of(List.of("echo: " + TEXT), List.of("echo: naïve café"), List.of("echo: a\0b")),
                    rows(utf8, "SELECT gen FROM src ORDER BY id"));
            assertEquals("echo: " + TEXT, scalar(utf8, "SELECT body FROM out_rows WHERE id = 1"));
        }
    }

    @Test
    void latin1AndBinaryResultsAreTheBytesOfTheClientsSet() throws Exception {
        try (RawMysqlClient raw = rawLogin()) {
            raw.queryFirstValue("SET NAMES latin1");
            List<byte[]> row = firstRow(raw, "SELECT GENERATE('café naïve'), id, GENERATE(txt) FROM src WHERE id = 1"
                    .getBytes(CP1252));
            assertArrayEquals(("echo: " + TEXT).getBytes(CP1252), row.get(0), "literal plan, latin1 bytes");
            assertArrayEquals(("echo: " + TEXT).getBytes(CP1252), row.get(2), "streamed plan, latin1 bytes");

            raw.queryFirstValue("SET NAMES binary");
            String emoji = "café \uD83D\uDE00 naïve";
            row = firstRow(raw, ("SELECT GENERATE('" + emoji + "'), id, GENERATE(txt) FROM src WHERE id = 1")
                    .getBytes(StandardCharsets.UTF_8));
            assertArrayEquals(("echo: " + emoji).getBytes(StandardCharsets.UTF_8), row.get(0), "binary: UTF-8 bytes");
            assertArrayEquals(("echo: " + TEXT).getBytes(StandardCharsets.UTF_8), row.get(2));
            assertTrue(modelGot(emoji), "the binary session's text reached the model as UTF-8");
            assertEquals("OK", raw.queryFirstValue(("INSERT INTO out_rows SELECT 9, GENERATE('" + emoji + "')"))
                    .substring(0, 2));
        }
        try (Connection utf8 = WORLD.proxy().connect(WORLD.database())) {
            assertEquals("echo: café \uD83D\uDE00 naïve", scalar(utf8, "SELECT body FROM out_rows WHERE id = 9"));
        }
    }

    @Test
    void noBackslashEscapesModelInputIsTheBackendsReadingOfTheLiteral() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
            List<String> r = rows(c, "SELECT 'C:\\new', GENERATE('C:\\new')").get(0);
            assertEquals("C:\\new", r.get(0));
            assertEquals("echo: " + r.get(0), r.get(1));
            assertTrue(modelGot("C:\\new"), WORLD.emulator().requests().toString());
            exec(c, "SET sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
            r = rows(c, "SELECT 'C:\\new', GENERATE('C:\\new')").get(0);
            assertEquals("C:\new", r.get(0), "the default mode reads the escape again");
            assertEquals("echo: C:\new", r.get(1));
        }
    }

    @Test
    void anAiCallAfterALiteralEndingInABackslashIsFoundUnderNoBackslashEscapes() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
            // Just after the SET the proxy has not read the mode yet; after an AI statement it has.
            for (int i = 0; i < 2; i++) {
                assertEquals(List.of(List.of("C:\\", "echo: after C:")),
                        rows(c, "SELECT 'C:\\', GENERATE('after C:')"));
            }
            assertTrue(modelGot("after C:"), WORLD.emulator().requests().toString());
        }
    }

    @Test
    void anAiCallAfterADoubleQuotedNameEndingInABackslashIsFoundUnderAnsiQuotes() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "SET SESSION sql_mode = 'ANSI_QUOTES'");
            for (int i = 0; i < 2; i++) {
                assertEquals(List.of(List.of("1", "echo: y")), rows(c, "SELECT 1 AS \"a\\\", GENERATE('y')"));
            }
        }
    }

    @Test
    void aSetNamesRunAsAServerPreparedStatementIsFollowed() throws Exception {
        try (RawMysqlClient raw = rawLogin()) {
            assertEquals("echo: warm", raw.queryFirstValue("SELECT GENERATE('warm')")); // the session's sets are read
            byte[] prepareOk = raw.command(0x16, "SET NAMES latin1"); // COM_STMT_PREPARE: no columns, no parameters
            assertEquals(0, prepareOk[0], RawMysqlClient.describe(prepareOk));
            byte[] execute = {prepareOk[1], prepareOk[2], prepareOk[3], prepareOk[4], 0, 1, 0, 0, 0};
            byte[] ok = raw.command(0x17, execute); // COM_STMT_EXECUTE
            assertEquals(0, ok[0], RawMysqlClient.describe(ok));
            // The UTF-8 bytes of 'é' now read as latin1 'Ã©', for the backend and so for the model.
            String answer = raw.queryFirstValue("SELECT GENERATE('é')");
            assertTrue(answer.startsWith("echo: "), answer);
            assertTrue(modelGot("\u00c3\u00a9"), WORLD.emulator().requests().toString());
        }
    }

    @Test
    void aStatementWithAnAiCallOnlyInAnotherSqlModeGoesToTheBackendAsWritten() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            // The default mode reads one string; under NO_BACKSLASH_ESCAPES it would call GENERATE. The proxy does
            // not know the session's mode yet, so it reads it before deciding: no model call.
            assertEquals(List.of(List.of("a', GENERATE(1), ")), rows(c, "SELECT 'a\\', GENERATE(1), '"));
            assertEquals(0, WORLD.emulator().requests().size(), WORLD.emulator().requests().toString());
        }
    }

    @Test
    void ansiQuotesDoubleQuotesNameAColumn() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "SET SESSION sql_mode = 'ANSI_QUOTES'");
            assertEquals(List.of(List.of("echo: " + TEXT)), rows(c, "SELECT GENERATE(\"txt\") FROM src WHERE id = 1"));
            exec(c, "SET SESSION sql_mode = DEFAULT");
            assertEquals(List.of(List.of("echo: txt")), rows(c, "SELECT GENERATE(\"txt\") FROM src WHERE id = 1"));
        }
    }

    @Test
    void aCharacterSetRagproxyDoesNotHandleIsRefusedAndTheConnectionStaysUsable() throws Exception {
        try (RawMysqlClient raw = rawLogin()) { // Connector/J closes a connection whose set is not UTF-8
            raw.queryFirstValue("SET character_set_client = sjis");
            String error = raw.queryFirstValue("SELECT GENERATE('x')");
            assertTrue(error.contains("7040") && error.contains("SET NAMES utf8mb4"), error);
            raw.queryFirstValue("SET NAMES utf8mb4");
            assertEquals("echo: x", raw.queryFirstValue("SELECT GENERATE('x')"));
        }
    }

    private static RawMysqlClient rawLogin() throws IOException {
        return RawMysqlClient.login(WORLD.proxy().host(), WORLD.proxy().port(), LocalBackend.USER,
                LocalBackend.PASSWORD, WORLD.database());
    }

    /** The first row's values, as bytes, of a text-protocol result set (no DEPRECATE_EOF). */
    private static List<byte[]> firstRow(RawMysqlClient raw, byte[] sql) throws IOException {
        byte[] first = raw.command(RawMysqlClient.COM_QUERY, sql);
        if ((first[0] & 0xFF) == 0xFF) {
            throw new AssertionError(RawMysqlClient.describe(first));
        }
        int columns = first[0] & 0xFF;
        for (int i = 0; i <= columns; i++) {
            raw.readPacket(); // definitions and their EOF
        }
        List<byte[]> values = null;
        while (true) {
            byte[] row = raw.readPacket();
            if ((row[0] & 0xFF) == 0xFE && row.length < 9) {
                return values;
            }
            if ((row[0] & 0xFF) == 0xFF) {
                throw new AssertionError(RawMysqlClient.describe(row));
            }
            if (values == null) {
                values = new ArrayList<>();
                int i = 0;
                while (i < row.length) {
                    int len = row[i] & 0xFF;
                    if (len == 0xFB) {
                        values.add(null);
                        i++;
                        continue;
                    }
                    ByteArrayOutputStream v = new ByteArrayOutputStream();
                    v.write(row, i + 1, len); // short values: one-byte lengths
                    values.add(v.toByteArray());
                    i += 1 + len;
                }
            }
        }
    }
}
