package io.ragproxy.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class PlannerPoolTest {

    @Test
    void oneAccountsTasksRunInOrderOneAtATime() {
        try (PlannerPool pool = new PlannerPool(4, 100)) {
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<CompletableFuture<Integer>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                int n = i;
                all.add(pool.supply("a", () -> {
                    order.add(n);
                    return CompletableFuture.completedFuture(n);
                }));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
            for (int i = 0; i < 50; i++) {
                assertEquals(i, order.get(i));
            }
        }
    }

    @Test
    void aBlockedAccountDoesNotHoldUpAnother() throws Exception {
        try (PlannerPool pool = new PlannerPool(2, 100)) {
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> slow = pool.supply("slow", () -> {
                await(release);
                return CompletableFuture.completedFuture("slow");
            });
            CompletableFuture<String> queuedBehind = pool.supply("slow",
                    () -> CompletableFuture.completedFuture("second"));
            // Another account's task finishes while the first account's lane is blocked.
            assertEquals("other", pool.supply("other", () -> CompletableFuture.completedFuture("other")).join());
            assertTrue(!slow.isDone() && !queuedBehind.isDone());
            release.countDown();
            assertEquals("second", queuedBehind.join());
        }
    }

    @Test
    void aFullLaneRefusesWithPlannerBusy() {
        try (PlannerPool pool = new PlannerPool(1, 2)) {
            CountDownLatch release = new CountDownLatch(1);
            pool.supply("a", () -> {
                await(release);
                return CompletableFuture.completedFuture(1);
            });
            pool.supply("a", () -> CompletableFuture.completedFuture(2));
            CompletableFuture<Integer> third = pool.supply("a", () -> CompletableFuture.completedFuture(3));
            CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, third::join);
            ProxyException busy = assertInstanceOf(ProxyException.class, e.getCause());
            assertEquals(ProxyError.PLANNER_BUSY.code(), busy.code());
            release.countDown();
        }
    }

    @Test
    void aThrowingTaskFailsItsFutureOnly() {
        try (PlannerPool pool = new PlannerPool(1, 10)) {
            CompletableFuture<Integer> failed = pool.supply("a", () -> {
                throw new ProxyException(ProxyError.PARSE_ERROR, "bad");
            });
            org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class, failed::join);
            assertEquals(7, pool.supply("a", () -> CompletableFuture.completedFuture(7)).join());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
