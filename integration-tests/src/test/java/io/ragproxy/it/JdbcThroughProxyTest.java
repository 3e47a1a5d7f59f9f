package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.mysql.cj.jdbc.JdbcConnection;
import java.io.FileOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * MySQL Connector/J and MariaDB Connector/J use the proxy as they would the database: every test here runs through
 * the proxy (direct connections only set up data or give the expected answer).
 */
class JdbcThroughProxyTest {
    private static final String DB = "it_jdbc";
    private static final String PW_USER = "it_pw_user";
    private static final String PW = "s3cret-Pw";

    private static LocalBackend backend;
    private static ProxyFixture proxy;

    @BeforeAll
    static void setUp() throws Exception {
        backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        backend.exec("", "DROP USER IF EXISTS '" + PW_USER + "'@'%'",
                "CREATE USER '" + PW_USER + "'@'%' IDENTIFIED BY '" + PW + "'",
                "GRANT ALL ON `" + DB + "`.* TO '" + PW_USER + "'@'%'");
        proxy = ProxyFixture.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.exec("", "DROP USER IF EXISTS '" + PW_USER + "'@'%'");
            backend.dropDatabase(DB);
        }
    }

    private static Connection open(Driver d, String... options) throws SQLException {
        return d.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER, LocalBackend.PASSWORD, false, options);
    }

    private static Connection openTls(Driver d, String... options) throws SQLException {
        return d.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER, LocalBackend.PASSWORD, true, options);
    }

    private static String table(String base, Driver d) {
        return base + "_" + d.name().toLowerCase();
    }

    private static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getLong(1);
        }
    }

    private static String queryString(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getString(1);
        }
    }

    /** The backend's session counter (SHOW SESSION STATUS), as seen on connection {@code c}. */
    private static long sessionStatus(Connection c, String name) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW SESSION STATUS LIKE '" + name + "'")) {
            assertTrue(rs.next(), "no status variable " + name);
            return rs.getLong(2);
        }
    }

    private static boolean tlsInUse(Connection c) throws SQLException {
        if (c.isWrapperFor(JdbcConnection.class)) {
            return c.unwrap(JdbcConnection.class).getSession().isSSLEstablished();
        }
        org.mariadb.jdbc.Connection m = c.unwrap(org.mariadb.jdbc.Connection.class);
        return m.getContext().hasClientCapability(org.mariadb.jdbc.util.constants.Capabilities.SSL);
    }

    // ------------------------------------------------------------------ connecting, TLS

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void connectsWithoutTls(Driver d) throws Exception {
        try (Connection c = open(d)) {
            assertFalse(tlsInUse(c), "TLS was not asked for, yet the driver reports it in use");
            assertEquals(DB, queryString(c, "SELECT DATABASE()"));
            assertTrue(c.getMetaData().getDatabaseProductVersion().contains("ragproxy"),
                    "the server version the driver sees should carry the -ragproxy suffix: "
                            + c.getMetaData().getDatabaseProductVersion());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void connectsWithTlsTerminatedAtTheProxy(Driver d) throws Exception {
        try (Connection c = openTls(d)) {
            assertTrue(tlsInUse(c), "sslMode " + (d == Driver.MYSQL_CJ ? "REQUIRED" : "trust")
                    + " connected but the driver says TLS is not in use");
            // Enough data to span many TLS records.
            assertEquals(300_000, queryString(c, "SELECT REPEAT('abc', 100000)").length());
            assertEquals(DB, queryString(c, "SELECT DATABASE()"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void verifiesTheProxyCertificate(Driver d, @TempDir Path dir) throws Exception {
        Path pem = proxy.certificatePem();
        String[] options;
        if (d == Driver.MYSQL_CJ) {
            X509Certificate cert;
            try (var in = java.nio.file.Files.newInputStream(pem)) {
                cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ragproxy", cert);
            Path store = dir.resolve("trust.p12");
            try (FileOutputStream out = new FileOutputStream(store.toFile())) {
                ks.store(out, "changeit".toCharArray());
            }
            options = new String[] {"sslMode=VERIFY_CA", "trustCertificateKeyStoreUrl=" + store.toUri(),
                    "trustCertificateKeyStoreType=PKCS12", "trustCertificateKeyStorePassword=changeit"};
        } else {
            options = new String[] {"sslMode=verify-ca", "serverSslCert=" + pem.toAbsolutePath()};
        }
        try (Connection c = open(d, options)) {
            assertTrue(tlsInUse(c), "certificate-verifying TLS connection reports no TLS");
            assertEquals(1, queryLong(c, "SELECT 1"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void tlsRequiredFailsWhenTheProxyOffersNoTls(Driver d) throws Exception {
        try (ProxyFixture plainOnly = ProxyFixture.start(b -> b.clientTls(false))) {
            try (Connection c = d.connect(plainOnly.host(), plainOnly.port(), DB, LocalBackend.USER,
                    LocalBackend.PASSWORD, false)) {
                assertEquals(1, queryLong(c, "SELECT 1"));
            }
            SQLException e = assertThrows(SQLException.class, () -> d.connect(plainOnly.host(), plainOnly.port(), DB,
                    LocalBackend.USER, LocalBackend.PASSWORD, true).close(),
                    "a TLS-requiring client must not be served in clear text by a proxy without client TLS");
            assertNotNull(e.getMessage());
        }
    }

    @Test
    void mysqlConnectorAskingForCompressionStillWorks() throws Exception {
        // The proxy does not implement compression and masks it; a client that asks for it falls back to plain.
        try (Connection c = open(Driver.MYSQL_CJ, "useCompression=true")) {
            assertEquals(100_000, queryString(c, "SELECT REPEAT('z', 100000)").length());
        }
    }

    @Test
    void connectionsBeyondMaxConnectionsAreRefusedWithError1040() throws Exception {
        try (ProxyFixture small = ProxyFixture.start(b -> b.maxConnections(2))) {
            try (Connection a = Driver.MARIADB_CJ.connect(small.host(), small.port(), DB, LocalBackend.USER, "", false);
                    Connection b = Driver.MARIADB_CJ.connect(small.host(), small.port(), DB, LocalBackend.USER, "", false)) {
                SQLException e = assertThrows(SQLException.class, () -> Driver.MYSQL_CJ.connect(small.host(),
                        small.port(), DB, LocalBackend.USER, "", false).close(), "a third connection with max 2");
                assertEquals(1040, e.getErrorCode(), "error for too many connections: " + e);
                assertEquals(1, queryLong(a, "SELECT 1"));
                assertEquals(1, queryLong(b, "SELECT 1"));
            }
            small.awaitOpenConnectionsAtMost(0, Duration.ofSeconds(5), "closing both connections");
            try (Connection c = Driver.MYSQL_CJ.connect(small.host(), small.port(), DB, LocalBackend.USER, "", false)) {
                assertEquals(1, queryLong(c, "SELECT 1"), "a connection once there is room again");
            }
        }
    }

    // ------------------------------------------------------------------ metadata

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void databaseMetaData(Driver d) throws Exception {
        String t = table("meta", d);
        String pk = table("meta_pk", d);
        backend.exec(DB, "DROP TABLE IF EXISTS " + t + ", " + pk,
                "CREATE TABLE " + t + " (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, note TEXT, price DECIMAL(9,2))",
                "CREATE TABLE " + pk + " (a INT, b VARCHAR(10), c INT, PRIMARY KEY (a, b))");
        try (Connection c = open(d)) {
            DatabaseMetaData md = c.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(DB, null, "meta\\_%" + d.name().toLowerCase(), new String[] {"TABLE"})) {
                while (rs.next()) {
                    tables.add(rs.getString("TABLE_NAME"));
                }
            }
            assertEquals(List.of(t, pk), tables.stream().sorted().toList(), "getTables");

            List<String> cols = new ArrayList<>();
            try (ResultSet rs = md.getColumns(DB, null, t, "%")) {
                while (rs.next()) {
                    cols.add(rs.getString("COLUMN_NAME") + ":" + rs.getInt("DATA_TYPE") + ":" + rs.getInt("NULLABLE")
                            + ":" + rs.getInt("ORDINAL_POSITION"));
                    if (rs.getString("COLUMN_NAME").equals("name")) {
                        assertEquals(50, rs.getInt("COLUMN_SIZE"), "COLUMN_SIZE of VARCHAR(50)");
                    }
                    if (rs.getString("COLUMN_NAME").equals("price")) {
                        assertEquals(9, rs.getInt("COLUMN_SIZE"), "precision of DECIMAL(9,2)");
                        assertEquals(2, rs.getInt("DECIMAL_DIGITS"), "scale of DECIMAL(9,2)");
                    }
                }
            }
            assertEquals(4, cols.size(), "getColumns: " + cols);
            assertEquals("id:" + Types.INTEGER + ":" + DatabaseMetaData.columnNoNulls + ":1", cols.get(0));
            assertEquals("name:" + Types.VARCHAR + ":" + DatabaseMetaData.columnNoNulls + ":2", cols.get(1));
            assertTrue(cols.get(2).startsWith("note:") && cols.get(2).endsWith(":" + DatabaseMetaData.columnNullable + ":3"),
                    cols.get(2));
            assertEquals("price:" + Types.DECIMAL + ":" + DatabaseMetaData.columnNullable + ":4", cols.get(3));

            List<String> keys = new ArrayList<>();
            try (ResultSet rs = md.getPrimaryKeys(DB, null, pk)) {
                while (rs.next()) {
                    keys.add(rs.getString("COLUMN_NAME") + "#" + rs.getInt("KEY_SEQ"));
                }
            }
            assertEquals(List.of("a#1", "b#2"), keys.stream().sorted().toList(), "getPrimaryKeys");
        }
    }

    // ------------------------------------------------------------------ prepared statements, types

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void serverSidePreparedStatementsRoundTripEveryCommonType(Driver d) throws Exception {
        String t = table("types", d);
        backend.exec(DB, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (id INT PRIMARY KEY, i INT, bi BIGINT,"
                + " dec_ DECIMAL(20,6), dbl DOUBLE, vc VARCHAR(100), txt TEXT, d DATE, dt DATETIME(6),"
                + " ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME, bl BLOB, bo BOOLEAN, n INT)");
        byte[] blob = new byte[256];
        for (int i = 0; i < blob.length; i++) {
            blob[i] = (byte) i;
        }
        String text = "line1\nline2\t\"double\" 'single' \\ backslash \u0000 nul, ünïcödé";
        LocalDate date = LocalDate.of(2024, 2, 29);
        LocalDateTime dateTime = LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000);
        LocalDateTime stamp = LocalDateTime.of(2023, 12, 31, 23, 59, 58, 125_000_000);
        LocalTime time = LocalTime.of(23, 59, 59);
        BigDecimal dec = new BigDecimal("-12345678901234.123456");

        try (Connection c = open(d, d.serverPrepare())) {
            long preparesBefore = sessionStatus(c, "Com_stmt_prepare");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t
                    + " (id, i, bi, dec_, dbl, vc, txt, d, dt, ts, tm, bl, bo, n) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                ps.setInt(1, 1);
                ps.setInt(2, Integer.MIN_VALUE);
                ps.setLong(3, 9_007_199_254_740_993L);
                ps.setBigDecimal(4, dec);
                ps.setDouble(5, Math.PI);
                ps.setString(6, "héllo wörld");
                ps.setString(7, text);
                ps.setObject(8, date);
                ps.setObject(9, dateTime);
                ps.setObject(10, stamp);
                ps.setObject(11, time);
                ps.setBytes(12, blob);
                ps.setBoolean(13, true);
                ps.setNull(14, Types.INTEGER);
                assertEquals(1, ps.executeUpdate());
                ps.setInt(1, 2);
                for (int i = 2; i <= 14; i++) {
                    ps.setNull(i, Types.NULL);
                }
                assertEquals(1, ps.executeUpdate());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT i, bi, dec_, dbl, vc, txt, d, dt, ts, tm, bl, bo, n FROM "
                    + t + " WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(Integer.MIN_VALUE, rs.getInt("i"));
                    assertEquals(9_007_199_254_740_993L, rs.getLong("bi"));
                    assertEquals(0, dec.compareTo(rs.getBigDecimal("dec_")), "DECIMAL: " + rs.getBigDecimal("dec_"));
                    assertEquals(Math.PI, rs.getDouble("dbl"));
                    assertEquals("héllo wörld", rs.getString("vc"));
                    assertEquals(text, rs.getString("txt"));
                    assertEquals(date, rs.getObject("d", LocalDate.class));
                    assertEquals(dateTime, rs.getObject("dt", LocalDateTime.class));
                    assertEquals(stamp, rs.getObject("ts", LocalDateTime.class));
                    assertEquals(time, rs.getObject("tm", LocalTime.class));
                    assertArrayEquals(blob, rs.getBytes("bl"));
                    assertTrue(rs.getBoolean("bo"));
                    assertEquals(0, rs.getInt("n"));
                    assertTrue(rs.wasNull(), "n should be NULL");
                    assertFalse(rs.next());
                }
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    for (int i = 1; i <= 13; i++) {
                        assertNull(rs.getObject(i), "column " + i + " of the all-NULL row");
                    }
                }
            }
            assertTrue(sessionStatus(c, "Com_stmt_prepare") >= preparesBefore + 2,
                    "the statements should have been prepared on the server (Com_stmt_prepare did not grow)");
            // What the backend stored, in its own text form (independent of the drivers' conversions).
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CAST(bi AS CHAR),"
                    + " CAST(dec_ AS CHAR), CAST(d AS CHAR), CAST(dt AS CHAR), CAST(ts AS CHAR), CAST(tm AS CHAR),"
                    + " HEX(bl), bo, HEX(vc) FROM " + t + " WHERE id = 1")) {
                assertTrue(rs.next());
                assertEquals("9007199254740993", rs.getString(1));
                assertEquals("-12345678901234.123456", rs.getString(2));
                assertEquals("2024-02-29", rs.getString(3));
                assertEquals("2024-02-29 13:14:15.123456", rs.getString(4));
                assertEquals("2023-12-31 23:59:58.125", rs.getString(5));
                assertEquals("23:59:59", rs.getString(6));
                assertEquals(HexFormat.of().withUpperCase().formatHex(blob), rs.getString(7));
                assertEquals(1, rs.getInt(8));
                assertEquals(HexFormat.of().withUpperCase().formatHex("héllo wörld".getBytes(StandardCharsets.UTF_8)),
                        rs.getString(9));
            }
        }
    }

    // ------------------------------------------------------------------ batches

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void batchInserts(Driver d) throws Exception {
        String[][] variants = d == Driver.MYSQL_CJ
                ? new String[][] {{"rewriteBatchedStatements=true"}, {"useServerPrepStmts=true"}}
                : new String[][] {{}, {"useServerPrepStmts=true", "useBulkStmts=true"}};
        for (String[] options : variants) {
            String t = table("batch", d);
            backend.exec(DB, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (id INT PRIMARY KEY, v VARCHAR(20))");
            try (Connection c = open(d, options)) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, v) VALUES (?, ?)")) {
                    for (int i = 1; i <= 1000; i++) {
                        ps.setInt(1, i);
                        ps.setString(2, "v" + i);
                        ps.addBatch();
                    }
                    int[] counts = ps.executeBatch();
                    assertEquals(1000, counts.length, "update counts with " + List.of(options));
                    for (int n : counts) {
                        assertTrue(n == 1 || n == Statement.SUCCESS_NO_INFO, "update count " + n);
                    }
                }
                c.commit();
                c.setAutoCommit(true);
                assertEquals(1000, queryLong(c, "SELECT COUNT(*) FROM " + t), "rows with " + List.of(options));
                assertEquals(500_500, queryLong(c, "SELECT SUM(id) FROM " + t));
                assertEquals("v777", queryString(c, "SELECT v FROM " + t + " WHERE id = 777"));
            }
        }
    }

    // ------------------------------------------------------------------ large packets

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void blobOf20MiBRoundTripsWithPreparedAndPlainStatements(Driver d) throws Exception {
        String t = table("big_blob", d);
        backend.exec(DB, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (id INT PRIMARY KEY, b LONGBLOB)");
        byte[] data = new byte[20 * 1024 * 1024];
        new Random(42).nextBytes(data);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        try (Connection c = open(d, d.serverPrepare())) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, b) VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setBytes(2, data);
                assertEquals(1, ps.executeUpdate());
            }
            try (Statement s = c.createStatement()) {
                // One COM_QUERY of about 40 MiB: split into 0xffffff-byte frames on the wire.
                StringBuilder sql = new StringBuilder(data.length * 2 + 64);
                sql.append("INSERT INTO ").append(t).append(" (id, b) VALUES (2, X'");
                sql.append(HexFormat.of().formatHex(data)).append("')");
                assertEquals(1, s.executeUpdate(sql.toString()));
            }
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT id, LENGTH(b), SHA2(b, 256) FROM " + t + " ORDER BY id")) {
                for (int id = 1; id <= 2; id++) {
                    assertTrue(rs.next());
                    assertEquals(id, rs.getInt(1));
                    assertEquals(data.length, rs.getLong(2), "stored length of row " + id);
                    assertEquals(sha, rs.getString(3), "SHA-256 of the stored blob of row " + id);
                }
            }
            // Downloads: text protocol (plain statement) and binary protocol (server-side prepared).
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT b FROM " + t + " WHERE id = 2")) {
                assertTrue(rs.next());
                assertTrue(java.util.Arrays.equals(data, rs.getBytes(1)), "20 MiB blob read by a plain statement differs");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT b FROM " + t + " WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertTrue(java.util.Arrays.equals(data, rs.getBytes(1)),
                            "20 MiB blob read by a prepared statement differs");
                }
            }
            assertEquals(1, queryLong(c, "SELECT 1"), "the connection after the large packets");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void largePacketsOverTls(Driver d) throws Exception {
        String t = table("tls_blob", d);
        backend.exec(DB, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (id INT PRIMARY KEY, b LONGBLOB)");
        byte[] data = new byte[17 * 1024 * 1024 + 123];
        new Random(7).nextBytes(data);
        try (Connection c = openTls(d, d.serverPrepare())) {
            assertTrue(tlsInUse(c));
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " (id, b) VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setBytes(2, data);
                assertEquals(1, ps.executeUpdate());
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT b FROM " + t + " WHERE id = 1")) {
                assertTrue(rs.next());
                assertTrue(java.util.Arrays.equals(data, rs.getBytes(1)), "17 MiB blob over TLS differs");
            }
        }
    }

    // ------------------------------------------------------------------ utf8mb4

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void utf8mb4ChineseAndEmojiRoundTrip(Driver d) throws Exception {
        String t = table("intl", d);
        backend.exec(DB, "DROP TABLE IF EXISTS " + t,
                "CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(100) CHARACTER SET utf8mb4) DEFAULT CHARSET=utf8mb4");
        List<String> samples = List.of("你好，世界", "emoji 🚀🎉👩‍💻", "𝄞 音乐 and 🀄", "三体 — Liu Cixin");
        try (Connection c = open(d, d.serverPrepare())) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?)")) {
                for (int i = 0; i < samples.size(); i++) {
                    ps.setInt(1, i + 1);
                    ps.setString(2, samples.get(i));
                    ps.executeUpdate();
                }
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + t + " VALUES (100, '" + samples.get(1) + "')");
            }
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT id, s, CHAR_LENGTH(s), HEX(s) FROM " + t + " ORDER BY id")) {
                for (int i = 0; i < samples.size(); i++) {
                    String expected = samples.get(i);
                    assertTrue(rs.next());
                    assertEquals(expected, rs.getString(2), "text read back");
                    assertEquals(expected.codePointCount(0, expected.length()), rs.getInt(3), "CHAR_LENGTH on the server");
                    assertEquals(HexFormat.of().withUpperCase().formatHex(expected.getBytes(StandardCharsets.UTF_8)),
                            rs.getString(4), "UTF-8 bytes stored for " + expected);
                }
                assertTrue(rs.next());
                assertEquals(samples.get(1), rs.getString(2), "text sent inside a plain statement");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + t + " WHERE s = ?")) {
                ps.setString(1, "你好，世界");
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(1, rs.getInt(1));
                }
            }
        }
    }

    // ------------------------------------------------------------------ several results

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void multiStatementQuery(Driver d) throws Exception {
        String t = table("multi", d);
        backend.exec(DB, "DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " (id INT PRIMARY KEY)");
        try (Connection c = open(d, "allowMultiQueries=true"); Statement s = c.createStatement()) {
            boolean isResult = s.execute("SELECT 1 AS a; SELECT 'two' AS b, 2 AS c; INSERT INTO " + t
                    + " VALUES (1), (2), (3); SELECT COUNT(*) FROM " + t);
            assertTrue(isResult);
            try (ResultSet rs = s.getResultSet()) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
            }
            assertTrue(s.getMoreResults());
            try (ResultSet rs = s.getResultSet()) {
                assertTrue(rs.next());
                assertEquals("two", rs.getString("b"));
                assertEquals(2, rs.getInt("c"));
            }
            assertFalse(s.getMoreResults());
            assertEquals(3, s.getUpdateCount());
            assertTrue(s.getMoreResults());
            try (ResultSet rs = s.getResultSet()) {
                assertTrue(rs.next());
                assertEquals(3, rs.getInt(1));
            }
            assertFalse(s.getMoreResults());
            assertEquals(-1, s.getUpdateCount());
            // An error in the middle ends the batch; the connection goes on.
            SQLException e = assertThrows(SQLException.class, () -> {
                s.execute("SELECT 1; SELECT * FROM no_such_table_multi; SELECT 3");
                while (s.getMoreResults() || s.getUpdateCount() != -1) {
                    // drain
                }
            });
            assertEquals(1146, e.getErrorCode());
            assertEquals(42, queryLong(c, "SELECT 42"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void storedProcedureWithSeveralResultSetsAndOutParameter(Driver d) throws Exception {
        String p = table("multi_rs", d);
        String q = table("out_param", d);
        backend.exec(DB, "DROP PROCEDURE IF EXISTS " + p, "DROP PROCEDURE IF EXISTS " + q,
                "CREATE PROCEDURE " + p + "(IN n INT) BEGIN SELECT seq FROM seq_1_to_10 WHERE seq <= n ORDER BY seq;"
                        + " SELECT 'second' AS s, n * 2 AS twice; END",
                "CREATE PROCEDURE " + q + "(IN a INT, OUT b INT) BEGIN SET b = a * 3; END");
        for (String[] options : new String[][] {{}, d.serverPrepare()}) {
            try (Connection c = open(d, options)) {
                try (Statement s = c.createStatement()) {
                    assertTrue(s.execute("CALL " + p + "(3)"));
                    List<Integer> first = new ArrayList<>();
                    try (ResultSet rs = s.getResultSet()) {
                        while (rs.next()) {
                            first.add(rs.getInt(1));
                        }
                    }
                    assertEquals(List.of(1, 2, 3), first);
                    assertTrue(s.getMoreResults(), "second result set of CALL");
                    try (ResultSet rs = s.getResultSet()) {
                        assertTrue(rs.next());
                        assertEquals("second", rs.getString(1));
                        assertEquals(6, rs.getInt(2));
                    }
                }
                try (CallableStatement cs = c.prepareCall("{call " + p + "(?)}")) {
                    cs.setInt(1, 2);
                    assertTrue(cs.execute());
                    int sets = 0;
                    do {
                        if (cs.getResultSet() != null) {
                            sets++;
                        }
                    } while (cs.getMoreResults() || cs.getUpdateCount() != -1);
                    assertEquals(2, sets, "result sets of {call} with " + List.of(options));
                }
                try (CallableStatement cs = c.prepareCall("{call " + q + "(?, ?)}")) {
                    cs.setInt(1, 7);
                    cs.registerOutParameter(2, Types.INTEGER);
                    cs.execute();
                    assertEquals(21, cs.getInt(2), "OUT parameter with " + List.of(options));
                }
                assertEquals(1, queryLong(c, "SELECT 1"));
            }
        }
    }

    // ------------------------------------------------------------------ cursors and streaming

    @Test
    void mysqlConnectorCursorFetch() throws Exception {
        backend.exec(DB, "DROP TABLE IF EXISTS cursor_rows",
                "CREATE TABLE cursor_rows (id INT PRIMARY KEY, label VARCHAR(20))",
                "INSERT INTO cursor_rows SELECT seq, CONCAT('row ', seq) FROM seq_1_to_1000");
        try (Connection c = open(Driver.MYSQL_CJ, "useCursorFetch=true", "defaultFetchSize=10")) {
            long fetchesBefore = sessionStatus(c, "Com_stmt_fetch");
            long sum = 0;
            int rows = 0;
            try (PreparedStatement ps = c.prepareStatement("SELECT id, label FROM cursor_rows WHERE id > ? ORDER BY id")) {
                ps.setInt(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getInt(1);
                        assertEquals("row " + rs.getInt(1), rs.getString(2));
                    }
                }
            }
            assertEquals(1000, rows);
            assertEquals(500_500, sum);
            long fetches = sessionStatus(c, "Com_stmt_fetch") - fetchesBefore;
            assertTrue(fetches >= 100, "1,000 rows in fetches of 10 need at least 100 COM_STMT_FETCH, the backend saw "
                    + fetches);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void streamsOneHundredThousandRows(Driver d) throws Exception {
        try (Connection c = open(d); Statement s = c.createStatement()) {
            s.setFetchSize(d == Driver.MYSQL_CJ ? Integer.MIN_VALUE : 500);
            long sum = 0;
            int rows = 0;
            try (ResultSet rs = s.executeQuery("SELECT seq, CONCAT('row-', seq) FROM seq_1_to_100000")) {
                while (rs.next()) {
                    rows++;
                    sum += rs.getLong(1);
                    if (rows % 25_000 == 0) {
                        assertEquals("row-" + rows, rs.getString(2));
                    }
                }
            }
            assertEquals(100_000, rows);
            assertEquals(5_000_050_000L, sum);
            assertEquals(7, queryLong(c, "SELECT 7"), "the connection after a streamed result");
        }
    }

    @Test
    void mariadbConnectorPipelinesAThousandPreparedStatements() throws Exception {
        try (Connection c = open(Driver.MARIADB_CJ, "useServerPrepStmts=true", "cachePrepStmts=false")) {
            long preparesBefore = sessionStatus(c, "Com_stmt_prepare");
            for (int i = 0; i < 1000; i++) {
                // A different text each time, so every execution is a pipelined PREPARE + EXECUTE.
                try (PreparedStatement ps = c.prepareStatement("SELECT ? + " + i + ", ?")) {
                    ps.setInt(1, i);
                    ps.setString(2, "p" + i);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(2L * i, rs.getLong(1), "statement " + i);
                        assertEquals("p" + i, rs.getString(2));
                    }
                }
            }
            assertTrue(sessionStatus(c, "Com_stmt_prepare") - preparesBefore >= 1000,
                    "expected 1,000 server-side prepares");
        }
    }

    // ------------------------------------------------------------------ KILL

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void killedConnectionGetsAnErrorAndOthersGoOn(Driver d) throws Exception {
        try (Connection victim = open(d); Connection killer = open(d); Connection bystander = open(d)) {
            long id = queryLong(victim, "SELECT CONNECTION_ID()");
            // The id the client sees is the backend's own thread id: KILL from anywhere works with it.
            try (Connection direct = backend.connect("")) {
                assertEquals(1, queryLong(direct, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id
                        + " AND DB = '" + DB + "'"), "CONNECTION_ID() through the proxy should be a backend thread id");
            }
            // KILL QUERY interrupts a running statement; the victim keeps its connection.
            CompletableFuture<Long> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    return queryLong(victim, "SELECT SLEEP(30)");
                } catch (SQLException e) {
                    return -1L;
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (queryLong(killer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id
                    + " AND INFO LIKE 'SELECT SLEEP%'") == 0) {
                assertTrue(System.nanoTime() < deadline, "the SLEEP never showed up in the process list");
                Thread.sleep(20);
            }
            try (Statement s = killer.createStatement()) {
                s.execute("KILL QUERY " + id);
            }
            long slept = sleeping.get(10, TimeUnit.SECONDS);
            assertTrue(slept == 1 || slept == -1, "SLEEP interrupted by KILL QUERY returns 1 (or an error), got " + slept);
            assertEquals(5, queryLong(victim, "SELECT 5"), "the victim after KILL QUERY");

            try (Statement s = killer.createStatement()) {
                s.execute("KILL " + id);
            }
            assertThrows(SQLException.class, () -> queryLong(victim, "SELECT 1"),
                    "the killed connection must get an error");
            assertEquals(2, queryLong(killer, "SELECT 2"), "the killing connection");
            assertEquals(3, queryLong(bystander, "SELECT 3"), "another connection");
        }
        try (Connection fresh = open(d)) {
            assertEquals(4, queryLong(fresh, "SELECT 4"), "a new connection after the KILL");
        }
        proxy.awaitOpenConnectionsAtMost(0, Duration.ofSeconds(5), "all test connections were closed");
    }

    // ------------------------------------------------------------------ errors at login

    private static SQLException loginError(Driver d, String host, int port, String db, String user, String pw) {
        return assertThrows(SQLException.class, () -> d.connect(host, port, db, user, pw, false).close(),
                "login of " + user + " to " + db + " at port " + port + " should fail");
    }

    private static String maskConnectionIds(String message) {
        return message == null ? null : message.replaceAll("\\(conn[=:]\\d+\\)", "(conn=N)");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void wrongPasswordGivesTheBackendsError(Driver d) throws Exception {
        SQLException direct = loginError(d, backend.host(), backend.port(), DB, PW_USER, "wrong");
        SQLException proxied = loginError(d, proxy.host(), proxy.port(), DB, PW_USER, "wrong");
        assertEquals(1045, direct.getErrorCode(), "direct: " + direct);
        assertEquals(direct.getErrorCode(), proxied.getErrorCode(), "error code through the proxy: " + proxied);
        assertEquals(direct.getSQLState(), proxied.getSQLState(), "SQLSTATE through the proxy: " + proxied);
        assertEquals(maskConnectionIds(direct.getMessage()), maskConnectionIds(proxied.getMessage()));

        SQLException unknownUser = loginError(d, proxy.host(), proxy.port(), DB, "it_no_such_user", "x");
        assertEquals(1045, unknownUser.getErrorCode(), "unknown user: " + unknownUser);

        // The right password works, through the proxy.
        try (Connection c = d.connect(proxy.host(), proxy.port(), DB, PW_USER, PW, false)) {
            assertEquals(PW_USER + "@%", queryString(c, "SELECT CURRENT_USER()"));
        }
        try (Connection c = d.connect(proxy.host(), proxy.port(), DB, PW_USER, PW, true)) {
            assertEquals(PW_USER + "@%", queryString(c, "SELECT CURRENT_USER()"));
        }
        proxy.awaitOpenConnectionsAtMost(0, Duration.ofSeconds(5), "failed logins");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void unknownDatabaseGivesTheBackendsError(Driver d) throws Exception {
        SQLException direct = loginError(d, backend.host(), backend.port(), "it_no_such_db", LocalBackend.USER, "");
        SQLException proxied = loginError(d, proxy.host(), proxy.port(), "it_no_such_db", LocalBackend.USER, "");
        assertEquals(1049, direct.getErrorCode(), "direct: " + direct);
        assertEquals(direct.getErrorCode(), proxied.getErrorCode(), "through the proxy: " + proxied);
        assertEquals(direct.getSQLState(), proxied.getSQLState(), "SQLSTATE through the proxy: " + proxied);
        assertEquals(maskConnectionIds(direct.getMessage()), maskConnectionIds(proxied.getMessage()));
    }

    // ------------------------------------------------------------------ session commands

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void resetConnectionClearsSessionState(Driver d) throws Exception {
        // MariaDB Connector/J sends COM_RESET_CONNECTION from Connection.reset() only with useResetConnection.
        try (Connection c = d == Driver.MARIADB_CJ ? open(d, "useResetConnection=true") : open(d)) {
            try (Statement s = c.createStatement()) {
                s.execute("SET @marker = 'before reset'");
                s.execute("CREATE TEMPORARY TABLE reset_tmp (x INT)");
            }
            assertEquals("before reset", queryString(c, "SELECT @marker"));
            long id = queryLong(c, "SELECT CONNECTION_ID()");
            if (d == Driver.MYSQL_CJ) {
                c.unwrap(JdbcConnection.class).resetServerState();
            } else {
                c.unwrap(org.mariadb.jdbc.Connection.class).reset();
            }
            assertNull(queryString(c, "SELECT @marker"), "user variable after COM_RESET_CONNECTION");
            assertThrows(SQLException.class, () -> queryLong(c, "SELECT COUNT(*) FROM reset_tmp"),
                    "temporary table after COM_RESET_CONNECTION");
            assertEquals(id, queryLong(c, "SELECT CONNECTION_ID()"), "a reset keeps the same backend connection");
        }
    }

    @Test
    void changeUserWithMysqlConnector() throws Exception {
        try (Connection c = open(Driver.MYSQL_CJ)) {
            assertEquals("root@127.0.0.1", queryString(c, "SELECT USER()").replace("localhost", "127.0.0.1"));
            c.unwrap(JdbcConnection.class).changeUser(PW_USER, PW);
            assertEquals(PW_USER + "@%", queryString(c, "SELECT CURRENT_USER()"), "after COM_CHANGE_USER");
            c.unwrap(JdbcConnection.class).changeUser(LocalBackend.USER, LocalBackend.PASSWORD);
            assertTrue(queryString(c, "SELECT CURRENT_USER()").startsWith("root@"), "after changing back");
            assertEquals(1, queryLong(c, "SELECT 1"));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void pingAndIsValid(Driver d) throws Exception {
        try (Connection c = open(d)) {
            long before = sessionStatus(c, "Com_admin_commands");
            for (int i = 0; i < 5; i++) {
                assertTrue(c.isValid(5), "isValid through the proxy");
            }
            if (d == Driver.MYSQL_CJ) {
                c.unwrap(JdbcConnection.class).ping();
            }
            // COM_PING is counted by the backend as an admin command.
            assertTrue(sessionStatus(c, "Com_admin_commands") > before, "no COM_PING reached the backend");
        }
    }

    // ------------------------------------------------------------------ AI functions (not available yet)

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void aiFunctionGivesSqlState0A000AndTheConnectionGoesOn(Driver d) throws Exception {
        try (Connection c = open(d)) {
            SQLException e = assertThrows(SQLException.class, () -> queryString(c, "SELECT EMBED('x')"));
            assertEquals("0A000", e.getSQLState(), "SQLSTATE of " + e);
            assertTrue(e.getMessage().toLowerCase().contains("embed"), "the message should name the function: " + e);
            assertEquals(1, queryLong(c, "SELECT 1"), "SELECT 1 on the same connection after the error");

            for (String sql : List.of("SELECT GENERATE('write a haiku')", "SELECT ANSWER('q', 'ctx')",
                    "SELECT EMBED_TEXT('titan-v2', 'x')", "SELECT 1 /*! + VEC_EMBED_COSINE_DISTANCE(NULL, 'x') */",
                    "SHOW RAG STATUS", "EXPLAIN RAG SELECT EMBED('x')", "SET rag_default_embedding_model = 'titan-v2'")) {
                SQLException ex = assertThrows(SQLException.class, () -> {
                    try (Statement s = c.createStatement()) {
                        s.execute(sql);
                    }
                }, sql);
                assertEquals("0A000", ex.getSQLState(), sql + " → " + ex);
            }
            // A client-side prepared statement becomes a COM_QUERY: it is scanned as well.
            try (PreparedStatement ps = c.prepareStatement("SELECT GENERATE(?)")) {
                ps.setString(1, "hello");
                SQLException ex = assertThrows(SQLException.class, ps::executeQuery);
                assertEquals("0A000", ex.getSQLState(), "client-side prepared GENERATE(?) → " + ex);
            }
            // Names that are not calls pass through to the backend.
            assertEquals("EMBED('x')", queryString(c, "SELECT 'EMBED(''x'')'"));
            assertEquals(2, queryLong(c, "SELECT 2 /* GENERATE('x') */"));
            assertEquals(3, queryLong(c, "SELECT 3 AS `embed(`"));
            c.setAutoCommit(false);
            assertThrows(SQLException.class, () -> queryString(c, "SELECT EMBED('in a transaction')"));
            assertEquals(4, queryLong(c, "SELECT 4"));
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    @Test
    void manyConcurrentConnections() throws Exception {
        List<CompletableFuture<Long>> results = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Driver d = i % 2 == 0 ? Driver.MYSQL_CJ : Driver.MARIADB_CJ;
            int n = i;
            results.add(CompletableFuture.supplyAsync(() -> {
                try (Connection c = open(d)) {
                    long sum = 0;
                    for (int k = 0; k < 20; k++) {
                        sum += queryLong(c, "SELECT " + n + " + " + k);
                    }
                    return sum;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (int i = 0; i < results.size(); i++) {
            assertEquals(20L * i + 190, results.get(i).get(60, TimeUnit.SECONDS), "connection " + i);
        }
        proxy.awaitOpenConnectionsAtMost(0, Duration.ofSeconds(5), "40 concurrent connections closed");
        if (results.isEmpty()) {
            fail("no connections ran");
        }
    }
}
