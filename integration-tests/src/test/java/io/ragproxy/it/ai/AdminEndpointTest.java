package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.LLAMA;
import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.server.ops.AdminEndpoint;
import io.ragproxy.server.balance.BackendPool;
import io.ragproxy.server.balance.BackendServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin endpoint: {@code /metrics} scraped before and after a known workload through the proxy moves each
 * counter by the expected amount and parses as Prometheus text format; {@code /health} and {@code /ready} answer as
 * an orchestrator expects.
 */
class AdminEndpointTest {
    private static final String DB = "ragproxy_it_admin";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void countersMoveByTheWorkload() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) SELECT seq, CONCAT('metrics row ', seq) FROM seq_1_to_250");
        try (AdminEndpoint admin = WORLD.proxy().startAdmin(() -> new AdminEndpoint.Readiness(true, "test"));
                Connection c = WORLD.proxy().connect(DB)) {
            Map<String, Double> before = scrape(admin);
            assertEquals(1.0, before.get("ragproxy_client_connections"), "one client connected");

            exec(c, "SELECT 1");
            exec(c, "SELECT 2");
            exec(c, "SELECT 3");
            rows(c, "SELECT EMBED('metrics alpha')");
            rows(c, "SELECT EMBED('metrics alpha')"); // from the cache
            rows(c, "SELECT GENERATE('Say hello to the metrics')");
            WORLD.emulator().failNext(1, EmulatedError.THROTTLING);
            rows(c, "SELECT EMBED('metrics beta')"); // throttled once, then answered
            exec(c, "SET rag_max_calls = 1000");
            assertEquals(250, update(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL"));

            Map<String, Double> after = scrape(admin);
            assertMoved(before, after, "ragproxy_statements_relayed_total", 3);
            // EMBED x3, GENERATE, SET rag_max_calls, the backfill
            assertMoved(before, after, "ragproxy_statements_rewritten_total", 6);
            assertMoved(before, after, "ragproxy_statement_proxy_seconds_count", 6);
            assertMoved(before, after, "ragproxy_model_requests_total{model=\"" + LLAMA + "\",outcome=\"ok\"}", 1);
            assertMoved(before, after, "ragproxy_model_requests_total{model=\"" + TITAN_V2 + "\",outcome=\"throttled\"}",
                    1);
            assertMoved(before, after, "ragproxy_model_request_seconds_count{model=\"" + TITAN_V2
                    + "\",outcome=\"throttled\"}", 1);
            double titanOk = delta(before, after, "ragproxy_model_requests_total{model=\"" + TITAN_V2
                    + "\",outcome=\"ok\"}");
            assertTrue(titanOk >= 3, "alpha, beta and the backfill's batches were answered: " + titanOk);
            assertMoved(before, after, "ragproxy_cache_misses_total", 2 + 1 + 250);
            assertMoved(before, after, "ragproxy_cache_hits_total", 1);
            assertMoved(before, after, "ragproxy_backfill_rows_total", 250);
            // Parsed: alpha, GENERATE, beta (alpha's shape met again: its template is kept for the shape), the backfill;
            // the second alpha repeats the first's text.
            assertMoved(before, after, "ragproxy_plan_cache_lookups_total{found=\"none\"}", 4);
            assertMoved(before, after, "ragproxy_plan_cache_lookups_total{found=\"text\"}", 1);
            assertTrue(after.get("ragproxy_plan_cache_entries") >= 2, "plan cache entries");
            assertTrue(delta(before, after, "ragproxy_model_input_tokens_total{model=\"" + LLAMA + "\"}") > 0,
                    "the text model's input tokens are counted");
            assertTrue(delta(before, after, "ragproxy_model_output_tokens_total{model=\"" + LLAMA + "\"}") > 0,
                    "the text model's output tokens are counted");
            assertTrue(delta(before, after, "ragproxy_model_estimated_cost_usd_total{model=\"" + LLAMA + "\"}") > 0,
                    "the text model's cost is estimated from the price table");
            assertTrue(after.get("ragproxy_cache_entries") >= 253, "cache entries: " + after.get("ragproxy_cache_entries"));
            assertTrue(after.get("ragproxy_cache_bytes") > 0, "cache bytes");

            try (Connection second = WORLD.proxy().connect(DB)) {
                Map<String, Double> two = scrape(admin);
                assertEquals(2.0, two.get("ragproxy_client_connections"), "two clients connected");
                assertMoved(after, two, "ragproxy_client_connections_opened_total", 1);
            }
        }
    }

    @Test
    void healthAndReadinessFollowTheBackend() throws Exception {
        LocalBackend backend = LocalBackend.get();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (BackendPool up = BackendPool.checked(List.of(new BackendServer(backend.host(), backend.port())),
                        Duration.ofMillis(200), Duration.ofSeconds(2));
                BackendPool down = BackendPool.checked(List.of(new BackendServer("127.0.0.1", closedPort)),
                        Duration.ofMillis(200), Duration.ofSeconds(2));
                AdminEndpoint good = WORLD.proxy().startAdmin(() -> AdminEndpoint.Readiness.of(up, () -> true));
                AdminEndpoint bad = WORLD.proxy().startAdmin(() -> AdminEndpoint.Readiness.of(down, () -> true))) {
            assertEquals(200, get(good, "/health").statusCode());
            HttpResponse<String> ready = awaitStatus(good, "/ready", 200);
            assertTrue(ready.body().startsWith("ready: backends " + backend.host() + ":" + backend.port() + " up"),
                    ready.body());
            assertEquals(200, get(bad, "/health").statusCode(), "the process is alive whatever the backend does");
            HttpResponse<String> notReady = awaitStatus(bad, "/ready", 503);
            assertTrue(notReady.body().startsWith("not ready: no backend is up: 127.0.0.1:" + closedPort + " down"),
                    notReady.body());
            assertEquals(404, get(good, "/nothing-here").statusCode());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static HttpResponse<String> get(AdminEndpoint admin, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The probe's first check runs at once but on its own thread: waits (at most 10 s) for its verdict. */
    private static HttpResponse<String> awaitStatus(AdminEndpoint admin, String path, int status) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        HttpResponse<String> r;
        while ((r = get(admin, path)).statusCode() != status && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(status, r.statusCode(), r.body());
        return r;
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String sample) {
        Double a = after.get(sample);
        if (a == null) {
            fail("no sample " + sample + " after the workload; samples: " + after.keySet());
        }
        return a - before.getOrDefault(sample, 0.0);
    }

    private static void assertMoved(Map<String, Double> before, Map<String, Double> after, String sample, double by) {
        assertEquals(by, delta(before, after, sample), sample);
    }

    private static final Pattern HELP = Pattern.compile("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*})? "
                    + "(-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( -?[0-9]+)?");

    /**
     * Scrapes {@code /metrics} and checks it strictly as Prometheus text format 0.0.4: every line a HELP, TYPE or
     * sample line; every sample's family declared by a TYPE line before it; a histogram's buckets cumulative and
     * ending at +Inf with its count. Returns the {@code ragproxy_} samples by {@code name{labels}}.
     */
    private static Map<String, Double> scrape(AdminEndpoint admin) throws Exception {
        HttpResponse<String> r = get(admin, "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                "content type " + r.headers().firstValue("Content-Type"));
        Map<String, String> types = new HashMap<>();
        Map<String, Double> samples = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (String line : r.body().split("\n")) {
            Matcher m;
            if (line.isEmpty()) {
                continue;
            } else if ((m = TYPE.matcher(line)).matches()) {
                assertTrue(types.put(m.group(1), m.group(2)) == null, "family typed twice: " + line);
            } else if (HELP.matcher(line).matches()) {
                continue;
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                String name = m.group(1);
                String family = types.containsKey(name) ? name : name.replaceFirst("_(total|bucket|count|sum|created)$", "");
                assertTrue(types.containsKey(family), "sample before its TYPE line: " + line);
                String key = name + (m.group(2) == null ? "" : m.group(2));
                assertTrue(seen.add(key), "duplicate sample: " + line);
                samples.put(key, Double.parseDouble(m.group(3).replace("+Inf", "Infinity")));
            } else {
                fail("not Prometheus text format: '" + line + "'");
            }
        }
        checkHistograms(samples);
        Map<String, Double> ours = new HashMap<>();
        samples.forEach((k, v) -> {
            if (k.startsWith("ragproxy_")) {
                ours.put(k, v);
            }
        });
        return ours;
    }

    /** Each histogram series: buckets non-decreasing in {@code le}, the +Inf bucket equal to its count. */
    private static void checkHistograms(Map<String, Double> samples) {
        Map<String, Double> lastBucket = new HashMap<>();
        samples.keySet().stream().filter(k -> k.contains("_bucket{")).sorted().forEach(k -> {
            String series = k.replaceFirst(",?le=\"[^\"]*\"", "").replace("_bucket", "_count").replace("{}", "");
            Double count = samples.get(series);
            assertTrue(count != null, "bucket without count: " + k + " (looked for " + series + ")");
            assertTrue(samples.get(k) <= count, "bucket above its count: " + k);
            if (k.contains("le=\"+Inf\"")) {
                assertEquals(count, samples.get(k), "+Inf bucket of " + series);
            }
            lastBucket.merge(series, samples.get(k), Math::max);
        });
    }
}
