package io.ragproxy.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (3), the client-side baseline of the embedding backfill — "the seeds' way": a client reads the rows
 * that still need a vector, then, one row at a time, sends
 * {@code UPDATE docs_backfill SET embedding = EMBED('<that row's text>') WHERE id = <id>} through a proxy whose
 * default embedding model is Titan v2 on the Bedrock emulator (150 ms per call). Each statement is a literal
 * plan: one model call, one backend UPDATE, autocommit. Reports rows/s and how close it comes to the loop's own
 * bound of 1 / latency.
 *
 * <p>The set-based side ({@code UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL}, the backfill
 * plan at concurrency 1/4/16/64 and under a 3,000 rpm throttle) needs calls over columns (issue 4); bench/run
 * prints its rows as TODO.
 *
 * <pre>BackfillBaseline --direct H:P --proxy H:P --rows 200 --latency-ms 150 --dims 1024 --out FILE</pre>
 */
public final class BackfillBaseline {

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        String direct = a.require("direct");
        String proxy = a.require("proxy");
        int rows = a.getInt("rows", 200);
        int latencyMs = a.getInt("latency-ms", 150);
        int dims = a.getInt("dims", 1024);
        String out = a.get("out", null);

        List<String> texts = Bench.sentences(rows, 3);
        try (Connection d = Bench.connect(direct, null)) {
            Bench.exec(d, "CREATE DATABASE IF NOT EXISTS ragbench");
            Bench.exec(d, "USE ragbench");
            Bench.exec(d, "CREATE OR REPLACE TABLE docs_backfill (id INT PRIMARY KEY, content TEXT NOT NULL, embedding VECTOR("
                    + dims + ") NULL)");
            d.setAutoCommit(false);
            try (PreparedStatement ps = d.prepareStatement("INSERT INTO docs_backfill (id, content) VALUES (?, ?)")) {
                for (int i = 0; i < rows; i++) {
                    ps.setInt(1, i + 1);
                    ps.setString(2, texts.get(i) + " #" + System.nanoTime()); // unique: no cache hits across runs
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            d.commit();
            d.setAutoCommit(true);
        }

        try (Connection p = Bench.connect(proxy, "ragbench")) {
            // Warm the proxy's model path (client, connection pool, JIT) on a text outside the table.
            Bench.queryLong(p, "SELECT EMBED('warm up " + System.nanoTime() + "') IS NOT NULL");
            long calls0 = Bench.ragCounter(p, "Rag_ml_requests");
            long t0 = System.nanoTime();
            List<Object[]> todo = new ArrayList<>(rows);
            try (Statement s = p.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, content FROM docs_backfill WHERE embedding IS NULL ORDER BY id")) {
                while (rs.next()) {
                    todo.add(new Object[] {rs.getInt(1), rs.getString(2)});
                }
            }
            try (Statement s = p.createStatement()) {
                for (Object[] row : todo) {
                    int n = s.executeUpdate("UPDATE docs_backfill SET embedding = EMBED(" + Bench.sqlString((String) row[1])
                            + ") WHERE id = " + row[0]);
                    if (n != 1) {
                        throw new IllegalStateException("UPDATE of id " + row[0] + " changed " + n + " rows");
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long calls = Bench.ragCounter(p, "Rag_ml_requests") - calls0;
            long left = Bench.queryLong(p, "SELECT COUNT(*) FROM docs_backfill WHERE embedding IS NULL");
            if (left != 0) {
                throw new IllegalStateException(left + " rows still have no embedding");
            }
            double rate = rows / secs;
            double bound = 1000.0 / latencyMs;
            Bench.row(out, "3", "backfill", Bench.fmt("row-by-row client loop (seeds' way), %,d rows, emulator %d ms", rows, latencyMs),
                    Bench.fmt("%.2f rows/s (%.1f s)", rate, secs), "—", "—",
                    Bench.fmt("%,d model calls; %.0f%% of the loop's bound 1/latency = %.2f rows/s", calls,
                            100 * rate / bound, bound),
                    "baseline for the ≥ 15× target");
        }
    }
}
