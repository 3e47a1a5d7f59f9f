package io.ragproxy.server.ops;

import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.ragproxy.server.balance.BackendPool;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP endpoint, on the Prometheus client's built-in HTTP server: {@code /metrics} (Prometheus text format,
 * or OpenMetrics/protobuf when the scraper asks), {@code /health} (200 while the process runs) and {@code /ready}
 * (200 when the proxy should get traffic, else 503; the body says why). Runs on the server's own small thread pool,
 * never on the proxy's event loops.
 */
public final class AdminEndpoint implements AutoCloseable {
    /** Whether the proxy should get traffic, and a one-line explanation for the body of {@code /ready}. */
    public record Readiness(boolean ready, String detail) {

        /**
         * Ready when at least one of {@code pool}'s backends answers its health check and the catalog has been read once
         * (through the catalog's own account, at start; {@code catalogRead} may start another read when none succeeded
         * yet), so the first statements after start see the catalog's functions and models.
         */
        public static Readiness of(BackendPool pool, BooleanSupplier catalogRead) {
            if (!pool.anyUp()) {
                return new Readiness(false, pool.allChecked() ? "no backend is up: " + pool.describe()
                        : "backends not checked yet: " + pool.describe());
            }
            if (!catalogRead.getAsBoolean()) {
                return new Readiness(false, "backends " + pool.describe() + "; catalog not read yet (the proxy reads"
                        + " it through the [catalog] account on the first backend; the log says why it cannot)");
            }
            return new Readiness(true, "backends " + pool.describe() + "; catalog read");
        }
    }

    private final HTTPServer server;

    /**
     * Binds {@code host:port} (0 picks a free port) and starts serving.
     *
     * @param readiness asked on every {@code /ready}
     * @throws IllegalStateException when the address cannot be bound
     */
    public AdminEndpoint(String host, int port, ProxyMetrics metrics, Supplier<Readiness> readiness) {
        try {
            server = HTTPServer.builder()
                    .hostname(host)
                    .port(port)
                    .registry(metrics.registry())
                    .defaultHandler(exchange -> route(exchange, readiness))
                    .buildAndStart();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("cannot serve the admin endpoint on " + host + ":" + port + ": "
                    + e.getMessage() + " (choose another address with --admin-listen HOST:PORT, or turn it off with"
                    + " [admin] enabled = false)", e);
        }
    }

    /** The bound port. */
    public int port() {
        return server.getPort();
    }

    private static void route(HttpExchange exchange, Supplier<Readiness> readiness) throws IOException {
        String path = exchange.getRequestURI().getPath();
        switch (path) {
            case "/health" -> reply(exchange, 200, "ok\n");
            case "/ready" -> {
                Readiness r = readiness.get();
                reply(exchange, r.ready() ? 200 : 503, (r.ready() ? "ready: " : "not ready: ") + r.detail() + "\n");
            }
            case "/" -> reply(exchange, 200, "ragproxy admin endpoint: /metrics, /health, /ready\n");
            default -> reply(exchange, 404, "not found; try /metrics, /health or /ready\n");
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.close();
    }
}
