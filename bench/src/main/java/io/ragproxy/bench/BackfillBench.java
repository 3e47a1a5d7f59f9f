package io.ragproxy.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (3), the embedding backfill through a proxy whose default embedding model is Titan V2 on the Bedrock
 * emulator (150 ms per call), both ways, in one run:
 * <ul>
 *   <li><em>the loop</em> ("the seeds' way"): the client reads the rows that still need a vector, then, one row at
 *       a time, sends {@code UPDATE docs_backfill SET embedding = EMBED('<that row's text>') WHERE id = <id>} (a
 *       literal plan: one model call, one autocommitted backend UPDATE). Its bound is 1 ÷ latency;</li>
 *   <li><em>set-based</em>: {@code UPDATE docs_backfill SET embedding = EMBED(content) WHERE embedding IS NULL}
 *       (the backfill plan: keyset pages, each page's calls concurrent) at each {@code SET rag_concurrency}, and
 *       once through a second proxy whose emulator answers 429 beyond a quota (requests per sliding minute). Its
 *       bound is min(quota, concurrency ÷ latency): Titan V2 takes one text per call.</li>
 * </ul>
 * Every run gets a fresh table of unique texts, so the proxy's cache never helps. After each run the benchmark
 * checks that every row has a vector and reads the model calls from {@code SHOW GLOBAL RAG STATUS}.
 *
 * <p>Order: the loop and the concurrency-1 cell (the slow ones) run in two halves, one at each end, mirrored
 * (loop, c1, the other cells, c1, loop), so drift of a shared machine shows as a difference between halves
 * instead of biasing the ratio. Before that, both sides are warmed up (JIT, the SDK's connection pool).
 *
 * <pre>BackfillBench --direct H:P --proxy H:P [--throttled-proxy H:P --throttle-rpm 3000 --throttle-concurrency 64]
 *     --loop-rows 1000 --rows 1:1000,4:10000,16:10000,64:10000 --throttled-rows 10000 --warmup-rows 500
 *     --latency-ms 150 --dims 512
 *     [--proxy-pid PID --emulator-pid PID --throttled-proxy-pid PID --throttled-emulator-pid PID --backend-pid PID
 *     --clk-tck 100] --out FILE</pre>
 */
public final class BackfillBench {

    private static final String DB = "ragbench";
    private static final String TABLE = "docs_backfill";
    private static final String UPDATE = "UPDATE " + TABLE + " SET embedding = EMBED(content) WHERE embedding IS NULL";

    /** The processes a run uses (0: not measured), whose CPU time tells what bounds it on a few shared cores. */
    private record Processes(long proxy, long emulator, long backend) {

        Ticks ticks() {
            return new Ticks(Bench.cpuTicks(proxy), Bench.cpuTicks(emulator), Bench.cpuTicks(backend));
        }
    }

    /** CPU clock ticks (user + system) of the proxy, the emulator and MariaDB. */
    private record Ticks(long proxy, long emulator, long backend) {

        Ticks minus(Ticks o) {
            return new Ticks(proxy - o.proxy, emulator - o.emulator, backend - o.backend);
        }

        Ticks plus(Ticks o) {
            return new Ticks(proxy + o.proxy, emulator + o.emulator, backend + o.backend);
        }
    }

    /** What one timed run did: rows written, seconds, counter deltas and the CPU time it cost. */
    private record Run(int rows, double seconds, long requests, long responses, long throttles, int statements,
            Ticks cpu) {

        Run plus(Run o) {
            return new Run(rows + o.rows, seconds + o.seconds, requests + o.requests, responses + o.responses,
                    throttles + o.throttles, statements + o.statements, cpu.plus(o.cpu));
        }

        double rate() {
            return rows / seconds;
        }
    }

    /** One cell of the table: the loop (concurrency 0), a set-based concurrency, or the throttled run. */
    private record Cell(String key, int concurrency, boolean throttled) {
    }

    /** One timed run of the schedule: a cell over that many fresh rows. */
    private record Step(Cell cell, int rows) {
    }

    private final String direct;
    private final String proxy;
    private final String throttledProxy;
    private final int latencyMs;
    private final int dims;
    private final Processes processes;
    private final Processes throttledProcesses;
    private final double clkTck;
    private final String nonce = Long.toString(System.nanoTime(), 36);
    private int tables;

    private BackfillBench(Bench.Args a) {
        direct = a.require("direct");
        proxy = a.require("proxy");
        throttledProxy = a.get("throttled-proxy", null);
        latencyMs = a.getInt("latency-ms", 150);
        dims = a.getInt("dims", 512);
        long backendPid = Long.parseLong(a.get("backend-pid", "0"));
        processes = new Processes(Long.parseLong(a.get("proxy-pid", "0")), Long.parseLong(a.get("emulator-pid", "0")),
                backendPid);
        throttledProcesses = new Processes(Long.parseLong(a.get("throttled-proxy-pid", "0")),
                Long.parseLong(a.get("throttled-emulator-pid", "0")), backendPid);
        clkTck = a.getDouble("clk-tck", 100);
    }

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        BackfillBench b = new BackfillBench(a);
        int loopRows = a.getInt("loop-rows", 100);
        Map<Integer, Integer> rows = new LinkedHashMap<>();
        for (String kv : a.get("rows", "1:40,4:160,16:500,64:1000").split(",")) {
            String[] p = kv.trim().split(":");
            rows.put(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
        }
        int throttledRows = a.getInt("throttled-rows", 1000);
        int throttleRpm = a.getInt("throttle-rpm", 3000);
        int throttleConcurrency = a.getInt("throttle-concurrency", 64);
        String out = a.get("out", null);

        Cell loop = new Cell("loop", 0, false);
        Cell throttled = new Cell("throttled", throttleConcurrency, true);
        // The schedule: (cell, rows) in order; the loop and the slowest set-based cell in mirrored halves.
        int slowest = rows.keySet().stream().min(Integer::compare).orElseThrow();
        Cell slow = new Cell("c" + slowest, slowest, false);
        List<Step> schedule = new ArrayList<>();
        schedule.add(new Step(loop, loopRows / 2));
        schedule.add(new Step(slow, rows.get(slowest) / 2));
        for (Map.Entry<Integer, Integer> e : rows.entrySet()) {
            if (e.getKey() != slowest) {
                schedule.add(new Step(new Cell("c" + e.getKey(), e.getKey(), false), e.getValue()));
            }
        }
        if (b.throttledProxy != null) {
            schedule.add(new Step(throttled, throttledRows));
        }
        schedule.add(new Step(slow, rows.get(slowest) - rows.get(slowest) / 2));
        schedule.add(new Step(loop, loopRows - loopRows / 2));

        // Warm-up, not measured: the proxies' JIT, the SDK's client and connections, both plans.
        int warmRows = a.getInt("warmup-rows", 200);
        b.loop(5);
        b.setBased(Math.min(64, throttleConcurrency), warmRows, false);
        long throttledWarmAt = 0;
        long throttledWarmCalls = 0;
        if (b.throttledProxy != null) {
            throttledWarmCalls = b.setBased(Math.min(64, throttleConcurrency), warmRows, true).responses();
            throttledWarmAt = System.nanoTime();
        }

        Map<String, Run> totals = new LinkedHashMap<>();
        Map<String, List<Run>> parts = new LinkedHashMap<>();
        double throttledBound = Double.NaN;
        for (Step step : schedule) {
            Cell cell = step.cell();
            int n = step.rows();
            if (n <= 0) {
                continue;
            }
            if (cell.throttled()) {
                // The warm-up call still counts against the emulator's sliding minute if it was under a minute ago.
                int used = System.nanoTime() - throttledWarmAt < 60_000_000_000L ? (int) throttledWarmCalls : 0;
                throttledBound = quotaBound(n, used, throttleRpm, cell.concurrency(), b.latencyMs);
            }
            Bench.log("backfill " + cell.key() + ": " + n + " rows");
            Run r = cell.concurrency() == 0 ? b.loop(n) : b.setBased(cell.concurrency(), n, cell.throttled());
            Bench.log(Bench.fmt("backfill %s: %d rows in %.1f s = %.2f rows/s, %d requests, %d throttled", cell.key(),
                    r.rows(), r.seconds(), r.rate(), r.requests(), r.throttles()));
            totals.merge(cell.key(), r, Run::plus);
            parts.computeIfAbsent(cell.key(), k -> new ArrayList<>()).add(r);
        }

        Run l = totals.get("loop");
        double loopBound = 1000.0 / b.latencyMs;
        Bench.row(out, "3", "backfill", Bench.fmt("row-by-row client loop (seeds' way), %,d rows%s, emulator %d ms",
                        l.rows(), parts.get("loop").size() > 1 ? " (two halves: first and last)" : "", b.latencyMs),
                Bench.fmt("%.2f rows/s (%.1f s)", l.rate(), l.seconds()), "—", "—",
                Bench.fmt("%,d model calls; %.0f%% of the loop's bound 1 ÷ latency = %.2f rows/s; halves %s; %s",
                        l.requests(), 100 * l.rate() / loopBound, loopBound, halves(parts.get("loop")), b.cpu(l)),
                "baseline for the ≥ 15× target");
        for (Map.Entry<Integer, Integer> e : rows.entrySet()) {
            int c = e.getKey();
            Run r = totals.get("c" + c);
            double bound = c * 1000.0 / b.latencyMs;
            double share = r.rate() / bound;
            double ratio = r.rate() / l.rate();
            String target = Bench.fmt("≥ 90%% of min(quota, %d ÷ %d ms): %s", c, b.latencyMs, Bench.verdict(share >= 0.9));
            if (c == 16) {
                target += "; ≥ 15× the loop: " + Bench.verdict(ratio >= 15);
            }
            List<Run> runs = parts.get("c" + c);
            boolean split = runs.size() > 1;
            Bench.row(out, "3", "backfill", Bench.fmt("set-based `%s`, `SET rag_concurrency = %d`, %,d rows%s", UPDATE, c,
                            r.rows(), split ? " (two halves: second and second to last)" : ""),
                    Bench.fmt("loop %.2f rows/s", l.rate()),
                    Bench.fmt("%.1f rows/s (%.1f s)", r.rate(), r.seconds()),
                    Bench.fmt("%.1f× the loop", ratio),
                    Bench.fmt("%.0f%% of the bound %d ÷ %d ms = %.1f rows/s; %s%s; %s", 100 * share, c, b.latencyMs,
                            bound, calls(r, runs.size()), split ? "; halves " + halves(runs) : "", b.cpu(r)),
                    target);
        }
        Run t = totals.get("throttled");
        if (t != null) {
            double concBound = throttleConcurrency * 1000.0 / b.latencyMs;
            double longRun = Math.min(throttleRpm / 60.0, concBound);
            double bound = Math.min(throttledBound, concBound);
            boolean reached = t.throttles() > 0;
            double share = t.rate() / bound;
            String why = reached
                    ? Bench.fmt("%.0f%% of the quota's %.0f/s in the long run; %.1f/s is the best for %,d rows from an"
                            + " empty window, whose first minute admits %,d at once", 100 * t.rate() / longRun, longRun,
                            throttledBound, t.rows(), throttleRpm)
                    : Bench.fmt("%,d rows fit in the quota's first minute, so the throttle was not reached:"
                            + " quick-mode size", t.rows());
            Bench.row(out, "3", "backfill", Bench.fmt("set-based, `SET rag_concurrency = %d`, emulator quota %,d"
                            + " requests/min (sliding minute, 429 beyond; default rag_max_attempts and"
                            + " rag_throttle_wait_ms), %,d rows",
                            throttleConcurrency, throttleRpm, t.rows()),
                    Bench.fmt("loop %.2f rows/s", l.rate()),
                    Bench.fmt("%.1f rows/s (%.1f s)", t.rate(), t.seconds()),
                    Bench.fmt("%.1f× the loop", t.rate() / l.rate()),
                    Bench.fmt("%.0f%% of the bound %.1f rows/s (%s); %s; %,d requests answered 429; %s", 100 * share,
                            bound, why, calls(t, 1), t.throttles(), b.cpu(t)),
                    Bench.fmt("≥ 90%% of min(quota, %d ÷ %d ms): %s", throttleConcurrency, b.latencyMs,
                            reached ? Bench.verdict(share >= 0.9) : "not reached"));
        }
    }

    /**
     * The best rate for {@code n} calls against a quota of {@code rpm} per sliding minute, from a window already
     * holding {@code used} calls, at {@code concurrency} calls in flight of {@code latencyMs} each: each minute's
     * allowance goes out at the concurrency bound, then the calls wait until the window slides past it.
     */
    static double quotaBound(int n, int used, int rpm, int concurrency, int latencyMs) {
        int total = n + used;
        int fullMinutes = (total - 1) / rpm;
        int last = total - fullMinutes * rpm - (fullMinutes == 0 ? used : 0);
        double seconds = 60.0 * fullMinutes + last * (latencyMs / 1000.0) / concurrency;
        return n / seconds;
    }

    private static String halves(List<Run> runs) {
        List<String> s = new ArrayList<>();
        for (Run r : runs) {
            s.add(Bench.fmt("%.2f", r.rate()));
        }
        return String.join(" / ", s) + " rows/s";
    }

    private static String calls(Run r, int runs) {
        return Bench.fmt("%,d model requests (`Rag_ml_requests`), %,d successful; %s; 0 rows left without a vector",
                r.requests(), r.responses(), r.statements() == runs ? "one statement per run"
                        : Bench.fmt("%d statements for %d run(s): a failed one was sent again", r.statements(), runs));
    }

    /**
     * CPU per row of the proxy, the emulator and MariaDB, and the rate at which they alone would fill the machine's
     * cores: on a small shared machine that, not the model's latency, can be the bound (a real Bedrock's CPU is not
     * on this machine; the emulator's is).
     */
    private String cpu(Run r) {
        double proxy = 1000.0 * r.cpu().proxy() / clkTck / r.rows();
        double emulator = 1000.0 * r.cpu().emulator() / clkTck / r.rows();
        double backend = 1000.0 * r.cpu().backend() / clkTck / r.rows();
        double total = proxy + emulator + backend;
        int cores = Runtime.getRuntime().availableProcessors();
        return Bench.fmt("CPU per row: proxy %.2f, emulator %.2f, MariaDB %.2f ms (%d cores ÷ %.2f ms = %,.0f rows/s)",
                proxy, emulator, backend, cores, total, total > 0 ? cores * 1000.0 / total : Double.POSITIVE_INFINITY);
    }

    /** A fresh {@value #TABLE} of {@code n} rows with texts no earlier run (or proxy cache entry) has. */
    private void createTable(int n) throws SQLException {
        int t = ++tables;
        List<String> texts = Bench.sentences(n, 1000 + t);
        try (Connection d = Bench.connect(direct, null)) {
            Bench.exec(d, "CREATE DATABASE IF NOT EXISTS " + DB);
            Bench.exec(d, "USE " + DB);
            Bench.exec(d, "CREATE OR REPLACE TABLE " + TABLE + " (id INT PRIMARY KEY, content TEXT NOT NULL,"
                    + " embedding VECTOR(" + dims + ") NULL)");
            d.setAutoCommit(false);
            try (PreparedStatement ps = d.prepareStatement("INSERT INTO " + TABLE + " (id, content) VALUES (?, ?)")) {
                for (int i = 0; i < n; i++) {
                    ps.setInt(1, i + 1);
                    ps.setString(2, texts.get(i) + " [" + nonce + "-" + t + "]");
                    ps.addBatch();
                    if (i % 1000 == 999) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            d.commit();
        }
    }

    /** Rows still without a vector, counted on the backend directly. */
    private long left() throws SQLException {
        try (Connection d = Bench.connect(direct, DB)) {
            return Bench.queryLong(d, "SELECT COUNT(*) FROM " + TABLE + " WHERE embedding IS NULL");
        }
    }

    /** The loop over {@code n} fresh rows through the (unthrottled) proxy. */
    private Run loop(int n) throws SQLException {
        createTable(n);
        try (Connection p = Bench.connect(proxy, DB)) {
            Map<String, String> s0 = Bench.ragStatus(p);
            Ticks cpu0 = processes.ticks();
            long t0 = System.nanoTime();
            List<Object[]> todo = new ArrayList<>(n);
            try (Statement s = p.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, content FROM " + TABLE + " WHERE embedding IS NULL ORDER BY id")) {
                while (rs.next()) {
                    todo.add(new Object[] {rs.getInt(1), rs.getString(2)});
                }
            }
            try (Statement s = p.createStatement()) {
                for (Object[] row : todo) {
                    int changed = s.executeUpdate("UPDATE " + TABLE + " SET embedding = EMBED("
                            + Bench.sqlString((String) row[1]) + ") WHERE id = " + row[0]);
                    if (changed != 1) {
                        throw new IllegalStateException("UPDATE of id " + row[0] + " changed " + changed + " rows");
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            Ticks cpu = processes.ticks().minus(cpu0);
            return finish(p, s0, n, secs, n, cpu);
        }
    }

    /**
     * The set-based UPDATE over {@code n} fresh rows at {@code concurrency}. Should a statement fail (a call that
     * ran out of attempts), it is sent again, as the README tells users to: it continues with the rows still
     * without a vector, and the run reports how many statements it took.
     */
    private Run setBased(int concurrency, int n, boolean throttled) throws SQLException {
        createTable(n);
        Processes procs = throttled ? throttledProcesses : processes;
        try (Connection p = Bench.connect(throttled ? throttledProxy : proxy, DB)) {
            Bench.exec(p, "SET rag_concurrency = " + concurrency);
            Bench.exec(p, "SET rag_max_calls = " + Math.max(1000, n));
            Map<String, String> s0 = Bench.ragStatus(p);
            Ticks cpu0 = procs.ticks();
            long t0 = System.nanoTime();
            int statements = 0;
            long matched = 0;
            while (true) {
                statements++;
                try (Statement s = p.createStatement()) {
                    matched += s.executeUpdate(UPDATE);
                    break;
                } catch (SQLException e) {
                    Bench.log("backfill statement " + statements + " failed: " + e.getMessage());
                    if (statements >= 5) {
                        throw e;
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            Ticks cpu = procs.ticks().minus(cpu0);
            if (matched != n) {
                Bench.log("warning: the backfill reported " + matched + " rows for " + n);
            }
            return finish(p, s0, n, secs, statements, cpu);
        }
    }

    private Run finish(Connection p, Map<String, String> s0, int n, double secs, int statements, Ticks cpu)
            throws SQLException {
        Map<String, String> s1 = Bench.ragStatus(p);
        long left = left();
        if (left != 0) {
            throw new IllegalStateException(left + " of " + n + " rows still have no embedding");
        }
        return new Run(n, secs, delta(s0, s1, "Rag_ml_requests"), delta(s0, s1, "Rag_ml_responses"),
                delta(s0, s1, "Rag_ml_throttles"), statements, cpu);
    }

    private static long delta(Map<String, String> before, Map<String, String> after, String name) {
        return Long.parseLong(after.get(name)) - Long.parseLong(before.get(name));
    }
}
