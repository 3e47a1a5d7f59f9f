package io.ragproxy.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * ragproxy as a child process ({@code java [jvmFlags] io.ragproxy.server.RagProxyMain}), for tests that need JVM
 * flags of their own, such as a small heap: started with this JVM's test class path, a TOML configuration written
 * to a temporary folder (which is also its {@code RAGPROXY_HOME}) and a free loopback port. Its output (stdout and
 * stderr) is kept, the last lines of it, for messages. Close it to stop it.
 */
public final class ProxyProcess implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("ragproxy is ready\\. Connect with:\\s+mysql -h(\\S+) -P(\\d+)");
    private static final Pattern ADMIN = Pattern.compile("ragproxy admin endpoint: http://(\\S+):(\\d+)/");
    private static final int KEPT_LINES = 400;

    private final Process process;
    private final Path home;
    private final ArrayDeque<String> lines = new ArrayDeque<>();
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile String host;
    private volatile int port;
    private volatile int adminPort;
    private volatile boolean sawOutOfMemory;

    private ProxyProcess(Process process, Path home) {
        this.process = process;
        this.home = home;
        Thread reader = new Thread(this::pump, "ragproxy-child-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts the proxy and waits until it listens.
     *
     * @param jvmFlags flags for the child JVM, e.g. {@code -Xmx256m}
     * @param toml the configuration file's text ({@code [proxy] listen} is overridden with a free port)
     * @param env extra environment variables (AWS credentials for the emulator, for instance)
     */
    public static ProxyProcess start(List<String> jvmFlags, String toml, Map<String, String> env) {
        Path home;
        try {
            home = Files.createTempDirectory("ragproxy-child");
            Files.writeString(home.resolve("ragproxy.toml"), toml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // Surefire may start tests through a manifest-only jar; the real class path is then in this property.
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", classPath, "io.ragproxy.server.RagProxyMain",
                "--config", home.resolve("ragproxy.toml").toString(), "--listen", "127.0.0.1:0",
                "--admin-listen", "127.0.0.1:0"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(home.toFile());
        pb.environment().put("RAGPROXY_HOME", home.toString());
        pb.environment().putAll(env);
        ProxyProcess p;
        try {
            p = new ProxyProcess(pb.start(), home);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        try {
            if (!p.ready.await(60, TimeUnit.SECONDS)) {
                p.close();
                throw new AssertionError("the child proxy did not say it was ready within 60 s; its output:\n" + p.output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.close();
            throw new IllegalStateException(e);
        }
        return p;
    }

    private void pump() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.contains("OutOfMemoryError")) {
                    sawOutOfMemory = true;
                }
                synchronized (lines) {
                    lines.addLast(line);
                    if (lines.size() > KEPT_LINES) {
                        lines.removeFirst();
                    }
                }
                Matcher admin = ADMIN.matcher(line);
                if (admin.find()) {
                    adminPort = Integer.parseInt(admin.group(2));
                }
                Matcher m = READY.matcher(line);
                if (m.find()) {
                    host = m.group(1);
                    port = Integer.parseInt(m.group(2));
                    ready.countDown();
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The port of its admin HTTP endpoint (on 127.0.0.1, a free port picked at start). */
    public int adminPort() {
        return adminPort;
    }

    /** The configuration file it was started with (rewrite it, then send SIGHUP, to reload). */
    public Path configFile() {
        return home.resolve("ragproxy.toml");
    }

    /** The child's process id (to send it signals). */
    public long pid() {
        return process.pid();
    }

    /** Waits up to {@code timeout} for the child to exit; its exit code, or null when it still runs. */
    public Integer awaitExit(java.time.Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
    }

    /** Whether the child JVM still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Whether any line of its output mentioned an OutOfMemoryError. */
    public boolean sawOutOfMemory() {
        return sawOutOfMemory;
    }

    /** The last lines of its output. */
    public String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // temp folder
        }
    }
}
