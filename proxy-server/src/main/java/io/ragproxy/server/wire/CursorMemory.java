package io.ragproxy.server.wire;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of cursor rows the whole proxy keeps, bounded: one per server, shared by every connection's
 * {@link RowCursor}s, so that the accounts that open many connections and read each through a cursor cannot make the
 * proxy hold each connection's per-cursor bound at once (1,024 connections × 64 MiB). Thread-safe.
 */
public final class CursorMemory {
    /** What a proxy keeps for all cursors together by default. */
    public static final long DEFAULT_MAX_BYTES = 256L << 20;

    private final long maxBytes;
    private final AtomicLong used = new AtomicLong();

    /** @param maxBytes the most bytes of row payloads all cursors together may keep */
    public CursorMemory(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The bound. */
    public long maxBytes() {
        return maxBytes;
    }

    /** Bytes kept now. */
    public long used() {
        return used.get();
    }

    /** Takes {@code n} bytes of the bound; false (nothing taken) when they do not fit. */
    boolean reserve(long n) {
        long now;
        do {
            now = used.get();
            if (now + n > maxBytes) {
                return false;
            }
        } while (!used.compareAndSet(now, now + n));
        return true;
    }

    /** Gives back {@code n} bytes taken by {@link #reserve}. */
    void release(long n) {
        used.addAndGet(-n);
    }
}
