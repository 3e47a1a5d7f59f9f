package io.ragproxy.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.catalog.local.LocalModels;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.GroundedPrompt;
import io.ragproxy.catalog.model.TextModel;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark (6), RAG query latency: the README's one-statement query
 * <pre>SELECT ANSWER('What is TiDB?', content) AS answer FROM
 *   (SELECT content FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) LIMIT 3) t</pre>
 * over seed 000's five sentences, on two proxies: the local defaults (all-MiniLM-L6-v2 + the local extractive
 * model) and the seed's Bedrock configuration on the emulator (Titan V2, 512 dimensions, then Llama 3.2 3B through
 * Converse, 150 ms per call). For each, interleaved, run by run (order rotating):
 * <ol>
 *   <li><em>cold</em>: the query with a question no earlier run asked ({@code What is TiDB? (<nonce>-<i>)}), so both
 *       model calls (EMBED of the question, then the text model) really happen: there is no cache-clear
 *       statement, and a new question is also what a real user sends;</li>
 *   <li><em>warm</em>: the README's question repeated: both calls are cache hits;</li>
 *   <li><em>backend</em>: the statement the ANSWER plan sends the backend (question and
 *       {@code JSON_ARRAYAGG(content)} over the subquery, EMBED replaced by the vector literal), run directly on
 *       MariaDB. Its text comes from {@code EXPLAIN RAG} of that statement with the elided vector filled in
 *       ({@code EXPLAIN RAG} does not take ANSWER statements themselves yet);</li>
 *   <li><em>model</em>: the two model calls alone, on the same kind of inputs: for the local models, timed in this
 *       JVM (same classes, ONNX model and thread count as the proxy's); for the emulator, the two HTTP requests
 *       sent to it directly.</li>
 * </ol>
 * The split of the cold p50 is backend p50 + model p50 + proxy (the rest: parsing and rewriting the statement,
 * cache and invocation bookkeeping, the AWS SDK's request signing and HTTP client, composing the reply); medians
 * do not add exactly, so the proxy share is an estimate. The model calls are checked with {@code SHOW GLOBAL RAG STATUS}:
 * 2 per cold run, 0 per warm run.
 *
 * <pre>RagQueryBench --direct H:P --local-proxy H:P [--emulator-proxy H:P --emulator H:P --emulator-dims 512]
 *     --latency-ms 150 --runs 100 --warmup 10 --jit-warmup 500 --out FILE</pre>
 */
public final class RagQueryBench {

    static final String QUESTION = "What is TiDB?";
    /** Seed 000's five sentences. */
    static final List<String> SENTENCES = List.of(
            "TiDB is a distributed SQL database compatible with MySQL.",
            "TiDB supports Hybrid Transactional and Analytical Processing (HTAP).",
            "TiDB can scale horizontally and provides high availability.",
            "Amazon Bedrock allows seamless integration with foundation models.",
            "Meta Llama 3 is a powerful model for text generation.");
    /** The instruction ANSWER's grounded prompt starts with (AnswerPlanner.INSTRUCTION, package-private there). */
    static final String INSTRUCTION = "Answer the question using only the numbered sources below. If they do not"
            + " contain the answer, say that they do not. Cite the sources you use as [n].";
    static final String TITAN_V2 = "amazon.titan-embed-text-v2:0";
    static final String LLAMA = "us.meta.llama3-2-3b-instruct-v1:0";
    private static final Pattern ELIDED_VECTOR = Pattern.compile("'\\[…[^']*…\\]'");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Times the two model calls of one cold query outside the proxy: {embedding ms, answer ms}. */
    private interface ModelTimer extends AutoCloseable {
        double[] time(String question, List<String> sources) throws Exception;

        @Override
        default void close() {
        }
    }

    /** One proxy configuration under test. */
    private record Side(String label, String proxy, String database, int dims, String modelMethod, ModelTimer models) {
    }

    private final String direct;
    private final int runs;
    private final int warmup;
    private final int jitWarmup;
    private final String nonce = Long.toString(System.nanoTime(), 36);

    private RagQueryBench(String direct, int runs, int warmup, int jitWarmup) {
        this.direct = direct;
        this.runs = runs;
        this.warmup = warmup;
        this.jitWarmup = jitWarmup;
    }

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        String out = a.get("out", null);
        RagQueryBench b = new RagQueryBench(a.require("direct"), a.getInt("runs", 20), a.getInt("warmup", 3),
                a.getInt("jit-warmup", 100));
        int latencyMs = a.getInt("latency-ms", 150);
        List<Side> sides = new ArrayList<>();
        sides.add(new Side("local defaults (all-MiniLM-L6-v2, then `local:extractive`)", a.require("local-proxy"),
                "ragbench_rag_local", 384, "timed in the benchmark's JVM with the same classes and ONNX model",
                new LocalTimer()));
        if (a.get("emulator-proxy", null) != null) {
            int dims = a.getInt("emulator-dims", 512);
            sides.add(new Side(Bench.fmt("Bedrock emulator at %d ms per call (Titan V2, %d dimensions, then Llama 3.2 3B"
                            + " through Converse)", latencyMs, dims), a.get("emulator-proxy", null), "ragbench_rag_bedrock",
                    dims, "HTTP requests sent to the emulator directly", new EmulatorTimer(a.require("emulator"), dims)));
        }
        for (Side side : sides) {
            try (ModelTimer ignored = side.models()) {
                b.run(side, out);
            }
        }
    }

    private void run(Side side, String out) throws Exception {
        try (Connection d = Bench.connect(direct, null)) {
            Bench.exec(d, "CREATE DATABASE IF NOT EXISTS " + side.database());
        }
        try (Connection p = Bench.connect(side.proxy(), side.database());
             Connection d = Bench.connect(direct, side.database())) {
            // Seed 000's table, filled through the proxy as the README's quickstart does.
            Bench.exec(p, "CREATE OR REPLACE TABLE docs (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT, embedding VECTOR("
                    + side.dims() + "))");
            StringBuilder insert = new StringBuilder("INSERT INTO docs (content, embedding) VALUES ");
            for (int i = 0; i < SENTENCES.size(); i++) {
                String s = Bench.sqlString(SENTENCES.get(i));
                insert.append(i == 0 ? "" : ", ").append('(').append(s).append(", EMBED(").append(s).append("))");
            }
            Bench.exec(p, insert.toString());

            String fixed = query(QUESTION);
            String warmAnswer = single(p, fixed);
            if (warmAnswer == null || warmAnswer.isBlank()) {
                throw new IllegalStateException("the README query answered nothing through " + side.proxy());
            }
            String backendSql = backendSql(p);
            List<String> sources = sources(single(d, backendSql));
            Bench.log("RAG query, " + side.label() + ": answer '" + warmAnswer + "'; sources " + sources
                    + "; backend SQL " + backendSql.substring(0, Math.min(160, backendSql.length())) + "…");

            // The proxy's statement path (JSqlParser above all) takes hundreds of statements to be compiled by C2 on
            // two busy cores; warm queries warm it without model calls. The interleaved warm-up below adds cold runs.
            for (int i = 0; i < jitWarmup; i++) {
                single(p, fixed);
                single(d, backendSql);
            }
            List<Double> cold = new ArrayList<>();
            List<Double> warm = new ArrayList<>();
            List<Double> backend = new ArrayList<>();
            List<Double> model = new ArrayList<>();
            List<Double> embedMs = new ArrayList<>();
            List<Double> answerMs = new ArrayList<>();
            Map<String, String> s0 = null;
            for (int i = 0; i < warmup + runs; i++) {
                if (i == warmup) {
                    s0 = Bench.ragStatus(p);
                }
                boolean measured = i >= warmup;
                String question = QUESTION + " (" + nonce + "-" + i + ")";
                for (int j = 0; j < 4; j++) {
                    int task = (i + j) % 4; // rotate so that no task always follows the same one
                    long t0 = System.nanoTime();
                    double[] parts = null;
                    switch (task) {
                        case 0 -> single(p, query(question));
                        case 1 -> single(p, fixed);
                        case 2 -> single(d, backendSql);
                        default -> parts = side.models().time(question + " m", sources);
                    }
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (!measured) {
                        continue;
                    }
                    switch (task) {
                        case 0 -> cold.add(ms);
                        case 1 -> warm.add(ms);
                        case 2 -> backend.add(ms);
                        default -> {
                            model.add(parts[0] + parts[1]);
                            embedMs.add(parts[0]);
                            answerMs.add(parts[1]);
                        }
                    }
                }
            }
            Map<String, String> s1 = Bench.ragStatus(p);
            long calls = Long.parseLong(s1.get("Rag_ml_requests")) - Long.parseLong(s0.get("Rag_ml_requests"));

            double b50 = p(backend, 50);
            double m50 = p(model, 50);
            double c50 = p(cold, 50);
            double w50 = p(warm, 50);
            String backendCell = Bench.fmt("backend alone (direct) p50 %.2f / p95 %.2f ms", b50, p(backend, 95));
            Bench.row(out, "6", "RAG query", Bench.fmt("README `ANSWER` query, %s; cold: a new question each run"
                            + " (EMBED, then the text model), %d runs", side.label(), runs),
                    backendCell,
                    Bench.fmt("p50 %.1f / p95 %.1f ms", c50, p(cold, 95)),
                    "—",
                    Bench.fmt("p50 split: backend %.1f + model %.1f (embedding %.1f + answer %.1f; %s) + proxy %.1f ms;"
                                    + " %d model requests for %d cold and %d warm runs (`Rag_ml_requests`: 2 per cold run"
                                    + " expected); cold − warm p50 = %.1f ms",
                            b50, m50, p(embedMs, 50), p(answerMs, 50), side.modelMethod(), c50 - b50 - m50, calls, runs,
                            runs, c50 - w50),
                    "— (report)");
            Bench.row(out, "6", "RAG query", Bench.fmt("README `ANSWER` query, %s; warm: the README's question repeated"
                            + " (both model results cached), %d runs", side.label(), runs),
                    backendCell,
                    Bench.fmt("p50 %.1f / p95 %.1f ms", w50, p(warm, 95)),
                    "—",
                    Bench.fmt("p50 split: backend %.1f + model 0 (cache hits) + proxy %.1f ms", b50, w50 - b50),
                    "— (report)");
        }
    }

    /** The README's statement for {@code question}. */
    private static String query(String question) {
        String q = Bench.sqlString(question);
        return "SELECT ANSWER(" + q + ", content) AS answer FROM (SELECT content FROM docs ORDER BY"
                + " VEC_COSINE_DISTANCE(embedding, EMBED(" + q + ")) LIMIT 3) t";
    }

    /**
     * The backend statement of the README query: what the ANSWER plan sends (its ANSWER item replaced by the
     * question and {@code JSON_ARRAYAGG(content)}), as {@code EXPLAIN RAG} renders it, with the question's vector
     * (read through the proxy) in place of the elided literal.
     */
    private static String backendSql(Connection proxy) throws SQLException {
        String q = Bench.sqlString(QUESTION);
        String plan;
        try (Statement s = proxy.createStatement();
             ResultSet rs = s.executeQuery("EXPLAIN RAG SELECT " + q + ", JSON_ARRAYAGG(content) FROM (SELECT content"
                     + " FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED(" + q + ")) LIMIT 3) t")) {
            rs.next();
            plan = rs.getString("Backend_sql");
        }
        String vector;
        try (Statement s = proxy.createStatement(); ResultSet rs = s.executeQuery("SELECT VEC_AS_TEXT(EMBED(" + q + "))")) {
            rs.next();
            vector = rs.getString(1);
        }
        Matcher m = ELIDED_VECTOR.matcher(plan);
        if (!m.find()) {
            throw new IllegalStateException("no elided vector in EXPLAIN RAG's backend SQL: " + plan);
        }
        return m.replaceFirst(Matcher.quoteReplacement(Bench.sqlString(vector)));
    }

    /** The context values of the backend's {@code JSON_ARRAYAGG} column (second column of its one row). */
    private static List<String> sources(String array) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode v : JSON.readTree(array)) {
            out.add(v.asText());
        }
        if (out.size() != 3 || !out.get(0).equals(SENTENCES.get(0))) {
            throw new IllegalStateException("the backend statement found " + out + ", not the 3 sources starting with"
                    + " the TiDB sentence");
        }
        return out;
    }

    /** The first column of the single row of {@code sql} (every row is read). */
    private static String single(Connection c, String sql) throws SQLException {
        String v = null;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int cols = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                v = rs.getString(cols); // the last column: the answer, or JSON_ARRAYAGG's array
            }
        }
        return v;
    }

    private static double p(List<Double> values, double percentile) {
        return Bench.percentile(Bench.toArray(values), percentile);
    }

    /** ANSWER's prompt for {@code question} over {@code sources}, as the ANSWER plan writes it. */
    static String prompt(String question, List<String> sources) {
        return INSTRUCTION + "\n" + new GroundedPrompt(question, sources).format();
    }

    /** The local models, in this JVM: the question's embedding (as a query), then the extractive answer. */
    private static final class LocalTimer implements ModelTimer {
        private final LocalModels models = new LocalModels();
        private final EmbeddingModel embedding = models.embedding();
        private final TextModel extractive = models.extractive(null);
        private final EmbedOptions query = EmbedOptions.DEFAULT.withInputPurpose(EmbedOptions.InputPurpose.QUERY);

        @Override
        public double[] time(String question, List<String> sources) {
            long t0 = System.nanoTime();
            embedding.embed(List.of(question), query).join();
            long t1 = System.nanoTime();
            extractive.generate(prompt(question, sources), GenerateOptions.DEFAULT).join();
            long t2 = System.nanoTime();
            return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6};
        }

        @Override
        public void close() {
            models.close();
        }
    }

    /** The emulator's two endpoints, called over HTTP/1.1 (kept alive) like the SDK does. */
    private static final class EmulatorTimer implements ModelTimer {
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        private final String base;
        private final int dims;

        EmulatorTimer(String hostPort, int dims) {
            this.base = "http://" + hostPort + "/model/";
            this.dims = dims;
        }

        @Override
        public double[] time(String question, List<String> sources) throws Exception {
            ObjectNode embed = JSON.createObjectNode();
            embed.put("inputText", question);
            embed.put("dimensions", dims);
            embed.put("normalize", true);
            ObjectNode converse = JSON.createObjectNode();
            converse.putArray("messages").addObject().put("role", "user").putArray("content").addObject()
                    .put("text", prompt(question, sources));
            long t0 = System.nanoTime();
            post(TITAN_V2, "invoke", embed);
            long t1 = System.nanoTime();
            post(LLAMA, "converse", converse);
            long t2 = System.nanoTime();
            return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6};
        }

        private void post(String model, String route, JsonNode body) throws Exception {
            HttpRequest req = HttpRequest.newBuilder(URI.create(base + URLEncoder.encode(model, StandardCharsets.UTF_8)
                            + "/" + route))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
            HttpResponse<byte[]> r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("emulator " + route + " answered " + r.statusCode() + ": "
                        + new String(r.body(), StandardCharsets.UTF_8));
            }
        }
    }
}
