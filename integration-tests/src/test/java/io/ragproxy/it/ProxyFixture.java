package io.ragproxy.it;

import io.ragproxy.server.RagProxyServer;
import io.ragproxy.server.config.ProxyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * An in-JVM ragproxy on a free loopback port in front of a backend, with its own state folder (where the
 * self-signed TLS certificate is written). Close it when done; the backend stays up.
 */
public final class ProxyFixture implements AutoCloseable {
    private final RagProxyServer server;
    private final Path stateDir;

    private ProxyFixture(RagProxyServer server, Path stateDir) {
        this.server = server;
        this.stateDir = stateDir;
    }

    /** A proxy with the default settings (client TLS on) in front of the local backend. */
    public static ProxyFixture start() {
        LocalBackend backend = LocalBackend.get();
        return start(backend.host(), backend.port(), b -> {});
    }

    /** A proxy in front of the local backend, with extra settings. */
    public static ProxyFixture start(Consumer<ProxyConfig.Builder> customizer) {
        LocalBackend backend = LocalBackend.get();
        return start(backend.host(), backend.port(), customizer);
    }

    /** A proxy in front of {@code backendHost:backendPort}, with extra settings. */
    public static ProxyFixture start(String backendHost, int backendPort, Consumer<ProxyConfig.Builder> customizer) {
        Path dir;
        try {
            dir = Files.createTempDirectory("ragproxy-it-state");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProxyConfig.Builder builder = ProxyConfig.builder()
                .listen("127.0.0.1", 0)
                .backend(backendHost, backendPort)
                .stateDir(dir)
                .clientTls(true)
                .maxConnections(1024)
                .shutdownGrace(Duration.ofMillis(500));
        customizer.accept(builder);
        try {
            return new ProxyFixture(new RagProxyServer(builder.build()).start(), dir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the proxy", e);
        }
    }

    public RagProxyServer server() {
        return server;
    }

    public String host() {
        return server.localAddress().getAddress().getHostAddress();
    }

    public int port() {
        return server.localAddress().getPort();
    }

    public Path stateDir() {
        return stateDir;
    }

    /** Client connections the proxy holds open right now. */
    public int openConnections() {
        return server.openConnections();
    }

    /**
     * Waits until the proxy holds at most {@code max} client connections; fails with the count seen if that does not
     * happen within {@code timeout}.
     */
    public void awaitOpenConnectionsAtMost(int max, Duration timeout, String why) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int n;
        while ((n = server.openConnections()) > max) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the proxy still holds " + n + " client connection(s) " + timeout.toMillis()
                        + " ms after " + why + " (expected at most " + max + ")");
            }
            Thread.sleep(25);
        }
    }

    /** The PEM certificate the proxy presents to TLS clients (the self-signed one in its state folder). */
    public Path certificatePem() throws IOException {
        try (Stream<Path> files = Files.walk(stateDir)) {
            List<Path> certs = files.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(".pem") || p.getFileName().toString().endsWith(".crt"))
                    .filter(p -> {
                        try {
                            return Files.readString(p).contains("BEGIN CERTIFICATE");
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .toList();
            if (certs.size() != 1) {
                throw new AssertionError("expected exactly one PEM certificate under the proxy's state folder "
                        + stateDir + ", found " + certs);
            }
            return certs.get(0);
        }
    }

    @Override
    public void close() {
        server.close();
        try (Stream<Path> files = Files.walk(stateDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp folder
        }
    }
}
