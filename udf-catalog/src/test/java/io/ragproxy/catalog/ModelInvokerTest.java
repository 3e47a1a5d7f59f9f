package io.ragproxy.catalog;

import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.catalog.invoke.InputTooLongException;
import io.ragproxy.catalog.invoke.CallGate;
import io.ragproxy.catalog.invoke.Caller;
import io.ragproxy.catalog.invoke.CounterSet;
import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.emulator.EmulatedError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The invocation policy against the emulator: cache, batching, retries, timeout, limits, cancellation, counters. */
class ModelInvokerTest {

    static EmulatorSupport env;
    ModelInvoker inv;

    @BeforeAll
    static void start() {
        env = new EmulatorSupport();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @BeforeEach
    void setUp() {
        env.emulator.reset();
        inv = env.invoker(ModelsConfig.DEFAULT);
    }

    @AfterEach
    void tearDown() {
        inv.close();
    }

    private static ModelException failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return ModelException.find(e);
    }

    @Test
    void thousandIdenticalInputsCostOneCallAndASecondRequestNone() {
        List<String> texts = Collections.nCopies(1000, "the same sentence");
        List<float[]> out = inv.embedAll("titan-v2", texts, EmbedOptions.fromJson("{\"dimensions\":512}"), null).join();
        assertEquals(1000, out.size());
        assertEquals(1, env.emulator.requestCount());
        assertSame(out.get(0), out.get(999));
        List<float[]> again = inv.embedAll("amazon.titan-embed-text-v2:0", texts, EmbedOptions.fromJson("{\"dimensions\":512}"), null).join();
        assertEquals(1, env.emulator.requestCount(), "second request served from the cache");
        assertArrayEquals(out.get(0), again.get(0));
        Map<String, Number> s = inv.snapshot();
        assertEquals(1L, s.get("Rag_ml_requests"));
        assertEquals(1L, s.get("Rag_ml_responses"));
        assertEquals(1L, s.get("Rag_ml_cache_misses"));
        assertEquals(1999L, s.get("Rag_ml_cache_hits"));
        assertTrue(((Number) s.get("Rag_ml_input_tokens")).longValue() > 0);
        assertTrue(((java.math.BigDecimal) s.get("Rag_ml_estimated_cost_usd")).signum() > 0);
        // Other options are another cache entry.
        inv.embedAll("titan-v2", List.of("the same sentence"), EmbedOptions.fromJson("{\"dimensions\":256}"), null).join();
        assertEquals(2, env.emulator.requestCount());
        assertEquals(List.of("Rag_ml_requests", "Rag_ml_responses", "Rag_ml_cache_hits", "Rag_ml_cache_misses", "Rag_ml_retries",
                "Rag_ml_throttles", "Rag_ml_errors", "Rag_ml_timeouts", "Rag_ml_cancelled", "Rag_ml_input_tokens",
                "Rag_ml_output_tokens", "Rag_ml_estimated_cost_usd", "Rag_ml_cache_entries", "Rag_ml_cache_bytes"),
                new ArrayList<>(s.keySet()));
        assertEquals(2L, inv.counters("amazon.titan-embed-text-v2:0").requests());
    }

    @Test
    void aCallersCountersCountOnlyItsOwnRequestsAndPartitionsDoNotShareResults() {
        CounterSet owner = new CounterSet();
        CounterSet reader = new CounterSet();
        InvocationSettings asOwner = InvocationSettings.DEFAULT.withCaller(new Caller(owner, "owner@%"));
        InvocationSettings asReader = InvocationSettings.DEFAULT.withCaller(new Caller(reader, "reader@%"));
        inv.embed("titan-v2", "the owner's secret", null, asOwner).join();
        assertEquals(1, owner.total().requests());
        assertEquals(1, owner.total().cacheMisses());
        assertEquals(1, owner.model("amazon.titan-embed-text-v2:0").requests());
        assertEquals(0, reader.total().requests() + reader.total().cacheMisses() + reader.total().cacheHits());
        // Another partition: a miss and a model call of its own, counted for the reader only.
        inv.embed("titan-v2", "the owner's secret", null, asReader).join();
        assertEquals(2, env.emulator.requestCount());
        assertEquals(1, reader.total().cacheMisses());
        assertEquals(0, reader.total().cacheHits());
        assertEquals(1, owner.total().requests());
        // The same partition again: a hit.
        inv.embed("titan-v2", "the owner's secret", null, asReader).join();
        assertEquals(2, env.emulator.requestCount());
        assertEquals(1, reader.total().cacheHits());
        assertEquals(2L, inv.snapshot().get("Rag_ml_requests"));
        assertEquals(1L, inv.snapshot().get("Rag_ml_cache_hits"));
    }

    @Test
    void concurrentRequestsForTheSameInputShareOneCall() {
        env.emulator.setLatency(Duration.ofMillis(150));
        List<CompletableFuture<float[]>> fs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            fs.add(inv.embed("titan-v2", "in flight", null, null));
        }
        fs.forEach(CompletableFuture::join);
        assertEquals(1, env.emulator.requestCount());
    }

    @Test
    void nullsAndEmptiesGiveNullsWithoutCallsAndOrderIsKept() {
        List<String> texts = Arrays.asList("b", null, "", "a", "b");
        List<float[]> out = inv.embedAll("titan-v2", texts, null, null).join();
        assertEquals(5, out.size());
        assertNull(out.get(1));
        assertNull(out.get(2));
        assertArrayEquals(out.get(0), out.get(4));
        assertEquals(2, env.emulator.requestCount());
        assertNull(inv.embedAll("titan-v2", Arrays.asList(null, ""), null, null).join().get(0));
        assertNull(inv.generate("llama3-2-3b", "", null, null).join());
        assertEquals(2, env.emulator.requestCount());
    }

    @Test
    void retriesThrottlingAndServerErrorsThenSucceeds() {
        env.emulator.failNext(1, EmulatedError.THROTTLING).failNext(1, EmulatedError.INTERNAL).failNext(1, EmulatedError.MODEL_NOT_READY);
        float[] v = inv.embed("titan-v2", "retry me", null, null).join();
        assertNotNull(v);
        assertEquals(4, env.emulator.requestCount());
        assertEquals(3L, inv.counters().retries());
        assertEquals(1L, inv.counters().throttles());
        assertEquals(4L, inv.counters().requests());
        assertEquals(1L, inv.counters().responses());
        assertEquals(0L, inv.counters().errors());

        env.emulator.failNext(2, EmulatedError.SERVICE_UNAVAILABLE);
        assertEquals("echo: hello", inv.generate("llama3-2-3b", "hello", null, null).join());
        assertEquals(7, env.emulator.requestCount());
        env.emulator.failNext(1, EmulatedError.MODEL_TIMEOUT);
        assertEquals("echo: again", inv.generate("llama3-2-3b", "again", null, null).join());
    }

    @Test
    void givesUpAfterMaxAttemptsAndDoesNotRetryClientErrors() {
        env.emulator.failNext(10, EmulatedError.SERVICE_UNAVAILABLE);
        ModelException e = failure(inv.embed("titan-v2", "always unavailable", null, inv.defaults().withMaxAttempts(3)));
        assertEquals(ModelException.Kind.UNAVAILABLE, e.kind());
        assertEquals(3, env.emulator.requestCount());
        assertEquals(1L, inv.counters().errors());

        env.emulator.reset();
        env.emulator.failNext(1, EmulatedError.VALIDATION);
        assertEquals(ModelException.Kind.CLIENT_ERROR, failure(inv.embed("titan-v2", "bad", null, null)).kind());
        env.emulator.failNext(1, EmulatedError.ACCESS_DENIED);
        assertEquals(ModelException.Kind.ACCESS_DENIED, failure(inv.generate("llama3-2-3b", "no access", null, null)).kind());
        assertEquals(2, env.emulator.requestCount());
        // A failure is not cached: the next request calls the model again.
        assertNotNull(inv.embed("titan-v2", "bad", null, null).join());
        assertEquals(3, env.emulator.requestCount());
    }

    @Test
    void throttlesSpendTimeNotAttempts() {
        // Five throttles in a row exceed rag_max_attempts = 2 but fit in the wait: the call succeeds.
        env.emulator.failNext(5, EmulatedError.THROTTLING);
        assertNotNull(inv.embed("titan-v2", "throttled five times", null, inv.defaults().withMaxAttempts(2)).join());
        assertEquals(6, env.emulator.requestCount());
        assertEquals(5L, inv.counters().throttles());
        assertEquals(0L, inv.counters().errors());
        // Each throttle halved the model's limit (64 -> 2); one success is half a window at 2.
        assertEquals(2, inv.concurrencyLimit("amazon.titan-embed-text-v2:0"));
        assertEquals(2, inv.snapshotByModel().get("amazon.titan-embed-text-v2:0").get("Rag_ml_concurrency_limit"));
        assertNotNull(inv.embed("titan-v2", "a second success", null, null).join());
        assertEquals(3, inv.concurrencyLimit("amazon.titan-embed-text-v2:0"));

        // A call throttled past rag_throttle_wait_ms fails, saying how long it waited.
        env.emulator.reset();
        env.emulator.failWhenInputContains("always throttled", EmulatedError.THROTTLING);
        ModelException e = failure(inv.embed("titan-v2", "always throttled", null, inv.defaults().withThrottleWaitMs(200)));
        assertEquals(ModelException.Kind.THROTTLED, e.kind());
        assertTrue(e.getMessage().contains("rag_throttle_wait_ms = 200"), e.getMessage());
        assertTrue(env.emulator.requestCount() >= 2, "retried within the wait: " + env.emulator.requestCount());
        assertEquals(1L, inv.counters().errors());

        // Zero: the first throttle fails the call.
        env.emulator.reset();
        env.emulator.failNext(1, EmulatedError.THROTTLING);
        assertEquals(ModelException.Kind.THROTTLED,
                failure(inv.embed("titan-v2", "no wait", null, inv.defaults().withThrottleWaitMs(0))).kind());
        assertEquals(1, env.emulator.requestCount());
    }

    @Test
    void inputsLongerThanMaxInputCharsAreRefusedBeforeAnyCall() throws Exception {
        try (ModelInvoker small = env.invoker(ModelsConfig.DEFAULT.withMaxInputChars(10))) {
            Throwable t = assertThrows(java.util.concurrent.CompletionException.class,
                    () -> small.embedAll("titan-v2", List.of("short", "much longer than ten"), null, null).join()).getCause();
            InputTooLongException e = assertInstanceOf(InputTooLongException.class, t);
            assertEquals(20, e.length());
            assertEquals(10, e.limit());
            assertInstanceOf(InputTooLongException.class, assertThrows(java.util.concurrent.CompletionException.class,
                    () -> small.generate("llama3-2-3b", "a prompt of many characters", null, null).join()).getCause());
            assertEquals(0, env.emulator.requestCount());
            assertNotNull(small.embed("titan-v2", "ten chars!", null, null).join());
        }
    }

    @Test
    void timeoutFailsWithTimeoutAndIsNotRetried() {
        env.emulator.setLatency(Duration.ofMillis(1500));
        long t0 = System.nanoTime();
        ModelException e = failure(inv.embed("titan-v2", "slow", null, inv.defaults().withTimeoutMs(200)));
        assertEquals(ModelException.Kind.TIMEOUT, e.kind());
        assertTrue(e.getMessage().contains("rag_inference_timeout_ms"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        assertEquals(1L, inv.counters().timeouts());
        assertEquals(0L, inv.counters().retries());
    }

    @Test
    void perRequestConcurrencyLimitIsHonoured() {
        env.emulator.setLatency(Duration.ofMillis(50));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            texts.add("text " + i);
        }
        inv.embedAll("titan-v2", texts, null, inv.defaults().withMaxConcurrency(4)).join();
        assertEquals(40, env.emulator.requestCount());
        assertTrue(env.emulator.maxInFlight() <= 4, "max in flight " + env.emulator.maxInFlight());
        assertTrue(env.emulator.maxInFlight() >= 2, "calls overlap: " + env.emulator.maxInFlight());
    }

    @Test
    void aSharedStatementLimiterBoundsSeveralRequestsTogether() throws InterruptedException {
        // Requests an earlier test cancelled may still be served: count from a quiet emulator.
        for (int i = 0; i < 100 && env.emulator.inFlight() > 0; i++) {
            Thread.sleep(50);
        }
        env.emulator.reset();
        env.emulator.setLatency(Duration.ofMillis(50));
        AsyncLimiter statement = new AsyncLimiter(4);
        List<CompletableFuture<?>> fs = new ArrayList<>();
        for (int r = 0; r < 3; r++) { // three requests of one statement, all in flight at once
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                texts.add("statement req " + r + " text " + i);
            }
            fs.add(r == 2 ? inv.generateAll("llama3-2-3b", texts, null, inv.defaults().withMaxConcurrency(4), statement)
                    : inv.embedAll("titan-v2", texts, null, inv.defaults().withMaxConcurrency(4), statement));
        }
        fs.forEach(CompletableFuture::join);
        assertEquals(36, env.emulator.requestCount());
        assertTrue(env.emulator.maxInFlight() <= 4, "max in flight " + env.emulator.maxInFlight());
        assertTrue(env.emulator.maxInFlight() >= 3, "the requests' calls overlap: " + env.emulator.maxInFlight());
        assertEquals(4, statement.available(), "every permit came back");
    }

    @Test
    void aCallersGateIsAskedBeforeEachAttemptAndSeesWhatTheAttemptsBeforeItCost() throws InterruptedException {
        for (int i = 0; i < 100 && env.emulator.inFlight() > 0; i++) {
            Thread.sleep(50);
        }
        env.emulator.reset();
        env.emulator.setLatency(Duration.ofMillis(10));
        CounterSet mine = new CounterSet();
        // A budget of three calls' tokens: each text below is 4 tokens (words) for the emulator.
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        CallGate threeCalls = modelId -> {
            asked.incrementAndGet();
            return mine.total().inputTokens() >= 12 ? new IllegalStateException("the budget ran out") : null;
        };
        InvocationSettings one = inv.defaults().withMaxConcurrency(1).withCaller(new Caller(mine, "", threeCalls));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            texts.add("gated text number " + i);
        }
        ModelException refused = failure(inv.embedAll("titan-v2", texts, null, one));
        assertEquals(ModelException.Kind.REFUSED, refused.kind());
        assertFalse(refused.retryable());
        assertEquals("the budget ran out", refused.getCause().getMessage());
        assertTrue(refused.getMessage().contains("was not called: the budget ran out"), refused.getMessage());
        assertEquals(3, env.emulator.requestCount(), "one call at a time: each gate saw the tokens of the calls before");
        assertEquals(3, mine.total().requests());
        assertEquals(12, mine.total().inputTokens());
        assertEquals(4, asked.get(), "asked once per attempt; the refusal stops the request's other calls");
        // No gate: the same settings send every call.
        inv.embedAll("titan-v2", texts, null, one.withCaller(new Caller(mine, ""))).join();
        assertEquals(10, env.emulator.requestCount(), "the three answered calls reached the cache though the refusal cancelled their request: seven sent");
    }

    @Test
    void aFailedRequestLeavesTheSharedLimiterToTheStatement() {
        env.emulator.setLatency(Duration.ofMillis(20));
        AsyncLimiter statement = new AsyncLimiter(2);
        // By marker, not failNext: a request another test left in flight (answered after its latency) would take a
        // queued failure, and this request would then succeed.
        env.emulator.failWhenInputContains("fails a", EmulatedError.VALIDATION);
        CompletableFuture<List<float[]>> failing = inv.embedAll("titan-v2", List.of("fails a", "fails b", "fails c"), null,
                inv.defaults().withMaxConcurrency(2), statement);
        assertThrows(CompletionException.class, failing::join);
        // The same statement's next request still gets permits: only the owner closes a shared limiter.
        List<float[]> ok = inv.embedAll("titan-v2", List.of("after the failure"), null, inv.defaults(), statement)
                .orTimeout(10, TimeUnit.SECONDS).join();
        assertEquals(1, ok.size());
        assertTrue(ok.get(0).length > 0);
    }

    @Test
    void perModelConcurrencyLimitHoldsAcrossRequests() {
        ModelsConfig cfg = ModelsConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(
                Map.of("models", Map.of("model", Map.of("titan-v2", Map.of("max_concurrency", 3))))));
        try (ModelInvoker limited = env.invoker(cfg)) {
            env.emulator.setLatency(Duration.ofMillis(50));
            List<CompletableFuture<List<float[]>>> fs = new ArrayList<>();
            for (int r = 0; r < 5; r++) {
                List<String> texts = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    texts.add("req " + r + " text " + i);
                }
                fs.add(limited.embedAll("titan-v2", texts, null, null));
            }
            fs.forEach(CompletableFuture::join);
            assertEquals(30, env.emulator.requestCount());
            assertTrue(env.emulator.maxInFlight() <= 3, "max in flight " + env.emulator.maxInFlight());
        }
    }

    @Test
    void cancellationStopsPendingCallsAndFreesPermits() throws Exception {
        env.emulator.setLatency(Duration.ofMillis(2000));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            texts.add("cancel me " + i);
        }
        InvocationSettings two = inv.defaults().withMaxConcurrency(2);
        CompletableFuture<List<float[]>> f = inv.embedAll("titan-v2", texts, null, two);
        long deadline = System.currentTimeMillis() + 5000;
        while (env.emulator.inFlight() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(f.cancel(true));
        env.emulator.setLatency(Duration.ZERO);
        // The per-model permits are free again: a new request completes promptly, and the cancelled 48 never went out.
        float[] v = inv.embed("titan-v2", "after cancel", null, two).get(10, TimeUnit.SECONDS);
        assertNotNull(v);
        Thread.sleep(300);
        assertTrue(env.emulator.requestCount() + env.emulator.inFlight() <= 3,
                "requests " + env.emulator.requestCount() + " in flight " + env.emulator.inFlight());
        assertTrue(inv.counters().cancelled() >= 1);
        // A cancelled input is not cached as a failure: asking again computes it.
        assertNotNull(inv.embed("titan-v2", "cancel me 0", null, null).get(10, TimeUnit.SECONDS));
    }

    @Test
    void asyncLimiterHandsPermitsInOrderAndSkipsCancelledWaiters() {
        AsyncLimiter l = new AsyncLimiter(1);
        CompletableFuture<AsyncLimiter.Permit> a = l.acquire();
        CompletableFuture<AsyncLimiter.Permit> b = l.acquire();
        CompletableFuture<AsyncLimiter.Permit> c = l.acquire();
        assertTrue(a.isDone());
        assertTrue(!b.isDone() && !c.isDone());
        b.cancel(false);
        a.join().release();
        a.join().release(); // idempotent
        assertTrue(c.isDone());
        assertEquals(0, l.available());
        c.join().release();
        assertEquals(1, l.available());
    }

    @Test
    void generateAllDeduplicatesAndCaches() {
        List<String> prompts = Arrays.asList("q1", "q2", "q1", null);
        List<String> out = inv.generateAll("llama3-2-3b", prompts, GenerateOptions.fromJson("{\"max_tokens\":50}"), null).join();
        assertEquals(Arrays.asList("echo: q1", "echo: q2", "echo: q1", null), out);
        assertEquals(2, env.emulator.requestCount());
        inv.generate("llama3-2-3b", "q1", GenerateOptions.fromJson("{\"max_tokens\":50}"), null).join();
        assertEquals(2, env.emulator.requestCount());
        assertTrue(inv.counters().outputTokens() > 0);
    }

    @Test
    void invokeRawIsNotCachedButRetried() {
        byte[] body = "{\"prompt\":\"hi\",\"temperature\":0}".getBytes(StandardCharsets.UTF_8);
        env.emulator.failNext(1, EmulatedError.THROTTLING);
        String a = new String(inv.invokeRaw("meta.llama3-2-3b-instruct-v1:0", body, "application/json", "application/json", null).join(), StandardCharsets.UTF_8);
        assertTrue(a.contains("\"generation\":\"echo: hi\""), a);
        inv.invokeRaw("meta.llama3-2-3b-instruct-v1:0", body, "application/json", "application/json", null).join();
        assertEquals(3, env.emulator.requestCount());
    }

    @Test
    void defaultsAreLocalAndUnknownModelsListConfiguredOnes() {
        float[] v = inv.embed(null, "local text", null, null).join();
        assertEquals(384, v.length);
        assertEquals("extract: question", inv.generate(null, "question", null, null).join());
        assertEquals(0, env.emulator.requestCount());
        CompletionException e = assertThrows(CompletionException.class, () -> inv.embed("nope", "x", null, null).join());
        assertTrue(e.getCause() instanceof IllegalArgumentException);
        assertTrue(e.getCause().getMessage().contains("titan-v2"), e.getCause().getMessage());
        assertTrue(e.getCause().getMessage().contains("local:all-minilm-l6-v2"), e.getCause().getMessage());
        CompletionException kind = assertThrows(CompletionException.class, () -> inv.embed("llama3-2-3b", "x", null, null).join());
        assertTrue(kind.getCause().getMessage().contains("text model"), kind.getCause().getMessage());
    }
}
