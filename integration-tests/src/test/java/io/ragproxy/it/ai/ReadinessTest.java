package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.ProxyProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@code /ready} of a real proxy process (issue 15): 503 until the backend answers its health check and the catalog
 * has been read once through the {@code [catalog]} account, which the proxy does at start, with no client connected;
 * while the account cannot read it, {@code /ready} stays 503 and says so, and it turns 200 once the account works.
 */
class ReadinessTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String ACCOUNT = "ragproxy_ready_catalog";
    private static final String PASSWORD = "ready-Passw0rd";

    private static String toml(String catalogUser, String catalogPassword) {
        LocalBackend backend = LocalBackend.get();
        return """
                [backend]
                address = "%s:%d"
                [tls]
                enabled = false
                [catalog]
                user = "%s"
                password = "%s"
                """.formatted(backend.host(), backend.port(), catalogUser, catalogPassword);
    }

    @Test
    void readyOnceTheBackendIsUpAndTheCatalogReadWithoutAnyClient() throws Exception {
        try (ProxyProcess proxy = ProxyProcess.start(List.of(), toml(LocalBackend.USER, LocalBackend.PASSWORD),
                Map.of())) {
            HttpResponse<String> ready = await(proxy, r -> r.statusCode() == 200);
            assertEquals("ready: backends " + LocalBackend.get().host() + ":" + LocalBackend.get().port()
                    + " up; catalog read\n", ready.body());
        }
    }

    @Test
    void notReadyWhileTheCatalogAccountCannotReadTheCatalogThenReady() throws Exception {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + ACCOUNT + "'@'%'");
        try (ProxyProcess proxy = ProxyProcess.start(List.of(), toml(ACCOUNT, PASSWORD), Map.of())) {
            HttpResponse<String> notReady = await(proxy, r -> r.body().contains("catalog"));
            assertEquals(503, notReady.statusCode(), notReady.body());
            assertTrue(notReady.body().startsWith("not ready: backends ") && notReady.body().contains(
                    " up; catalog not read yet (the proxy reads it through the [catalog] account"), notReady.body());
            assertEquals(200, get(proxy, "/health").statusCode(), "the process is alive");
            Thread.sleep(1500);
            assertEquals(503, get(proxy, "/ready").statusCode(), "still not ready: the account does not exist");

            LocalBackend.get().exec("", "CREATE USER '" + ACCOUNT + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                    "GRANT ALL ON ragproxy.* TO '" + ACCOUNT + "'@'%'");
            HttpResponse<String> ready = await(proxy, r -> r.statusCode() == 200);
            assertTrue(ready.body().endsWith(" up; catalog read\n"), ready.body());
        } finally {
            LocalBackend.get().exec("", "DROP USER IF EXISTS '" + ACCOUNT + "'@'%'");
        }
    }

    private static HttpResponse<String> get(ProxyProcess proxy, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Polls {@code /ready} (at most 30 s) until {@code until} holds. */
    private static HttpResponse<String> await(ProxyProcess proxy, Predicate<HttpResponse<String>> until)
            throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        HttpResponse<String> r;
        do {
            r = get(proxy, "/ready");
            if (until.test(r)) {
                return r;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("/ready did not get there within 30 s; last: " + r.statusCode() + " " + r.body()
                + "\nproxy output:\n" + proxy.output());
    }
}
