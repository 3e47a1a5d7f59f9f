package io.ragproxy.server.pipeline;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that parse and plan statements, off the event loops, in one lane per account: an account's tasks run
 * one at a time in the order they came, so its slow statements queue behind each other while every other account's
 * run on the other threads. A lane holds at most {@link #laneCapacity()} tasks; beyond that the account's next
 * statement is refused (PLANNER_BUSY) rather than queued without bound.
 *
 * <p>Lanes exist only while they hold tasks, so the pool's memory follows the statements in flight, not the number
 * of accounts ever seen. Thread-safe. {@link #close()} stops the threads; tasks still queued are dropped.
 */
public final class PlannerPool implements AutoCloseable {
    /** Tasks one account may have queued or running at once. */
    public static final int DEFAULT_LANE_CAPACITY = 256;

    private final ExecutorService threads;
    private final int laneCapacity;
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();

    /** An account's queued tasks, and whether one of them is on a thread now. Guarded by {@link #lanes}' compute. */
    private static final class Lane {
        final ArrayDeque<Runnable> queued = new ArrayDeque<>();
        boolean running;
    }

    /**
     * @param threads the threads to start (daemon threads named {@code ragproxy-planner-N})
     * @param laneCapacity tasks one account may have queued or running
     */
    public PlannerPool(int threads, int laneCapacity) {
        if (threads < 1 || laneCapacity < 1) {
            throw new IllegalArgumentException("a planner pool needs at least one thread and a lane capacity of 1");
        }
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "ragproxy-planner-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.laneCapacity = laneCapacity;
    }

    /** Tasks one account may have queued or running at once. */
    public int laneCapacity() {
        return laneCapacity;
    }

    /**
     * Runs {@code work} in {@code account}'s lane and returns its future (flattened). Never throws: the caller may
     * be an event loop or a thread completing a backend query.
     *
     * @return a future failed with PLANNER_BUSY when the lane is full, or with what {@code work} threw
     */
    public <T> CompletableFuture<T> supply(String account, java.util.function.Supplier<CompletableFuture<T>> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            submit(account, () -> {
                try {
                    work.get().whenComplete((value, error) -> {
                        if (error != null) {
                            result.completeExceptionally(error);
                        } else {
                            result.complete(value);
                        }
                    });
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(busy(account));
        }
        return result;
    }

    /** The error a statement gets when its account's lane is full. */
    ProxyException busy(String account) {
        return new ProxyException(ProxyError.PLANNER_BUSY, "account '" + account + "' already has " + laneCapacity
                + " statements waiting to be planned by ragproxy; retry when some of them have finished (the"
                + " statement was not sent to the backend)");
    }

    private void submit(String account, Runnable task) {
        boolean[] start = new boolean[1];
        boolean[] full = new boolean[1];
        lanes.compute(account, (key, lane) -> {
            Lane l = lane != null ? lane : new Lane();
            if (l.queued.size() + (l.running ? 1 : 0) >= laneCapacity) {
                full[0] = true;
                return lane;
            }
            l.queued.add(task);
            if (!l.running) {
                l.running = true;
                start[0] = true;
            }
            return l;
        });
        if (full[0]) {
            throw new RejectedExecutionException("lane of " + account + " is full");
        }
        if (start[0]) {
            runNext(account);
        }
    }

    /** Hands the lane's next task to a thread; the lane is removed when it has none left. */
    private void runNext(String account) {
        Runnable[] next = new Runnable[1];
        lanes.computeIfPresent(account, (key, lane) -> {
            next[0] = lane.queued.poll();
            if (next[0] == null) {
                lane.running = false;
                return null;
            }
            return lane;
        });
        if (next[0] == null) {
            return;
        }
        Runnable task = next[0];
        try {
            threads.execute(() -> {
                try {
                    task.run();
                } finally {
                    runNext(account);
                }
            });
        } catch (RejectedExecutionException closed) {
            lanes.remove(account);
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
