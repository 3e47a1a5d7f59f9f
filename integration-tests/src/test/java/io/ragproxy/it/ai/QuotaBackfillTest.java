package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A backfill under a Bedrock quota finishes on the default settings: the emulator answers 429 beyond a token-bucket
 * quota, the model's concurrency limit adapts (AIMD), and throttled calls wait instead of spending
 * {@code rag_max_attempts}. Issue 14's test at a smaller scale: the quota and the table are sized for about 15 s
 * (the issue's 3,000 requests/min and 10,000 rows take 200 s).
 */
class QuotaBackfillTest {
    private static final String DB = "ragproxy_it_ai_quota";
    /** Requests per second the emulator lets through (a burst of one second's worth, as a token bucket). */
    private static final int QUOTA_RPS = 30;
    /** Titan v2 takes one text per request, so one request per row: about 15 s at the quota. */
    private static final int ROWS = 450;

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @Test
    void aBackfillUnderAQuotaFinishesOnTheDefaultsAtCloseToTheQuotasRate() throws Exception {
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) SELECT seq, CONCAT('quota row ', seq) FROM seq_1_to_" + ROWS);
        AiProxy.quiesce(WORLD.emulator());
        // 100 ms per request: at the quota about 3 calls are in flight, far below rag_concurrency = 64.
        WORLD.emulator().setLatency(Duration.ofMillis(100)).setThrottleQuota(QUOTA_RPS);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_concurrency = 64");
            Map<String, String> before = status(c);
            long start = System.nanoTime();
            assertEquals(ROWS, update(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL"));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM docs WHERE embedding IS NULL"), "rows left");

            List<RecordedRequest> seen = WORLD.emulator().requests();
            long ok = seen.stream().filter(r -> r.response() == 200).count();
            long throttled = seen.stream().filter(r -> r.response() == 429).count();
            Map<String, String> after = status(c);
            assertEquals(ROWS, ok, "one successful request per row");
            assertEquals(throttled, counter(after, "Rag_ml_throttles") - counter(before, "Rag_ml_throttles"));
            assertEquals(0, counter(after, "Rag_ml_errors") - counter(before, "Rag_ml_errors"));
            assertTrue(throttled > 0, "the quota was reached");
            // Without the adaptive limit 64 calls in flight would make about 20 attempts per success.
            assertTrue(throttled < ok, "the concurrency adapted: " + throttled + " throttled for " + ok + " answered");
            long limit = counter(AiProxy.globalStatus(c), "Rag_ml_concurrency_limit@" + AiProxy.TITAN_V2);
            assertTrue(limit >= 1 && limit < 64, "SHOW GLOBAL RAG STATUS shows the adapted limit: " + limit);
            // The long-run rate: from the end of the first two seconds' worth (start-up, the bucket's initial burst)
            // to the last answer.
            List<Long> answered = seen.stream().filter(r -> r.response() == 200).map(RecordedRequest::answeredNanos)
                    .sorted().toList();
            int from = 2 * QUOTA_RPS;
            double window = (answered.get(answered.size() - 1) - answered.get(from)) / 1e9;
            double rate = (answered.size() - 1 - from) / window;
            System.out.printf("quota backfill: %d rows in %.1f s; long run %.1f requests/s of a %d/s quota (%.0f%%);"
                    + " %d throttled%n", ROWS, seconds, rate, QUOTA_RPS, 100 * rate / QUOTA_RPS, throttled);
            assertTrue(rate >= 0.9 * QUOTA_RPS, "long-run rate " + rate + " requests/s of a " + QUOTA_RPS + "/s quota");
        } finally {
            WORLD.emulator().reset();
        }
    }
}
