package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * AI statements as server-side prepared statements (COM_STMT_PREPARE / COM_STMT_EXECUTE) through both JDBC drivers
 * with {@code useServerPrepStmts=true}: each gives the rows its text-protocol twin gives, the drivers keep their
 * server-side statements (no fallback to client-side prepares), and the backend never saw a failed prepare.
 */
class PreparedStatementsTest {
    private static final String DB = "ragproxy_it_ai_prepared";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @BeforeEach
    void freshTables() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS docs", "DROP TABLE IF EXISTS typed",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "CREATE TABLE typed (id INT PRIMARY KEY, tiny TINYINT, small SMALLINT, big BIGINT UNSIGNED,"
                        + " price DECIMAL(10,2), ratio DOUBLE, f FLOAT, day DATE, at DATETIME(6), t TIME, y YEAR,"
                        + " name VARCHAR(40), body TEXT, raw VARBINARY(8))",
                "INSERT INTO typed VALUES (1, -5, 300, 18446744073709551615, 12.34, 0.5, 1.25, '2024-02-29',"
                        + " '2024-02-29 13:14:15.123456', '-838:59:59', 2024, 'alpha', 'first body', X'00FF10'),"
                        + " (2, NULL, NULL, NULL, NULL, NULL, NULL, '0000-00-00', '2024-01-01 00:00:00', '00:00:01',"
                        + " NULL, 'beta', 'second body', NULL)");
    }

    private static Connection prepared(Driver driver) throws SQLException {
        return WORLD.proxy().connect(driver, DB, driver.serverPrepare());
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void generateOfAParameterGivesTheTextProtocolsAnswer(Driver driver) throws Exception {
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement("SELECT GENERATE(?) AS answer, ? + 1 AS n")) {
            assertServerPrepared(driver, ps);
            for (String prompt : List.of("Name a colour", "It's a 'quoted' \\ prompt", "été")) {
                ps.setString(1, prompt);
                ps.setInt(2, 41);
                List<List<String>> got = read(ps);
                assertEquals(rows(c, "SELECT GENERATE(" + AiProxy.quote(prompt) + ") AS answer, 41 + 1 AS n"), got,
                        prompt);
            }
            ps.setNull(1, Types.VARCHAR);
            ps.setInt(2, 1);
            assertEquals(List.of(java.util.Arrays.asList(null, "2")), read(ps));
            assertNoBackendPrepare(c);
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void insertWithEmbedFillsTheVectorsTheTextProtocolWould(Driver driver) throws Exception {
        try (Connection c = prepared(driver)) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO docs (id, content, embedding) VALUES (?, ?, EMBED(?))")) {
                assertServerPrepared(driver, ps);
                for (int i = 1; i <= 3; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "document number " + i);
                    ps.setString(3, "document number " + i);
                    assertEquals(1, ps.executeUpdate());
                }
            }
            exec(c, "INSERT INTO docs (id, content, embedding) VALUES (101, 'document number 1',"
                    + " EMBED('document number 1'))");
            assertEquals(rows(c, "SELECT VEC_ToText(embedding) FROM docs WHERE id = 101"),
                    rows(c, "SELECT VEC_ToText(embedding) FROM docs WHERE id = 1"));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, content FROM docs WHERE id < 100"
                    + " ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(?)) LIMIT ?")) {
                for (String q : List.of("document number 2", "document number 3")) {
                    ps.setString(1, q);
                    ps.setInt(2, 2);
                    assertEquals(rows(c, "SELECT id, content FROM docs WHERE id < 100 ORDER BY"
                            + " VEC_COSINE_DISTANCE(embedding, EMBED(" + AiProxy.quote(q) + ")) LIMIT 2"), read(ps));
                }
            }
            assertNoBackendPrepare(c);
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void everyColumnTypeReadsAsInTheTextProtocol(Driver driver) throws Exception {
        String columns = "id, tiny, small, big, price, ratio, f, day, at, t, y, name, body, HEX(raw)";
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement("SELECT " + columns + ", GENERATE(?) AS g FROM typed"
                        + " WHERE id >= ? ORDER BY id")) {
            ps.setString(1, "typed");
            ps.setInt(2, 1);
            List<List<String>> got = read(ps);
            assertEquals(rows(c, "SELECT " + columns + ", GENERATE('typed') AS g FROM typed WHERE id >= 1"
                    + " ORDER BY id"), got);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(-5, rs.getInt("tiny"));
                assertEquals(new BigDecimal("12.34"), rs.getBigDecimal("price"));
                assertEquals(Timestamp.valueOf("2024-02-29 13:14:15.123456"), rs.getTimestamp("at"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void metadataBeforeTheFirstExecuteDescribesTheTextProtocolsColumns(Driver driver) throws Exception {
        String select = "SELECT id, price, day, name, GENERATE(%s) AS g, EMBED(%s) AS e FROM typed WHERE id >= %s";
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement(String.format(select, "?", "?", "?"))) {
            assertServerPrepared(driver, ps);
            java.sql.ResultSetMetaData before = ps.getMetaData();
            assertTrue(before != null && before.getColumnCount() == 6, "getMetaData() before execute: " + before);
            List<String> text;
            try (java.sql.Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(String.format(select, "'a'", "'b'", "1"))) {
                text = describe(rs.getMetaData());
            }
            assertEquals(text, describe(before));
            ps.setString(1, "a");
            ps.setString(2, "b");
            ps.setInt(3, 1);
            try (ResultSet rs = ps.executeQuery()) {
                assertEquals(text, describe(rs.getMetaData()));
                assertTrue(rs.next());
                assertEquals(new BigDecimal("12.34"), rs.getBigDecimal("price"));
                assertEquals(java.sql.Date.valueOf("2024-02-29"), rs.getDate("day"));
            }
            assertNoBackendPrepare(c);
        }
        // Statements whose result has no columns still describe none.
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement("INSERT INTO docs (id, content, embedding)"
                        + " VALUES (?, ?, EMBED(?))")) {
            java.sql.ResultSetMetaData none = ps.getMetaData();
            assertTrue(none == null || none.getColumnCount() == 0, "an INSERT's metadata");
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void metadataBeforeExecuteMatchesTheExecutesForWithUnionAndVectorSearch(Driver driver) throws Exception {
        LocalBackend.get().exec(DB, "INSERT INTO docs VALUES (1, 'red', VEC_FromText('[" + "0.5,".repeat(511)
                + "0.5]'))");
        List<String> statements = List.of(
                "WITH q AS (SELECT id, name FROM typed) SELECT q.name, GENERATE(?) AS g FROM q WHERE q.id = ?",
                "SELECT id AS n FROM typed UNION ALL SELECT LENGTH(GENERATE(?)) WHERE 1 = ?",
                "SELECT id, content FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(?)) LIMIT ?",
                "SELECT id, GENERATE(CONCAT(?, name)) AS g, EMBED(name) AS e FROM typed WHERE id = ?");
        try (Connection c = prepared(driver)) {
            for (String sql : statements) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    List<String> before = describe(ps.getMetaData());
                    ps.setString(1, "colour");
                    ps.setInt(2, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertEquals(describe(rs.getMetaData()), before, sql);
                        assertTrue(rs.next(), sql);
                    }
                }
            }
        }
    }

    /** What a user reads of each column: label, name, table, JDBC type and its name. */
    private static List<String> describe(java.sql.ResultSetMetaData md) throws SQLException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            out.add(md.getColumnLabel(i) + " " + md.getColumnName(i) + " " + md.getTableName(i) + " "
                    + md.getColumnType(i) + " " + md.getColumnTypeName(i));
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void parametersOfEveryTypeBindAsTheirLiterals(Driver driver) throws Exception {
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement("SELECT GENERATE('x') IS NOT NULL, ?, ?, ?, ?, ?, ?, ?")) {
            ps.setLong(1, Long.MIN_VALUE);
            ps.setDouble(2, 2.5);
            ps.setBigDecimal(3, new BigDecimal("-123.456"));
            ps.setTimestamp(4, Timestamp.valueOf("2023-12-31 23:59:58.5"));
            ps.setDate(5, java.sql.Date.valueOf("2020-01-02"));
            ps.setBytes(6, new byte[] {(byte) 0xFF, 0, 1});
            ps.setCharacterStream(7, new StringReader("streamed 'long' data"));
            List<String> row = read(ps).get(0);
            assertEquals(String.valueOf(Long.MIN_VALUE), row.get(1));
            assertEquals(2.5, Double.parseDouble(row.get(2)));
            assertEquals(new BigDecimal("-123.456"), new BigDecimal(row.get(3)));
            assertTrue(row.get(4).startsWith("2023-12-31 23:59:58.5"), row.get(4));
            assertEquals("2020-01-02", row.get(5));
            assertEquals("streamed 'long' data", row.get(7));
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void errorsLeaveTheConnectionUsable(Driver driver) throws Exception {
        try (Connection c = prepared(driver)) {
            try (PreparedStatement ps = c.prepareStatement("SELECT GENERATE(?, 'no-such-model')")) {
                ps.setString(1, "x");
                SQLException e = assertThrows(SQLException.class, () -> read(ps));
                assertEquals(7011, e.getErrorCode(), e.getMessage());
            }
            assertSelect1(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT GENERATE(?)")) {
                ps.setString(1, "still works");
                assertEquals(1, read(ps).size());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void killQueryStopsAPreparedExecuteWaitingOnTheModel(Driver driver) throws Exception {
        WORLD.emulator().setLatency(java.time.Duration.ofSeconds(10));
        java.util.concurrent.ExecutorService runner = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (Connection c = prepared(driver); Connection other = WORLD.proxy().connect(driver, DB);
                PreparedStatement ps = c.prepareStatement("SELECT GENERATE(?) AS answer")) {
            assertServerPrepared(driver, ps);
            String id = AiProxy.scalar(c, "SELECT CONNECTION_ID()");
            ps.setString(1, "a slow question for " + driver);
            // A killed call of an earlier test may still be held by the emulator: count from what is in flight now.
            int busy = WORLD.emulator().inFlight();
            java.util.concurrent.Future<List<List<String>>> running = runner.submit(() -> read(ps));
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (WORLD.emulator().inFlight() == busy && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(busy + 1, WORLD.emulator().inFlight(), "the execute waits on its model call");
            exec(other, "KILL QUERY " + id);
            java.util.concurrent.ExecutionException failed = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> running.get(20, java.util.concurrent.TimeUnit.SECONDS));
            SQLException e = (SQLException) failed.getCause();
            assertEquals(1317, e.getErrorCode(), e.getMessage());
            assertEquals("70100", e.getSQLState(), e.getMessage());

            WORLD.emulator().setLatency(java.time.Duration.ZERO);
            assertSelect1(c);
            ps.setString(1, "after the kill");
            assertEquals(rows(c, "SELECT GENERATE('after the kill') AS answer"), read(ps));
            assertNoBackendPrepare(c);
        } finally {
            WORLD.emulator().setLatency(java.time.Duration.ZERO);
            runner.shutdownNow();
        }
    }

    @org.junit.jupiter.api.Test
    void mariadbDefaultBatchOfEmbedInsertsIsOneBulkWithEveryVectorFilled() throws Exception {
        int rows = 1000;
        try (Connection c = WORLD.proxy().connect(Driver.MARIADB_CJ, DB)) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO docs (id, content, embedding) VALUES (?, ?, EMBED(?))")) {
                for (int i = 1; i <= rows; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "batched text " + i);
                    ps.setString(3, "batched text " + i);
                    ps.addBatch();
                }
                long start = System.nanoTime();
                int[] counts = ps.executeBatch();
                System.out.printf("executeBatch of %d EMBED inserts: %d ms%n", rows,
                        (System.nanoTime() - start) / 1_000_000);
                assertEquals(rows, counts.length);
            }
            assertEquals(String.valueOf(rows), AiProxy.scalar(c, "SELECT COUNT(*) FROM docs WHERE embedding IS NOT NULL"));
            exec(c, "INSERT INTO docs (id, content, embedding) VALUES (5001, 'batched text 17', EMBED('batched text 17')),"
                    + " (5002, 'batched text 999', EMBED('batched text 999'))");
            assertEquals(rows(c, "SELECT VEC_ToText(embedding) FROM docs WHERE id IN (5001, 5002) ORDER BY id"),
                    rows(c, "SELECT VEC_ToText(embedding) FROM docs WHERE id IN (17, 999) ORDER BY id"));
            assertNoBackendPrepare(c);
        }
    }

    /**
     * The bulk test with a model that takes many texts per request: 1,000 rows of a default-settings
     * executeBatch() of {@code INSERT … VALUES (?, ?, EMBED(?, 'cohere…'))} reach Cohere in requests of up to 96 texts
     * (the rows' inputs collected first, then batched), and every row holds Cohere's vector of its own text.
     */
    @org.junit.jupiter.api.Test
    void mariadbDefaultBatchWithCohereSendsTheRowsInBatchedRequests() throws Exception {
        String cohere = "cohere.embed-english-v3";
        int rows = 1000;
        String run = Long.toString(System.nanoTime(), 36); // texts of their own: no cache hit from an earlier run
        try (Connection c = WORLD.proxy().connect(Driver.MARIADB_CJ, DB)) {
            exec(c, "DROP TABLE IF EXISTS bulk_cohere");
            exec(c, "CREATE TABLE bulk_cohere (id INT PRIMARY KEY, content TEXT, embedding VECTOR(1024))");
            int before = WORLD.emulator().requests(cohere, "invoke").size();
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO bulk_cohere (id, content, embedding) VALUES (?, ?, EMBED(?, '" + cohere + "'))")) {
                for (int i = 1; i <= rows; i++) {
                    String text = "cohere bulk " + run + " row " + i;
                    ps.setInt(1, i);
                    ps.setString(2, text);
                    ps.setString(3, text);
                    ps.addBatch();
                }
                assertEquals(rows, ps.executeBatch().length);
            }
            var sent = WORLD.emulator().requests(cohere, "invoke");
            sent = sent.subList(before, sent.size());
            int texts = sent.stream().mapToInt(r -> r.json().path("texts").size()).sum();
            assertEquals(rows, texts, "every row's text went to the model once");
            assertTrue(sent.size() <= (rows + 95) / 96 + 1, sent.size() + " requests for " + rows + " texts");
            assertTrue(sent.stream().allMatch(r -> r.json().path("texts").size() <= 96), "at most 96 texts a request");
            assertEquals(String.valueOf(rows), AiProxy.scalar(c, "SELECT COUNT(embedding) FROM bulk_cohere"));
            AiProxy.assertEveryVectorIsItsTextsCohereReference(WORLD, c, "bulk_cohere", cohere);
            assertNoBackendPrepare(c);
            exec(c, "DROP TABLE bulk_cohere");
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void preparedInsertsIntoAnAutoEmbeddingTableFillTheVector(Driver driver) throws Exception {
        try (Connection c = prepared(driver)) {
            exec(c, "DROP TABLE IF EXISTS notes");
            exec(c, "CREATE TABLE notes (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', content)) STORED)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO notes (id, content) VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setString(2, "an auto-embedded note");
                assertEquals(1, ps.executeUpdate());
            }
            assertEquals(rows(c, "SELECT VEC_ToText(EMBED('an auto-embedded note', 'titan-v2'))"),
                    rows(c, "SELECT VEC_ToText(embedding) FROM notes WHERE id = 1"));
        }
    }

    @org.junit.jupiter.api.Test
    void rawProtocolErrorsAreMysqlsAndTheConnectionStaysUsable() throws Exception {
        try (io.ragproxy.it.RawMysqlClient raw = io.ragproxy.it.RawMysqlClient.login(WORLD.proxy().host(),
                WORLD.proxy().port(), LocalBackend.USER, LocalBackend.PASSWORD, DB)) {
            byte[] unknown = raw.command(0x17, new byte[] {(byte) 0xAA, 0, 0, 0x7F, 0, 1, 0, 0, 0});
            assertEquals(0xFF, unknown[0] & 0xFF);
            assertEquals(1243, (unknown[1] & 0xFF) | (unknown[2] & 0xFF) << 8);
            assertEquals("1", raw.queryFirstValue("SELECT 1"));

            byte[] ok = raw.command(0x16, "SELECT GENERATE(?)");
            assertEquals(0x00, ok[0] & 0xFF);
            int params = (ok[7] & 0xFF) | (ok[8] & 0xFF) << 8;
            assertEquals(1, params);
            raw.readPacket(); // the parameter's definition
            raw.readPacket(); // EOF
            assertEquals(1, (ok[5] & 0xFF) | (ok[6] & 0xFF) << 8, "columns described at prepare");
            byte[] column = raw.readPacket();
            assertTrue(new String(column, java.nio.charset.StandardCharsets.UTF_8).contains("GENERATE("),
                    "the column is named after its expression");
            raw.readPacket(); // EOF
            byte[] id = java.util.Arrays.copyOfRange(ok, 1, 5);
            // A first execute without the parameter types: MySQL's 1210.
            byte[] noTypes = {id[0], id[1], id[2], id[3], 0, 1, 0, 0, 0, 0, 0};
            byte[] wrong = raw.command(0x17, noTypes);
            assertEquals(1210, (wrong[1] & 0xFF) | (wrong[2] & 0xFF) << 8);
            assertEquals("1", raw.queryFirstValue("SELECT 1"));
            raw.sendCommand(0x19, id); // COM_STMT_CLOSE: no answer
            byte[] closed = raw.command(0x17, noTypes);
            assertEquals(1243, (closed[1] & 0xFF) | (closed[2] & 0xFF) << 8);
            assertEquals("1", raw.queryFirstValue("SELECT 1"));
        }
    }

    /** An AI statement that cannot run fails at COM_STMT_PREPARE with the text protocol's error, not at execute. */
    @org.junit.jupiter.api.Test
    void aStatementThatCannotRunFailsAtPrepareWithTheTextProtocolsError() throws Exception {
        try (io.ragproxy.it.RawMysqlClient raw = io.ragproxy.it.RawMysqlClient.login(WORLD.proxy().host(),
                WORLD.proxy().port(), LocalBackend.USER, LocalBackend.PASSWORD, DB);
                Connection text = WORLD.proxy().connect(Driver.MARIADB_CJ, DB)) {
            String[] statements = {
                "SELECT GENERATE(?, 'no-such-model')",
                "SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(?, 'no-such-model')) LIMIT ?",
                "SELECT EMBED(?, 'titan-v2', '{not json')",
                "SELECT GENERATE(? FROM docs",
                "SELECT EMBED()",
            };
            for (String sql : statements) {
                SQLException expected = assertThrows(SQLException.class,
                        () -> exec(text, sql.replace("?", "'x'").replace("LIMIT 'x'", "LIMIT 3")));
                byte[] answer = raw.command(0x16, sql);
                assertEquals(0xFF, answer[0] & 0xFF, sql + " was prepared");
                int code = (answer[1] & 0xFF) | (answer[2] & 0xFF) << 8;
                assertEquals(expected.getErrorCode(), code, sql);
                assertTrue(expected.getErrorCode() >= 7000, sql + ": " + expected.getMessage());
                assertEquals("1", raw.queryFirstValue("SELECT 1"));
            }
            // What depends on a parameter is checked at execute: a model given as a parameter prepares.
            byte[] ok = raw.command(0x16, "SELECT GENERATE(?, ?) LIMIT ?");
            assertEquals(0x00, ok[0] & 0xFF);
        }
    }

    /** Through the drivers, a prepare the proxy refuses is the statement's error, and the connection stays usable. */
    @ParameterizedTest
    @EnumSource(Driver.class)
    void driversReportARefusedPrepareAsTheStatementsError(Driver driver) throws Exception {
        try (Connection c = prepared(driver)) {
            SQLException e = assertThrows(SQLException.class, () -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT GENERATE(?, 'no-such-model')")) {
                    ps.setString(1, "x");
                    ps.executeQuery().close();
                }
            });
            assertEquals(7011, e.getErrorCode(), e.getMessage());
            assertTrue(e.getMessage().contains("no-such-model"), e.getMessage());
            assertSelect1(c);
        }
    }

    // ------------------------------------------------------------------------------------------- helpers

    /** The driver kept a server-side statement: it did not fall back to client-side prepares. */
    private static void assertServerPrepared(Driver driver, PreparedStatement ps) throws SQLException {
        String name = ps.getClass().getName();
        assertTrue(name.contains("ServerPreparedStatement"), driver + " prepared " + ps.getClass());
    }

    /** The backend saw no COM_STMT_PREPARE on this session: the AI statements stayed in the proxy. */
    private static void assertNoBackendPrepare(Connection c) throws SQLException {
        List<List<String>> status = rows(c, "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'");
        assertEquals("0", status.get(0).get(1), "the backend's Com_stmt_prepare");
    }

    private static List<List<String>> read(PreparedStatement ps) throws SQLException {
        return AiProxy.rows(ps);
    }
}
