package io.ragproxy.catalog.invoke;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An asynchronous semaphore: {@link #acquire()} returns a future that completes with a {@link Permit} when
 * one is free, so no thread ever blocks waiting (the proxy's Netty event loops must not). Waiters are served
 * first come, first served, except that {@link #acquireFirst()} (a retry after a throttle) goes ahead of them.
 * Cancelling a pending acquire removes the waiter; a permit is returned by
 * {@link Permit#release()}, which is idempotent. {@link #close()} cancels every waiter at once. Thread-safe.
 */
public final class AsyncLimiter {

    /** A held permit. */
    public interface Permit {
        /** Returns the permit; later calls do nothing. */
        void release();
    }

    private final int limit;
    private int available;
    private final ArrayDeque<CompletableFuture<Permit>> waiters = new ArrayDeque<>();
    private boolean closed;
    /** Permits handed out so far (each model call of a statement's limiter takes one). */
    private final java.util.concurrent.atomic.AtomicLong granted = new java.util.concurrent.atomic.AtomicLong();

    public AsyncLimiter(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1");
        }
        this.limit = limit;
        this.available = limit;
    }

    public int limit() {
        return limit;
    }

    /** Permits not held now. */
    public synchronized int available() {
        return available;
    }

    /** Callers waiting for a permit now (cancelled waiters may still be counted until skipped). */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** A future completing with a permit; completed at once when one is free. */
    public CompletableFuture<Permit> acquire() {
        return acquire(false);
    }

    /** {@link #acquire()} ahead of every waiting caller: for a call retried after a throttle. */
    public CompletableFuture<Permit> acquireFirst() {
        return acquire(true);
    }

    private CompletableFuture<Permit> acquire(boolean first) {
        CompletableFuture<Permit> f = new CompletableFuture<>();
        synchronized (this) {
            if (closed) {
                f.cancel(false);
                return f;
            }
            if (available > 0) {
                available--;
            } else if (first) {
                waiters.addFirst(f);
                return f;
            } else {
                waiters.addLast(f);
                return f;
            }
        }
        granted.incrementAndGet();
        f.complete(newPermit());
        return f;
    }

    /** How many permits this limiter has handed out since it was made (released ones included). */
    public long granted() {
        return granted.get();
    }

    /**
     * Gives up everything still waiting: pending acquires are cancelled, later ones come back cancelled, and permits
     * released from now on go to nobody. For a per-request limiter when the request is cancelled: a permit freed by
     * a call that ends meanwhile must not start a queued call of the same request before that call is cancelled.
     */
    public void close() {
        List<CompletableFuture<Permit>> dropped;
        synchronized (this) {
            closed = true;
            dropped = new ArrayList<>(waiters);
            waiters.clear();
        }
        dropped.forEach(f -> f.cancel(false));
    }

    private Permit newPermit() {
        AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                releaseOne();
            }
        };
    }

    private void releaseOne() {
        while (true) {
            CompletableFuture<Permit> next;
            synchronized (this) {
                next = waiters.pollFirst();
                if (next == null) {
                    available++;
                    return;
                }
            }
            // Completed outside the lock: the waiter's continuation runs here and may acquire again.
            if (next.complete(newPermit())) {
                granted.incrementAndGet();
                return;
            }
            // The waiter was cancelled meanwhile: offer the permit to the next one.
        }
    }
}
