package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.epoll.Epoll;
import io.ragproxy.server.ops.AdminEndpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The socket transport ({@code proxy.transport}): Netty's native epoll where it loads, NIO when forced, and the
 * transport in use named on {@code /metrics} as {@code ragproxy_transport_info}; and the number of event loops
 * ({@code proxy.io_threads}).
 */
class TransportTest {

    @Test
    void autoUsesEpollWhereItLoads() throws Exception {
        String expected = Epoll.isAvailable() ? "epoll" : "nio";
        try (ProxyFixture proxy = ProxyFixture.start(b -> b.transport("auto"))) {
            assertEquals(expected, proxy.server().transport().name());
            assertEquals("ragproxy_transport_info{transport=\"" + expected + "\"} 1.0", transportLine(proxy));
            assertRoundTrips(proxy);
        }
        if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")) {
            assertTrue(Epoll.isAvailable(), "the native epoll transport ships for Linux x86_64: "
                    + Epoll.unavailabilityCause());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void aForcedTransportRelaysLikeTheOther(String transport) throws Exception {
        if (transport.equals("epoll") && !Epoll.isAvailable()) {
            return; // only where it loads
        }
        try (ProxyFixture proxy = ProxyFixture.start(b -> b.transport(transport))) {
            assertEquals(transport, proxy.server().transport().name());
            assertEquals("ragproxy_transport_info{transport=\"" + transport + "\"} 1.0", transportLine(proxy));
            assertRoundTrips(proxy);
        }
    }

    /**
     * {@code proxy.io_threads}: the connections share that many event loops, one per core when it is 0 (HAProxy's
     * threading, cheaper per query than Netty's default of two per core), and a single loop relays like several.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3})
    void eventLoopsFollowTheSetting(int ioThreads) throws Exception {
        int expected = ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
        try (ProxyFixture proxy = ProxyFixture.start(b -> b.ioThreads(ioThreads))) {
            assertEquals(expected, proxy.server().eventLoops());
            assertRoundTrips(proxy);
        }
    }

    /** Both drivers, text and prepared, a result of some thousand rows (several reads per result). */
    private static void assertRoundTrips(ProxyFixture proxy) throws Exception {
        for (Driver d : Driver.values()) {
            try (Connection c = d.connect(proxy.host(), proxy.port(), "mysql", LocalBackend.USER, LocalBackend.PASSWORD,
                    false, d.serverPrepare());
                    Statement s = c.createStatement()) {
                List<Long> rows = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT seq, REPEAT('x', 100) FROM seq_1_to_5000")) {
                    while (rs.next()) {
                        rows.add(rs.getLong(1));
                    }
                }
                assertEquals(5000, rows.size(), d.toString());
                assertEquals(5000L, rows.get(4999));
                try (var ps = c.prepareStatement("SELECT ? + 1")) {
                    ps.setInt(1, 41);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(42, rs.getInt(1));
                    }
                }
            }
        }
    }

    private static String transportLine(ProxyFixture proxy) throws Exception {
        try (AdminEndpoint admin = new AdminEndpoint("127.0.0.1", 0, proxy.server().metrics(),
                () -> new AdminEndpoint.Readiness(true, "test"))) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.body().lines().filter(l -> l.startsWith("ragproxy_transport_info{")).findFirst().orElse("none");
        }
    }
}
