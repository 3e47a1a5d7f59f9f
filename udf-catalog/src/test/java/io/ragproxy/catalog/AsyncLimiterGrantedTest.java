package io.ragproxy.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.AsyncLimiter;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** {@link AsyncLimiter#granted()}: the permits handed out, which SHOW RAG PROCESSLIST shows as model calls. */
class AsyncLimiterGrantedTest {

    @Test
    void countsPermitsHandedOutAtOnceAndLaterButNotCancelledWaiters() {
        AsyncLimiter limiter = new AsyncLimiter(1);
        CompletableFuture<AsyncLimiter.Permit> first = limiter.acquire();
        CompletableFuture<AsyncLimiter.Permit> cancelled = limiter.acquire();
        CompletableFuture<AsyncLimiter.Permit> waiting = limiter.acquire();
        assertEquals(1, limiter.granted());
        cancelled.cancel(false);
        first.join().release();
        assertTrue(waiting.isDone());
        assertEquals(2, limiter.granted(), "the cancelled waiter got nothing");
        waiting.join().release();
        limiter.acquire().join().release();
        assertEquals(3, limiter.granted());
    }
}
