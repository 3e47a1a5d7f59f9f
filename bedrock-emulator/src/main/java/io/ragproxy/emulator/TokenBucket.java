package io.ragproxy.emulator;

/**
 * A token bucket, as Bedrock's request quotas behave: {@code rate} tokens per second flow into a bucket holding at
 * most {@code burst}; a request takes one token or is refused. Unlike a sliding-minute count, it spreads a quota
 * evenly over time, so a short test sees the same steady rate a long run does. Thread-safe.
 */
final class TokenBucket {
    private final java.util.function.LongSupplier nanoClock;
    private final double ratePerNano;
    private final double burst;
    private double tokens;
    private long lastNanos;

    /**
     * @param requestsPerSecond the steady rate, > 0
     * @param burst             the most requests let through at once after a quiet spell, >= 1
     */
    TokenBucket(double requestsPerSecond, double burst) {
        this(requestsPerSecond, burst, System::nanoTime);
    }

    /** A bucket reading the time from {@code nanoClock} (tests drive it by hand). */
    TokenBucket(double requestsPerSecond, double burst, java.util.function.LongSupplier nanoClock) {
        if (!(requestsPerSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("a quota needs requestsPerSecond > 0 and burst >= 1");
        }
        this.ratePerNano = requestsPerSecond / 1e9;
        this.burst = burst;
        this.tokens = burst;
        this.nanoClock = nanoClock;
        this.lastNanos = nanoClock.getAsLong();
    }

    /** Takes a token if one is there; false means the request is over the quota. */
    synchronized boolean tryTake() {
        long now = nanoClock.getAsLong();
        tokens = Math.min(burst, tokens + (now - lastNanos) * ratePerNano);
        lastNanos = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
