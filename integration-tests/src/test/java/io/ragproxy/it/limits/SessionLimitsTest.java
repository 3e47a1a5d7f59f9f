package io.ragproxy.it.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.ProxyProcess;
import io.ragproxy.it.RawMysqlClient;
import io.ragproxy.server.RagProxyServer;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.config.SessionLimits;
import io.ragproxy.server.pipeline.RagPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue #11 items 2, 6 and 7, as a user would check them: one session's hostile statement (nesting, size, a slow
 * parse, a stalled or oversize login) costs that session only, and a session cannot spend on models or settings the
 * operator did not allow.
 */
class SessionLimitsTest {
    private static final String DB = "it_session_limits";
    private static final int MAX_FRAME = 0xFFFFFF;
    private static LocalBackend backend;
    private static RagPipeline pipeline;
    private static RagProxyServer proxy;
    private static Path stateDir;

    /** An in-JVM proxy with the AI pipeline (local models), a 200 ms parse deadline and a 2 s login timeout. */
    @BeforeAll
    static void setUp() throws Exception {
        backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        stateDir = Files.createTempDirectory("ragproxy-limits-it");
        ProxyConfig config = ProxyConfig.builder()
                .listen("127.0.0.1", 0)
                .backend(backend.host(), backend.port())
                .stateDir(stateDir)
                .clientTls(false)
                .shutdownGrace(Duration.ofMillis(500))
                .limits(SessionLimits.DEFAULT.withParseTimeout(Duration.ofMillis(200))
                        .withLoginTimeout(Duration.ofSeconds(2)))
                .build();
        pipeline = RagPipeline.create(config);
        proxy = new RagProxyServer(config, pipeline).start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (backend != null) {
            backend.dropDatabase(DB);
        }
    }

    static String host() {
        return proxy.localAddress().getAddress().getHostAddress();
    }

    static int port() {
        return proxy.localAddress().getPort();
    }

    static Connection connect() throws SQLException {
        return Driver.MARIADB_CJ.connect(host(), port(), DB, LocalBackend.USER, LocalBackend.PASSWORD, false);
    }

    static RawMysqlClient raw() throws IOException {
        return RawMysqlClient.login(host(), port(), LocalBackend.USER, LocalBackend.PASSWORD, DB);
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static int errorCode(byte[] packet) {
        assertEquals(0xff, packet[0] & 0xff, "an ERR packet: " + RawMysqlClient.describe(packet));
        return (packet[1] & 0xff) | (packet[2] & 0xff) << 8;
    }

    /** #11.2: 200-deep unclosed EMBED( nesting is refused at once; other sessions and logins are not held up. */
    @Test
    void deepNestingIsRefusedAndCostsOnlyItsSession() throws Exception {
        String deep = "SELECT " + "EMBED(".repeat(200) + "'x'";
        ExecutorService attackers = Executors.newFixedThreadPool(16);
        try (Connection bystander = connect()) {
            selectOne(bystander);
            List<Future<Integer>> codes = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                codes.add(attackers.submit(() -> {
                    try (RawMysqlClient c = raw()) {
                        int code = errorCode(c.command(RawMysqlClient.COM_QUERY, deep));
                        assertEquals("1", c.queryFirstValue("SELECT 1"), "the attacker's own session stays usable");
                        return code;
                    }
                }));
            }
            long worst = 0;
            for (int i = 0; i < 20; i++) {
                long t0 = System.nanoTime();
                assertEquals(1, selectOne(bystander));
                try (Connection fresh = connect()) {
                    assertEquals(1, selectOne(fresh), "a new login succeeds meanwhile");
                }
                worst = Math.max(worst, System.nanoTime() - t0);
            }
            for (Future<Integer> code : codes) {
                assertEquals(7030, code.get(60, TimeUnit.SECONDS));
            }
            // Before the fix each SELECT 1 here waited for the parser's 8 s timeout.
            assertTrue(worst < TimeUnit.SECONDS.toNanos(2), "SELECT 1 and a login took " + worst / 1_000_000 + " ms");
        } finally {
            attackers.shutdownNow();
        }
    }

    /** A statement the parser would chew on is stopped at proxy.parse_timeout_ms; the session stays usable. */
    @Test
    void aSlowParseIsStoppedAtTheDeadline() throws Exception {
        String slow = "SELECT EMBED('a'), " + "(".repeat(10) + "1 +" + ")".repeat(10);
        try (RawMysqlClient c = raw(); Connection bystander = connect()) {
            c.sendCommand(RawMysqlClient.COM_QUERY, slow.getBytes(StandardCharsets.UTF_8));
            assertEquals(1, selectOne(bystander), "another session runs while the parse goes on");
            byte[] reply = c.readPacket();
            assertEquals(7032, errorCode(reply), RawMysqlClient.describe(reply));
            assertTrue(RawMysqlClient.describe(reply).contains("proxy.parse_timeout_ms"));
            assertEquals("1", c.queryFirstValue("SELECT 1"));
        }
    }

    /** Writes a COM_QUERY of {@code sql} head + {@code fill} bytes of 'a' + {@code tail}, in 16 MiB frames. */
    private static void writeLongQuery(OutputStream out, String head, long fill, String tail) throws IOException {
        byte[] headBytes = ("\u0003" + head).getBytes(StandardCharsets.ISO_8859_1);
        byte[] tailBytes = tail.getBytes(StandardCharsets.ISO_8859_1);
        long total = headBytes.length + fill + tailBytes.length;
        byte[] frame = new byte[4 + MAX_FRAME];
        long written = 0;
        int seq = 0;
        while (true) {
            int len = (int) Math.min(MAX_FRAME, total - written);
            frame[0] = (byte) len;
            frame[1] = (byte) (len >>> 8);
            frame[2] = (byte) (len >>> 16);
            frame[3] = (byte) seq++;
            for (int i = 0; i < len; i++) {
                long at = written + i;
                frame[4 + i] = at < headBytes.length ? headBytes[(int) at]
                        : at >= total - tailBytes.length ? tailBytes[(int) (at - (total - tailBytes.length))] : (byte) 'a';
            }
            out.write(frame, 0, 4 + len);
            written += len;
            if (len < MAX_FRAME) {
                break;
            }
        }
        out.flush();
    }

    /**
     * #11.6: a 400 MB statement with an AI call is refused with 7031 by a proxy whose heap and direct memory are far
     * smaller than the statement; the connection stays usable, and a plain statement over 16 MiB still passes.
     */
    @Test
    void a400MbAiStatementIsRefusedWithoutBufferingIt() throws Exception {
        String toml = """
                [backend]
                address = "%s:%d"
                [tls]
                enabled = false
                """.formatted(backend.host(), backend.port());
        try (ProxyProcess small = ProxyProcess.start(List.of("-Xmx128m", "-XX:MaxDirectMemorySize=96m",
                "-XX:+ExitOnOutOfMemoryError"), toml, Map.of())) {
            try (RawMysqlClient c = RawMysqlClient.login(small.host(), small.port(), LocalBackend.USER,
                    LocalBackend.PASSWORD, DB)) {
                writeLongQuery(c.socket().getOutputStream(), "SELECT EMBED('", 400L * 1024 * 1024, "')");
                byte[] reply = c.readPacket();
                assertEquals(7031, errorCode(reply), RawMysqlClient.describe(reply));
                assertTrue(RawMysqlClient.describe(reply).contains("proxy.max_ai_statement_bytes"));
                assertEquals("1", c.queryFirstValue("SELECT 1"), "the connection stays usable");
                // A plain statement longer than one frame is relayed as it arrives (the backend allows 64 MB).
                writeLongQuery(c.socket().getOutputStream(), "SELECT LENGTH('", 20L * 1024 * 1024, "')");
                byte[] columns = c.readPacket();
                assertEquals(1, columns[0], RawMysqlClient.describe(columns));
                c.readPacket();
                c.readPacket();
                byte[] row = c.readPacket();
                assertEquals(Long.toString(20L * 1024 * 1024), new String(row, 1, row[0], StandardCharsets.UTF_8));
                c.readPacket();
                assertEquals("1", c.queryFirstValue("SELECT 1"));
            }
            assertTrue(small.isAlive(), small.output());
            assertFalse(small.sawOutOfMemory(), small.output());
        }
    }

    /** #11.6: a login packet over 64 kB gets 7034 and the connection closes, before the rest is read. */
    @Test
    void anOversizeLoginPacketClosesTheConnection() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(host(), port())) {
            c.readHandshake();
            byte[] header = {(byte) 0xC0, (byte) 0xE1, (byte) 0xE4, 1}; // 15,000,000 bytes announced
            c.writeRaw(header);
            try {
                c.writeRaw(new byte[4096]);
            } catch (IOException closedEarly) {
                // The proxy may close first: it does not wait for the rest.
            }
            byte[] rest = c.readUntilClosed(10_000);
            assertNotNull(rest, "the proxy closed the connection");
            String text = new String(rest, StandardCharsets.ISO_8859_1);
            assertTrue(text.contains("login packet of 15000000 bytes"), text);
        }
        try (Connection c = connect()) {
            assertEquals(1, selectOne(c), "logins keep working");
        }
    }

    /** #11.6: a login not finished within proxy.login_timeout_s is closed. */
    @Test
    void aStalledLoginIsClosed() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(host(), port())) {
            c.readHandshake();
            assertNotNull(c.readUntilClosed(15_000), "closed after proxy.login_timeout_s = 2");
        }
    }

    /** #11.7: an unconfigured model id is never called, and the settings that spend have ceilings. */
    @Test
    void onlyConfiguredModelsAndBoundedSettings() throws Exception {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            SQLException unknown = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.executeQuery("SELECT GENERATE('x', 'amazon.nonexistent')"));
            assertEquals(7011, unknown.getErrorCode(), unknown.getMessage());
            assertTrue(unknown.getMessage().contains("is not configured"), unknown.getMessage());
            SQLException calls = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.execute("SET rag_max_calls = 2147483647"));
            assertEquals(7005, calls.getErrorCode());
            assertTrue(calls.getMessage().contains("rag_max_calls_ceiling"), calls.getMessage());
            SQLException concurrency = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.execute("SET rag_concurrency = 100000"));
            assertEquals(7005, concurrency.getErrorCode());
            s.execute("SET rag_max_calls = 5000, rag_concurrency = 32");
            try (ResultSet rs = s.executeQuery("SHOW RAG SETTINGS")) {
                List<String> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(rs.getString(1) + "=" + rs.getString(2));
                }
                assertTrue(rows.containsAll(Arrays.asList("rag_max_calls=5000", "rag_concurrency=32")), rows.toString());
            }
            assertEquals(1, selectOne(c));
        }
    }
}
