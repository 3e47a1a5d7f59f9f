package io.ragproxy.bench;

import io.ragproxy.catalog.chunk.ChunkOptions;
import io.ragproxy.catalog.chunk.TextChunker;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Benchmark (10), knowledge bases (issue 16), in three parts:
 * <ol>
 *   <li><em>ingestion</em>: {@code INSERT INTO bench_kb SELECT doc_id, body, category, year FROM kb_docs} of
 *       {@code --documents} generated documents ({@link KbDocuments}) into a knowledge base on CHUNK_TEXT's default
 *       preprocessing, through a proxy whose embedding model is Titan V2 on the Bedrock emulator ({@code
 *       --latency-ms} per call), after {@code SET rag_concurrency = --concurrency} and {@code SET rag_max_calls} =
 *       the chunks. Titan V2 takes one text per request, so the bound is concurrency ÷ latency chunks/s. Reported:
 *       chunks/s, its share of the bound, documents, chunks, model requests, and the CPU per chunk of the proxy, the
 *       emulator and MariaDB ({@code /proc}). A smaller warm-up ingestion into another knowledge base runs first;</li>
 *   <li><em>CHUNK_TEXT</em>: the splitter ({@link TextChunker}, CHUNK_TEXT's engine) in this JVM on one thread,
 *       warmed up, then timed over {@code --chunk-mb} MB of the corpus; and {@code SELECT CHUNK_TEXT(body) FROM
 *       kb_docs} through the proxy as a reference (that one includes reading the table and sending the JSON);</li>
 *   <li><em>retrieval</em>, on the ingested chunks, through a second proxy whose emulator answers at once (0 ms, so
 *       the figures are the proxy's and the backend's own time): vector-only, hybrid ({@code AND hybrid_search =
 *       true}) and hybrid + rerank at {@code --candidates} candidates (Cohere Rerank 3.5 on the emulator),
 *       {@code --queries} measured queries each, interleaved (the order rotating query by query), every question
 *       warm (its embedding and, for the rerank case, its scores cached by an unmeasured first run); plus hybrid +
 *       rerank with the scores not cached (each question's embedding warmed by a vector search first, so only the
 *       Rerank request is made). Hit@5 of the question's own document is reported as information.</li>
 * </ol>
 *
 * <pre>KnowledgeBaseBench --direct H:P --proxy H:P --retrieval-proxy H:P --documents 10000 --warmup-documents 300
 *     --concurrency 64 --latency-ms 150 --dims 512 --chunk-mb 100 --queries 200 --candidates 50
 *     [--retrieval-only] [--proxy-pid PID --retrieval-proxy-pid PID --emulator-pid PID --backend-pid PID --clk-tck 100] --out FILE</pre>
 */
public final class KnowledgeBaseBench {

    private static final String DB = "ragbench";
    private static final String KB = "bench_kb";
    private static final String WARM_KB = "bench_warm_kb";
    private static final long SEED = 10;
    private static final long WARM_SEED = 11;
    private static final String RERANKER = "cohere-rerank-3-5";
    /** The proxy's page of an ingestion: at most this many chunks, written in one transaction after their calls. */
    private static final int PAGE_CHUNKS = 64;

    /** CPU clock ticks (user + system) of the proxy, the emulator and MariaDB. */
    private record Ticks(long proxy, long emulator, long backend) {

        Ticks minus(Ticks o) {
            return new Ticks(proxy - o.proxy, emulator - o.emulator, backend - o.backend);
        }
    }

    /** One retrieval case: its label and the conditions added to {@code content = 'question'}. */
    private record Case(String label, String conditions) {
    }

    private final String direct;
    private final String proxy;
    private final String retrievalProxy;
    private final long proxyPid;
    private final long retrievalProxyPid;
    private final long emulatorPid;
    private final long backendPid;
    private final double clkTck;
    private final int latencyMs;
    private final int concurrency;
    private final int dims;
    private final TextChunker chunker = new TextChunker(text -> {
        throw new IllegalStateException("character units count no tokens");
    });

    private KnowledgeBaseBench(Bench.Args a) {
        direct = a.require("direct");
        proxy = a.require("proxy");
        retrievalProxy = a.get("retrieval-proxy", proxy);
        proxyPid = Long.parseLong(a.get("proxy-pid", "0"));
        retrievalProxyPid = Long.parseLong(a.get("retrieval-proxy-pid", "0"));
        emulatorPid = Long.parseLong(a.get("emulator-pid", "0"));
        backendPid = Long.parseLong(a.get("backend-pid", "0"));
        clkTck = a.getDouble("clk-tck", 100);
        latencyMs = a.getInt("latency-ms", 150);
        concurrency = a.getInt("concurrency", 64);
        dims = a.getInt("dims", 512);
    }

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        KnowledgeBaseBench b = new KnowledgeBaseBench(a);
        int documents = a.getInt("documents", 400);
        int warmDocuments = a.getInt("warmup-documents", 64);
        double chunkMb = a.getDouble("chunk-mb", 5);
        int queries = a.getInt("queries", 20);
        int candidates = a.getInt("candidates", 50);
        double retrievalSeconds = a.getDouble("retrieval-seconds", 600);
        String out = a.get("out", null);

        KbDocuments corpus = new KbDocuments(SEED);
        if (Boolean.parseBoolean(a.get("retrieval-only", "false"))) {
            // A re-run of (c) alone on the knowledge base an earlier run left (e.g. once the machine is quiet).
            long stored;
            try (Connection d = Bench.connect(b.direct, DB)) {
                stored = Bench.queryLong(d, "SELECT COUNT(*) FROM kb_chunks");
            }
            b.retrieval(corpus, documents, queries, candidates, retrievalSeconds, stored, out);
            return;
        }
        List<String> bodies = new ArrayList<>(documents);
        for (int id = 1; id <= documents; id++) {
            bodies.add(corpus.body(id));
        }
        // (b) first, on a quiet machine: the splitter in this JVM, one thread.
        b.chunkTextInProcess(bodies, chunkMb, out);

        b.loadDocuments("kb_docs", corpus, documents);
        KbDocuments warmCorpus = new KbDocuments(WARM_SEED);
        b.loadDocuments("kb_warm_docs", warmCorpus, warmDocuments);
        long expectedChunks = 0;
        Set<String> distinct = new HashSet<>();
        int pages = 0;
        int pageChunks = 0;
        for (String body : bodies) {
            List<String> chunks = b.chunker.chunks(body, ChunkOptions.DEFAULT);
            expectedChunks += chunks.size();
            distinct.addAll(chunks);
            // The proxy's pages: whole documents, at most PAGE_CHUNKS chunks unless one document has more.
            if (pages == 0 || pageChunks + chunks.size() > PAGE_CHUNKS) {
                pages++;
                pageChunks = 0;
            }
            pageChunks += chunks.size();
        }
        Bench.log(Bench.fmt("knowledge bases: %,d documents, %,d chunks (%,d distinct), %.1f MB", documents,
                expectedChunks, distinct.size(), mb(bodies)));

        // (a) ingestion: a warm-up knowledge base first (JIT, the SDK's connections), then the measured one.
        b.createKnowledgeBase(WARM_KB, "kb_warm_chunks");
        b.ingest(WARM_KB, "kb_warm_docs", warmDocuments * 8);
        b.dropKnowledgeBase(WARM_KB);
        b.createKnowledgeBase(KB, "kb_chunks");
        b.ingestMeasured(documents, expectedChunks, distinct.size(), pages, out);

        // (b) reference: CHUNK_TEXT through the proxy.
        b.chunkTextThroughProxy(bodies, expectedChunks, out);

        // (c) retrieval.
        b.retrieval(corpus, documents, queries, candidates, retrievalSeconds, expectedChunks, out);
    }

    // ------------------------------------------------------------------------------------------- (b) CHUNK_TEXT

    private static double mb(List<String> texts) {
        long bytes = 0;
        for (String t : texts) {
            bytes += t.getBytes(StandardCharsets.UTF_8).length;
        }
        return bytes / 1e6;
    }

    /** CHUNK_TEXT's splitter on one thread: about 2 s of warm-up, then {@code chunkMb} MB timed. */
    private void chunkTextInProcess(List<String> bodies, double chunkMb, String out) {
        double corpusMb = mb(bodies);
        long sink = 0;
        long warmEnd = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            for (String body : bodies) {
                sink += chunker.chunks(body, ChunkOptions.DEFAULT).size();
                if (System.nanoTime() >= warmEnd) {
                    break;
                }
            }
        }
        double done = 0;
        long chunks = 0;
        long cpu0 = threadCpu();
        long t0 = System.nanoTime();
        while (done < chunkMb) {
            for (String body : bodies) {
                chunks += chunker.chunks(body, ChunkOptions.DEFAULT).size();
                done += body.length() / 1e6; // ASCII corpus: one byte per character
                if (done >= chunkMb) {
                    break;
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpuSecs = (threadCpu() - cpu0) / 1e9;
        Bench.log(Bench.fmt("CHUNK_TEXT in process: %.1f MB in %.2f s (%.2f s CPU), %,d chunks (warm-up sink %d)", done,
                secs, cpuSecs, chunks, sink % 10));
        Bench.row(out, "10", "knowledge bases", Bench.fmt("CHUNK_TEXT throughput, in process: the splitter"
                        + " (`TextChunker`, CHUNK_TEXT's engine) on one thread, default options (800 characters, no"
                        + " overlap), %.0f MB of the corpus (%.1f MB, %,d documents) after 2 s of warm-up",
                        done, corpusMb, bodies.size()),
                "—", Bench.fmt("%.1f MB/s (%.2f s)", done / secs, secs), "—",
                Bench.fmt("%.1f MB/s per CPU second of the thread (%.2f s CPU); %,d chunks, %.0f chunks/s",
                        done / cpuSecs, cpuSecs, chunks, chunks / secs),
                "— (reported)");
    }

    private static long threadCpu() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    /** {@code SELECT CHUNK_TEXT(body) FROM kb_docs} through the proxy: the whole statement, timed. */
    private void chunkTextThroughProxy(List<String> bodies, long expectedChunks, String out) throws SQLException {
        try (Connection p = Bench.connect(retrievalProxy, DB)) {
            runChunkText(p); // warm-up
            long cpu0 = Bench.cpuTicks(retrievalProxyPid);
            long t0 = System.nanoTime();
            long chunks = runChunkText(p);
            double secs = (System.nanoTime() - t0) / 1e9;
            double proxyCpu = (Bench.cpuTicks(retrievalProxyPid) - cpu0) / clkTck;
            if (chunks != expectedChunks) {
                throw new IllegalStateException("CHUNK_TEXT through the proxy gave " + chunks + " chunks, the splitter "
                        + expectedChunks);
            }
            double corpusMb = mb(bodies);
            Bench.row(out, "10", "knowledge bases", Bench.fmt("CHUNK_TEXT through the proxy: `SELECT"
                            + " CHUNK_TEXT(body) FROM kb_docs` (%,d documents, %.1f MB), the whole statement (reading"
                            + " the table, splitting, sending the JSON arrays), after one unmeasured run",
                            bodies.size(), corpusMb),
                    "—", Bench.fmt("%.1f MB/s (%.2f s)", corpusMb / secs, secs), "—",
                    Bench.fmt("%,d chunks, as the in-process splitter; proxy CPU %.2f s (%.1f MB per proxy CPU"
                            + " second, all its threads)", chunks, proxyCpu, corpusMb / proxyCpu),
                    "— (reported)");
        }
    }

    private static long runChunkText(Connection p) throws SQLException {
        long chunks = 0;
        try (Statement s = p.createStatement(); ResultSet rs = s.executeQuery("SELECT CHUNK_TEXT(body) FROM kb_docs")) {
            while (rs.next()) {
                String json = rs.getString(1);
                // A JSON array of strings: count its elements by the '","' separators (the texts hold no quotes).
                if (json.length() > 2) {
                    chunks += 1 + countOf(json, "\",\"");
                }
            }
        }
        return chunks;
    }

    private static int countOf(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------- (a) ingestion

    /** A fresh source table of {@code n} documents, written directly. */
    private void loadDocuments(String table, KbDocuments corpus, int n) throws SQLException {
        try (Connection d = Bench.connect(direct, null)) {
            Bench.exec(d, "CREATE DATABASE IF NOT EXISTS " + DB);
            Bench.exec(d, "USE " + DB);
            Bench.exec(d, "CREATE OR REPLACE TABLE " + table + " (doc_id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL,"
                    + " category VARCHAR(20) NOT NULL, year INT NOT NULL)");
            d.setAutoCommit(false);
            try (PreparedStatement ps = d.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, ?, ?)")) {
                for (int id = 1; id <= n; id++) {
                    ps.setInt(1, id);
                    ps.setString(2, corpus.body(id));
                    ps.setString(3, corpus.category(id));
                    ps.setInt(4, corpus.year(id));
                    ps.addBatch();
                    if (id % 500 == 0) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            d.commit();
        }
    }

    private void createKnowledgeBase(String name, String storage) throws SQLException {
        try (Connection p = Bench.connect(proxy, DB)) {
            Bench.exec(p, "DROP KNOWLEDGE_BASE IF EXISTS " + name);
            Bench.exec(p, "DROP TABLE IF EXISTS " + DB + "." + storage);
            Bench.exec(p, "CREATE KNOWLEDGE_BASE " + name + " USING embedding_model = 'titan-v2', reranking_model = '"
                    + RERANKER + "', storage = " + DB + "." + storage + ", content_columns = ['body'],"
                    + " metadata_columns = ['category', 'year'], id_column = 'doc_id'");
        }
    }

    private void dropKnowledgeBase(String name) throws SQLException {
        try (Connection p = Bench.connect(proxy, DB)) {
            Bench.exec(p, "DROP KNOWLEDGE_BASE " + name);
        }
    }

    /** {@code INSERT INTO kb SELECT …} at the benchmark's concurrency; returns the chunks written. */
    private long ingest(String kb, String source, long maxCalls) throws SQLException {
        try (Connection p = Bench.connect(proxy, DB)) {
            Bench.exec(p, "SET rag_concurrency = " + concurrency);
            Bench.exec(p, "SET rag_max_calls = " + Math.max(1000, maxCalls));
            try (Statement s = p.createStatement()) {
                return s.executeUpdate("INSERT INTO " + kb + " SELECT doc_id, body, category, year FROM " + source);
            }
        }
    }

    private Ticks ticks() {
        return new Ticks(Bench.cpuTicks(proxyPid), Bench.cpuTicks(emulatorPid), Bench.cpuTicks(backendPid));
    }

    private void ingestMeasured(int documents, long expectedChunks, int distinct, int pages, String out)
            throws SQLException {
        Map<String, String> s0;
        try (Connection p = Bench.connect(proxy, DB)) {
            s0 = Bench.ragStatus(p);
        }
        Ticks cpu0 = ticks();
        long t0 = System.nanoTime();
        long written = ingest(KB, "kb_docs", distinct);
        double secs = (System.nanoTime() - t0) / 1e9;
        Ticks cpu = ticks().minus(cpu0);
        Map<String, String> s1;
        try (Connection p = Bench.connect(proxy, DB)) {
            s1 = Bench.ragStatus(p);
        }
        long requests = delta(s0, s1, "Rag_ml_requests");
        long responses = delta(s0, s1, "Rag_ml_responses");
        long stored;
        long storedDocuments;
        long missing;
        try (Connection d = Bench.connect(direct, DB)) {
            stored = Bench.queryLong(d, "SELECT COUNT(*) FROM kb_chunks");
            storedDocuments = Bench.queryLong(d, "SELECT COUNT(DISTINCT id) FROM kb_chunks");
            missing = Bench.queryLong(d, "SELECT COUNT(*) FROM kb_chunks WHERE embedding IS NULL");
        }
        if (written != expectedChunks || stored != expectedChunks || storedDocuments != documents || missing != 0) {
            throw new IllegalStateException(Bench.fmt("ingestion wrote %d chunks (OK) / %d stored of %d documents,"
                    + " %d without a vector; expected %d chunks of %d documents", written, stored, storedDocuments,
                    missing, expectedChunks, documents));
        }
        double pageWriteMs = backendPageWrite();
        double rate = written / secs;
        double bound = concurrency * 1000.0 / latencyMs;
        double pageMs = 1000 * secs / pages;
        double share = rate / bound;
        Bench.log(Bench.fmt("ingestion: %,d chunks in %.1f s = %.1f chunks/s (%.0f%% of %.1f), %,d requests", written,
                secs, rate, 100 * share, bound, requests));
        Bench.row(out, "10", "knowledge bases", Bench.fmt("ingestion: `INSERT INTO %s SELECT doc_id, body, category,"
                        + " year FROM kb_docs`, %,d generated documents, CHUNK_TEXT's default preprocessing (800"
                        + " characters), Titan V2 (%d dimensions) on the emulator at %d ms, `SET rag_concurrency = %d`,"
                        + " `rag_max_calls` = the distinct chunks; after a warm-up ingestion", KB, documents, dims,
                        latencyMs, concurrency),
                Bench.fmt("bound %d ÷ %d ms = %.1f chunks/s", concurrency, latencyMs, bound),
                Bench.fmt("%.1f chunks/s (%.1f s)", rate, secs),
                Bench.fmt("%.0f%% of the bound", 100 * share),
                Bench.fmt("%,d documents, %,d chunks (%.2f per document; all with a vector); %,d model requests"
                        + " (`Rag_ml_requests`, %,d successful: %.2f texts per request, Titan V2 takes one); %,d pages"
                        + " of ≤ %d chunks (%.1f on average), one after the other: %.0f ms per page, of which %d ms the"
                        + " model and %.0f ms the backend's write of a page (BEGIN, DELETE, a %d-row INSERT with its"
                        + " vectors, COMMIT, run directly on the full table afterwards); %s; load average %s",
                        documents, written, (double) written / documents, requests, responses,
                        requests == 0 ? 0.0 : (double) written / requests, pages, PAGE_CHUNKS, (double) written / pages,
                        pageMs, latencyMs, pageWriteMs, PAGE_CHUNKS, cpu(cpu, written), loadAverage()),
                Bench.fmt("≥ 90%% of %d ÷ %d ms: %s", concurrency, latencyMs, Bench.verdict(share >= 0.9)));
    }

    /**
     * The backend's time to write one page as the proxy does (BEGIN, DELETE of its documents' chunks, one INSERT of
     * {@value #PAGE_CHUNKS} rows with their vectors, COMMIT), run directly on the ingested table: copies of existing
     * chunks under new document ids, deleted again. The median of 5.
     */
    private double backendPageWrite() throws SQLException {
        List<Double> ms = new ArrayList<>();
        try (Connection d = Bench.connect(direct, DB)) {
            for (int round = 0; round < 5; round++) {
                String prefix = "page-" + round + "-";
                long t0 = System.nanoTime();
                Bench.exec(d, "BEGIN");
                Bench.exec(d, "DELETE FROM kb_chunks WHERE id IN ('" + prefix + "1', '" + prefix + "2')");
                Bench.exec(d, "INSERT INTO kb_chunks (id, chunk_id, chunk_content, metadata, content_hash, embedding)"
                        + " SELECT CONCAT('" + prefix + "', id), chunk_id, chunk_content, metadata, content_hash,"
                        + " embedding FROM kb_chunks ORDER BY row_id LIMIT " + PAGE_CHUNKS + " OFFSET "
                        + (round * PAGE_CHUNKS));
                Bench.exec(d, "COMMIT");
                ms.add((System.nanoTime() - t0) / 1e6);
            }
            Bench.exec(d, "DELETE FROM kb_chunks WHERE id LIKE 'page-%'");
        }
        return Bench.median(ms);
    }

    private static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** CPU per chunk of the proxy, the emulator and MariaDB, and the rate at which they alone fill the cores. */
    private String cpu(Ticks t, long chunks) {
        double p = 1000.0 * t.proxy() / clkTck / chunks;
        double e = 1000.0 * t.emulator() / clkTck / chunks;
        double m = 1000.0 * t.backend() / clkTck / chunks;
        double total = p + e + m;
        int cores = Runtime.getRuntime().availableProcessors();
        return Bench.fmt("CPU per chunk: proxy %.2f, emulator %.2f, MariaDB %.2f ms (%d cores ÷ %.2f ms = %,.0f"
                + " chunks/s)", p, e, m, cores, total, total > 0 ? cores * 1000.0 / total : Double.POSITIVE_INFINITY);
    }

    private static long delta(Map<String, String> before, Map<String, String> after, String name) {
        return Long.parseLong(after.get(name)) - Long.parseLong(before.get(name));
    }

    // ------------------------------------------------------------------------------------------- (c) retrieval

    /**
     * The retrieval cases; {@code queries} measured runs of each, fewer if {@code seconds} run out first (a hybrid
     * search ranks every chunk, so its time grows with the table): three quarters of them for the interleaved warm
     * cases, the rest for the uncached rerank.
     */
    private void retrieval(KbDocuments corpus, int documents, int queries, int candidates, double seconds, long chunks,
            String out) throws SQLException {
        List<Case> cases = List.of(
                new Case("vector-only", "AND reranking = false"),
                new Case("hybrid", "AND hybrid_search = true AND reranking = false"),
                new Case(Bench.fmt("hybrid + rerank (%d candidates)", candidates),
                        "AND hybrid_search = true AND reranking_candidates = " + candidates));
        // Questions from documents spread over the corpus; each measured twice or more when queries > documents.
        int distinctQuestions = Math.min(queries, documents);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < distinctQuestions; i++) {
            ids.add(1 + (int) ((long) i * documents / distinctQuestions));
        }
        Map<String, List<Double>> latencies = new LinkedHashMap<>();
        Map<String, Integer> hits = new LinkedHashMap<>();
        cases.forEach(c -> {
            latencies.put(c.label(), new ArrayList<>());
            hits.put(c.label(), 0);
        });
        String cold = Bench.fmt("hybrid + rerank (%d candidates), scores not cached", candidates);
        latencies.put(cold, new ArrayList<>());
        hits.put(cold, 0);
        long rerankRequests;
        int coldRuns;
        try (Connection p = Bench.connect(retrievalProxy, DB)) {
            long warmDeadline = System.nanoTime() + (long) (seconds * 0.75e9);
            for (int i = 0; i < queries && (i < 10 || System.nanoTime() < warmDeadline); i++) {
                int id = ids.get(i % ids.size());
                String q = corpus.question(id);
                if (i < ids.size()) {
                    // Warm: the question once in every case (its embedding and rerank scores cached), unmeasured.
                    for (Case c : cases) {
                        search(p, q, c.conditions());
                    }
                }
                for (int k = 0; k < cases.size(); k++) {
                    Case c = cases.get((i + k) % cases.size());
                    long t0 = System.nanoTime();
                    List<String> top = search(p, q, c.conditions());
                    latencies.get(c.label()).add((System.nanoTime() - t0) / 1e6);
                    if (top.contains(Integer.toString(id))) {
                        hits.merge(c.label(), 1, Integer::sum);
                    }
                }
            }
            // Scores not cached: a new question per run, its embedding warmed by a vector search first.
            long r0 = Bench.ragCounter(p, "Rag_ml_requests");
            long coldDeadline = System.nanoTime() + (long) (seconds * 0.25e9);
            coldRuns = 0;
            for (int i = 0; i < queries && (i < 10 || System.nanoTime() < coldDeadline); i++) {
                coldRuns++;
                int id = ids.get(i % ids.size());
                String q = corpus.question(id) + " (" + i + ")";
                search(p, q, cases.get(0).conditions());
                long t0 = System.nanoTime();
                List<String> top = search(p, q, cases.get(2).conditions());
                latencies.get(cold).add((System.nanoTime() - t0) / 1e6);
                if (top.contains(Integer.toString(id))) {
                    hits.merge(cold, 1, Integer::sum);
                }
            }
            rerankRequests = Bench.ragCounter(p, "Rag_ml_requests") - r0 - coldRuns;
        }
        double vectorP50 = Bench.percentile(Bench.toArray(latencies.get(cases.get(0).label())), 50);
        for (Map.Entry<String, List<Double>> e : latencies.entrySet()) {
            double[] v = Bench.toArray(e.getValue());
            double p50 = Bench.percentile(v, 50);
            double p95 = Bench.percentile(v, 95);
            boolean isCold = e.getKey().equals(cold);
            Bench.log(Bench.fmt("retrieval %s: p50 %.2f ms, p95 %.2f ms, hit@5 %d/%d", e.getKey(), p50, p95,
                    hits.get(e.getKey()), v.length));
            Bench.row(out, "10", "knowledge bases", Bench.fmt("retrieval, %s: `SELECT id, chunk_id, chunk_content,"
                            + " distance, relevance FROM %s WHERE content = '<question>' %s LIMIT 5` over %,d chunks;"
                            + " %s; %,d queries%s; emulator at 0 ms (the proxy's and the backend's time)", e.getKey(),
                            KB, isCold ? cases.get(2).conditions() : conditionsOf(cases, e.getKey()), chunks,
                            isCold ? "a new question each run, its embedding cached by a vector search just before"
                                    + " (unmeasured), so one Rerank request per run"
                                    : "warm question (embedding and scores cached)",
                            v.length, isCold ? "" : ", the three cases interleaved, order rotating"),
                    e.getKey().equals(cases.get(0).label()) ? "—" : Bench.fmt("vector-only p50 %.2f ms", vectorP50),
                    Bench.fmt("p50 %.2f ms · p95 %.2f ms", p50, p95),
                    e.getKey().equals(cases.get(0).label()) ? "—" : Bench.fmt("%.2f× vector-only p50", p50 / vectorP50),
                    Bench.fmt("hit@5 of the question's own document %d/%d%s", hits.get(e.getKey()), v.length,
                            isCold ? Bench.fmt("; %,d Rerank requests (%,d expected)", rerankRequests, coldRuns) : ""),
                    "— (reported)");
        }
    }

    private static String conditionsOf(List<Case> cases, String label) {
        for (Case c : cases) {
            if (c.label().equals(label)) {
                return c.conditions();
            }
        }
        return "";
    }

    /** One knowledge base search; the documents of the rows, in order. */
    private static List<String> search(Connection p, String question, String conditions) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Statement s = p.createStatement(); ResultSet rs = s.executeQuery("SELECT id, chunk_id, chunk_content,"
                + " distance, relevance FROM " + KB + " WHERE content = " + Bench.sqlString(question) + " "
                + conditions + " LIMIT 5")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }
}
