package io.ragproxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Runs an SQL corpus from the test resources with the {@code mariadb} CLI and compares two runs. */
public final class CorpusRunner {
    /** The CSV that the corpora load with LOAD DATA LOCAL INFILE (placeholder {@code @@DATAFILE@@}). */
    public static final String DATA_CSV = "id,label,qty\n1,apple,3\n2,\"pear, green\",5\n3,香蕉,7\n4,🍒 cherry,11\n";

    private static final Pattern TIMING = Pattern.compile("\\((\\d+ (hour|min)s? )*\\d+\\.\\d+ sec\\)");

    private CorpusRunner() {}

    /** Writes the corpus {@code resource} to {@code dir} with its data file path filled in; returns the SQL file. */
    public static Path materialize(String resource, Path dir) throws IOException {
        Path csv = dir.resolve("corpus-data.csv");
        Files.writeString(csv, DATA_CSV, StandardCharsets.UTF_8);
        String sql;
        try (InputStream in = CorpusRunner.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = dir.resolve(Path.of(resource).getFileName().toString());
        Files.writeString(file, sql.replace("@@DATAFILE@@", csv.toAbsolutePath().toString()), StandardCharsets.UTF_8);
        return file;
    }

    /**
     * Runs {@code sqlFile} in batch mode against {@code host:port}, database {@code db}: {@code --force} goes on
     * after errors, {@code -vvv} echoes each statement with its row counts / "Query OK" lines, {@code --comments}
     * sends comments (and executable comments) to the server. Timings are masked.
     */
    public static MariadbCli.Result run(Path sqlFile, String host, int port, String user, String password, String db,
            List<String> extraArgs) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(MariadbCli.connectArgs(host, port, user, password));
        args.addAll(List.of("--batch", "--force", "-vvv", "--comments", "--local-infile=1"));
        args.addAll(extraArgs);
        args.add(db);
        MariadbCli.Result r = MariadbCli.run(args, sqlFile, Duration.ofMinutes(2));
        return new MariadbCli.Result(r.exitCode(), mask(r.stdout()), mask(r.stderr()));
    }

    static String mask(String s) {
        return TIMING.matcher(s).replaceAll("(N sec)");
    }

    /**
     * Fails, showing the first differing lines with context, unless {@code expected} and {@code actual} are equal.
     */
    public static void assertSameOutput(String what, String expected, String actual) {
        if (expected.equals(actual)) {
            return;
        }
        List<String> a = expected.lines().toList();
        List<String> b = actual.lines().toList();
        int first = 0;
        while (first < a.size() && first < b.size() && a.get(first).equals(b.get(first))) {
            first++;
        }
        int from = Math.max(0, first - 8);
        StringBuilder sb = new StringBuilder();
        sb.append(what).append(" differs (first difference at line ").append(first + 1).append("; direct has ")
                .append(a.size()).append(" lines, through the proxy ").append(b.size()).append(")\n");
        sb.append("--- direct\n+++ through the proxy\n@@ line ").append(from + 1).append(" @@\n");
        for (int i = from; i < first; i++) {
            sb.append("  ").append(a.get(i)).append('\n');
        }
        for (int i = first; i < Math.min(a.size(), first + 15); i++) {
            sb.append("- ").append(a.get(i)).append('\n');
        }
        for (int i = first; i < Math.min(b.size(), first + 15); i++) {
            sb.append("+ ").append(b.get(i)).append('\n');
        }
        throw new AssertionError(sb.toString());
    }
}
