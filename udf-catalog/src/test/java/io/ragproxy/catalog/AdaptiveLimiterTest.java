package io.ragproxy.catalog;

import io.ragproxy.catalog.invoke.AdaptiveLimiter;
import io.ragproxy.catalog.invoke.AdaptiveLimiter.Outcome;
import io.ragproxy.catalog.invoke.AdaptiveLimiter.Permit;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AIMD by outcomes fed in by hand: no model, no clock. */
class AdaptiveLimiterTest {

    private static List<Permit> take(AdaptiveLimiter l, int n) {
        List<Permit> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CompletableFuture<Permit> f = l.acquire();
            assertTrue(f.isDone(), "permit " + (i + 1) + " of " + n + " granted at once: " + l);
            out.add(f.join());
        }
        return out;
    }

    @Test
    void startsAtTheCeilingAndNeverGrantsMore() {
        AdaptiveLimiter l = new AdaptiveLimiter(4);
        assertEquals(4, l.limit());
        List<Permit> held = take(l, 4);
        CompletableFuture<Permit> fifth = l.acquire();
        assertFalse(fifth.isDone());
        assertEquals(1, l.waiting());
        held.get(0).release(Outcome.SUCCESS);
        assertTrue(fifth.isDone());
        assertEquals(4, l.inFlight());
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveLimiter(0));
    }

    @Test
    void aThrottleHalvesOncePerRoundDownToOne() {
        AdaptiveLimiter l = new AdaptiveLimiter(16);
        List<Permit> round = take(l, 16);
        // Every call of the round is throttled: one halving, not sixteen.
        round.forEach(p -> p.release(Outcome.THROTTLED));
        assertEquals(8, l.limit());
        // A call acquired after the decrease and throttled halves again.
        for (int expected : new int[] {4, 2, 1, 1}) {
            take(l, 1).get(0).release(Outcome.THROTTLED);
            assertEquals(expected, l.limit());
        }
        // Releasing twice counts once.
        Permit p = take(l, 1).get(0);
        p.release(Outcome.SUCCESS);
        p.release(Outcome.SUCCESS);
        assertEquals(0, l.inFlight());
    }

    @Test
    void aWindowOfSuccessesAddsOneUpToTheCeiling() {
        AdaptiveLimiter l = new AdaptiveLimiter(4);
        take(l, 1).get(0).release(Outcome.THROTTLED);
        take(l, 1).get(0).release(Outcome.THROTTLED);
        assertEquals(1, l.limit());
        // limit 1: one success widens to 2; then two successes to 3; three to 4; the ceiling holds.
        int[] windows = {1, 2, 3, 4, 4};
        int[] after = {2, 3, 4, 4, 4};
        for (int i = 0; i < windows.length; i++) {
            for (int s = 0; s < windows[i]; s++) {
                take(l, 1).get(0).release(Outcome.SUCCESS);
            }
            assertEquals(after[i], l.limit(), "after window " + (i + 1));
        }
    }

    @Test
    void otherOutcomesLeaveTheLimit() {
        AdaptiveLimiter l = new AdaptiveLimiter(8);
        take(l, 1).get(0).release(Outcome.THROTTLED);
        assertEquals(4, l.limit());
        for (int i = 0; i < 20; i++) {
            take(l, 1).get(0).release(Outcome.IGNORED);
        }
        assertEquals(4, l.limit());
        // A throttle after successes resets the window: 3 successes then a throttle, then 2 more, no increase.
        for (int i = 0; i < 3; i++) {
            take(l, 1).get(0).release(Outcome.SUCCESS);
        }
        take(l, 1).get(0).release(Outcome.THROTTLED);
        assertEquals(2, l.limit());
        take(l, 1).get(0).release(Outcome.SUCCESS);
        assertEquals(2, l.limit());
        take(l, 1).get(0).release(Outcome.SUCCESS);
        assertEquals(3, l.limit());
    }

    @Test
    void aLowerLimitHoldsWaitersUntilEnoughCallsEnd() {
        AdaptiveLimiter l = new AdaptiveLimiter(4);
        List<Permit> held = take(l, 4);
        CompletableFuture<Permit> waiter = l.acquire();
        held.get(0).release(Outcome.THROTTLED); // limit 2, 3 still in flight
        assertEquals(2, l.limit());
        assertFalse(waiter.isDone());
        held.get(1).release(Outcome.IGNORED); // 2 in flight: still at the limit
        assertFalse(waiter.isDone());
        held.get(2).release(Outcome.IGNORED); // 1 in flight: room for the waiter
        assertTrue(waiter.isDone());
        assertEquals(2, l.inFlight());
    }

    @Test
    void retriesGoAheadOfFreshCallsAndCancelledWaitersAreSkipped() {
        AdaptiveLimiter l = new AdaptiveLimiter(1);
        Permit held = take(l, 1).get(0);
        CompletableFuture<Permit> fresh = l.acquire();
        CompletableFuture<Permit> cancelled = l.acquireFirst();
        CompletableFuture<Permit> retry = l.acquireFirst();
        cancelled.cancel(false);
        held.release(Outcome.SUCCESS);
        assertTrue(retry.isDone());
        assertFalse(fresh.isDone());
        retry.join().release(Outcome.SUCCESS);
        assertTrue(fresh.isDone());
        assertEquals(1, l.inFlight());
    }
}
