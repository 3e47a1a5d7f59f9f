package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two proxy processes in front of two MariaDB servers (issue 15), as docs/operations.md deploys them behind an L4 load
 * balancer: each proxy spreads its connections over both backends; when one backend stops, its clients get an error
 * at once (not a hang), new connections go to the other and {@code /ready} stays 200; when it comes back, it takes
 * new connections again. Connection ids of two MariaDB servers collide, so a KILL of a connection on the other
 * backend is refused (7041) rather than relayed to a connection the user does not mean.
 */
class SeveralBackendsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Generous bound for "at once": far below the drivers' 120 s socket timeout, which a hang would run into. */
    private static final long FAST_MILLIS = 10_000;

    private static SecondBackend second;

    @BeforeAll
    static void startBothBackends() {
        LocalBackend.get();
        second = SecondBackend.start();
    }

    private static String toml(String... addresses) {
        return """
                [backend]
                addresses = [%s]
                [tls]
                enabled = false
                """.formatted(String.join(", ", List.of(addresses).stream().map(a -> "\"" + a + "\"").toList()));
    }

    private static String first() {
        return LocalBackend.get().host() + ":" + LocalBackend.get().port();
    }

    @Test
    void connectionsSpreadAStoppedBackendIsLeftOutAndTakenBackWhenItReturns() throws Exception {
        List<Connection> open = new ArrayList<>();
        try (ProxyProcess a = ProxyProcess.start(List.of(), toml(first(), second.address()), Map.of());
                ProxyProcess b = ProxyProcess.start(List.of(), toml(first(), second.address()), Map.of())) {
            for (ProxyProcess p : List.of(a, b)) {
                await(p, "/ready", r -> r.statusCode() == 200);
                await(p, "/metrics", r -> up(r.body(), second.address()) == 1 && up(r.body(), first()) == 1);
            }
            // Connections spread: four through each proxy, two on each backend.
            List<Connection> onSecond = new ArrayList<>();
            for (ProxyProcess p : List.of(a, b)) {
                int onFirst = 0;
                for (int i = 0; i < 4; i++) {
                    Connection c = connect(p);
                    open.add(c);
                    if (port(c) == second.port()) {
                        onSecond.add(c);
                    } else {
                        onFirst++;
                    }
                }
                assertEquals(2, onFirst, "two of four connections on each backend");
                HttpResponse<String> metrics = get(p, "/metrics");
                assertEquals(2.0, gauge(metrics.body(), "ragproxy_backend_connections", second.address()));
            }
            assertEquals(4, onSecond.size());

            // KILL of a connection on the other backend: refused, the target untouched.
            try (Connection issuer = onFirstBackend(a, open)) {
                long target = connectionId(onSecond.get(0));
                if (!idsThrough(open, LocalBackend.get().port()).contains(target)) {
                    SQLException e = assertThrows(SQLException.class,
                            () -> issuer.createStatement().execute("KILL QUERY " + target));
                    assertEquals(7041, e.getErrorCode(), e.getMessage());
                    assertTrue(e.getMessage().contains("is on backend") || e.getMessage().contains(second.address()),
                            e.getMessage());
                    assertEquals(1, scalar(issuer, "SELECT 1"), "the issuer's connection stays usable");
                }
                assertEquals(second.port(), port(onSecond.get(0)), "the target was not touched");
            }

            second.stop();
            // Its clients get an error at once: the backend closed their connections, the proxy closes the clients'.
            for (Connection c : onSecond) {
                long start = System.nanoTime();
                assertThrows(SQLException.class, () -> scalar(c, "SELECT 1"));
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(millis < FAST_MILLIS, "the error came after " + millis + " ms");
            }
            // New connections go to the other backend, before and after the health checks notice.
            for (ProxyProcess p : List.of(a, b)) {
                for (int i = 0; i < 3; i++) {
                    Connection c = connect(p);
                    open.add(c);
                    assertEquals(LocalBackend.get().port(), port(c));
                }
            }
            for (ProxyProcess p : List.of(a, b)) {
                await(p, "/metrics", r -> up(r.body(), second.address()) == 0);
                HttpResponse<String> ready = get(p, "/ready");
                assertEquals(200, ready.statusCode(), ready.body());
                assertTrue(ready.body().contains(second.address() + " down"), ready.body());
                Connection c = connect(p);
                open.add(c);
                assertEquals(LocalBackend.get().port(), port(c));
            }

            second.restart();
            for (ProxyProcess p : List.of(a, b)) {
                await(p, "/metrics", r -> up(r.body(), second.address()) == 1);
                // The first backend holds every connection now, so the returned one gets the next.
                Connection c = connect(p);
                open.add(c);
                assertEquals(second.port(), port(c), "a new connection goes to the backend that came back");
            }
        } finally {
            for (Connection c : open) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // already closed by the stopped backend
                }
            }
            second.restart();
        }
    }

    @Test
    void whenNoBackendIsUpAClientGets2003AtOnce() throws Exception {
        int[] closed = new int[2];
        for (int i = 0; i < 2; i++) {
            try (ServerSocket s = new ServerSocket(0)) {
                closed[i] = s.getLocalPort();
            }
        }
        try (ProxyProcess p = ProxyProcess.start(List.of(), toml("127.0.0.1:" + closed[0], "127.0.0.1:" + closed[1]),
                Map.of())) {
            await(p, "/ready", r -> r.statusCode() == 503 && r.body().contains("no backend is up"));
            long start = System.nanoTime();
            SQLException e = assertThrows(SQLException.class, () -> connect(p).close());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < FAST_MILLIS, "the error came after " + millis + " ms");
            assertTrue(e.getMessage().contains("cannot reach any backend"), e.getMessage());
            assertTrue(e.getErrorCode() == 2003 || e.getMessage().contains("2003"), e.getErrorCode() + " " + e.getMessage());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static Connection connect(ProxyProcess p) throws SQLException {
        return Driver.MARIADB_CJ.connect(p.host(), p.port(), "", LocalBackend.USER, LocalBackend.PASSWORD, false);
    }

    /** A new connection through {@code p} that landed on the first backend (the others are kept open in {@code open}). */
    private static Connection onFirstBackend(ProxyProcess p, List<Connection> open) throws SQLException {
        for (int i = 0; i < 6; i++) {
            Connection c = connect(p);
            if (port(c) == LocalBackend.get().port()) {
                return c;
            }
            open.add(c);
        }
        throw new AssertionError("no connection landed on the first backend");
    }

    private static List<Long> idsThrough(List<Connection> connections, int backendPort) throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (Connection c : connections) {
            if (port(c) == backendPort) {
                ids.add(connectionId(c));
            }
        }
        return ids;
    }

    private static int port(Connection c) throws SQLException {
        return (int) scalar(c, "SELECT @@port");
    }

    private static long connectionId(Connection c) throws SQLException {
        return scalar(c, "SELECT CONNECTION_ID()");
    }

    private static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The value of {@code ragproxy_backend_up{backend="address"}}, or -1 when absent. */
    private static double up(String metrics, String address) {
        return gauge(metrics, "ragproxy_backend_up", address);
    }

    private static double gauge(String metrics, String name, String address) {
        String prefix = name + "{backend=\"" + address + "\"} ";
        return metrics.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(
                l.substring(prefix.length()).trim())).findFirst().orElse(-1);
    }

    private static HttpResponse<String> get(ProxyProcess proxy, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Polls {@code path} (at most 30 s: three failed checks at 3 s take about 9) until {@code until} holds. */
    private static HttpResponse<String> await(ProxyProcess proxy, String path, Predicate<HttpResponse<String>> until)
            throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        HttpResponse<String> r;
        do {
            r = get(proxy, path);
            if (until.test(r)) {
                return r;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(path + " did not get there within 30 s; last: " + r.statusCode() + " " + r.body()
                + "\nproxy output:\n" + proxy.output());
    }
}
