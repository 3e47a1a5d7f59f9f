package io.ragproxy.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the raw sysbench measurements bench/run collects (one TSV line per run) into rows of benchmark (1), where
 * ragproxy is measured against HAProxy in TCP mode, the cheapest user-space hop, with the direct connection as
 * information. Columns: test, ps_mode, threads, side (direct|haproxy|proxy), round, qps, p95_ms, queries,
 * hop_cpu_ticks (CPU time of the process the side goes through), backend_cpu_ticks, exit_code. Each QPS and p95 cell
 * is the median over rounds; a proxy's CPU per query is its CPU time over all its rounds divided by all their
 * queries.
 *
 * <p>Target, on every row: ragproxy's QPS ≥ 1.0× HAProxy's and its CPU per query ≤ 1.0× HAProxy's.
 *
 * <pre>SysbenchReport --tsv FILE --clk-tck 100 --out FILE</pre>
 */
public final class SysbenchReport {

    private record Run(String side, double qps, double p95, long queries, long hopTicks, long dbTicks, int exit) {
    }

    /** One side's rounds of one cell. */
    private record Side(List<Run> runs, double clk) {
        double qps() {
            return Bench.median(runs.stream().map(Run::qps).toList());
        }

        double p95() {
            return Bench.median(runs.stream().map(Run::p95).toList());
        }

        long queries() {
            return runs.stream().mapToLong(Run::queries).sum();
        }

        /** CPU µs per query of the process this side goes through. */
        double hopMicrosPerQuery() {
            return runs.stream().mapToLong(Run::hopTicks).sum() / clk / queries() * 1e6;
        }

        /** The backend's CPU µs per query on this side. */
        double backendMicrosPerQuery() {
            return runs.stream().mapToLong(Run::dbTicks).sum() / clk / queries() * 1e6;
        }

        String cell() {
            return Bench.fmt("%s qps · p95 %.2f ms", Bench.group(qps()), p95());
        }
    }

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        List<String> lines = Files.readAllLines(Path.of(a.require("tsv")));
        double clk = a.getDouble("clk-tck", 100);
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
            Side direct = side(e.getValue(), "direct", clk);
            Side haproxy = side(e.getValue(), "haproxy", clk);
            Side proxy = side(e.getValue(), "proxy", clk);
            boolean failed = e.getValue().stream().anyMatch(r -> r.exit != 0 || r.queries == 0)
                    || direct.runs().isEmpty() || haproxy.runs().isEmpty() || proxy.runs().isEmpty();
            double qpsRatio = proxy.qps() / haproxy.qps();
            double cpuRatio = proxy.hopMicrosPerQuery() / haproxy.hopMicrosPerQuery();
            String detail = Bench.fmt("CPU per query: HAProxy %.0f µs, ragproxy %.0f µs (%.2f×); mariadbd %.0f (direct)"
                            + " / %.0f (via HAProxy) / %.0f (via ragproxy) µs per query; ragproxy ÷ direct QPS %.2f",
                    haproxy.hopMicrosPerQuery(), proxy.hopMicrosPerQuery(), cpuRatio, direct.backendMicrosPerQuery(),
                    haproxy.backendMicrosPerQuery(), proxy.backendMicrosPerQuery(), proxy.qps() / direct.qps());
            if (failed) {
                detail = "**a run failed, see sysbench logs**; " + detail;
            }
            String target = "QPS ≥ 1.0× HAProxy: " + Bench.verdict(!failed && qpsRatio >= 1.0)
                    + "; CPU/query ≤ 1.0× HAProxy: " + Bench.verdict(!failed && cpuRatio <= 1.0);
            Bench.row(out, "1", "pass-through", Bench.fmt("%s, %d thr, ps=%s (%d round%s)", k[0], threads, k[1],
                            proxy.runs().size(), proxy.runs().size() == 1 ? "" : "s"),
                    "direct " + direct.cell() + "; HAProxy " + haproxy.cell(),
                    proxy.cell(),
                    Bench.fmt("%.2f× HAProxy", qpsRatio), detail, target);
        }
    }

    private static Side side(List<Run> runs, String name, double clk) {
        return new Side(runs.stream().filter(r -> r.side.equals(name)).toList(), clk);
    }

    private static double num(String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
