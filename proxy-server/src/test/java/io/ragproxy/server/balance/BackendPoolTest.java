package io.ragproxy.server.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The choice of a backend and the health rule (out after 3 failed checks, back after 2 good ones). */
class BackendPoolTest {
    private final BackendServer a = new BackendServer("a", 1);
    private final BackendServer b = new BackendServer("b", 2);
    private final BackendPool pool = BackendPool.unchecked(List.of(a, b));

    @Test
    void newConnectionsGoToTheBackendWithTheFewest() {
        for (int i = 0; i < 6; i++) {
            pool.acquire(Set.of());
        }
        assertEquals(3, a.connections());
        assertEquals(3, b.connections());
        a.release();
        a.release();
        assertSame(a, pool.acquire(Set.of()));
        assertSame(a, pool.acquire(Set.of()));
        assertEquals(3, a.connections());
    }

    @Test
    void connectionsOpenedAndClosedOneAfterAnotherStillAlternate() {
        BackendServer first = pool.acquire(Set.of());
        first.release();
        BackendServer second = pool.acquire(Set.of());
        assertFalse(first == second, "ties go to the next backend");
    }

    @Test
    void aBackendIsOutAfterThreeFailedChecksAndBackAfterTwoGoodOnes() {
        a.checked(null);
        b.checked(null);
        assertTrue(a.up());
        a.checked("refused");
        a.checked("refused");
        assertTrue(a.up(), "two failures are not enough");
        a.checked("refused");
        assertFalse(a.up());
        for (int i = 0; i < 4; i++) {
            assertSame(b, pool.acquire(Set.of()), "only b is healthy");
        }
        a.checked(null);
        assertFalse(a.up(), "one good check is not enough");
        a.checked(null);
        assertTrue(a.up());
        assertSame(a, pool.acquire(Set.of()), "a has the fewest connections again");
    }

    @Test
    void noUsableBackendGivesNullAndTriedBackendsAreLeftOut() {
        assertSame(b, pool.acquire(Set.of(a)));
        assertNull(pool.acquire(Set.of(a, b)));
        a.checked("refused");
        b.checked("refused");
        assertNull(pool.acquire(Set.of()), "a backend whose first check failed is out at once");
        assertFalse(pool.anyUp());
        assertTrue(pool.allChecked());
        assertTrue(pool.describe().contains("a:1 down (refused)"), pool.describe());
    }
}
