package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * JDBC smoke checks and the reduced CLI corpus, written to run on any backend ragproxy supports (TiDB, MySQL 8.4,
 * MariaDB): used by {@link ContainerBackendsTest} and, on the local MariaDB, by {@link PortableChecksLocalTest}.
 */
final class PortableChecks {
    /** Where to connect, and as whom. */
    record Target(String host, int port, String user, String password) {}

    private PortableChecks() {}

    static Connection connect(Driver d, Target t, String db, boolean tls, String... options) throws SQLException {
        String[] all = java.util.Arrays.copyOf(options, options.length + 1);
        all[options.length] = "allowPublicKeyRetrieval=true"; // caching_sha2_password without TLS (MySQL 8.4)
        return d.connect(t.host(), t.port(), db, t.user(), t.password(), tls, all);
    }

    static void recreateDatabase(Target direct, String db) throws SQLException {
        try (Connection c = connect(Driver.MYSQL_CJ, direct, "", false); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS `" + db + "`");
            s.execute("CREATE DATABASE `" + db + "` CHARACTER SET utf8mb4");
        }
    }

    private static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from " + sql);
            return rs.getLong(1);
        }
    }

    /** The JDBC smoke test through {@code proxied}; {@code direct} gives the expected login errors. */
    static void jdbcSmoke(Driver d, Target direct, Target proxied, String db) throws Exception {
        recreateDatabase(direct, db);
        String t = "smoke_" + d.name().toLowerCase();
        for (boolean tls : new boolean[] {false, true}) {
            try (Connection c = connect(d, proxied, db, tls)) {
                assertEquals(1, queryLong(c, "SELECT 1"), "SELECT 1 with tls=" + tls);
            }
        }
        try (Connection c = connect(d, proxied, db, false, "useServerPrepStmts=true", "allowMultiQueries=true")) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE " + t + " (id INT PRIMARY KEY, bi BIGINT, dec_ DECIMAL(20,6), vc VARCHAR(100),"
                        + " d DATE, dt DATETIME(6), bl BLOB, n INT)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 100; i++) {
                    ps.setInt(1, i);
                    ps.setLong(2, 9_007_199_254_740_993L + i);
                    ps.setBigDecimal(3, new BigDecimal("-12345678901234.123456"));
                    ps.setString(4, "行 " + i + " 🚀");
                    ps.setObject(5, LocalDate.of(2024, 2, 29));
                    ps.setObject(6, LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000));
                    ps.setBytes(7, new byte[] {0, 1, (byte) 255});
                    ps.setNull(8, java.sql.Types.INTEGER);
                    ps.addBatch();
                }
                assertEquals(100, ps.executeBatch().length);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT bi, dec_, vc, d, dt, bl, n FROM " + t + " WHERE id = ?")) {
                ps.setInt(1, 42);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(9_007_199_254_740_993L + 42, rs.getLong(1));
                    assertEquals(0, new BigDecimal("-12345678901234.123456").compareTo(rs.getBigDecimal(2)));
                    assertEquals("行 42 🚀", rs.getString(3));
                    assertEquals(LocalDate.of(2024, 2, 29), rs.getObject(4, LocalDate.class));
                    assertEquals(LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000), rs.getObject(5, LocalDateTime.class));
                    assertEquals(3, rs.getBytes(6).length);
                    assertEquals(null, rs.getObject(7));
                }
            }
            try (Statement s = c.createStatement()) {
                assertTrue(s.execute("SELECT COUNT(*) FROM " + t + "; SELECT SUM(id) FROM " + t));
                try (ResultSet rs = s.getResultSet()) {
                    assertTrue(rs.next());
                    assertEquals(100, rs.getInt(1));
                }
                assertTrue(s.getMoreResults());
                try (ResultSet rs = s.getResultSet()) {
                    assertTrue(rs.next());
                    assertEquals(5050, rs.getInt(1));
                }
            }
            List<String> cols = new ArrayList<>();
            try (ResultSet rs = c.getMetaData().getColumns(db, null, t, "%")) {
                while (rs.next()) {
                    cols.add(rs.getString("COLUMN_NAME"));
                }
            }
            assertEquals(List.of("id", "bi", "dec_", "vc", "d", "dt", "bl", "n"), cols, "getColumns");
            SQLException e = assertThrows(SQLException.class, () -> queryLong(c, "SELECT EMBED('x')"));
            assertEquals("0A000", e.getSQLState(), "AI function before the pipeline exists: " + e);
            assertEquals(1, queryLong(c, "SELECT 1"), "the connection after the AI-function error");
        }
        Target wrongDirect = new Target(direct.host(), direct.port(), direct.user(), "definitely-wrong");
        Target wrongProxied = new Target(proxied.host(), proxied.port(), proxied.user(), "definitely-wrong");
        SQLException ed = assertThrows(SQLException.class, () -> connect(d, wrongDirect, db, false).close());
        SQLException ep = assertThrows(SQLException.class, () -> connect(d, wrongProxied, db, false).close());
        assertEquals(1045, ed.getErrorCode(), "direct wrong password: " + ed);
        assertEquals(ed.getErrorCode(), ep.getErrorCode(), "wrong password through the proxy: " + ep);
        assertEquals(ed.getSQLState(), ep.getSQLState(), "wrong password SQLSTATE through the proxy: " + ep);
    }

    /** The reduced corpus via the {@code mariadb} CLI, directly and through the proxy: identical output. */
    static void corpusMatches(Target direct, Target proxied, String db, Path dir) throws Exception {
        Path sql = CorpusRunner.materialize("/corpus/portable-corpus.sql", dir);
        List<String> tls = List.of("--skip-ssl");
        recreateDatabase(direct, db);
        MariadbCli.Result a = CorpusRunner.run(sql, direct.host(), direct.port(), direct.user(), direct.password(), db, tls);
        recreateDatabase(direct, db);
        MariadbCli.Result b = CorpusRunner.run(sql, proxied.host(), proxied.port(), proxied.user(), proxied.password(), db,
                tls);
        assertTrue(a.stdout().contains("end of corpus") && a.stdout().lines().count() >= 300,
                "the direct run is too short to compare:\n" + a.describe());
        assertTrue(a.stderr().contains("ERROR 1146"), "the direct run lacks its expected errors:\n" + a.describe());
        CorpusRunner.assertSameOutput("stdout of the mariadb CLI", a.stdout(), b.stdout());
        CorpusRunner.assertSameOutput("stderr of the mariadb CLI", a.stderr(), b.stderr());
        assertEquals(a.exitCode(), b.exitCode(), "exit code");
    }
}
