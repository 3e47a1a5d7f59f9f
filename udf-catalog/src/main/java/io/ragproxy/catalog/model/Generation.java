package io.ragproxy.catalog.model;

import java.util.Objects;

/**
 * The result of one text-generation call.
 *
 * @param text       the generated text (never null; may be empty)
 * @param usage      token usage, {@link Usage#NONE} when unknown
 * @param stopReason why the model stopped, as the model reported it (e.g. {@code end_turn},
 *                   {@code max_tokens}, {@code stop_sequence}); null when unknown
 */
public record Generation(String text, Usage usage, String stopReason) {

    public Generation {
        Objects.requireNonNull(text, "text");
        usage = usage == null ? Usage.NONE : usage;
    }

    public Generation(String text) {
        this(text, Usage.NONE, null);
    }
}
