package io.ragproxy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local MariaDB backend ({@code bin/local-backend}), started once per JVM and never stopped (the next run reuses
 * it). Tests get its address, direct JDBC connections to it, and per-class databases.
 *
 * <p>Reusable by the tests of later issues: {@code LocalBackend.get()} is all they need.
 */
public final class LocalBackend {
    /** The local backend's account: root with an empty password, over TCP. */
    public static final String USER = "root";
    public static final String PASSWORD = "";

    private static final Pattern ADDRESS = Pattern.compile("^([0-9A-Za-z.\\-]+):(\\d{1,5})$");
    private static LocalBackend instance;

    private final String host;
    private final int port;

    private LocalBackend(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /** The repository root: the {@code ragproxy.root} system property, else the nearest parent with {@code bin/local-backend}. */
    public static Path repoRoot() {
        String prop = System.getProperty("ragproxy.root");
        if (prop != null && !prop.isBlank()) {
            return Paths.get(prop).toAbsolutePath().normalize();
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("bin/local-backend"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root: set -Dragproxy.root=/path/to/ragproxy");
    }

    /** The script {@code bin/local-backend}. */
    public static Path script() {
        Path script = repoRoot().resolve("bin/local-backend");
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException("missing " + script);
        }
        return script;
    }

    /** Starts the backend if needed (first call per JVM runs {@code bin/local-backend start}) and returns it. */
    public static synchronized LocalBackend get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    private static LocalBackend start() {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("local-backend-start", ".out");
            err = Files.createTempFile("local-backend-start", ".err");
            // Output to files, not pipes: the server the script leaves running must not hold our pipe open.
            Process p = new ProcessBuilder("bash", script().toString(), "start")
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            // The first start on a fresh machine downloads and unpacks MariaDB.
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("bin/local-backend start did not finish within 10 minutes; stderr:\n"
                        + Files.readString(err));
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("bin/local-backend start exited with " + p.exitValue()
                        + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
            }
            List<String> lines = stdout.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
            String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
            Matcher m = ADDRESS.matcher(last);
            if (!m.matches()) {
                throw new IllegalStateException("bin/local-backend start printed no HOST:PORT line; stdout:\n" + stdout
                        + "\nstderr:\n" + stderr);
            }
            return new LocalBackend(m.group(1), Integer.parseInt(m.group(2)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run bin/local-backend start: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the local backend", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // temp file
            }
        }
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** A direct JDBC URL (MariaDB Connector/J, no TLS) for {@code database}, which may be empty. */
    public String jdbcUrl(String database) {
        return "jdbc:mariadb://" + host + ":" + port + "/" + database + "?sslMode=disable";
    }

    /** A direct connection as root. */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), USER, PASSWORD);
    }

    /** Drops {@code database} if it exists and creates it empty (utf8mb4). */
    public void recreateDatabase(String database) throws SQLException {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS `" + database + "`");
            s.execute("CREATE DATABASE `" + database + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
        }
    }

    /** Drops {@code database} if it exists. */
    public void dropDatabase(String database) throws SQLException {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS `" + database + "`");
        }
    }

    /** Runs SQL statements directly as root (setup that is not under test). */
    public void exec(String database, String... sql) throws SQLException {
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    /** Command line for the unpacked {@code mariadb} CLI with exactly {@code args}. */
    public static List<String> mariadbCommand(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add(script().toString());
        cmd.add("mariadb");
        cmd.addAll(args);
        return cmd;
    }
}
