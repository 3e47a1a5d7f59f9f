package io.ragproxy.server.session;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts open client connections against {@code max_connections}; shared by one server's connections. */
public final class ConnectionLimiter {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();

    public ConnectionLimiter(int max) {
        this.max = max;
    }

    /** Takes a slot; false when the limit is reached (nothing taken). */
    public boolean tryAcquire() {
        while (true) {
            int n = open.get();
            if (n >= max) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives a slot back. */
    public void release() {
        open.decrementAndGet();
    }

    /** The configured limit. */
    public int max() {
        return max;
    }
}
