package io.ragproxy.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The quota's arithmetic on a hand-driven clock. */
class TokenBucketTest {

    private static int take(TokenBucket b, int tries) {
        int granted = 0;
        for (int i = 0; i < tries; i++) {
            granted += b.tryTake() ? 1 : 0;
        }
        return granted;
    }

    @Test
    void aFullBucketLetsABurstThroughThenTheRate() {
        AtomicLong now = new AtomicLong();
        TokenBucket b = new TokenBucket(50, 50, now::get);
        assertEquals(50, take(b, 200), "the burst");
        now.addAndGet(100_000_000); // 0.1 s: 5 tokens
        assertEquals(5, take(b, 200));
        now.addAndGet(10_000_000_000L); // a quiet 10 s refills to the burst, not beyond
        assertEquals(50, take(b, 200));
        now.addAndGet(10_000_000); // 0.01 s: half a token
        assertEquals(0, take(b, 10), "refused requests take no token");
        now.addAndGet(10_000_000);
        assertEquals(1, take(b, 10));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1));
    }
}
