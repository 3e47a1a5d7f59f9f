package io.ragproxy.catalog.invoke;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An asynchronous limiter whose limit adapts to throttling (AIMD, as TCP's congestion window): a throttled call
 * halves the limit, a window of successful calls (as many as the limit) adds one, never below 1 nor above the
 * ceiling. The limit starts at the ceiling, so a model that is never throttled runs as wide as configured.
 *
 * <p>Calls in flight when the limit is halved were all sent at the old width: their throttles say the same thing,
 * so only a throttle of a call that acquired its permit after the last decrease halves the limit again (one
 * decrease per round of calls, not one per throttled call).
 *
 * <p>Like {@link AsyncLimiter}, {@link #acquire()} never blocks: it returns a future completing with a
 * {@link Permit} once fewer calls than the limit hold one. Waiters are served first come, first served, except
 * that {@link #acquireFirst()} (a retry after a throttle) goes ahead of fresh calls, so a throttled call is not
 * starved by the queue behind it. Cancelling a pending acquire removes the waiter. Thread-safe.
 */
public final class AdaptiveLimiter {

    /** How a call that held a permit ended; the limit adapts to it. */
    public enum Outcome {
        /** The model answered: counts towards the next increase. */
        SUCCESS,
        /** The model throttled the call: halves the limit (once per round). */
        THROTTLED,
        /** Any other end (other errors, timeouts, cancellation): leaves the limit as it is. */
        IGNORED
    }

    /** A held permit. */
    public interface Permit {
        /** Returns the permit, telling the limiter how the call ended; only the first call counts. */
        void release(Outcome outcome);
    }

    private final int ceiling;
    private int limit;
    private int inFlight;
    /** Successes since the limit last changed. */
    private int successes;
    /** Bumped at every decrease; a permit remembers the epoch it was acquired in. */
    private long epoch;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    private record Waiter(CompletableFuture<Permit> future) {
    }

    /** A limiter starting at, and never above, {@code ceiling} permits. */
    public AdaptiveLimiter(int ceiling) {
        if (ceiling < 1) {
            throw new IllegalArgumentException("ceiling must be >= 1");
        }
        this.ceiling = ceiling;
        this.limit = ceiling;
    }

    /** The most permits this limiter ever hands out at once. */
    public int ceiling() {
        return ceiling;
    }

    /** The current limit: between 1 and {@link #ceiling()}. */
    public synchronized int limit() {
        return limit;
    }

    /** Permits held now (may exceed {@link #limit()} just after a decrease, until calls end). */
    public synchronized int inFlight() {
        return inFlight;
    }

    /** Callers waiting for a permit now (cancelled waiters may still be counted until skipped). */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** A future completing with a permit, at once when fewer than {@link #limit()} are held. */
    public CompletableFuture<Permit> acquire() {
        return acquire(false);
    }

    /** {@link #acquire()} ahead of every waiting caller: for a call retried after a throttle. */
    public CompletableFuture<Permit> acquireFirst() {
        return acquire(true);
    }

    private CompletableFuture<Permit> acquire(boolean first) {
        CompletableFuture<Permit> f = new CompletableFuture<>();
        long granted;
        synchronized (this) {
            if (inFlight >= limit || !waiters.isEmpty() && !first) {
                Waiter w = new Waiter(f);
                if (first) {
                    waiters.addFirst(w);
                } else {
                    waiters.addLast(w);
                }
                return f;
            }
            inFlight++;
            granted = epoch;
        }
        f.complete(newPermit(granted));
        return f;
    }

    private Permit newPermit(long grantedEpoch) {
        AtomicBoolean released = new AtomicBoolean();
        return outcome -> {
            if (released.compareAndSet(false, true)) {
                release(grantedEpoch, outcome);
            }
        };
    }

    private void release(long grantedEpoch, Outcome outcome) {
        List<CompletableFuture<Permit>> wake = new ArrayList<>();
        long granted;
        synchronized (this) {
            inFlight--;
            if (outcome == Outcome.THROTTLED && grantedEpoch == epoch) {
                limit = Math.max(1, limit / 2);
                successes = 0;
                epoch++;
            } else if (outcome == Outcome.SUCCESS && limit < ceiling && ++successes >= limit) {
                limit++;
                successes = 0;
            }
            while (inFlight < limit && !waiters.isEmpty()) {
                wake.add(waiters.pollFirst().future());
                inFlight++;
            }
            granted = epoch;
        }
        // Completed outside the lock: a waiter's continuation runs here and may acquire or release again.
        for (CompletableFuture<Permit> f : wake) {
            Permit p = newPermit(granted);
            if (!f.complete(p)) {
                p.release(Outcome.IGNORED); // the waiter was cancelled meanwhile: pass the permit on
            }
        }
    }

    @Override
    public synchronized String toString() {
        return "AdaptiveLimiter[limit=" + limit + "/" + ceiling + ", inFlight=" + inFlight + ", waiting=" + waiters.size() + "]";
    }
}
