package io.ragproxy.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (2), large results: {@code SELECT REPEAT('x', 1000) FROM seq_1_to_N} streamed with the MariaDB JDBC
 * driver (fetch size 1000, so the client never holds the result), directly and through the proxy, alternating.
 * For the proxy runs the proxy's peak RSS (VmHWM) is reset before and read after each run, so each result
 * size gets its own peak; the peak must not grow with the result.
 *
 * <pre>LargeResultBench --direct H:P --proxy H:P --proxy-pid PID --sizes-mb 20,200 --rounds 3 --out FILE</pre>
 */
public final class LargeResultBench {

    private static final int ROW_BYTES = 1000;

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        String direct = a.require("direct");
        String proxy = a.require("proxy");
        long pid = Long.parseLong(a.require("proxy-pid"));
        int[] sizesMb = a.getInts("sizes-mb", "20,200");
        int rounds = a.getInt("rounds", 3);
        String out = a.get("out", null);

        try (Connection c = Bench.connect(direct, null)) {
            Bench.exec(c, "CREATE DATABASE IF NOT EXISTS ragbench"); // seq_1_to_N needs a current database
        }
        // Warm up both paths (JIT in the proxy and the client) with small results, then with the largest result
        // once per proxy event loop: a large result touches heap regions (G1 grows the committed heap under the
        // allocation rate) and a Netty arena chunk of the event loop its connection is pinned to, each for the first
        // time. That is a one-time rise of tens of MB that then stays (measured with NMT: the heap committed 96 → 136
        // MB and Netty's direct memory 4 → 16 MB over the first connections, then +0.3 MB for two 1 GB results), and
        // it must not be mistaken for memory that grows with the result. Connections go to the event loops in turn,
        // and the proxy runs 2 per core by default.
        for (int i = 0; i < 3; i++) {
            stream(direct, 5_000);
            stream(proxy, 5_000);
        }
        int largest = 0;
        for (int mb : sizesMb) {
            largest = Math.max(largest, mb);
        }
        stream(direct, rows(largest));
        for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors(); i++) {
            stream(proxy, rows(largest));
        }

        long[] peakKb = new long[sizesMb.length];
        long[] baseKb = new long[sizesMb.length];
        double[] dMed = new double[sizesMb.length];
        double[] pMed = new double[sizesMb.length];
        for (int s = 0; s < sizesMb.length; s++) {
            int rows = sizesMb[s] * 1_000_000 / ROW_BYTES;
            List<Double> d = new ArrayList<>();
            List<Double> p = new ArrayList<>();
            long peak = 0;
            long base = Long.MAX_VALUE;
            for (int r = 0; r < rounds; r++) {
                boolean proxyFirst = r % 2 == 1; // alternate which side goes first
                for (int k = 0; k < 2; k++) {
                    boolean viaProxy = (k == 0) == proxyFirst;
                    if (viaProxy) {
                        Bench.resetPeakRss(pid);
                        base = Math.min(base, Bench.procStatusKb(pid, "VmRSS"));
                        p.add(stream(proxy, rows));
                        peak = Math.max(peak, Bench.procStatusKb(pid, "VmHWM"));
                    } else {
                        d.add(stream(direct, rows));
                    }
                }
            }
            dMed[s] = Bench.median(d);
            pMed[s] = Bench.median(p);
            peakKb[s] = peak;
            baseKb[s] = base;
            Bench.log(Bench.fmt("%d MB: direct %s s, proxy %s s, proxy RSS %d → peak %d kB", sizesMb[s], d, p, base, peak));
        }
        long smallestPeak = peakKb[0];
        for (int s = 0; s < sizesMb.length; s++) {
            double mb = rows(sizesMb[s]) * (double) (ROW_BYTES + 4) / 1e6;
            double growthMb = (peakKb[s] - smallestPeak) / 1024.0;
            boolean flat = s == 0 || growthMb < 32;
            String other = Bench.fmt("proxy RSS %.0f → peak %.0f MB%s; %.0f MB/s via proxy", baseKb[s] / 1024.0,
                    peakKb[s] / 1024.0, s == 0 ? "" : Bench.fmt(" (%+.0f MB vs %d MB result)", growthMb, sizesMb[0]),
                    mb / pMed[s]);
            String target = s == 0 ? "reference peak" : "peak flat (< +32 MB): " + Bench.verdict(flat);
            Bench.row(out, "2", "large result", Bench.fmt("%d MB (%,d rows × 1 kB), JDBC streaming", sizesMb[s], rows(sizesMb[s])),
                    Bench.fmt("%.2f s", dMed[s]), Bench.fmt("%.2f s", pMed[s]), Bench.fmt("%.2f (time)", pMed[s] / dMed[s]),
                    other, target);
        }
    }

    private static int rows(int mb) {
        return mb * 1_000_000 / ROW_BYTES;
    }

    /** Streams the result and returns the seconds it took (connect excluded); checks every byte arrived. */
    static double stream(String hostPort, int rows) throws Exception {
        try (Connection c = Bench.connect(hostPort, "ragbench"); Statement st = c.createStatement()) {
            st.setFetchSize(1000);
            long t0 = System.nanoTime();
            long bytes = 0;
            long n = 0;
            try (ResultSet rs = st.executeQuery("SELECT REPEAT('x', " + ROW_BYTES + ") FROM seq_1_to_" + rows)) {
                while (rs.next()) {
                    bytes += rs.getBytes(1).length;
                    n++;
                }
            }
            double s = (System.nanoTime() - t0) / 1e9;
            if (n != rows || bytes != (long) rows * ROW_BYTES) {
                throw new IllegalStateException("short result from " + hostPort + ": " + n + " rows, " + bytes + " bytes");
            }
            return s;
        }
    }
}
