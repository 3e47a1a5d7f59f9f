package io.ragproxy.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the raw sysbench measurements bench/run collects (one TSV line per run) into rows of benchmark (1).
 * Columns: test, ps_mode, threads, side (direct|proxy), round, qps, p95_ms, queries, proxy_cpu_ticks,
 * backend_cpu_ticks, exit_code. Each cell is the median over rounds; the proxy's CPU per 10k queries is its total
 * CPU time over all proxy rounds divided by all their queries.
 *
 * <pre>SysbenchReport --tsv FILE --clk-tck 100 --target-threads 16 --out FILE</pre>
 */
public final class SysbenchReport {

    private record Run(String side, double qps, double p95, long queries, long proxyTicks, long dbTicks, int exit) {
    }

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        List<String> lines = Files.readAllLines(Path.of(a.require("tsv")));
        double clk = a.getDouble("clk-tck", 100);
        int targetThreads = a.getInt("target-threads", 16);
        String out = a.get("out", null);
        Map<String, List<Run>> cells = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("test\t")) {
                continue;
            }
            String[] f = line.split("\t");
            String key = f[0] + "\t" + f[1] + "\t" + f[2];
            cells.computeIfAbsent(key, k -> new ArrayList<>()).add(new Run(f[3], num(f[5]), num(f[6]),
                    (long) num(f[7]), (long) num(f[8]), (long) num(f[9]), (int) num(f[10])));
        }
        for (Map.Entry<String, List<Run>> e : cells.entrySet()) {
            String[] k = e.getKey().split("\t");
            int threads = Integer.parseInt(k[2]);
            List<Run> d = e.getValue().stream().filter(r -> r.side.equals("direct")).toList();
            List<Run> p = e.getValue().stream().filter(r -> r.side.equals("proxy")).toList();
            boolean failed = e.getValue().stream().anyMatch(r -> r.exit != 0 || r.queries == 0);
            double dq = Bench.median(d.stream().map(Run::qps).toList());
            double pq = Bench.median(p.stream().map(Run::qps).toList());
            double dp = Bench.median(d.stream().map(Run::p95).toList());
            double pp = Bench.median(p.stream().map(Run::p95).toList());
            long pQueries = p.stream().mapToLong(Run::queries).sum();
            long dQueries = d.stream().mapToLong(Run::queries).sum();
            double proxyCpu = p.stream().mapToLong(Run::proxyTicks).sum() / clk;
            double dbCpuP = p.stream().mapToLong(Run::dbTicks).sum() / clk;
            double dbCpuD = d.stream().mapToLong(Run::dbTicks).sum() / clk;
            double ratio = pq / dq;
            String other = Bench.fmt("proxy %.2f CPU-s/10k q; mariadbd %.2f (direct) vs %.2f (via proxy) CPU-s/10k q",
                    proxyCpu / pQueries * 1e4, dbCpuD / dQueries * 1e4, dbCpuP / pQueries * 1e4);
            String target = threads == targetThreads ? "≥ 0.95: " + Bench.verdict(!failed && ratio >= 0.95) : "";
            if (failed) {
                other = "**a run failed, see sysbench logs**; " + other;
            }
            Bench.row(out, "1", "pass-through", Bench.fmt("%s, %d thr, ps=%s (%d round%s)", k[0], threads, k[1], p.size(),
                            p.size() == 1 ? "" : "s"),
                    Bench.fmt("%s qps · p95 %.2f ms", Bench.group(dq), dp),
                    Bench.fmt("%s qps · p95 %.2f ms", Bench.group(pq), pp),
                    Bench.fmt("%.2f", ratio), other, target);
        }
    }

    private static double num(String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
