package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The proxy at the packet level: its greeting, and commands that drivers rarely send (COM_FIELD_LIST,
 * COM_STATISTICS, COM_SET_OPTION, COM_INIT_DB, COM_QUIT) answered with the very bytes the backend sends directly.
 */
class RawProtocolTest {
    private static final String DB = "it_raw_protocol";
    private static final long CLIENT_PS_MULTI_RESULTS = 0x40000;
    private static final long CLIENT_DEPRECATE_EOF = 0x1000000;
    private static LocalBackend backend;
    private static ProxyFixture proxy;

    @BeforeAll
    static void setUp() {
        backend = LocalBackend.get();
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

    @Test
    void greetingCarriesTheBackendsVersionWithSuffixAndItsConnectionId() throws Exception {
        RawMysqlClient.Handshake direct;
        try (RawMysqlClient c = RawMysqlClient.open(backend.host(), backend.port())) {
            direct = c.readHandshake();
        }
        try (RawMysqlClient c = RawMysqlClient.open(proxy.host(), proxy.port())) {
            RawMysqlClient.Handshake h = c.readHandshake();
            assertEquals(direct.serverVersion() + "-ragproxy", h.serverVersion(), "server version in the greeting");
            assertEquals(direct.plugin(), h.plugin(), "default auth plugin");
            assertEquals(20, h.scramble().length, "scramble length");
            assertEquals(0, h.capabilities() & RawMysqlClient.CLIENT_COMPRESS, "compression must not be offered");
            assertTrue((h.capabilities() & RawMysqlClient.CLIENT_SSL) != 0, "TLS should be offered (client TLS is on)");
            for (long cap : new long[] {RawMysqlClient.CLIENT_PROTOCOL_41, RawMysqlClient.CLIENT_PLUGIN_AUTH,
                    RawMysqlClient.CLIENT_MULTI_STATEMENTS, RawMysqlClient.CLIENT_MULTI_RESULTS, CLIENT_PS_MULTI_RESULTS,
                    RawMysqlClient.CLIENT_SECURE_CONNECTION, RawMysqlClient.CLIENT_TRANSACTIONS, CLIENT_DEPRECATE_EOF}) {
                assertEquals(direct.capabilities() & cap, h.capabilities() & cap,
                        "capability 0x" + Long.toHexString(cap) + " should be offered as the backend offers it");
            }
            byte[] ok = c.authenticate(LocalBackend.USER, LocalBackend.PASSWORD, null);
            assertEquals(0x00, ok[0] & 0xff, "login: " + RawMysqlClient.describe(ok));
            assertEquals(Long.toString(h.connectionId()), c.queryFirstValue("SELECT CONNECTION_ID()"),
                    "the greeting's connection id should be the backend's (KILL uses it)");
        }
    }

    /** One command and every packet of its answer, as hex, one line per packet. */
    private static List<String> transcript(String host, int port) throws IOException {
        List<String> out = new ArrayList<>();
        try (RawMysqlClient c = RawMysqlClient.login(host, port, LocalBackend.USER, LocalBackend.PASSWORD, null)) {
            step(out, c, RawMysqlClient.COM_INIT_DB, DB);
            step(out, c, RawMysqlClient.COM_QUERY, "CREATE TABLE fl (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL"
                    + " DEFAULT 'x', amount DECIMAL(6,2), made DATETIME)");
            step(out, c, RawMysqlClient.COM_QUERY, "INSERT INTO fl VALUES (1, 'a', 1.50, '2024-01-02 03:04:05'),"
                    + " (2, 'b', NULL, NULL)");
            step(out, c, RawMysqlClient.COM_FIELD_LIST, "fl\0");
            step(out, c, RawMysqlClient.COM_FIELD_LIST, "fl\0na%");
            step(out, c, RawMysqlClient.COM_FIELD_LIST, "no_such_table\0");
            step(out, c, RawMysqlClient.COM_QUERY, "SELECT * FROM fl ORDER BY id");
            step(out, c, RawMysqlClient.COM_QUERY, "SELECT 1 AS a; SELECT 'two' AS b; INSERT INTO fl (id) VALUES (3)");
            step(out, c, RawMysqlClient.COM_SET_OPTION, new byte[] {1, 0}); // MULTI_STATEMENTS off
            step(out, c, RawMysqlClient.COM_QUERY, "SELECT 1; SELECT 2");
            step(out, c, RawMysqlClient.COM_SET_OPTION, new byte[] {0, 0}); // on again
            step(out, c, RawMysqlClient.COM_QUERY, "SELECT 1; SELECT 2");
            step(out, c, RawMysqlClient.COM_QUERY, "INSERT IGNORE INTO fl (id, name) VALUES (1, 'dup')");
            step(out, c, RawMysqlClient.COM_QUERY, "SHOW WARNINGS");
            step(out, c, RawMysqlClient.COM_PING, "");
            step(out, c, RawMysqlClient.COM_INIT_DB, "it_no_such_database");
            step(out, c, RawMysqlClient.COM_QUERY, "SELECT DATABASE()");
            byte[] stats = c.command(RawMysqlClient.COM_STATISTICS, new byte[0]);
            String text = new String(stats, StandardCharsets.UTF_8);
            out.add("COM_STATISTICS starts with Uptime: " + text.startsWith("Uptime:") + ", has Questions: "
                    + text.contains("Questions:"));
            c.sendCommand(RawMysqlClient.COM_QUIT, new byte[0]);
            byte[] rest = c.readUntilClosed(5_000);
            out.add("after COM_QUIT: " + (rest == null ? "still open after 5 s" : "closed, " + rest.length + " bytes"));
        }
        return out;
    }

    private static void step(List<String> out, RawMysqlClient c, int command, String arg) throws IOException {
        step(out, c, command, arg.getBytes(StandardCharsets.UTF_8));
    }

    private static void step(List<String> out, RawMysqlClient c, int command, byte[] arg) throws IOException {
        out.add(String.format("> 0x%02x %s", command, new String(arg, StandardCharsets.UTF_8).replace("\0", "\\0")));
        byte[] p = c.command(command, arg);
        readAnswer(out, c, command, p);
    }

    /** Reads a whole answer (several result sets too) without CLIENT_DEPRECATE_EOF. */
    private static void readAnswer(List<String> out, RawMysqlClient c, int command, byte[] first) throws IOException {
        byte[] p = first;
        while (true) {
            out.add("< " + HexFormat.of().formatHex(p));
            int t = p[0] & 0xff;
            if (t == 0xff) {
                return;
            }
            if (command == RawMysqlClient.COM_FIELD_LIST) {
                if (t == 0xfe && p.length < 9) {
                    return;
                }
                p = c.readPacket();
                continue;
            }
            int status;
            if (t == 0x00 || (t == 0xfe && p.length < 9)) {
                status = t == 0x00 ? okStatus(p) : (p[3] & 0xff) | (p[4] & 0xff) << 8;
            } else {
                // A result set: columns, EOF, rows, EOF (or ERR).
                int columns = t;
                for (int i = 0; i < columns; i++) {
                    out.add("< " + HexFormat.of().formatHex(c.readPacket()));
                }
                out.add("< " + HexFormat.of().formatHex(c.readPacket()));
                byte[] row;
                while (true) {
                    row = c.readPacket();
                    out.add("< " + HexFormat.of().formatHex(row));
                    if ((row[0] & 0xff) == 0xff) {
                        return;
                    }
                    if ((row[0] & 0xff) == 0xfe && row.length < 9) {
                        break;
                    }
                }
                status = (row[3] & 0xff) | (row[4] & 0xff) << 8;
            }
            if ((status & 0x0008) == 0) { // SERVER_MORE_RESULTS_EXISTS
                return;
            }
            p = c.readPacket();
        }
    }

    private static int okStatus(byte[] ok) {
        int i = 1;
        for (int n = 0; n < 2; n++) { // affected rows, last insert id
            int b = ok[i] & 0xff;
            i += b < 0xfb ? 1 : b == 0xfc ? 3 : b == 0xfd ? 4 : 9;
        }
        return (ok[i] & 0xff) | (ok[i + 1] & 0xff) << 8;
    }

    @Test
    void rarelyUsedCommandsGetTheBackendsExactAnswer() throws Exception {
        backend.recreateDatabase(DB);
        List<String> direct = transcript(backend.host(), backend.port());
        backend.recreateDatabase(DB);
        List<String> proxied = transcript(proxy.host(), proxy.port());
        assertTrue(direct.size() > 40, "the direct transcript is too short to mean anything: " + direct);
        assertTrue(direct.contains("COM_STATISTICS starts with Uptime: true, has Questions: true"), direct.toString());
        assertTrue(direct.get(direct.size() - 1).startsWith("after COM_QUIT: closed"), direct.toString());
        CorpusRunner.assertSameOutput("packets answering each command", String.join("\n", direct),
                String.join("\n", proxied));
        assertNotNull(proxied);
    }
}
