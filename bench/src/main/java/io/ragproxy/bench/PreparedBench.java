package io.ragproxy.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (8), server-side prepared statements with AI calls; the third part of the row, sysbench's plain prepared
 * path before and after, is run by {@code bench/run} itself.
 * <ol>
 *   <li><em>Added latency of {@code EMBED(?)}</em>: {@code SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding,
 *       EMBED(?)) LIMIT 10} prepared once through the proxy (MariaDB Connector/J, {@code useServerPrepStmts=true}) and
 *       executed with one question, whose vector is cached after the first execute, against the same statement
 *       prepared with that vector written out as a literal; and, for reference, MariaDB's own spelling prepared
 *       through the proxy (relayed: the backend prepares it) and directly. One execute of each per iteration, the
 *       order rotating. Over the local proxy's default model ({@link CacheBench#DIMS} dimensions), on the table
 *       {@link CacheBench#createDocs} makes.</li>
 *   <li><em>MariaDB bulk</em>: {@code executeBatch()} of {@code INSERT INTO docs_bulk (id, embedding) VALUES (?,
 *       EMBED(?))} with MariaDB Connector/J's default settings (one {@code COM_STMT_BULK_EXECUTE}) through the
 *       emulator proxy after {@code SET rag_concurrency = C}, every text unique (the cache never helps). Its bound is
 *       C ÷ latency (Titan V2 takes one text per call). Then the same batch again, every input now cached: the time
 *       the proxy and the backend need for the batch without model calls, which is what separates the run from its
 *       bound.</li>
 * </ol>
 *
 * <pre>PreparedBench --direct H:P --proxy H:P --emulator-proxy H:P [--parts latency,bulk] [--proxy-pid PID
 *     --emulator-pid PID --backend-pid PID --clk-tck 100] --iterations 2000 --bulk-rows 10000 --bulk-warmup-rows 500
 *     --concurrency 16 --latency-ms 150 --dims 512 --out FILE</pre>
 * ({@code --proxy} is needed by the latency part, {@code --emulator-proxy} and the pids by the bulk part.)
 */
public final class PreparedBench {

    private static final String DB = "ragbench";
    private static final String SEARCH = "SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, %s) LIMIT 10";
    private static final String SEARCH_MARIADB =
            "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(embedding, VEC_FromText(%s)) LIMIT 10";
    private static final String BULK_TABLE = "docs_bulk";
    private static final String BULK_INSERT = "INSERT INTO " + BULK_TABLE + " (id, embedding) VALUES (?, EMBED(?))";

    private final String direct;
    private final String proxy;
    private final String emulatorProxy;
    private final long proxyPid;
    private final long emulatorPid;
    private final long backendPid;
    private final double clkTck;
    private final int dims;
    private final String nonce = Long.toString(System.nanoTime(), 36);
    private int batches;

    private PreparedBench(Bench.Args a) {
        direct = a.require("direct");
        proxy = a.get("proxy", null);
        emulatorProxy = a.get("emulator-proxy", null);
        proxyPid = Long.parseLong(a.get("proxy-pid", "0"));
        emulatorPid = Long.parseLong(a.get("emulator-pid", "0"));
        backendPid = Long.parseLong(a.get("backend-pid", "0"));
        clkTck = a.getDouble("clk-tck", 100);
        dims = a.getInt("dims", 512);
    }

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        PreparedBench b = new PreparedBench(a);
        String out = a.get("out", null);
        String parts = "," + a.get("parts", "latency,bulk") + ",";
        if (parts.contains(",latency,")) {
            b.embedLatency(a.getInt("iterations", 500), a.getInt("rows", 2000), out);
        }
        if (parts.contains(",bulk,")) {
            b.bulk(a.getInt("bulk-rows", 320), a.getInt("bulk-warmup-rows", 32), a.getInt("concurrency", 16),
                    a.getInt("latency-ms", 150), out);
        }
    }

    /** A connection whose statements are prepared on the server (COM_STMT_PREPARE / COM_STMT_EXECUTE). */
    private static Connection serverPrepared(String hostPort) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://" + hostPort + "/" + DB
                + "?user=root&password=&sslMode=disable&useServerPrepStmts=true&connectTimeout=10000");
    }

    /** A connection with MariaDB Connector/J's defaults: {@code executeBatch()} of an INSERT is one bulk command. */
    private static Connection driverDefaults(String hostPort) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://" + hostPort + "/" + DB
                + "?user=root&password=&sslMode=disable&connectTimeout=10000");
    }

    private void embedLatency(int iterations, int rows, String out) throws Exception {
        CacheBench.createDocs(direct, rows);
        String question = "How do prepared statements embed their parameters? " + nonce;
        try (Connection p = serverPrepared(proxy); Connection d = serverPrepared(direct);
             PreparedStatement embed = p.prepareStatement(String.format(SEARCH, "EMBED(?)"))) {
            embed.setString(1, question);
            long calls0 = Bench.ragCounter(p, "Rag_ml_requests");
            List<Integer> expected = ids(embed);
            long calls1 = Bench.ragCounter(p, "Rag_ml_requests");
            String literal;
            try (Statement s = p.createStatement();
                 ResultSet rs = s.executeQuery("SELECT VEC_AS_TEXT(EMBED(" + Bench.sqlString(question) + "))")) {
                rs.next();
                literal = rs.getString(1);
            }
            try (PreparedStatement lit = p.prepareStatement(String.format(SEARCH, Bench.sqlString(literal)));
                 PreparedStatement relayed = p.prepareStatement(String.format(SEARCH_MARIADB, Bench.sqlString(literal)));
                 PreparedStatement directly = d.prepareStatement(String.format(SEARCH_MARIADB, Bench.sqlString(literal)))) {
                PreparedStatement[] forms = {embed, lit, relayed, directly};
                for (PreparedStatement f : forms) {
                    List<Integer> got = ids(f);
                    if (!got.equals(expected)) {
                        Bench.log("warning: the prepared forms returned different ids (float text round trip?): "
                                + expected + " vs " + got);
                    }
                }
                long calls2 = Bench.ragCounter(p, "Rag_ml_requests");
                int warm = Math.max(50, iterations / 5);
                List<List<Double>> lat = new ArrayList<>();
                for (int k = 0; k < forms.length; k++) {
                    lat.add(new ArrayList<>());
                }
                for (int i = 0; i < warm + iterations; i++) {
                    for (int j = 0; j < forms.length; j++) {
                        int k = (i + j) % forms.length; // rotate the order so no form always runs first
                        long s = System.nanoTime();
                        ids(forms[k]);
                        double ms = (System.nanoTime() - s) / 1e6;
                        if (i >= warm) {
                            lat.get(k).add(ms);
                        }
                    }
                }
                long calls3 = Bench.ragCounter(p, "Rag_ml_requests");
                double[] p50 = new double[forms.length];
                double[] p95 = new double[forms.length];
                for (int k = 0; k < forms.length; k++) {
                    p50[k] = Bench.percentile(Bench.toArray(lat.get(k)), 50);
                    p95[k] = Bench.percentile(Bench.toArray(lat.get(k)), 95);
                }
                double added50 = p50[0] - p50[1];
                double added95 = p95[0] - p95[1];
                long later = calls3 - calls2;
                Bench.row(out, "8", "prepared statements", Bench.fmt("`%s` prepared (MariaDB Connector/J,"
                                + " `useServerPrepStmts=true`), its input cached, vs the same statement prepared with the"
                                + " vector literal written out; %,d rows, %,d iterations interleaved",
                                String.format(SEARCH, "EMBED(?)"), rows, iterations),
                        Bench.fmt("literal, prepared via proxy: p50 %.3f / p95 %.3f ms", p50[1], p95[1]),
                        Bench.fmt("EMBED(?), prepared via proxy: p50 %.3f / p95 %.3f ms", p50[0], p95[0]),
                        Bench.fmt("%+.3f ms p50, %+.3f ms p95", added50, added95),
                        Bench.fmt("MariaDB's spelling prepared via proxy (relayed, the backend prepares it): p50 %.3f /"
                                        + " p95 %.3f ms, direct p50 %.3f / p95 %.3f ms; EMBED(?) − relayed: %+.3f ms p50;"
                                        + " model calls: first execute %d, later executes %d",
                                p50[2], p95[2], p50[3], p95[3], p50[0] - p50[2], calls1 - calls0, later),
                        "< 1 ms p50 added: " + Bench.verdict(added50 < 1.0 && later == 0));
            }
        }
    }

    private void bulk(int rows, int warmRows, int concurrency, int latencyMs, String out) throws Exception {
        Bench.log("prepared bulk warm-up: " + warmRows + " rows");
        bulkRun(newBatch(warmRows), concurrency);
        Bench.log("prepared bulk: " + rows + " rows at rag_concurrency " + concurrency);
        List<String> texts = newBatch(rows);
        Batch cold = bulkRun(texts, concurrency);
        Bench.log(Bench.fmt("prepared bulk: %d rows in %.1f s = %.1f rows/s, %d model requests, %d backend INSERTs;"
                + " %.1f s before the first call, %.1f s of calls, %.1f s after the last", rows, cold.seconds(),
                rows / cold.seconds(), cold.requests(), cold.inserts(), cold.beforeCalls(), cold.calls(),
                cold.afterCalls()));
        Batch cached = bulkRun(texts, concurrency);
        Bench.log(Bench.fmt("prepared bulk, inputs cached: %d rows in %.1f s, %d model requests", rows,
                cached.seconds(), cached.requests()));
        double bound = concurrency * 1000.0 / latencyMs;
        double rate = rows / cold.seconds();
        double modelSeconds = rows / bound;
        Bench.row(out, "8", "prepared statements", Bench.fmt("MariaDB Connector/J `executeBatch()` of %,d `%s` (default"
                                + " settings: `COM_STMT_BULK_EXECUTE`), unique texts, emulator %d ms,"
                                + " `SET rag_concurrency = %d`", rows, BULK_INSERT, latencyMs, concurrency),
                Bench.fmt("bound %d ÷ %d ms = %.1f rows/s (%.1f s)", concurrency, latencyMs, bound, modelSeconds),
                Bench.fmt("%.1f rows/s (%.1f s)", rate, cold.seconds()),
                Bench.fmt("%.0f%% of the bound", 100 * rate / bound),
                Bench.fmt("%,d model requests (`Rag_ml_requests`); the backend ran %d INSERT statement(s)"
                                + " (`Com_insert`, which also counts the proxy's usage flushes); phases (`SHOW GLOBAL"
                                + " RAG STATUS` polled every 100 ms): %.1f s before the first model request, %.1f s of"
                                + " calls (%.0f%% of the bound while they ran), %.1f s after the last response; the"
                                + " same batch again with every input cached: %.2f s (%d model requests); %s",
                        cold.requests(), cold.inserts(), cold.beforeCalls(), cold.calls(),
                        100 * rows / cold.calls() / bound, cold.afterCalls(), cached.seconds(), cached.requests(),
                        cpu(cold, rows)),
                Bench.fmt("≥ 90%% of %d ÷ %d ms: %s", concurrency, latencyMs,
                        Bench.verdict(rate >= 0.9 * bound && cold.requests() >= rows)));
    }

    /**
     * What one executeBatch() took: seconds, model requests, backend INSERT statements, CPU ticks per process, and
     * its phases as {@link CallWatch} saw them (seconds; NaN when the batch made no model calls).
     */
    private record Batch(double seconds, long requests, long inserts, long proxyTicks, long emulatorTicks,
            long backendTicks, double beforeCalls, double calls, double afterCalls) {
    }

    /**
     * Polls {@code SHOW GLOBAL RAG STATUS} every 100 ms on a connection of its own while a batch runs, to tell when
     * its first model request went out and when its last response came back: the batch's time splits into what
     * comes before the calls (the driver sending the rows, the proxy decoding, binding and parsing them), the calls,
     * and what comes after (the vectors written into the statement, the backend's INSERT, the answer).
     */
    private static final class CallWatch implements AutoCloseable {
        private final Connection connection;
        private final long requests0;
        private final long responses0;
        private final int calls;
        private final Thread thread;
        private volatile boolean stopped;
        private volatile long firstRequest = -1;
        private volatile long lastResponse = -1;

        CallWatch(String hostPort, int calls) throws SQLException {
            this.connection = Bench.connect(hostPort, null);
            Map<String, String> s = Bench.ragStatus(connection);
            this.requests0 = Long.parseLong(s.get("Rag_ml_requests"));
            this.responses0 = Long.parseLong(s.get("Rag_ml_responses"));
            this.calls = calls;
            this.thread = new Thread(this::poll, "call-watch");
            thread.setDaemon(true);
            thread.start();
        }

        private void poll() {
            try {
                while (!stopped && lastResponse < 0) {
                    Map<String, String> s = Bench.ragStatus(connection);
                    long now = System.nanoTime();
                    if (firstRequest < 0 && Long.parseLong(s.get("Rag_ml_requests")) > requests0) {
                        firstRequest = now;
                    }
                    if (Long.parseLong(s.get("Rag_ml_responses")) - responses0 >= calls) {
                        lastResponse = now;
                    }
                    Thread.sleep(100);
                }
            } catch (SQLException | InterruptedException | RuntimeException e) {
                Bench.log("call watch stopped: " + e);
            }
        }

        /** Seconds from {@code start} to the first request, then to the last response, then to {@code end}. */
        double[] phases(long start, long end) {
            if (firstRequest < 0 || lastResponse < 0) {
                return new double[] {Double.NaN, Double.NaN, Double.NaN};
            }
            return new double[] {(firstRequest - start) / 1e9, (lastResponse - firstRequest) / 1e9,
                    (end - lastResponse) / 1e9};
        }

        @Override
        public void close() throws SQLException {
            stopped = true;
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            connection.close();
        }
    }

    /** {@code n} texts no earlier batch of this run (or proxy cache entry) has. */
    private List<String> newBatch(int n) {
        int t = ++batches;
        List<String> texts = new ArrayList<>(n);
        for (String s : Bench.sentences(n, 5000 + t)) {
            texts.add(s + " [" + nonce + "-bulk-" + t + "]");
        }
        return texts;
    }

    /** A fresh {@value #BULK_TABLE}, then one timed executeBatch() of one row per text, checked row by row. */
    private Batch bulkRun(List<String> texts, int concurrency) throws SQLException {
        int n = texts.size();
        try (Connection d = Bench.connect(direct, DB)) {
            Bench.exec(d, "CREATE OR REPLACE TABLE " + BULK_TABLE + " (id INT PRIMARY KEY, embedding VECTOR(" + dims
                    + ") NOT NULL)");
        }
        try (Connection p = driverDefaults(emulatorProxy); Connection d = Bench.connect(direct, DB)) {
            Bench.exec(p, "SET rag_concurrency = " + concurrency);
            Bench.exec(p, "SET rag_max_calls = " + Math.max(1000, n));
            try (PreparedStatement ps = p.prepareStatement(BULK_INSERT)) {
                for (int i = 0; i < n; i++) {
                    ps.setInt(1, i + 1);
                    ps.setString(2, texts.get(i));
                    ps.addBatch();
                }
                Map<String, String> s0 = Bench.ragStatus(p);
                long inserts0 = comInsert(d);
                long proxy0 = Bench.cpuTicks(proxyPid);
                long emulator0 = Bench.cpuTicks(emulatorPid);
                long backend0 = Bench.cpuTicks(backendPid);
                double[] phases;
                long t0;
                long t1;
                int[] counts;
                try (CallWatch watch = new CallWatch(emulatorProxy, n)) {
                    t0 = System.nanoTime();
                    counts = ps.executeBatch();
                    t1 = System.nanoTime();
                    phases = watch.phases(t0, t1);
                }
                double secs = (t1 - t0) / 1e9;
                long proxyTicks = Bench.cpuTicks(proxyPid) - proxy0;
                long emulatorTicks = Bench.cpuTicks(emulatorPid) - emulator0;
                long backendTicks = Bench.cpuTicks(backendPid) - backend0;
                long inserts = comInsert(d) - inserts0;
                Map<String, String> s1 = Bench.ragStatus(p);
                if (counts.length != n) {
                    throw new IllegalStateException("executeBatch() answered " + counts.length + " counts for " + n);
                }
                long filled = Bench.queryLong(d, "SELECT COUNT(*) FROM " + BULK_TABLE + " WHERE embedding IS NOT NULL");
                if (filled != n) {
                    throw new IllegalStateException(filled + " of " + n + " rows have a vector");
                }
                long requests = Long.parseLong(s1.get("Rag_ml_requests")) - Long.parseLong(s0.get("Rag_ml_requests"));
                return new Batch(secs, requests, inserts, proxyTicks, emulatorTicks, backendTicks, phases[0], phases[1],
                        phases[2]);
            }
        }
    }

    /**
     * The backend's count of INSERT statements, all sessions: the batch's own and the proxies' periodic usage flushes
     * ({@code ragproxy.usage}); nothing else writes while a batch runs.
     */
    private static long comInsert(Connection direct) throws SQLException {
        try (Statement s = direct.createStatement();
             ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Com_insert'")) {
            rs.next();
            return rs.getLong(2);
        }
    }

    private String cpu(Batch b, int rows) {
        return Bench.fmt("CPU per row: proxy %.2f, emulator %.2f, MariaDB %.2f ms", 1000.0 * b.proxyTicks() / clkTck / rows,
                1000.0 * b.emulatorTicks() / clkTck / rows, 1000.0 * b.backendTicks() / clkTck / rows);
    }

    private static List<Integer> ids(PreparedStatement ps) throws SQLException {
        List<Integer> ids = new ArrayList<>(10);
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids;
    }
}
