package io.ragproxy.server.command;

import io.ragproxy.catalog.invoke.Caller;
import io.ragproxy.catalog.invoke.InvocationSettings;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A session's {@code rag_} settings, changed with {@code SET rag_name = value} and shown by
 * {@code SHOW RAG SETTINGS}. Immutable: a SET makes a new instance.
 *
 * @param embeddingModel {@code rag_embedding_model}: the model EMBED() uses without a model argument (null: the configured default)
 * @param textModel {@code rag_text_model}: the model GENERATE() and ANSWER() use without a model argument
 * @param invocation timeout, concurrency, batch size, attempts and throttle wait of model calls
 * @param maxCalls {@code rag_max_calls}: most distinct model inputs one statement may need before it is refused
 * @param onError {@code rag_on_error}: {@code error} fails the statement when a model call fails; {@code null} writes NULL instead
 */
public record RagSettings(String embeddingModel, String textModel, InvocationSettings invocation, int maxCalls,
        String onError) {

    /** The setting names SET accepts, for error messages. */
    public static final String NAMES = "rag_embedding_model, rag_text_model, rag_inference_timeout_ms,"
            + " rag_concurrency, rag_batch_size, rag_max_attempts, rag_throttle_wait_ms, rag_max_calls, rag_on_error";

    /** Defaults for a new session. */
    public static RagSettings defaults(InvocationSettings invocation) {
        return new RagSettings(null, null, invocation, 1000, "error");
    }

    /** Whether a failed model call gives NULL instead of failing the statement. */
    public boolean nullOnError() {
        return onError.equals("null");
    }

    /**
     * This with one setting changed.
     *
     * @param name the variable name, e.g. {@code rag_max_calls} (any case)
     * @param value the value as written (quotes removed); {@code DEFAULT} restores {@code defaults}' value
     * @throws ProxyException for an unknown name or a bad value
     */
    public RagSettings with(String name, String value, RagSettings defaults) {
        String n = name.toLowerCase(Locale.ROOT);
        boolean reset = value.equalsIgnoreCase("default");
        try {
            return switch (n) {
                case "rag_embedding_model" -> new RagSettings(reset ? defaults.embeddingModel : model(value), textModel,
                        invocation, maxCalls, onError);
                case "rag_text_model" -> new RagSettings(embeddingModel, reset ? defaults.textModel : model(value),
                        invocation, maxCalls, onError);
                case "rag_inference_timeout_ms" -> withInvocation(invocation.withTimeoutMs(
                        reset ? defaults.invocation.timeoutMs() : positive(n, value)));
                case "rag_concurrency" -> withInvocation(invocation.withMaxConcurrency(
                        reset ? defaults.invocation.maxConcurrency() : (int) positive(n, value)));
                case "rag_batch_size" -> withInvocation(invocation.withBatchSize(
                        reset ? defaults.invocation.batchSize() : (int) positive(n, value)));
                case "rag_max_attempts" -> withInvocation(invocation.withMaxAttempts(
                        reset ? defaults.invocation.maxAttempts() : (int) positive(n, value)));
                case "rag_throttle_wait_ms" -> withInvocation(invocation.withThrottleWaitMs(
                        reset ? defaults.invocation.throttleWaitMs() : nonNegative(n, value)));
                case "rag_max_calls" -> new RagSettings(embeddingModel, textModel, invocation,
                        reset ? defaults.maxCalls : (int) positive(n, value), onError);
                case "rag_on_error" -> new RagSettings(embeddingModel, textModel, invocation, maxCalls,
                        reset ? defaults.onError : onError(value));
                default -> throw new ProxyException(ProxyError.UNKNOWN_SETTING, "unknown setting " + name
                        + "; the rag_ settings are " + NAMES);
            };
        } catch (IllegalArgumentException e) {
            throw new ProxyException(ProxyError.BAD_SETTING, e.getMessage());
        }
    }

    /**
     * Checks the settings that multiply spending against the configured ceilings, which no session can raise.
     *
     * @throws ProxyException BAD_SETTING naming the setting, its ceiling and the key that sets it
     */
    public void requireWithin(int maxCallsCeiling, int concurrencyCeiling) {
        if (maxCalls > maxCallsCeiling) {
            throw new ProxyException(ProxyError.BAD_SETTING, "rag_max_calls = " + maxCalls + " is above this proxy's"
                    + " ceiling of " + maxCallsCeiling + " model inputs per statement; set at most " + maxCallsCeiling
                    + " (an administrator sets the ceiling with [models] rag_max_calls_ceiling in ragproxy.toml)");
        }
        if (invocation.maxConcurrency() > concurrencyCeiling) {
            throw new ProxyException(ProxyError.BAD_SETTING, "rag_concurrency = " + invocation.maxConcurrency()
                    + " is above this proxy's ceiling of " + concurrencyCeiling + " model calls in flight per"
                    + " statement; set at most " + concurrencyCeiling + " (an administrator sets the ceiling with"
                    + " [models] rag_concurrency_ceiling in ragproxy.toml)");
        }
    }

    /** Whom the session's model calls are for: its own counters ({@code SHOW RAG STATUS}) and its cache partition. */
    public Caller caller() {
        return invocation.caller();
    }

    /** This with the session's model calls made for {@code caller}. */
    public RagSettings withCaller(Caller caller) {
        return withInvocation(invocation.withCaller(caller));
    }

    private RagSettings withInvocation(InvocationSettings s) {
        return new RagSettings(embeddingModel, textModel, s, maxCalls, onError);
    }

    private static String model(String value) {
        return value.isBlank() || value.equalsIgnoreCase("null") ? null : value;
    }

    private static long positive(String name, String value) {
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a whole number, got '" + value + "'");
        }
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be between 1 and " + Integer.MAX_VALUE + ", got " + v);
        }
        return v;
    }

    private static long nonNegative(String name, String value) {
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " takes a whole number of milliseconds, got '" + value + "'");
        }
        if (v < 0) {
            throw new IllegalArgumentException(name + " must be >= 0 (0: fail on the first throttle), got " + v);
        }
        return v;
    }

    private static String onError(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        if (!v.equals("error") && !v.equals("null")) {
            throw new IllegalArgumentException("rag_on_error takes 'error' or 'null', got '" + value + "'");
        }
        return v;
    }

    /** The settings as name → value rows, in a stable order. */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("rag_embedding_model", embeddingModel == null ? "" : embeddingModel);
        m.put("rag_text_model", textModel == null ? "" : textModel);
        m.put("rag_inference_timeout_ms", Long.toString(invocation.timeoutMs()));
        m.put("rag_concurrency", Integer.toString(invocation.maxConcurrency()));
        m.put("rag_batch_size", Integer.toString(invocation.batchSize()));
        m.put("rag_max_attempts", Integer.toString(invocation.maxAttempts()));
        m.put("rag_throttle_wait_ms", Long.toString(invocation.throttleWaitMs()));
        m.put("rag_max_calls", Integer.toString(maxCalls));
        m.put("rag_on_error", onError);
        return m;
    }
}
