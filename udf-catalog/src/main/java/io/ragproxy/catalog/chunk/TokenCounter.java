package io.ragproxy.catalog.chunk;

/**
 * Counts the tokens of a text as an embedding model's tokenizer reads it, without the special tokens a model adds
 * around a whole input ({@code [CLS]}, {@code [SEP]}). Implementations are thread-safe and deterministic.
 */
@FunctionalInterface
public interface TokenCounter {
    /** The number of tokens in {@code text} (0 for the empty string). */
    int count(String text);
}
