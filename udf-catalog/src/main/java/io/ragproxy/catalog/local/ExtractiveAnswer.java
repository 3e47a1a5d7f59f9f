package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.Usage;
import java.util.List;
import java.util.Objects;

/**
 * What the extractive model answered: the chosen sentences joined in their original order, and for
 * citations, which sources they came from.
 *
 * @param text       the answer (the chosen sentences, or {@link ExtractiveTextModel#NO_CONTEXT} when there was
 *                   no context)
 * @param citations  the distinct 1-based source numbers of the chosen sentences, ascending; empty without context
 * @param sentences  the chosen sentences in original order, with their source and similarity to the question
 * @param usage      approximate token counts (see {@link ExtractiveTextModel})
 * @param stopReason {@code end_turn}, {@code max_tokens} (the budget cut the answer), {@code stop_sequence}
 *                   or {@code no_context}
 */
public record ExtractiveAnswer(String text, List<Integer> citations, List<Sentence> sentences, Usage usage,
                               String stopReason) {

    public ExtractiveAnswer {
        Objects.requireNonNull(text, "text");
        citations = List.copyOf(citations);
        sentences = List.copyOf(sentences);
        usage = usage == null ? Usage.NONE : usage;
    }

    /**
     * One extracted sentence.
     *
     * @param source   the 1-based number of the source it came from
     * @param position its position among all context sentences (0-based, sources in order)
     * @param text     the sentence
     * @param score    similarity to the question (cosine plus lexical overlap, see {@link ExtractiveTextModel})
     */
    public record Sentence(int source, int position, String text, double score) {
    }
}
