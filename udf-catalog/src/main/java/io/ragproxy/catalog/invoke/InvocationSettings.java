package io.ragproxy.catalog.invoke;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How one request (one SQL statement's AI calls) is invoked. Immutable; defaults come from the
 * {@code [models.invocation]} config table and the proxy overrides them per session ({@code SET rag_…}).
 *
 * @param timeoutMs      per model call (each attempt), like Aurora's {@code aurora_ml_inference_timeout};
 *                       a call that takes longer fails with TIMEOUT and is not retried ({@code rag_inference_timeout_ms})
 * @param maxConcurrency most model calls of this request in flight at once ({@code rag_concurrency}); the
 *                       per-model limit across all requests applies as well
 * @param batchSize      most texts per call for models that take batches, capped by the model's own limit
 *                       ({@code rag_batch_size})
 * @param maxAttempts    attempts per call including the first, counting only failures other than throttling:
 *                       retries happen on MODEL_NOT_READY, SERVER_ERROR, UNAVAILABLE and TIMEOUT reported by the
 *                       server ({@code rag_max_attempts})
 * @param backoffBaseMs  first retry delay cap; the cap doubles per attempt (exponential backoff, full jitter)
 * @param backoffMaxMs   largest retry delay cap
 * @param throttleWaitMs how long a throttled call keeps retrying, counted from its first throttle, before it fails
 *                       with THROTTLED ({@code rag_throttle_wait_ms}); throttles spend time, not attempts
 * @param caller         whom the request is for: the session counters that count it too, its cache partition
 */
public record InvocationSettings(long timeoutMs, int maxConcurrency, int batchSize, int maxAttempts,
                                 long backoffBaseMs, long backoffMaxMs, long throttleWaitMs, Caller caller) {

    /**
     * Built-in defaults: 30 s timeout, 16 concurrent calls, batches of up to 96, 4 attempts, 100 ms..5 s backoff,
     * 120 s of waiting out throttles (two of Bedrock's per-minute quota windows).
     */
    public static final InvocationSettings DEFAULT = new InvocationSettings(30_000, 16, 96, 4, 100, 5_000, 120_000);

    /** Settings for {@link Caller#NONE}: the proxy's counters only, the shared cache partition. */
    public InvocationSettings(long timeoutMs, int maxConcurrency, int batchSize, int maxAttempts,
                              long backoffBaseMs, long backoffMaxMs, long throttleWaitMs) {
        this(timeoutMs, maxConcurrency, batchSize, maxAttempts, backoffBaseMs, backoffMaxMs, throttleWaitMs,
                Caller.NONE);
    }

    public InvocationSettings {
        java.util.Objects.requireNonNull(caller, "caller");
        if (timeoutMs <= 0) {
            throw new IllegalArgumentException("rag_inference_timeout_ms must be > 0, got " + timeoutMs);
        }
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("rag_concurrency must be >= 1, got " + maxConcurrency);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("rag_batch_size must be >= 1, got " + batchSize);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("rag_max_attempts must be >= 1, got " + maxAttempts);
        }
        if (backoffBaseMs < 0 || backoffMaxMs < backoffBaseMs) {
            throw new IllegalArgumentException("backoff must satisfy 0 <= backoff_base_ms <= backoff_max_ms");
        }
        if (throttleWaitMs < 0) {
            throw new IllegalArgumentException("rag_throttle_wait_ms must be >= 0, got " + throttleWaitMs);
        }
    }

    /**
     * Reads {@code timeout_ms, max_concurrency, batch_size, max_attempts, backoff_base_ms, backoff_max_ms,
     * throttle_wait_ms}; missing keys keep {@code base}'s values.
     */
    public static InvocationSettings fromJson(JsonNode node, InvocationSettings base) {
        if (node == null || !node.isObject()) {
            return base;
        }
        return new InvocationSettings(
                node.path("timeout_ms").asLong(base.timeoutMs),
                node.path("max_concurrency").asInt(base.maxConcurrency),
                node.path("batch_size").asInt(base.batchSize),
                node.path("max_attempts").asInt(base.maxAttempts),
                node.path("backoff_base_ms").asLong(base.backoffBaseMs),
                node.path("backoff_max_ms").asLong(base.backoffMaxMs),
                node.path("throttle_wait_ms").asLong(base.throttleWaitMs),
                base.caller);
    }

    public InvocationSettings withTimeoutMs(long v) {
        return new InvocationSettings(v, maxConcurrency, batchSize, maxAttempts, backoffBaseMs, backoffMaxMs, throttleWaitMs, caller);
    }

    public InvocationSettings withMaxConcurrency(int v) {
        return new InvocationSettings(timeoutMs, v, batchSize, maxAttempts, backoffBaseMs, backoffMaxMs, throttleWaitMs, caller);
    }

    public InvocationSettings withBatchSize(int v) {
        return new InvocationSettings(timeoutMs, maxConcurrency, v, maxAttempts, backoffBaseMs, backoffMaxMs, throttleWaitMs, caller);
    }

    public InvocationSettings withMaxAttempts(int v) {
        return new InvocationSettings(timeoutMs, maxConcurrency, batchSize, v, backoffBaseMs, backoffMaxMs, throttleWaitMs, caller);
    }

    public InvocationSettings withBackoff(long baseMs, long maxMs) {
        return new InvocationSettings(timeoutMs, maxConcurrency, batchSize, maxAttempts, baseMs, maxMs, throttleWaitMs,
                caller);
    }

    public InvocationSettings withThrottleWaitMs(long v) {
        return new InvocationSettings(timeoutMs, maxConcurrency, batchSize, maxAttempts, backoffBaseMs, backoffMaxMs, v,
                caller);
    }

    /** These settings for requests made for {@code caller}. */
    public InvocationSettings withCaller(Caller v) {
        return new InvocationSettings(timeoutMs, maxConcurrency, batchSize, maxAttempts, backoffBaseMs, backoffMaxMs,
                throttleWaitMs, v);
    }
}
