package io.ragproxy.catalog.invoke;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.concurrent.CompletableFuture;

/**
 * The model result cache: Caffeine {@link AsyncCache} of futures keyed by (kind, model id, options, input),
 * bounded by an estimate of memory use. Because futures are cached as soon as a call starts, a second
 * request for an input that is still being computed joins the first call (in-flight de-duplication). A
 * future that fails is removed by Caffeine, so failures are never cached.
 *
 * <p>Weights: a vector costs 4 bytes per float, a text 2 bytes per char, plus the key's characters × 2 and
 * a fixed overhead. Pending futures weigh nothing until they complete. Thread-safe; one instance per proxy.
 */
public final class ResultCache {

    /** What a cache entry holds. */
    public enum Kind { EMBEDDING, GENERATION, RERANK }

    /**
     * A cache key; {@code options} is the options' {@code cacheKey()}, {@code partition} the
     * {@link Caller#cachePartition()} ("" shared by all).
     */
    public record Key(Kind kind, String modelId, String options, String input, String partition) {
        /** A key in the shared partition. */
        public Key(Kind kind, String modelId, String options, String input) {
            this(kind, modelId, options, input, "");
        }

        int weight() {
            return 64 + 2 * (modelId.length() + options.length() + input.length() + partition.length());
        }
    }

    private final AsyncCache<Key, Object> cache;
    private final long maxBytes;

    /** @param maxBytes upper bound of the estimated memory use; 0 keeps nothing after completion (de-duplication still works) */
    public ResultCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("cache size must be >= 0");
        }
        this.maxBytes = maxBytes;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((Key k, Object v) -> weigh(k, v))
                .buildAsync();
    }

    /** A cache of {@code mb} megabytes. */
    public static ResultCache ofMegabytes(long mb) {
        return new ResultCache(mb * 1024L * 1024L);
    }

    private static int weigh(Key k, Object v) {
        long w = k.weight();
        if (v instanceof float[] f) {
            w += 16L + 4L * f.length;
        } else if (v instanceof Double) {
            w += 16L;
        } else if (v instanceof String s) {
            w += 40L + 2L * s.length();
        }
        return (int) Math.min(Integer.MAX_VALUE, w);
    }

    /** The cached or in-flight future for {@code key}, or null. */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<T> getIfPresent(Key key) {
        return (CompletableFuture<T>) (CompletableFuture<?>) cache.getIfPresent(key);
    }

    /**
     * Stores {@code future} unless an entry exists; returns the existing entry (to join) or null if
     * {@code future} was stored (the caller must then complete it).
     */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<T> putIfAbsent(Key key, CompletableFuture<T> future) {
        return (CompletableFuture<T>) (CompletableFuture<?>) cache.asMap().putIfAbsent(key, (CompletableFuture<Object>) (CompletableFuture<?>) future);
    }

    /** Removes {@code key} if it still maps to {@code future}. */
    @SuppressWarnings("unchecked")
    public void remove(Key key, CompletableFuture<?> future) {
        cache.asMap().remove(key, (CompletableFuture<Object>) future);
    }

    /** Number of entries (approximate). */
    public long size() {
        return cache.synchronous().estimatedSize();
    }

    /** The configured bound in bytes. */
    public long maxBytes() {
        return maxBytes;
    }

    /** Current estimated weight in bytes. */
    public long weightedSize() {
        return cache.synchronous().policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    public void invalidateAll() {
        cache.synchronous().invalidateAll();
    }
}
