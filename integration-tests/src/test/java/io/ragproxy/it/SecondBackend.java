package io.ragproxy.it;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second local MariaDB server ({@code bin/local-backend} with a home of its own), for tests of several backends;
 * unlike {@link LocalBackend} the tests stop and start it.
 *
 * <p>Its home is {@code $RAGPROXY_SECOND_BACKEND_HOME}, else {@code $RAGPROXY_HOME} with {@code 2} appended (else
 * {@code ~/.cache/ragproxy2}); its port {@code $RAGPROXY_SECOND_BACKEND_PORT}, else the port it already runs on (its
 * pid file and command line),
 * else the first backend's port plus one when that is free, else any free port. The first start on a machine
 * provisions MariaDB into that home, as {@code LocalBackend} does.
 */
public final class SecondBackend {
    private static final Pattern PORT_OPTION = Pattern.compile("--port=(\\d{1,5})");

    private final Path home;
    private final int port;

    private SecondBackend(Path home, int port) {
        this.home = home;
        this.port = port;
    }

    /** Starts the second server (a no-op when it runs) and returns it. */
    public static SecondBackend start() {
        String configuredHome = System.getenv("RAGPROXY_SECOND_BACKEND_HOME");
        String firstHome = System.getenv("RAGPROXY_HOME");
        Path home = configuredHome != null && !configuredHome.isBlank() ? Path.of(configuredHome)
                : firstHome != null && !firstHome.isBlank() ? Path.of(firstHome + "2")
                : Path.of(System.getProperty("user.home"), ".cache", "ragproxy2");
        int port = choosePort(home);
        SecondBackend b = new SecondBackend(home, port);
        b.run("start");
        return b;
    }

    private static int choosePort(Path home) {
        String configured = System.getenv("RAGPROXY_SECOND_BACKEND_PORT");
        if (configured != null && !configured.isBlank()) {
            return Integer.parseInt(configured.trim());
        }
        Integer running = runningPort(home);
        if (running != null) {
            return running;
        }
        int next = LocalBackend.get().port() + 1;
        return free(next) ? next : anyFreePort();
    }

    /** The port of the server already running from {@code home} (its pid file, its command line), else null. */
    private static Integer runningPort(Path home) {
        try {
            Path pidFile = home.resolve("mariadb/run/mariadbd.pid");
            if (!Files.isRegularFile(pidFile)) {
                return null;
            }
            String pid = Files.readString(pidFile).strip();
            Path cmdline = Path.of("/proc", pid, "cmdline");
            if (!pid.matches("\\d+") || !Files.isReadable(cmdline)) {
                return null;
            }
            Matcher m = PORT_OPTION.matcher(Files.readString(cmdline, StandardCharsets.ISO_8859_1).replace('\0', ' '));
            return m.find() ? Integer.valueOf(m.group(1)) : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int anyFreePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** {@code host:port}. */
    public String address() {
        return host() + ":" + port;
    }

    /** Stops the server (its clients' connections end). */
    public void stop() {
        run("stop");
    }

    /** Starts it again. */
    public void restart() {
        run("start");
    }

    private void run(String subcommand) {
        runForOutput(subcommand);
    }

    /**
     * Runs {@code bin/local-backend SUBCOMMAND} for this server; its stdout and stderr (a non-zero exit fails, but
     * status's 3).
     */
    private String runForOutput(String subcommand) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("second-backend", ".out");
            err = Files.createTempFile("second-backend", ".err");
            ProcessBuilder pb = new ProcessBuilder("bash", LocalBackend.script().toString(), subcommand)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            Map<String, String> env = pb.environment();
            env.put("RAGPROXY_HOME", home.toString());
            env.put("RAGPROXY_LOCAL_BACKEND_PORT", Integer.toString(port));
            Process p = pb.start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("bin/local-backend " + subcommand + " (second backend) took over 10 min");
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 && !(subcommand.equals("status") && p.exitValue() == 3)) {
                throw new IllegalStateException("bin/local-backend " + subcommand + " (second backend, home " + home
                        + ") exited with " + p.exitValue() + "\nstdout:\n" + stdout + "\nstderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return stdout + Files.readString(err, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run bin/local-backend " + subcommand + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            for (Path p : new Path[] {out, err}) {
                if (p != null) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // temp file
                    }
                }
            }
        }
    }
}
