package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.server.config.SessionLimits;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Time;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue #12's "Types": every parameter type a JDBC driver sends with {@code useServerPrepStmts=true} reaches
 * {@code EMBED(?)} and {@code GENERATE(?)} as the text protocol's literal of the same value does, and every column
 * type a plan returns (streamed, materialized, {@code ANSWER}) reads from the proxy's binary rows as the text
 * protocol's rows of the same statement read, through {@code getString} and {@code getObject}.
 */
class PreparedTypesTest {
    private static final String DB = "ragproxy_it_ai_ptypes";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    /** The table's columns, one of each type a plan can return. */
    private static final String COLUMNS = "id, i, b, ub, d, dbl, f, day, at, t, ts, name, body, raw, v,"
            + " VEC_ToText(v) AS vt, j";

    @BeforeEach
    void typedRows() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS typed",
                "CREATE TABLE typed (id INT PRIMARY KEY, i INT, b BIGINT, ub BIGINT UNSIGNED, d DECIMAL(14,4),"
                        + " dbl DOUBLE, f FLOAT, day DATE, at DATETIME(6), t TIME(3), ts TIMESTAMP NULL,"
                        + " name VARCHAR(40), body TEXT, raw BLOB, v VECTOR(4), j JSON)",
                "INSERT INTO typed VALUES"
                        + " (1, -2147483648, -9223372036854775808, 18446744073709551615, -1234567890.1234, 0.1,"
                        + " 1.25, '2024-02-29', '2024-02-29 13:14:15.123456', '-838:59:59.000', '2038-01-19 03:14:07',"
                        + " 'alpha', 'first body', X'00FF10', VEC_FromText('[0.5,-1,0.25,3]'), '{\"k\": [1, \"x\"]}'),"
                        + " (2, 2147483647, 9223372036854775807, 0, 0.0001, -1.5e300, -0.1, '1000-01-01',"
                        + " '9999-12-31 23:59:59.999999', '12:34:56.789', '1970-01-02 00:00:00', 'Grüße 世界 👋',"
                        + " 'second body', X'C328', VEC_FromText('[0,0,0,0]'), '[]'),"
                        + " (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'gamma', 'third body',"
                        + " NULL, NULL, NULL)");
    }

    private static Connection prepared(Driver driver) throws SQLException {
        return WORLD.proxy().connect(driver, DB, driver.serverPrepare());
    }

    // ------------------------------------------------------------------------------------- 1. parameter types

    /** A way to bind one value, and the literal the text protocol writes for it. */
    private record Binding(String name, String literal, Binder binder) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps, int index) throws SQLException;
    }

    private static final String ASCII = "Name a colour";
    private static final String MULTI_BYTE = "Grüße, 世界 — ça va? 👋🏽 🦄";
    private static final String BLOB_TEXT = "a blob of UTF-8 text: naïve café ✓";
    private static final String STREAMED = "streamed 'long' data 🚀 über alles";

    private static List<Binding> bindings() {
        return List.of(
                new Binding("setString ASCII", quote(ASCII), (ps, i) -> ps.setString(i, ASCII)),
                new Binding("setString utf8mb4", quote(MULTI_BYTE), (ps, i) -> ps.setString(i, MULTI_BYTE)),
                new Binding("setString quotes and backslash", quote("It's a \\ path"),
                        (ps, i) -> ps.setString(i, "It's a \\ path")),
                new Binding("setNull", "NULL", (ps, i) -> ps.setNull(i, Types.VARCHAR)),
                new Binding("setInt", "42", (ps, i) -> ps.setInt(i, 42)),
                new Binding("setLong", "-9007199254740993", (ps, i) -> ps.setLong(i, -9007199254740993L)),
                new Binding("setBigDecimal", "-123.4500", (ps, i) -> ps.setBigDecimal(i, new BigDecimal("-123.4500"))),
                new Binding("setDouble", "2.5", (ps, i) -> ps.setDouble(i, 2.5)),
                new Binding("setDouble 0.1", "0.1", (ps, i) -> ps.setDouble(i, 0.1)),
                new Binding("setDate", "'2020-01-02'", (ps, i) -> ps.setDate(i, java.sql.Date.valueOf("2020-01-02"))),
                new Binding("setTimestamp", "'2023-12-31 23:59:58'",
                        (ps, i) -> ps.setTimestamp(i, Timestamp.valueOf("2023-12-31 23:59:58"))),
                new Binding("setTimestamp with microseconds", "'2023-12-31 23:59:58.250000'",
                        (ps, i) -> ps.setTimestamp(i, Timestamp.valueOf("2023-12-31 23:59:58.25"))),
                new Binding("setTime", "'13:14:15'", (ps, i) -> ps.setTime(i, Time.valueOf("13:14:15"))),
                new Binding("setBytes", quote(BLOB_TEXT),
                        (ps, i) -> ps.setBytes(i, BLOB_TEXT.getBytes(StandardCharsets.UTF_8))),
                new Binding("setCharacterStream", quote(STREAMED),
                        (ps, i) -> ps.setCharacterStream(i, new StringReader(STREAMED))),
                new Binding("setBinaryStream", quote(STREAMED), (ps, i) -> ps.setBinaryStream(i,
                        new ByteArrayInputStream(STREAMED.getBytes(StandardCharsets.UTF_8)))));
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void everyParameterTypeReachesEmbedAndGenerateAsItsLiteral(Driver driver) throws Exception {
        String select = "SELECT GENERATE(%s) AS g, VEC_ToText(EMBED(%s)) AS e";
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement(String.format(select, "?", "?"))) {
            assertServerPrepared(driver, ps);
            for (Binding binding : bindings()) {
                binding.binder().bind(ps, 1);
                binding.binder().bind(ps, 2);
                List<List<String>> got = read(ps);
                List<List<String>> text = rows(c, String.format(select, binding.literal(), binding.literal()));
                assertEquals(1, got.size(), binding.name());
                assertEquals(text.get(0).get(0), got.get(0).get(0), binding.name() + ": GENERATE");
                assertVectorsEqual(text.get(0).get(1), got.get(0).get(1), binding.name() + ": EMBED");
                if (binding.literal().equals("NULL")) {
                    assertNull(got.get(0).get(0), "GENERATE(NULL)");
                    assertNull(got.get(0).get(1), "EMBED(NULL)");
                } else {
                    assertNotNull(got.get(0).get(0), binding.name());
                    assertNotNull(got.get(0).get(1), binding.name());
                }
            }
            assertNoBackendPrepare(c);
        }
    }

    /** The streams above really are sent as COM_STMT_SEND_LONG_DATA (the backend counts them for a plain statement). */
    @ParameterizedTest
    @EnumSource(Driver.class)
    void streamsAreSentAsLongData(Driver driver) throws Exception {
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement("SELECT ?, ?")) {
            long before = status(c, "Com_stmt_send_long_data");
            ps.setCharacterStream(1, new StringReader(STREAMED));
            ps.setBinaryStream(2, new ByteArrayInputStream(STREAMED.getBytes(StandardCharsets.UTF_8)));
            assertEquals(List.of(List.of(STREAMED, STREAMED)), read(ps));
            assertTrue(status(c, "Com_stmt_send_long_data") >= before + 2, driver + " sent no long data");
        }
    }

    // ------------------------------------------------------------------------------------- 2. long data

    private static String previousMaxAllowedPacket;

    /** The backend must take the statements over 16 MiB that the proxy sends it (new connections see this). */
    @BeforeAll
    static void largePackets() throws Exception {
        try (Connection c = LocalBackend.get().connect(DB)) {
            previousMaxAllowedPacket = AiProxy.scalar(c, "SELECT @@GLOBAL.max_allowed_packet");
        }
        LocalBackend.get().exec(DB, "SET GLOBAL max_allowed_packet = " + (256 << 20));
    }

    @AfterAll
    static void restorePackets() throws Exception {
        if (previousMaxAllowedPacket != null) {
            LocalBackend.get().exec(DB, "SET GLOBAL max_allowed_packet = " + previousMaxAllowedPacket);
        }
    }

    /**
     * A parameter of 17 MiB (more than one 16 MiB frame), sent as one execute (setString) and as long data
     * (setCharacterStream), into a statement whose AI call reads it. With the default proxy.max_ai_statement_bytes
     * (16 MiB) the execute gets 7031, as the text protocol's statement does, and the connection stays usable; with
     * the limit raised, the rows are the text protocol's (docs/prepared-statements.md).
     */
    @ParameterizedTest
    @EnumSource(Driver.class)
    void aParameterOver16MibIsHeldToTheAiStatementLimitAsTheTextProtocolIs(Driver driver) throws Exception {
        String big = "0123456789abcdef".repeat((17 << 20) / 16) + "é 👋";
        String select = "SELECT GENERATE(CONCAT('first: ', LEFT(t.x, 40))) AS g, LENGTH(t.x) AS n,"
                + " RIGHT(t.x, 3) AS tail FROM (SELECT %s AS x) t";
        String text = String.format(select, quote(big));
        List<Binder> binders = List.of((ps, i) -> ps.setString(i, big),
                (ps, i) -> ps.setCharacterStream(i, new StringReader(big)));
        try (Connection c = prepared(driver); PreparedStatement ps = c.prepareStatement(String.format(select, "?"))) {
            assertServerPrepared(driver, ps);
            SQLException textError = assertThrows(SQLException.class, () -> rows(c, text));
            assertEquals(7031, textError.getErrorCode(), textError.getMessage());
            assertSelect1(c);
            for (Binder binder : binders) {
                binder.bind(ps, 1);
                SQLException e = assertThrows(SQLException.class, () -> read(ps));
                assertEquals(7031, e.getErrorCode(), e.getMessage());
                assertTrue(e.getMessage().contains("max_ai_statement_bytes"), e.getMessage());
                assertSelect1(c);
                ps.setString(1, "small");
                assertEquals(rows(c, String.format(select, "'small'")), read(ps), "the statement after 7031");
            }
        }
        AiProxy raised = AiProxy.start(AiProxy.bedrockConfig(WORLD.emulator()), true,
                SessionLimits.DEFAULT.withMaxAiStatementBytes(64L << 20));
        try (Connection c = raised.connect(driver, DB, driver.serverPrepare());
                PreparedStatement ps = c.prepareStatement(String.format(select, "?"))) {
            assertServerPrepared(driver, ps);
            List<List<String>> expected = rows(c, text);
            assertEquals(String.valueOf(big.getBytes(StandardCharsets.UTF_8).length), expected.get(0).get(1));
            for (Binder binder : binders) {
                binder.bind(ps, 1);
                assertEquals(expected, read(ps), driver + ": the prepared rows of a 17 MiB parameter");
            }
            assertNoBackendPrepare(c);
        } finally {
            WORLD.close(raised);
        }
    }

    // ------------------------------------------------------------------------------------- 3. result types

    @ParameterizedTest
    @EnumSource(Driver.class)
    void everyColumnTypeOfAStreamedPlanReadsAsInTheTextProtocol(Driver driver) throws Exception {
        assertReadsAsText(driver, "streamed", "SELECT " + COLUMNS + ", GENERATE(CONCAT(%s, name)) AS g FROM typed"
                + " WHERE id >= %s ORDER BY id", "'about '", "1");
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void everyColumnTypeOfAMaterializedPlanReadsAsInTheTextProtocol(Driver driver) throws Exception {
        assertReadsAsText(driver, "materialized", "SELECT " + COLUMNS + ", GENERATE(body) AS g FROM typed"
                + " WHERE GENERATE(CONCAT(%s, name)) IS NOT NULL ORDER BY GENERATE(name), id LIMIT %s", "'x '", "10");
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void everyColumnTypeNextToAnAnswerReadsAsInTheTextProtocol(Driver driver) throws Exception {
        assertReadsAsText(driver, "answer", "SELECT " + COLUMNS + ", ANSWER(%s, body) AS a FROM typed WHERE id >= %s"
                + " GROUP BY id ORDER BY id",
                "'What is in the body?'", "1");
    }

    /**
     * Runs {@code template}, which the proxy runs as {@code plan}, prepared (each {@code %s} a {@code ?} bound to the
     * literal's value, as a string or an int) and as text (each {@code %s} the literal). Every value must read
     * through getObject as the text protocol's does. Through getString the drivers format some binary values their
     * own way (MySQL Connector/J a FLOAT as the double it widens it to, MariaDB Connector/J a DOUBLE in Java's
     * spelling and a TIME with six fraction digits), so getString of the table's columns is held to the backend's
     * own binary rows (the same columns by a plain prepared statement, which the proxy relays), and the AI column's
     * to the text protocol's.
     */
    private static void assertReadsAsText(Driver driver, String plan, String template, String... literals)
            throws Exception {
        Object[] marks = new Object[literals.length];
        Arrays.fill(marks, "?");
        try (Connection c = prepared(driver);
                PreparedStatement ps = c.prepareStatement(String.format(template, marks))) {
            assertServerPrepared(driver, ps);
            for (int i = 0; i < literals.length; i++) {
                String l = literals[i];
                if (l.startsWith("'")) {
                    ps.setString(i + 1, l.substring(1, l.length() - 1));
                } else {
                    ps.setInt(i + 1, Integer.parseInt(l));
                }
            }
            List<List<Cell>> binary;
            try (ResultSet rs = ps.executeQuery()) {
                binary = cells(rs);
            }
            String textStatement = String.format(template, (Object[]) literals);
            assertEquals(plan, rows(c, "EXPLAIN RAG " + textStatement).get(0).get(0), "the plan");
            List<List<Cell>> text;
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(textStatement)) {
                text = cells(rs);
            }
            assertNoBackendPrepare(c);
            java.util.Map<String, List<Cell>> backend = new java.util.HashMap<>();
            try (Connection plain = prepared(driver);
                    PreparedStatement p = plain.prepareStatement("SELECT " + COLUMNS + " FROM typed WHERE id > ?")) {
                p.setInt(1, 0);
                try (ResultSet rs = p.executeQuery()) {
                    cells(rs).forEach(row -> backend.put(row.get(0).string(), row));
                }
                assertEquals(1, status(plain, "Com_stmt_prepare"), "the plain statement is the backend's");
            }

            assertEquals(3, text.size(), "the text protocol's rows");
            assertEquals(text.size(), binary.size(), "rows");
            List<String> differences = new ArrayList<>();
            for (int r = 0; r < text.size(); r++) {
                List<Cell> t = text.get(r);
                List<Cell> b = binary.get(r);
                List<Cell> own = backend.get(b.get(0).string());
                for (int col = 0; col < t.size(); col++) {
                    String where = "row " + r + " " + t.get(col).label() + ": ";
                    if (!t.get(col).label().equals(b.get(col).label())
                            || !t.get(col).object().equals(b.get(col).object())) {
                        differences.add(where + "getObject " + b.get(col) + ", text protocol " + t.get(col));
                    }
                    Cell reference = col < own.size() ? own.get(col) : t.get(col);
                    if (!reference.string().equals(b.get(col).string())) {
                        differences.add(where + "getString " + b.get(col).string() + ", "
                                + (col < own.size() ? "backend's binary row " : "text protocol ") + reference.string());
                    }
                }
            }
            assertEquals(List.of(), differences, driver + ": " + template);
        }
    }

    /** One value as a user reads it: the column's label, getString and getObject (or the error each gives). */
    private record Cell(String label, String string, String object) {}

    private static List<List<Cell>> cells(ResultSet rs) throws SQLException {
        List<List<Cell>> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            List<Cell> row = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                int column = i;
                row.add(new Cell(rs.getMetaData().getColumnLabel(i), orError(() -> rs.getString(column)),
                        orError(() -> describe(rs.getObject(column)))));
            }
            out.add(row);
        }
        return out;
    }

    @FunctionalInterface
    private interface Read {
        String get() throws SQLException;
    }

    /** A value (null as "null"), or the error reading it gives: both protocols must agree on that too. */
    private static String orError(Read read) {
        try {
            return String.valueOf(read.get());
        } catch (SQLException | RuntimeException e) {
            return "error " + e.getClass().getSimpleName() + " " + e.getMessage();
        }
    }

    private static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        String text = value instanceof byte[] bytes ? HexFormat.of().formatHex(bytes) : value.toString();
        return text + " (" + value.getClass().getSimpleName() + ")";
    }

    // ------------------------------------------------------------------------------------------- helpers

    private static void assertVectorsEqual(String expected, String actual, String what) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual, what);
            return;
        }
        float[] e = AiProxy.parseVector(expected);
        float[] a = AiProxy.parseVector(actual);
        assertTrue(AiProxy.maxAbsDiff(e, a) < 1e-6, what + ": " + expected + " vs " + actual);
    }

    /** The driver kept a server-side statement: it did not fall back to client-side prepares. */
    private static void assertServerPrepared(Driver driver, PreparedStatement ps) {
        assertTrue(ps.getClass().getName().contains("ServerPreparedStatement"), driver + " prepared " + ps.getClass());
    }

    /** The backend saw no COM_STMT_PREPARE on this session: the AI statements stayed in the proxy. */
    private static void assertNoBackendPrepare(Connection c) throws SQLException {
        assertEquals(0, status(c, "Com_stmt_prepare"), "the backend's Com_stmt_prepare");
    }

    private static long status(Connection c, String name) throws SQLException {
        return Long.parseLong(rows(c, "SHOW SESSION STATUS LIKE '" + name + "'").get(0).get(1));
    }

    private static List<List<String>> read(PreparedStatement ps) throws SQLException {
        return AiProxy.rows(ps);
    }
}
