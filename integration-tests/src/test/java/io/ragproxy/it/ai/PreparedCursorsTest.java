package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cursors on AI prepared statements: a JDBC fetch size with {@code useCursorFetch=true} reads an owned statement's
 * rows through COM_STMT_FETCH, the same rows the text protocol gives, execute after execute; a plain statement's
 * cursor is still the backend's.
 */
class PreparedCursorsTest {
    private static final String DB = "ragproxy_it_ai_cursors";
    private static final String SELECT = "SELECT id, GENERATE(CONCAT('x', ?, name)) AS g FROM t ORDER BY id";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @BeforeEach
    void tenRows() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS t", "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))",
                "INSERT INTO t SELECT seq, CONCAT('name ', seq) FROM seq_1_to_10");
    }

    private static Connection cursors(Driver driver) throws SQLException {
        return WORLD.proxy().connect(driver, DB, "useServerPrepStmts=true", "useCursorFetch=true");
    }

    @Test
    void mysqlConnectorReadsAnAiStatementThroughItsCursor() throws Exception {
        try (Connection c = cursors(Driver.MYSQL_CJ);
                PreparedStatement ps = c.prepareStatement(SELECT)) {
            assertTrue(ps.getClass().getName().contains("ServerPreparedStatement"), ps.getClass().getName());
            ps.setFetchSize(3);
            for (String p : List.of("a", "b")) {
                ps.setString(1, p);
                List<List<String>> expected = rows(c, SELECT.replace("?", "'" + p + "'"));
                assertEquals(10, expected.size());
                try (ResultSet rs = ps.executeQuery()) {
                    String rowsClass = rs.unwrap(com.mysql.cj.protocol.Resultset.class).getRows().getClass()
                            .getSimpleName();
                    assertEquals("ResultsetRowsCursor", rowsClass, "the driver reads through a cursor");
                    assertEquals(expected, read(rs), "execute with '" + p + "'");
                }
            }
            // A cursor read halfway, then a new execute: the old cursor's rows do not leak into the new one.
            ps.setString(1, "c");
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertTrue(rs.next());
            }
            ps.setString(1, "a");
            try (ResultSet rs = ps.executeQuery()) {
                assertEquals(rows(c, SELECT.replace("?", "'a'")), read(rs));
            }
            assertSelect1(c);
        }
    }

    /** Statements the proxy answers in one reply, or rewrites and forwards, read through a cursor too. */
    @Test
    void composedAndForwardedResultsReadThroughACursor() throws Exception {
        try (Connection c = cursors(Driver.MYSQL_CJ)) {
            AiProxy.exec(c, "DROP TABLE IF EXISTS docs");
            AiProxy.exec(c, "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))");
            for (int i = 1; i <= 7; i++) {
                AiProxy.exec(c, "INSERT INTO docs VALUES (" + i + ", 'doc " + i + "', EMBED('doc " + i + "'))");
            }
            String search = "SELECT id, content FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(?)) LIMIT 6";
            String generate = "SELECT GENERATE(?) AS g, ? + 1 AS n";
            try (PreparedStatement ps = c.prepareStatement(search);
                    PreparedStatement one = c.prepareStatement(generate)) {
                ps.setFetchSize(2);
                ps.setString(1, "doc 3");
                try (ResultSet rs = ps.executeQuery()) {
                    assertThroughCursor(rs);
                    assertEquals(rows(c, search.replace("?", "'doc 3'")), read(rs));
                }
                one.setFetchSize(2);
                one.setString(1, "hello");
                one.setInt(2, 1);
                try (ResultSet rs = one.executeQuery()) {
                    assertThroughCursor(rs);
                    assertEquals(rows(c, "SELECT GENERATE('hello') AS g, 1 + 1 AS n"), read(rs));
                }
            }
            assertSelect1(c);
        }
    }

    @Test
    void aPlainStatementsCursorIsStillTheBackends() throws Exception {
        try (Connection c = cursors(Driver.MYSQL_CJ);
                PreparedStatement ps = c.prepareStatement("SELECT id, name FROM t WHERE id > ? ORDER BY id")) {
            ps.setFetchSize(3);
            ps.setInt(1, 0);
            long fetchesBefore = fetches(c);
            try (ResultSet rs = ps.executeQuery()) {
                assertEquals("ResultsetRowsCursor",
                        rs.unwrap(com.mysql.cj.protocol.Resultset.class).getRows().getClass().getSimpleName());
                assertEquals(rows(c, "SELECT id, name FROM t WHERE id > 0 ORDER BY id"), read(rs));
            }
            assertTrue(fetches(c) - fetchesBefore >= 4, "10 rows in fetches of 3 reach the backend");
            assertSelect1(c);
        }
    }

    /** MariaDB Connector/J reads a fetch size without COM_STMT_FETCH: the same rows either way. */
    @ParameterizedTest
    @EnumSource(Driver.class)
    void aFetchSizeGivesTheTextProtocolsRows(Driver driver) throws Exception {
        try (Connection c = cursors(driver);
                PreparedStatement ps = c.prepareStatement(SELECT)) {
            ps.setFetchSize(3);
            ps.setString(1, "z");
            try (ResultSet rs = ps.executeQuery()) {
                assertEquals(rows(c, SELECT.replace("?", "'z'")), read(rs));
            }
            assertSelect1(c);
        }
    }

    /**
     * The protocol as MySQL documents it, through a raw client: the execute ends after the column definitions with
     * SERVER_STATUS_CURSOR_EXISTS, each COM_STMT_FETCH answers up to n rows, the last with SERVER_STATUS_LAST_ROW_SENT,
     * and a fetch past the end, or after an execute without a cursor, answers 7051.
     */
    @Test
    void fetchesHandOutTheRowsAndEndWithLastRowSent() throws Exception {
        try (io.ragproxy.it.RawMysqlClient raw = io.ragproxy.it.RawMysqlClient.login(WORLD.proxy().host(),
                WORLD.proxy().port(), LocalBackend.USER, LocalBackend.PASSWORD, DB)) {
            byte[] ok = raw.command(0x16, SELECT);
            assertEquals(0x00, ok[0] & 0xFF);
            byte[] id = java.util.Arrays.copyOfRange(ok, 1, 5);
            for (int i = 0; i < 2 + 2 + 1; i++) {
                raw.readPacket(); // the parameter's definition and EOF, two columns' and EOF
            }
            byte[] withCursor = {id[0], id[1], id[2], id[3], 1, 1, 0, 0, 0, 0, 1, (byte) 0xFD, 0, 1, 'r'};
            byte[] count = raw.command(0x17, withCursor);
            assertEquals(2, count[0]);
            raw.readPacket();
            raw.readPacket();
            byte[] eof = raw.readPacket();
            assertEquals(0xFE, eof[0] & 0xFF);
            assertTrue((eof[3] & 0x40) != 0, "SERVER_STATUS_CURSOR_EXISTS");
            int rows = 0;
            int fetches = 0;
            boolean last = false;
            byte[] fetch4 = {id[0], id[1], id[2], id[3], 4, 0, 0, 0};
            while (!last) {
                byte[] packet = raw.command(0x1C, fetch4);
                fetches++;
                while ((packet[0] & 0xFF) == 0x00) {
                    rows++;
                    packet = raw.readPacket();
                }
                assertEquals(0xFE, packet[0] & 0xFF);
                last = (packet[3] & 0x80) != 0;
            }
            assertEquals(10, rows);
            assertEquals(3, fetches);
            byte[] past = raw.command(0x1C, fetch4);
            assertEquals(7051, (past[1] & 0xFF) | (past[2] & 0xFF) << 8);
            assertEquals("1", raw.queryFirstValue("SELECT 1"));

            byte[] noCursor = {id[0], id[1], id[2], id[3], 0, 1, 0, 0, 0, 0, 1, (byte) 0xFD, 0, 1, 'r'};
            assertEquals(2, raw.command(0x17, noCursor)[0]);
            int packets = 0;
            while ((raw.readPacket()[0] & 0xFF) != 0xFE || packets < 3) {
                packets++; // two definitions, their EOF, then ten rows up to the last EOF
            }
            assertEquals(2 + 1 + 10, packets);
            byte[] none = raw.command(0x1C, fetch4);
            assertEquals(7051, (none[1] & 0xFF) | (none[2] & 0xFF) << 8);
            assertEquals("1", raw.queryFirstValue("SELECT 1"));
        }
    }

    /** MySQL Connector/J reads the result with COM_STMT_FETCH (the execute announced a cursor). */
    private static void assertThroughCursor(ResultSet rs) throws SQLException {
        assertEquals("ResultsetRowsCursor",
                rs.unwrap(com.mysql.cj.protocol.Resultset.class).getRows().getClass().getSimpleName());
    }

    private static long fetches(Connection c) throws SQLException {
        return Long.parseLong(rows(c, "SHOW SESSION STATUS LIKE 'Com_stmt_fetch'").get(0).get(1));
    }

    private static List<List<String>> read(ResultSet rs) throws SQLException {
        return AiProxy.rows(rs);
    }
}
