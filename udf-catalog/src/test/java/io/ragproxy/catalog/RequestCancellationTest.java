package io.ragproxy.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.invoke.ResultCache;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.Usage;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;

/** Cancelling a request (a killed statement) starts none of its queued calls, even when a running one ends meanwhile. */
class RequestCancellationTest {

    /** Records the texts it is asked for; each call waits until the test completes it. */
    static final class HeldModel implements EmbeddingModel {
        final List<String> asked = Collections.synchronizedList(new ArrayList<>());
        final Map<String, CompletableFuture<Embeddings>> calls = new ConcurrentHashMap<>();

        @Override
        public String id() {
            return "held-embed";
        }

        @Override
        public int dimensions(EmbedOptions options) {
            return 2;
        }

        @Override
        public int maxBatchSize() {
            return 1;
        }

        @Override
        public CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options) {
            asked.add(texts.get(0));
            return calls.computeIfAbsent(texts.get(0), t -> new CompletableFuture<>());
        }
    }

    @Test
    void aCallEndingWhileTheRequestIsCancelledStartsNoQueuedCall() throws Exception {
        HeldModel model = new HeldModel();
        ModelRegistry registry = new ModelRegistry(ModelsConfig.DEFAULT.withDefaults(model.id(), "extractive"), null);
        registry.register(model);
        ResultCache cache = new ResultCache(1 << 20);
        InvocationSettings one = InvocationSettings.DEFAULT.withMaxConcurrency(1).withMaxAttempts(1);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (ModelInvoker invoker = new ModelInvoker(registry, cache, one, timer, Runnable::run)) {
            CompletableFuture<List<float[]>> request = invoker.embedAll(model.id(), List.of("a", "b", "c"), null, one);
            assertEquals(List.of("a"), model.asked, "one call at a time: a runs, b and c wait");

            // The moment the cancellation reaches the last queued text, the running call ends and frees its permit.
            EmbedOptions options = EmbedOptions.DEFAULT.orDefaults(registry.embedDefaults(model.id()));
            CompletableFuture<float[]> c = cache.getIfPresent(
                    new ResultCache.Key(ResultCache.Kind.EMBEDDING, model.id(), options.cacheKey(), "c"));
            c.whenComplete((v, t) -> model.calls.get("a").complete(new Embeddings(List.of(new float[] {1, 2}),
                    new Usage(1, 0))));

            assertTrue(request.cancel(true));
            assertTrue(c.isCompletedExceptionally(), "c was cancelled");
            assertEquals(List.of("a"), model.asked, "b never started");
            assertTrue(invoker.counters().cancelled() >= 2, "b and c count as cancelled");
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void aClosedLimiterCancelsItsWaitersAndLaterAcquires() {
        AsyncLimiter limiter = new AsyncLimiter(1);
        CompletableFuture<AsyncLimiter.Permit> held = limiter.acquire();
        CompletableFuture<AsyncLimiter.Permit> waiting = limiter.acquire();
        limiter.close();
        assertTrue(waiting.isCancelled());
        assertTrue(limiter.acquire().isCancelled());
        held.join().release();
        assertEquals(1, limiter.available(), "a permit released after close goes back, to nobody waiting");
    }
}
