package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that misbehave on the wire are dropped; the proxy and the sessions of everyone else keep working. Each test
 * holds a healthy JDBC session open across the bad input and uses it afterwards, checks that a new connection works,
 * and that the proxy lets go of the bad connection.
 */
class BadInputTest {
    private static final String DB = "it_bad_input";
    private static LocalBackend backend;
    private static ProxyFixture proxy;

    private Connection bystander;

    @BeforeAll
    static void setUp() throws Exception {
        backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        proxy = ProxyFixture.start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.dropDatabase(DB);
        }
    }

    @BeforeEach
    void openBystander() throws Exception {
        bystander = Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER, LocalBackend.PASSWORD,
                false);
        assertEquals(1, query(bystander, "SELECT 1"));
        proxy.awaitOpenConnectionsAtMost(1, Duration.ofSeconds(5), "the previous test");
    }

    @AfterEach
    void checkEveryoneElseIsFine() throws Exception {
        // The bad connection is gone from the proxy ...
        proxy.awaitOpenConnectionsAtMost(1, Duration.ofSeconds(5), "the misbehaving client was done");
        // ... the session that was open all along still works ...
        assertEquals(2, query(bystander, "SELECT 2"), "the healthy session opened before the bad input");
        bystander.close();
        // ... and so does a new one.
        try (Connection fresh = Driver.MYSQL_CJ.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER,
                LocalBackend.PASSWORD, false)) {
            assertEquals(3, query(fresh, "SELECT 3"), "a new connection after the bad input");
        }
        proxy.awaitOpenConnectionsAtMost(0, Duration.ofSeconds(5), "all connections were closed");
    }

    private static long query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getLong(1);
        }
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void garbageRightAfterConnecting() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            // Without even reading the greeting.
            c.writeRaw(randomBytes(4096, 1));
            c.socket().shutdownOutput();
            assertNotNull(c.readUntilClosed(10_000), "the proxy kept a garbage-sending client open for 10 s");
        }
    }

    @Test
    void garbageFrameInsteadOfTheHandshakeResponse() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            c.readHandshake();
            // A well-framed packet whose content is nonsense: the login must fail and the connection end.
            c.writePacket(randomBytes(100, 2));
            assertNotNull(c.readUntilClosed(10_000), "the connection stayed open after a nonsense handshake response");
        }
    }

    @Test
    void httpRequestToTheMysqlPort() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            c.writeRaw("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.socket().shutdownOutput();
            assertNotNull(c.readUntilClosed(10_000), "the proxy kept an HTTP client open for 10 s");
        }
    }

    @Test
    void truncatedPacketThenClose() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            c.readHandshake();
            byte[] header = {100, 0, 0, 1}; // declares 100 bytes
            c.writeRaw(header);
            c.writeRaw(randomBytes(10, 3)); // sends 10
        }
    }

    @Test
    void truncatedCommandAfterLoginThenClose() throws Exception {
        RawMysqlClient c = RawMysqlClient.login(proxy.host(), proxy.port(), LocalBackend.USER, LocalBackend.PASSWORD, DB);
        byte[] query = "SELECT 'never complete'".getBytes(StandardCharsets.US_ASCII);
        byte[] frame = RawMysqlClient.frame(concat(new byte[] {RawMysqlClient.COM_QUERY}, query), 0);
        c.writeRaw(java.util.Arrays.copyOf(frame, frame.length - 5));
        c.abort();
    }

    @Test
    void hugeDeclaredLengthThenClose() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            c.readHandshake();
            c.writeRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1}); // 16 MiB - 1 declared
            c.writeRaw(randomBytes(1000, 4));
        }
    }

    @Test
    void hugeDeclaredLengthAfterLoginThenReset() throws Exception {
        RawMysqlClient c = RawMysqlClient.login(proxy.host(), proxy.port(), LocalBackend.USER, LocalBackend.PASSWORD, DB);
        c.writeRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0, RawMysqlClient.COM_QUERY});
        c.writeRaw("SELECT '".getBytes(StandardCharsets.US_ASCII));
        c.writeRaw(new byte[64 * 1024]);
        c.abort();
    }

    @Test
    void tlsRequestFollowedByGarbage() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            RawMysqlClient.Handshake h = c.readHandshake();
            assertTrue((h.capabilities() & RawMysqlClient.CLIENT_SSL) != 0, "the proxy offers TLS");
            byte[] sslRequest = new byte[32];
            int caps = RawMysqlClient.clientCapabilities() | RawMysqlClient.CLIENT_SSL;
            sslRequest[0] = (byte) caps;
            sslRequest[1] = (byte) (caps >>> 8);
            sslRequest[2] = (byte) (caps >>> 16);
            sslRequest[3] = (byte) (caps >>> 24);
            sslRequest[6] = 0x01; // max packet 16 MiB
            sslRequest[8] = 45;
            c.writePacket(sslRequest);
            c.writeRaw(randomBytes(2048, 5)); // not a TLS ClientHello
            assertNotNull(c.readUntilClosed(10_000), "the connection stayed open after a broken TLS handshake");
        }
    }

    @Test
    void unknownCommandAfterLoginGetsAnErrorNotACrash() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.login(proxy.host(), proxy.port(), LocalBackend.USER, LocalBackend.PASSWORD,
                DB)) {
            byte[] reply = c.command(0xee, randomBytes(50, 6));
            assertEquals(0xff, reply[0] & 0xff, "an unknown command gets an ERR: " + RawMysqlClient.describe(reply));
            // The backend answers an unknown command with an error and keeps the session.
            assertEquals("42", c.queryFirstValue("SELECT 42"));
        }
    }

    @Test
    void clientDisconnectsInTheMiddleOfALargeResult() throws Exception {
        RawMysqlClient c = RawMysqlClient.login(proxy.host(), proxy.port(), LocalBackend.USER, LocalBackend.PASSWORD, DB);
        long backendId = c.handshake().connectionId();
        // About 500 MB of result: far more than socket buffers or any sane proxy buffer.
        c.sendCommand(RawMysqlClient.COM_QUERY,
                "SELECT seq, REPEAT('x', 250) FROM seq_1_to_2000000".getBytes(StandardCharsets.US_ASCII));
        c.readBytes(256 * 1024);
        c.abort();
        // The proxy closes the backend leg as well: the backend thread goes away instead of streaming into the void.
        try (Connection direct = backend.connect("")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            long left;
            while ((left = query(direct, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + backendId)) > 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(0, left, "the backend connection " + backendId
                    + " of the client that went away is still there 15 s later");
        }
    }

    @Test
    void jdbcStreamingClientAbortsMidResult() throws Exception {
        Connection c = Driver.MYSQL_CJ.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER, LocalBackend.PASSWORD,
                false);
        Statement s = c.createStatement();
        s.setFetchSize(Integer.MIN_VALUE);
        ResultSet rs = s.executeQuery("SELECT seq, REPEAT('y', 100) FROM seq_1_to_3000000");
        for (int i = 0; i < 1000; i++) {
            assertTrue(rs.next());
        }
        c.abort(Runnable::run);
    }

    @Test
    void manyHalfOpenConnectionsAtOnce() throws Exception {
        RawMysqlClient[] clients = new RawMysqlClient[50];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = RawMysqlClient.open(proxy.host(), proxy.port());
            clients[i].readHandshake();
        }
        assertEquals(1, query(bystander, "SELECT 1"), "the healthy session while 50 clients hang in the handshake");
        for (RawMysqlClient c : clients) {
            c.abort();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
