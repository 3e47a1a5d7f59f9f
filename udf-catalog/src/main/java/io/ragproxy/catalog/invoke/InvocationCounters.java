package io.ragproxy.catalog.invoke;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of model invocations, for {@code SHOW RAG STATUS}. Thread-safe and cheap to update (adders).
 *
 * <p>{@code requests} counts calls sent to a model (every attempt, so it matches what the provider saw);
 * {@code responses} the successful ones; {@code cache_hits}/{@code cache_misses} count inputs (a duplicate
 * input inside one request, or one already being computed, is a hit); {@code retries} the attempts after the
 * first; {@code throttles} the throttled attempts; {@code errors} the calls that finally failed;
 * {@code timeouts} the attempts that timed out (ours or the model's).
 */
public final class InvocationCounters {

    final LongAdder requests = new LongAdder();
    final LongAdder responses = new LongAdder();
    final LongAdder cacheHits = new LongAdder();
    final LongAdder cacheMisses = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder throttles = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder cancelled = new LongAdder();
    final LongAdder inputTokens = new LongAdder();
    final LongAdder outputTokens = new LongAdder();
    final DoubleAdder costUsd = new DoubleAdder();

    public long requests() {
        return requests.sum();
    }

    public long responses() {
        return responses.sum();
    }

    public long cacheHits() {
        return cacheHits.sum();
    }

    public long cacheMisses() {
        return cacheMisses.sum();
    }

    public long retries() {
        return retries.sum();
    }

    public long throttles() {
        return throttles.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long timeouts() {
        return timeouts.sum();
    }

    public long cancelled() {
        return cancelled.sum();
    }

    public long inputTokens() {
        return inputTokens.sum();
    }

    public long outputTokens() {
        return outputTokens.sum();
    }

    public double estimatedCostUsd() {
        return costUsd.sum();
    }

    /**
     * The counters as an ordered map with Aurora-like names: {@code Rag_ml_requests, Rag_ml_responses,
     * Rag_ml_cache_hits, Rag_ml_cache_misses, Rag_ml_retries, Rag_ml_throttles, Rag_ml_errors, Rag_ml_timeouts,
     * Rag_ml_cancelled, Rag_ml_input_tokens, Rag_ml_output_tokens, Rag_ml_estimated_cost_usd} (the cost a
     * BigDecimal with 8 decimals, since one embedding call can cost well under a millionth of a dollar, the others Longs).
     */
    public Map<String, Number> snapshot() {
        Map<String, Number> m = new LinkedHashMap<>();
        m.put("Rag_ml_requests", requests());
        m.put("Rag_ml_responses", responses());
        m.put("Rag_ml_cache_hits", cacheHits());
        m.put("Rag_ml_cache_misses", cacheMisses());
        m.put("Rag_ml_retries", retries());
        m.put("Rag_ml_throttles", throttles());
        m.put("Rag_ml_errors", errors());
        m.put("Rag_ml_timeouts", timeouts());
        m.put("Rag_ml_cancelled", cancelled());
        m.put("Rag_ml_input_tokens", inputTokens());
        m.put("Rag_ml_output_tokens", outputTokens());
        m.put("Rag_ml_estimated_cost_usd", BigDecimal.valueOf(estimatedCostUsd()).setScale(8, RoundingMode.HALF_UP));
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
