package io.ragproxy.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Shared helpers of the benchmark mains: argument parsing, JDBC connections, statistics, /proc readings and
 * the result rows (markdown table rows appended to the file given by {@code --out}, which {@code bench/run}
 * concatenates into one table).
 */
final class Bench {

    private Bench() {
    }

    /** {@code --key value} arguments. */
    static final class Args {
        private final Map<String, String> values = new HashMap<>();

        Args(String[] args) {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (!a.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument " + a);
                }
                int eq = a.indexOf('=');
                if (eq > 0) {
                    values.put(a.substring(2, eq), a.substring(eq + 1));
                } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                    values.put(a.substring(2), args[++i]);
                } else {
                    values.put(a.substring(2), "true");
                }
            }
        }

        String get(String key, String def) {
            return values.getOrDefault(key, def);
        }

        String require(String key) {
            String v = values.get(key);
            if (v == null) {
                throw new IllegalArgumentException("missing --" + key);
            }
            return v;
        }

        int getInt(String key, int def) {
            return Integer.parseInt(get(key, Integer.toString(def)));
        }

        double getDouble(String key, double def) {
            return Double.parseDouble(get(key, Double.toString(def)));
        }

        int[] getInts(String key, String def) {
            return Arrays.stream(get(key, def).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        }
    }

    /** A plain-text (COM_QUERY) connection as root with no password and no TLS. */
    static Connection connect(String hostPort, String database) throws SQLException {
        String url = "jdbc:mariadb://" + hostPort + "/" + (database == null ? "" : database)
                + "?user=root&password=&sslMode=disable&useServerPrepStmts=false&connectTimeout=10000";
        return DriverManager.getConnection(url);
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * {@code SHOW GLOBAL RAG STATUS} through a proxy connection as name → value: the proxy's counters over every
     * session, as the benchmarks' workloads run on other connections (the account needs PROCESS; root has it).
     */
    static Map<String, String> ragStatus(Connection proxy) throws SQLException {
        Map<String, String> m = new HashMap<>();
        try (Statement s = proxy.createStatement(); ResultSet rs = s.executeQuery("SHOW GLOBAL RAG STATUS")) {
            while (rs.next()) {
                m.put(rs.getString(1), rs.getString(2));
            }
        }
        return m;
    }

    static long ragCounter(Connection proxy, String name) throws SQLException {
        String v = ragStatus(proxy).get(name);
        if (v == null) {
            throw new IllegalStateException("SHOW GLOBAL RAG STATUS has no " + name);
        }
        return Long.parseLong(v);
    }

    /** The p-th percentile (0..100, nearest rank) of a copy of {@code values}. */
    static double percentile(double[] values, double p) {
        double[] v = values.clone();
        Arrays.sort(v);
        if (v.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    static double median(List<Double> values) {
        return percentile(values.stream().mapToDouble(Double::doubleValue).toArray(), 50);
    }

    static double[] toArray(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** A field of /proc/PID/status in kB (VmHWM, VmRSS), or -1 when unreadable. */
    static long procStatusKb(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** User + system CPU time of a process in clock ticks ({@code /proc/PID/stat} fields 14 and 15), or 0. */
    static long cpuTicks(long pid) {
        if (pid <= 0) {
            return 0;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // The command name (field 2) may hold spaces: count fields after its closing parenthesis (field 3 on).
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Resets the peak RSS (VmHWM) of a process to its current RSS (Linux: write 5 to clear_refs). */
    static boolean resetPeakRss(long pid) {
        try {
            Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static String fmt(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }

    static String group(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    /** Appends one row of the result table to {@code out} (and echoes it to stderr for the log). */
    static void row(String out, String number, String benchmark, String kase, String baseline, String proxy,
            String ratio, String other, String target) {
        String line = "| " + String.join(" | ", number, benchmark, kase, baseline, proxy, ratio, other, target) + " |";
        System.err.println(line);
        if (out == null) {
            System.out.println(line);
            return;
        }
        try {
            Files.writeString(Path.of(out), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String verdict(boolean met) {
        return met ? "**met**" : "**MISSED**";
    }

    static void log(String message) {
        System.err.println("[bench] " + message);
    }

    /** Quotes a text as a SQL string literal (backslash and quote escaped). */
    static String sqlString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    /** A deterministic pool of English-like sentences of 8..24 words (≈ 12..40 word pieces). */
    static List<String> sentences(int count, long seed) {
        String[] words = ("the a database proxy query vector index model embedding answer question table row column "
                + "server client network latency throughput cache memory result stream batch token sentence search "
                + "retrieval document context language distributed storage transaction commit replica cluster node "
                + "cloud region price cost fast slow small large quickly reliably returns computes stores keeps "
                + "finds ranks reads writes sends between across inside without because while every each many few "
                + "tidb mariadb bedrock titan cohere llama onnx minilm netty java sql mysql protocol packet").split(" ");
        java.util.Random r = new java.util.Random(seed);
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int n = 8 + r.nextInt(17);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < n; w++) {
                if (w > 0) {
                    sb.append(' ');
                }
                String word = words[r.nextInt(words.length)];
                sb.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
            }
            sb.append(" (").append(i).append(").");
            out.add(sb.toString());
        }
        return out;
    }
}
