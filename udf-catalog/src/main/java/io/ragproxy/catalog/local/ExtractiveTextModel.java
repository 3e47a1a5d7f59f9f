package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.GroundedPrompt;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.model.Usage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The local text model {@value #ID}. It does not generate: it <em>extracts</em>. It splits the context into
 * sentences (see {@link Sentences}), embeds the question and the sentences with the injected
 * {@link EmbeddingModel}, and answers with the {@code k} sentences closest to the question, in their original
 * order. Deterministic: equal scores are broken by position, earlier first.
 *
 * <p>A sentence's score is its cosine similarity to the question plus {@value #LEXICAL_WEIGHT} times the share
 * of the question's terms it contains (words, and single CJK characters). The lexical part is what hybrid
 * retrieval adds to dense retrieval everywhere: it rescues text the embedding model barely understands
 * (all-MiniLM-L6-v2 is English-only, so Chinese sentences all look alike to it) and favours the sentence that
 * defines the asked-about term ("What is TiDB?" → "TiDB is …").
 * It needs no LLM and no network (with the local embedding model), which makes RAG queries work offline and
 * testable.
 *
 * <p>{@link #generate} reads its prompt with {@link GroundedPrompt#parse}: the {@code ANSWER()} convention
 * ({@code Question:} line and {@code [n]} sources) or a free {@code GENERATE()} prompt. The proxy can also
 * call {@link #answer} directly, which returns the cited source numbers as well.
 *
 * <p>Options: {@code max_tokens} is a budget on the answer: the best sentences are taken while they fit
 * (the best one is always taken, cut to the budget if it alone is too long). {@code stop} cuts the answer at
 * the first stop sequence. {@code temperature}, {@code top_p} and {@code system} have no meaning for an
 * extractive model and are ignored.
 *
 * <p>Usage is approximate (see {@link Sentences#approxTokens}): input = the prompt (or question and sources),
 * output = the answer. Without context the answer is {@link #NO_CONTEXT}, honestly, instead of a made-up one.
 */
public final class ExtractiveTextModel implements TextModel {

    /** The model's canonical id. */
    public static final String ID = "local:extractive";
    /** How many sentences an answer has by default. */
    public static final int DEFAULT_K = 2;
    /** The answer when the prompt carries no context to extract from. */
    public static final String NO_CONTEXT = "The local extractive model needs context: pass sources with ANSWER() "
            + "or configure a Bedrock text model.";

    /** Weight of the lexical overlap (0..1) added to the cosine similarity (-1..1). */
    public static final double LEXICAL_WEIGHT = 0.25;

    private static final EmbedOptions QUESTION_OPTIONS = EmbedOptions.DEFAULT.withInputPurpose(EmbedOptions.InputPurpose.QUERY);
    private static final EmbedOptions SENTENCE_OPTIONS = EmbedOptions.DEFAULT;

    private final EmbeddingModel embedder;

    /** @param embedder the model that scores sentences against the question (usually {@link LocalEmbeddingModel}) */
    public ExtractiveTextModel(EmbeddingModel embedder) {
        this.embedder = Objects.requireNonNull(embedder, "embedder");
    }

    @Override
    public String id() {
        return ID;
    }

    /** The embedding model this model ranks sentences with. */
    public EmbeddingModel embedder() {
        return embedder;
    }

    @Override
    public CompletableFuture<Generation> generate(String prompt, GenerateOptions options) {
        if (prompt == null || prompt.isBlank()) {
            return CompletableFuture.failedFuture(
                    new ModelException(ModelException.Kind.CLIENT_ERROR, ID, "the prompt is empty"));
        }
        GenerateOptions opts = options == null ? GenerateOptions.DEFAULT : options;
        GroundedPrompt parsed = PromptReader.read(prompt);
        long promptTokens = Sentences.approxTokens(prompt);
        return answer(parsed.question(), parsed.sources(), DEFAULT_K, opts.maxTokens(), opts.stopSequences())
                .thenApply(a -> new Generation(a.text(), new Usage(promptTokens, a.usage().outputTokens()), a.stopReason()));
    }

    /** {@link #answer(String, List, int, Integer, List)} without token budget or stop sequences. */
    public CompletableFuture<ExtractiveAnswer> answer(String question, List<String> sources, int k) {
        return answer(question, sources, k, null, null);
    }

    /**
     * Answers {@code question} with the {@code k} sentences of {@code sources} closest to it.
     *
     * @param question      the question; blank means "no question" and gives the {@link #NO_CONTEXT}-style
     *                      failure below
     * @param sources       the context passages; source n is {@code sources.get(n - 1)}; null or blank ones
     *                      contribute nothing (but keep their number)
     * @param k             how many sentences at most, at least 1
     * @param maxTokens     an approximate token budget for the answer, or null for none
     * @param stopSequences cut the answer at the first of these, or null
     * @return the answer; completes exceptionally with a {@link ModelException} when embedding fails, or when
     *         the question is blank (CLIENT_ERROR)
     */
    public CompletableFuture<ExtractiveAnswer> answer(String question, List<String> sources, int k, Integer maxTokens,
                                                      List<String> stopSequences) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        List<String> srcs = sources == null ? List.of() : sources;
        long inputTokens = Sentences.approxTokens(question);
        List<ExtractiveAnswer.Sentence> candidates = new ArrayList<>();
        for (int s = 0; s < srcs.size(); s++) {
            inputTokens += Sentences.approxTokens(srcs.get(s));
            for (Sentences.Span span : Sentences.split(srcs.get(s))) {
                candidates.add(new ExtractiveAnswer.Sentence(s + 1, candidates.size(), span.text(), 0));
            }
        }
        if (candidates.isEmpty()) {
            return CompletableFuture.completedFuture(new ExtractiveAnswer(NO_CONTEXT, List.of(), List.of(),
                    new Usage(inputTokens, Sentences.approxTokens(NO_CONTEXT)), "no_context"));
        }
        if (question == null || question.isBlank()) {
            return CompletableFuture.failedFuture(new ModelException(ModelException.Kind.CLIENT_ERROR, ID,
                    "no question found in the prompt; write it on a 'Question:' line or end it with '?'"));
        }
        long input = inputTokens;
        // The question gets its own call (as a QUERY, for asymmetric embedders) so that its vector, and so the
        // ranking, does not depend on which other texts share a batch with it.
        CompletableFuture<Embeddings> q = embedder.embed(List.of(question.strip()), QUESTION_OPTIONS);
        List<CompletableFuture<Embeddings>> parts = new ArrayList<>();
        int batch = Math.max(1, embedder.maxBatchSize());
        for (int from = 0; from < candidates.size(); from += batch) {
            List<String> texts = new ArrayList<>();
            for (ExtractiveAnswer.Sentence c : candidates.subList(from, Math.min(candidates.size(), from + batch))) {
                texts.add(c.text());
            }
            parts.add(embedder.embed(texts, SENTENCE_OPTIONS));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenCombine(q, (ignored, qe) -> {
            float[] qv = qe.vectors().get(0);
            java.util.Set<String> qTerms = Sentences.terms(question);
            List<ExtractiveAnswer.Sentence> scored = new ArrayList<>(candidates.size());
            int i = 0;
            for (CompletableFuture<Embeddings> part : parts) {
                for (float[] v : part.join().vectors()) {
                    ExtractiveAnswer.Sentence c = candidates.get(i++);
                    scored.add(new ExtractiveAnswer.Sentence(c.source(), c.position(), c.text(), score(qv, v, qTerms, c.text())));
                }
            }
            if (i != candidates.size()) {
                throw new ModelException(ModelException.Kind.BAD_RESPONSE, embedder.id(),
                        "embedding model returned " + i + " vectors for " + candidates.size() + " sentences");
            }
            return choose(scored, k, maxTokens, stopSequences, input);
        });
    }

    private static ExtractiveAnswer choose(List<ExtractiveAnswer.Sentence> scored, int k, Integer maxTokens,
                                           List<String> stopSequences, long inputTokens) {
        List<ExtractiveAnswer.Sentence> ranked = new ArrayList<>(scored);
        ranked.sort(Comparator.comparingDouble(ExtractiveAnswer.Sentence::score).reversed()
                .thenComparingInt(ExtractiveAnswer.Sentence::position));
        List<ExtractiveAnswer.Sentence> chosen = new ArrayList<>();
        long budget = maxTokens == null ? Long.MAX_VALUE : maxTokens;
        long used = 0;
        String stopReason = "end_turn";
        for (ExtractiveAnswer.Sentence s : ranked) {
            if (chosen.size() == k) {
                break;
            }
            long t = Sentences.approxTokens(s.text());
            if (used + t > budget) {
                if (chosen.isEmpty()) {
                    // Never answer nothing: cut the best sentence to the budget.
                    chosen.add(new ExtractiveAnswer.Sentence(s.source(), s.position(), cut(s.text(), budget), s.score()));
                }
                stopReason = "max_tokens";
                break;
            }
            chosen.add(s);
            used += t;
        }
        chosen.sort(Comparator.comparingInt(ExtractiveAnswer.Sentence::position));
        List<String> texts = new ArrayList<>();
        TreeSet<Integer> citations = new TreeSet<>();
        for (ExtractiveAnswer.Sentence s : chosen) {
            texts.add(s.text());
            citations.add(s.source());
        }
        String text = Sentences.join(texts);
        if (stopSequences != null) {
            int cutAt = -1;
            for (String stop : stopSequences) {
                int at = stop == null || stop.isEmpty() ? -1 : text.indexOf(stop);
                if (at >= 0 && (cutAt < 0 || at < cutAt)) {
                    cutAt = at;
                }
            }
            if (cutAt >= 0) {
                text = text.substring(0, cutAt).stripTrailing();
                stopReason = "stop_sequence";
            }
        }
        return new ExtractiveAnswer(text, List.copyOf(citations), chosen,
                new Usage(inputTokens, Sentences.approxTokens(text)), stopReason);
    }

    /** The longest prefix of {@code text}, cut at a space or CJK character, within {@code budget} approximate tokens. */
    private static String cut(String text, long budget) {
        int best = 0;
        for (int i = 1; i <= text.length(); i++) {
            boolean boundary = i == text.length() || Character.isWhitespace(text.charAt(i))
                    || Sentences.isCjk(text.charAt(i - 1));
            if (boundary) {
                if (Sentences.approxTokens(text.substring(0, i)) > budget) {
                    break;
                }
                best = i;
            }
        }
        return text.substring(0, best).strip();
    }

    private static double score(float[] question, float[] sentence, java.util.Set<String> questionTerms, String text) {
        double lexical = 0;
        if (!questionTerms.isEmpty()) {
            java.util.Set<String> terms = Sentences.terms(text);
            long shared = questionTerms.stream().filter(terms::contains).count();
            lexical = (double) shared / questionTerms.size();
        }
        return cosine(question, sentence) + LEXICAL_WEIGHT * lexical;
    }

    /** The cosine similarity of two vectors; 0 when either is zero; BAD_RESPONSE when their lengths differ. */
    static double cosine(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new ModelException(ModelException.Kind.BAD_RESPONSE, null,
                    "embedding vectors of different lengths: " + a.length + " and " + b.length);
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    @Override
    public String toString() {
        return "ExtractiveTextModel[" + ID + " over " + embedder.id() + "]";
    }
}
