package io.ragproxy.catalog.registry;

/**
 * Who may spend what: whether sessions may name any Bedrock model id or only the configured ones, and the ceilings
 * on the session settings that multiply spending ({@code rag_max_calls}, {@code rag_concurrency}), which no session
 * can raise. Immutable.
 *
 * @param allowAnyModelId {@code [models] allow_any_model_id}: when false (the default) only configured models are
 *     called (the defaults, alias targets, {@code [models.model."…"]} tables and the local models; an inference
 *     profile counts as its base model); anything else is an unknown model
 * @param maxCallsCeiling {@code [models] rag_max_calls_ceiling}: the largest {@code rag_max_calls} a session may set
 * @param concurrencyCeiling {@code [models] rag_concurrency_ceiling}: the largest {@code rag_concurrency} a session
 *     may set
 */
public record ModelPolicy(boolean allowAnyModelId, int maxCallsCeiling, int concurrencyCeiling) {

    /** Configured models only; at most 1,000,000 model inputs per statement and 256 calls in flight per statement. */
    public static final ModelPolicy DEFAULT = new ModelPolicy(false, 1_000_000, 256);

    public ModelPolicy {
        if (maxCallsCeiling < 1) {
            throw new IllegalArgumentException("[models] rag_max_calls_ceiling must be >= 1, got " + maxCallsCeiling);
        }
        if (concurrencyCeiling < 1) {
            throw new IllegalArgumentException("[models] rag_concurrency_ceiling must be >= 1, got "
                    + concurrencyCeiling);
        }
    }
}
