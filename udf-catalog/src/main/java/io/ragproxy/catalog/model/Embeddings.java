package io.ragproxy.catalog.model;

import java.util.List;
import java.util.Objects;

/**
 * The result of one embedding call: one vector per input text, in input order, and the call's usage.
 *
 * <p>The vectors are not copied (they can be large); callers must treat them as read-only.
 *
 * @param vectors one vector per input text
 * @param usage   token usage of the call, {@link Usage#NONE} when unknown
 */
public record Embeddings(List<float[]> vectors, Usage usage) {

    public Embeddings {
        Objects.requireNonNull(vectors, "vectors");
        vectors = List.copyOf(vectors);
        usage = usage == null ? Usage.NONE : usage;
    }
}
