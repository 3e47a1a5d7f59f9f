package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Errors of the AI functions through SQL, against the Bedrock emulator (Titan V2 / Llama 3.2): each is an ERR
 * packet with ragproxy's code and SQLSTATE and an actionable message, and the connection stays usable
 * ({@code SELECT 1} right after, on the same connection). Faults are injected per input text (a marker in the
 * text), so the record shows exactly which requests each statement caused.
 */
class AiErrorsTest {
    private static final String DB = "ragproxy_it_ai_errors";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @BeforeAll
    static void start() throws Exception {
        LocalBackend.get().exec(DB, "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) VALUES (1, 'one'), (2, 'two')");
    }

    @BeforeEach
    void resetEmulator() throws InterruptedException {
        AiProxy.quiesce(WORLD.emulator());
    }

    private static List<RecordedRequest> requestsContaining(String marker) {
        return WORLD.emulator().requests().stream().filter(r -> r.bodyString().contains(marker)).toList();
    }

    @Test
    void unknownModelListsTheConfiguredOnes() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT EMBED('x', 'no-such-model')", 7011, "42000");
            String m = e.getMessage();
            assertTrue(m.contains("no-such-model"), m);
            assertTrue(m.contains("titan-v2") && m.contains(TITAN_V2), "lists the default embedding model: " + m);
            assertTrue(m.contains("llama3-2-3b"), "lists the default text model: " + m);
            assertSqlError(c, "SELECT GENERATE('x', 'no-such-text-model')", 7011, "42000");
            // An embedding model where a text model is needed is no text model either.
            assertEquals(0, WORLD.emulator().requestCount());
        }
    }

    @Test
    void wrongArgumentCount() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT EMBED()", 7010, "42000");
            assertTrue(e.getMessage().contains("EMBED(text [, model [, options_json]])"), e.getMessage());
            assertSqlError(c, "SELECT EMBED('a', 'titan-v2', '{}', 'extra')", 7010, "42000");
            assertSqlError(c, "SELECT EMBED_TEXT('titan-v2')", 7010, "42000");
            assertSqlError(c, "SELECT VEC_EMBED_COSINE_DISTANCE(VEC_FromText('[1]'))", 7010, "42000");
            assertSqlError(c, "SELECT GENERATE()", 7010, "42000");
            assertEquals(0, WORLD.emulator().requestCount());
        }
    }

    @Test
    void badOptionsJson() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT EMBED('x', 'titan-v2', '{not json')", 7012, "22023");
            assertTrue(e.getMessage().contains("JSON"), e.getMessage());
            assertSqlError(c, "SELECT EMBED('x', 'titan-v2', '[1,2]')", 7012, "22023");
            assertSqlError(c, "SELECT GENERATE('x', 'llama3-2-3b', '{\"max_tokens\":\"many\"}')", 7012, "22023");
            assertEquals(0, WORLD.emulator().requestCount());
        }
    }

    @Test
    void tooManyCalls() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = 2");
            try {
                SQLException e = assertSqlError(c, "SELECT EMBED('calls a'), EMBED('calls b'), EMBED('calls c')", 7013, "54000");
                assertTrue(e.getMessage().contains("3"), e.getMessage());
                assertTrue(e.getMessage().contains("rag_max_calls"), e.getMessage());
                assertEquals(0, WORLD.emulator().requestCount(), "no call made before refusing: " + WORLD.emulator().requests());
                // Two distinct texts (one repeated) are within the limit.
                assertEquals("1", scalar(c, "SELECT EMBED('calls a') IS NOT NULL AND EMBED('calls b') IS NOT NULL"
                        + " AND EMBED('calls a') IS NOT NULL"));
                assertEquals(2, WORLD.emulator().requestCount());
            } finally {
                exec(c, "SET rag_max_calls = 1000");
            }
        }
    }

    @Test
    void throttledForLongerThanTheThrottleWait() throws Exception {
        WORLD.emulator().failWhenInputContains("always-throttled", EmulatedError.THROTTLING);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_throttle_wait_ms = 300");
            try {
                Map<String, String> before = status(c);
                SQLException e = assertSqlError(c, "SELECT EMBED('always-throttled text')", 7101, "HY000");
                assertTrue(e.getMessage().contains(TITAN_V2), "names the model: " + e.getMessage());
                assertTrue(e.getMessage().contains("rag_throttle_wait_ms = 300"), "says what it waited: " + e.getMessage());
                List<RecordedRequest> seen = requestsContaining("always-throttled");
                assertTrue(seen.size() >= 2, "throttles spend time, not rag_max_attempts: " + seen);
                assertTrue(seen.stream().allMatch(r -> r.response() == 429));
                Map<String, String> after = status(c);
                assertEquals(seen.size(), counter(after, "Rag_ml_throttles") - counter(before, "Rag_ml_throttles"));
                assertEquals(1, counter(after, "Rag_ml_errors") - counter(before, "Rag_ml_errors"));
                assertSelect1(c);
            } finally {
                exec(c, "SET rag_throttle_wait_ms = DEFAULT");
            }
        }
    }

    @Test
    void anInputLongerThanMaxInputCharsIsRefusedBeforeAnyCall() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            int before = WORLD.emulator().requestCount();
            SQLException e = assertSqlError(c, "SELECT EMBED(REPEAT('x', 100001))", 7105, "22001");
            assertTrue(e.getMessage().contains("max_input_chars"), "names the key: " + e.getMessage());
            assertTrue(e.getMessage().contains("100000"), "names the limit: " + e.getMessage());
            assertEquals(before, WORLD.emulator().requestCount(), "no model call");
            assertSelect1(c);
        }
    }

    @Test
    void throttledOnceThenSucceeds() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            Map<String, String> before = status(c);
            WORLD.emulator().failNext(1, EmulatedError.THROTTLING);
            assertNotNull(scalar(c, "SELECT VEC_ToText(EMBED('throttled once'))"));
            List<RecordedRequest> seen = requestsContaining("throttled once");
            assertEquals(List.of(429, 200), seen.stream().map(RecordedRequest::response).toList(), seen.toString());
            assertEquals(seen.get(0).bodyString(), seen.get(1).bodyString(), "the retry resends the same body");
            Map<String, String> after = status(c);
            assertTrue(counter(after, "Rag_ml_retries") - counter(before, "Rag_ml_retries") >= 1, after.toString());
            assertEquals(1, counter(after, "Rag_ml_throttles") - counter(before, "Rag_ml_throttles"));
        }
    }

    @Test
    void serverErrorThenSucceeds() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            Map<String, String> before = status(c);
            WORLD.emulator().failNext(1, EmulatedError.INTERNAL);
            WORLD.emulator().failNext(1, EmulatedError.SERVICE_UNAVAILABLE);
            assertNotNull(scalar(c, "SELECT GENERATE('five hundred then fine')"));
            List<RecordedRequest> seen = requestsContaining("five hundred then fine");
            assertEquals(List.of(500, 503, 200), seen.stream().map(RecordedRequest::response).toList(), seen.toString());
            Map<String, String> after = status(c);
            assertEquals(2, counter(after, "Rag_ml_retries") - counter(before, "Rag_ml_retries"));
        }
    }

    @Test
    void timeout() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            // Warm the SDK client first: its one-time start-up (about 2 s on a cold JVM) is not what is measured here.
            assertNotNull(scalar(c, "SELECT VEC_ToText(EMBED('warm-up before the timeout'))"));
            exec(c, "SET rag_inference_timeout_ms = 200");
            WORLD.emulator().setLatency(Duration.ofSeconds(1));
            try {
                long t0 = System.nanoTime();
                SQLException e = assertSqlError(c, "SELECT EMBED('too slow to wait for')", 7102, "HYT00");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 950, "the statement failed after " + ms + " ms, not at the 200 ms timeout");
                assertTrue(e.getMessage().contains("rag_inference_timeout_ms"), e.getMessage());
            } finally {
                WORLD.emulator().setLatency(Duration.ZERO);
                exec(c, "SET rag_inference_timeout_ms = 30000");
            }
        }
    }

    /**
     * Right after a call failed, the same statement (now with a longer timeout) must call the model again, not be
     * answered with the failure of the previous statement still sitting in the result cache.
     */
    @Test
    void sameTextRightAfterATimeoutCallsTheModelAgain() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            assertNotNull(scalar(c, "SELECT VEC_ToText(EMBED('warm-up before the retry test'))"));
            exec(c, "SET rag_inference_timeout_ms = 200");
            WORLD.emulator().setLatency(Duration.ofSeconds(1));
            try {
                assertSqlError(c, "SELECT EMBED('timed out, then retried at once')", 7102, "HYT00");
            } finally {
                WORLD.emulator().setLatency(Duration.ZERO);
                exec(c, "SET rag_inference_timeout_ms = 30000");
            }
            // No pause: a user retrying at once.
            assertNotNull(scalar(c, "SELECT VEC_ToText(EMBED('timed out, then retried at once'))"));
        }
    }

    @Test
    void validationError() throws Exception {
        WORLD.emulator().failWhenInputContains("reject-me", EmulatedError.VALIDATION);
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT EMBED('please reject-me')", 7104, "22023");
            assertTrue(e.getMessage().contains(TITAN_V2), e.getMessage());
            assertEquals(1, requestsContaining("reject-me").size(), "a validation error is not retried");
        }
    }

    @Test
    void accessDenied() throws Exception {
        WORLD.emulator().failWhenInputContains("deny-me", EmulatedError.ACCESS_DENIED);
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT GENERATE('please deny-me')", 7103, "28000");
            assertTrue(e.getMessage().contains(AiProxy.LLAMA), e.getMessage());
            assertFalse(e.getMessage().contains("ragproxy-test-secret"), "no secret in the message");
            assertEquals(1, requestsContaining("deny-me").size(), "access denied is not retried");
        }
    }

    @Test
    void modelErrorIsAModelFailure() throws Exception {
        WORLD.emulator().failWhenInputContains("model-breaks", EmulatedError.MODEL_ERROR);
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT EMBED('the model-breaks here')", 7100, "HY000");
            assertTrue(e.getMessage().contains(TITAN_V2), e.getMessage());
        }
    }

    @Test
    void onErrorNullGivesNullInsteadOfFailing() throws Exception {
        WORLD.emulator().failWhenInputContains("null-on-error", EmulatedError.VALIDATION);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_on_error = 'null'");
            try {
                assertEquals(List.of(List.of("1")), rows(c, "SELECT GENERATE('null-on-error prompt') IS NULL"));
                assertEquals(List.of(List.of("1")), rows(c, "SELECT EMBED('null-on-error text') IS NULL"));
                // Only the failed call gives NULL: the other rows keep the vectors their calls returned.
                exec(c, "CREATE TABLE on_error_rows (id INT PRIMARY KEY, embedding VECTOR(512))");
                assertEquals(3, AiProxy.update(c, "INSERT INTO on_error_rows VALUES (1, EMBED('first fine text')),"
                        + " (2, EMBED('null-on-error in a row')), (3, EMBED('second fine text'))"));
                assertEquals(List.of(List.of("1", "0"), List.of("2", "1"), List.of("3", "0")),
                        rows(c, "SELECT id, embedding IS NULL FROM on_error_rows ORDER BY id"),
                        () -> "rows whose model call succeeded must not be NULL; emulator record: " + WORLD.emulator().requests());
            } finally {
                exec(c, "SET rag_on_error = 'error'");
            }
            assertSqlError(c, "SELECT EMBED('null-on-error text')", 7104, "22023");
        }
    }

    @Test
    void whatCannotRunOverColumnsIsRefusedClearly() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            // INSERT … VALUES has no query block whose rows could list the argument's values.
            SQLException e = assertSqlError(c, "INSERT INTO docs (id, content) VALUES (99, GENERATE(content))", 7001,
                    "0A000");
            assertTrue(e.getMessage().contains("INSERT … SELECT"), e.getMessage());
            // A column of an outer query inside an AI call (a correlated subquery): the backend's error, with a hint.
            e = assertSqlError(c, "SELECT id, (SELECT GENERATE(d.content) FROM DUAL WHERE 1 = 1) FROM docs d", 1109,
                    "42S02");
            assertTrue(e.getMessage().contains("outer query"), e.getMessage());
            assertSqlError(c, "SELECT UPPER(ANSWER('q', content)) FROM docs", 7001, "0A000");
            assertEquals(0, WORLD.emulator().requestCount());
            try (Connection direct = LocalBackend.get().connect(DB)) {
                assertEquals("2", scalar(direct, "SELECT COUNT(*) FROM docs WHERE embedding IS NULL"), "nothing written");
            }
        }
    }

    @Test
    void syntaxErrorNamesThePosition() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT EMBED('x') FRM docs WHERE", 7002, "42000");
            assertTrue(e.getMessage().matches("(?s).*line \\d+, column \\d+.*"), e.getMessage());
            assertEquals(0, WORLD.emulator().requestCount());
        }
    }

    @Test
    void unknownAndBadSettings() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SET rag_nonsense = 1", 7004, "HY000");
            assertTrue(e.getMessage().contains("rag_max_calls"), "lists the settings: " + e.getMessage());
            assertSqlError(c, "SET rag_inference_timeout_ms = 'soon'", 7005, "42000");
            assertSqlError(c, "SET rag_on_error = 'maybe'", 7005, "42000");
            Map<String, String> settings = new java.util.LinkedHashMap<>();
            rows(c, "SHOW RAG SETTINGS").forEach(r -> settings.put(r.get(0), r.get(1)));
            assertEquals("error", settings.get("rag_on_error"), "a rejected SET changes nothing: " + settings);
        }
    }

    @Test
    void showRagStatusWorksOnBothDrivers() throws Exception {
        for (Driver d : Driver.values()) {
            try (Connection c = WORLD.proxy().connect(d, DB)) {
                Map<String, String> s = status(c);
                for (String name : List.of("Rag_ml_requests", "Rag_ml_responses", "Rag_ml_cache_hits", "Rag_ml_retries",
                        "Rag_ml_throttles", "Rag_ml_errors", "Rag_ml_input_tokens", "Rag_ml_output_tokens")) {
                    assertTrue(counter(s, name) >= 0, name);
                }
                assertNotNull(s.get("Rag_ml_estimated_cost_usd"), s.toString());
                assertSelect1(c);
            }
        }
    }
}
