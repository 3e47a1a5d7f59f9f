package io.ragproxy.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Benchmark (4), the result cache: one {@code ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('…')) LIMIT 5} query
 * repeated through the proxy. Reports the model calls of the first run and of all later runs (from SHOW RAG
 * STATUS; must be 0), and the latency the cached EMBED adds over the same query with the vector literal written
 * out, measured interleaved (one of each per iteration, order rotating):
 * <ol>
 *   <li>A: proxy, {@code EMBED('…')} (cache hit: scan, parse, cache lookup, render, forward);</li>
 *   <li>B: proxy, TiDB spelling with the literal {@code '[…]'} (scan, parse, translate, forward);</li>
 *   <li>C: proxy, MariaDB's own spelling {@code VEC_DISTANCE_COSINE(embedding, VEC_FromText('[…]'))} (relayed);</li>
 *   <li>D: direct to MariaDB, the same text as C.</li>
 * </ol>
 * The target (< 1 ms) is on p50(A) − p50(B).
 *
 * <pre>CacheBench --direct H:P --proxy H:P --rows 2000 --iterations 500 --out FILE</pre>
 */
public final class CacheBench {

    static final int DIMS = 384; // local:all-minilm-l6-v2, the default embedding model

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        String direct = a.require("direct");
        String proxy = a.require("proxy");
        int rows = a.getInt("rows", 2000);
        int iterations = a.getInt("iterations", 500);
        String out = a.get("out", null);

        createDocs(direct, rows);

        String question = "How does the proxy cache embeddings? " + Long.toHexString(System.nanoTime());
        try (Connection p = Bench.connect(proxy, "ragbench"); Connection d = Bench.connect(direct, "ragbench")) {
            String qa = "SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(" + Bench.sqlString(question)
                    + ")) LIMIT 5";
            long calls0 = Bench.ragCounter(p, "Rag_ml_requests");
            long t0 = System.nanoTime();
            List<Integer> idsA = ids(p, qa);
            double firstMs = (System.nanoTime() - t0) / 1e6;
            long calls1 = Bench.ragCounter(p, "Rag_ml_requests");
            String literal;
            try (Statement s = p.createStatement();
                 ResultSet rs = s.executeQuery("SELECT VEC_AS_TEXT(EMBED(" + Bench.sqlString(question) + "))")) {
                rs.next();
                literal = rs.getString(1);
            }
            String qb = "SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, " + Bench.sqlString(literal) + ") LIMIT 5";
            String qc = "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(embedding, VEC_FromText(" + Bench.sqlString(literal)
                    + ")) LIMIT 5";
            if (!ids(p, qb).equals(idsA) || !ids(p, qc).equals(idsA) || !ids(d, qc).equals(idsA)) {
                Bench.log("warning: the four forms returned different ids (float text round trip?): " + idsA
                        + " " + ids(p, qb) + " " + ids(p, qc) + " " + ids(d, qc));
            }
            long hits1 = Bench.ragCounter(p, "Rag_ml_cache_hits");

            String[] sql = {qa, qb, qc, qc};
            Connection[] conn = {p, p, p, d};
            int warm = Math.max(50, iterations / 5);
            List<List<Double>> lat = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                lat.add(new ArrayList<>());
            }
            for (int i = 0; i < warm + iterations; i++) {
                for (int j = 0; j < 4; j++) {
                    int k = (i + j) % 4; // rotate the order so no form always runs first
                    long s = System.nanoTime();
                    ids(conn[k], sql[k]);
                    double ms = (System.nanoTime() - s) / 1e6;
                    if (i >= warm) {
                        lat.get(k).add(ms);
                    }
                }
            }
            long calls2 = Bench.ragCounter(p, "Rag_ml_requests");
            long hits2 = Bench.ragCounter(p, "Rag_ml_cache_hits");
            double[] p50 = new double[4];
            double[] p95 = new double[4];
            for (int k = 0; k < 4; k++) {
                p50[k] = Bench.percentile(Bench.toArray(lat.get(k)), 50);
                p95[k] = Bench.percentile(Bench.toArray(lat.get(k)), 95);
            }
            long later = calls2 - calls1;
            Bench.row(out, "4", "cache", Bench.fmt("model calls: first query, then %,d repeats (%,d rows, VECTOR INDEX)",
                            warm + iterations, rows),
                    "—", Bench.fmt("first: %d call(s), %.0f ms; repeats: %d calls", calls1 - calls0, firstMs, later),
                    "—", Bench.fmt("cache hits +%,d", hits2 - hits1), "0 calls after the first: " + Bench.verdict(later == 0));
            double added = p50[0] - p50[1];
            Bench.row(out, "4", "cache", Bench.fmt("added latency of cached EMBED('…') vs literal vector, %,d iterations interleaved", iterations),
                    Bench.fmt("literal via proxy p50 %.3f / p95 %.3f ms", p50[1], p95[1]),
                    Bench.fmt("EMBED via proxy p50 %.3f / p95 %.3f ms", p50[0], p95[0]),
                    Bench.fmt("%+.3f ms (p50)", added),
                    Bench.fmt("vs the relayed MariaDB spelling of the same query (proxy p50 %.3f ms; direct %.3f ms): %+.3f ms",
                            p50[2], p50[3], p50[0] - p50[2]),
                    "< 1 ms: " + Bench.verdict(added < 1.0) + " vs the literal form; "
                            + Bench.verdict(p50[0] - p50[2] < 1.0) + " vs relayed SQL");
        }
    }

    /**
     * (Re)creates {@code ragbench.docs}: {@code rows} sentences, each with a random unit vector of {@value #DIMS}
     * dimensions, under a cosine vector index. Written directly to the backend.
     */
    static void createDocs(String direct, int rows) throws SQLException {
        try (Connection d = Bench.connect(direct, null)) {
            Bench.exec(d, "CREATE DATABASE IF NOT EXISTS ragbench");
            Bench.exec(d, "USE ragbench");
            Bench.exec(d, "CREATE OR REPLACE TABLE docs (id INT PRIMARY KEY, content TEXT NOT NULL, embedding VECTOR("
                    + DIMS + ") NOT NULL, VECTOR INDEX (embedding) DISTANCE=cosine)");
            Random r = new Random(42);
            List<String> texts = Bench.sentences(rows, 7);
            d.setAutoCommit(false);
            try (PreparedStatement ps = d.prepareStatement("INSERT INTO docs VALUES (?, ?, VEC_FromText(?))")) {
                for (int i = 0; i < rows; i++) {
                    ps.setInt(1, i + 1);
                    ps.setString(2, texts.get(i));
                    ps.setString(3, randomUnitVector(r));
                    ps.addBatch();
                    if (i % 500 == 499) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            d.commit();
            d.setAutoCommit(true);
        }

    }

    private static List<Integer> ids(Connection c, String sql) throws Exception {
        List<Integer> ids = new ArrayList<>(5);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
        }
        return ids;
    }

    private static String randomUnitVector(Random r) {
        double[] v = new double[DIMS];
        double n = 0;
        for (int i = 0; i < DIMS; i++) {
            v[i] = r.nextGaussian();
            n += v[i] * v[i];
        }
        n = Math.sqrt(n);
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < DIMS; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(String.format(Locale.ROOT, "%.6f", v[i] / n));
        }
        return sb.append(']').toString();
    }
}
