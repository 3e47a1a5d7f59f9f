package io.ragproxy.server.plan;

import java.util.Locale;

/**
 * The built-in AI functions of DESIGN.md §4 and where their arguments sit.
 *
 * <p>Indexes are 0-based positions in the call's argument list; -1 means the function has no such argument.
 */
public enum AiFunction {
    /** {@code EMBED(text [, model [, options_json]])} → vector. */
    EMBED(1, 3, 0, 1, 2, -1),
    /** {@code EMBED_TEXT(model, text [, options_json])} → vector (TiDB Cloud's spelling). */
    EMBED_TEXT(2, 3, 1, 0, 2, -1),
    /** {@code VEC_EMBED_COSINE_DISTANCE(vec, text)} → cosine distance from vec to the text's embedding. */
    VEC_EMBED_COSINE_DISTANCE(2, 2, 1, -1, -1, 0),
    /** {@code VEC_EMBED_L2_DISTANCE(vec, text)} → L2 distance from vec to the text's embedding. */
    VEC_EMBED_L2_DISTANCE(2, 2, 1, -1, -1, 0),
    /** {@code GENERATE(prompt [, model [, options_json]])} → text. */
    GENERATE(1, 3, 0, 1, 2, -1),
    /** {@code ANSWER(question, context [, model [, options_json]])} → text; an aggregate. */
    ANSWER(2, 4, 0, 2, 3, -1),
    /**
     * {@code INVOKE_MODEL(model_id, body [, content_type [, accept [, options_json]]])} → the raw response body as
     * text: InvokeModel with a body written in the model's own format (what Aurora's alias functions run as).
     */
    INVOKE_MODEL(2, 5, 1, 0, 4, -1),
    /**
     * {@code CHUNK_TEXT(text [, options_json])} → the text's chunks as a JSON array of strings; computed by the proxy
     * itself (no model call, not counted by rag_max_calls).
     */
    CHUNK_TEXT(1, 2, 0, -1, 1, -1),
    /**
     * {@code RERANK_SCORE(query, text [, model])} → double: the reranking model's relevance score of {@code text} for
     * {@code query}. The query (a constant) takes the options' place: every row's text for one query goes to the
     * reranker in batched requests.
     */
    RERANK_SCORE(2, 3, 1, 2, 0, -1);

    /** Position of INVOKE_MODEL's content type and accept arguments (string literals). */
    public static final int CONTENT_TYPE_ARG = 2;
    public static final int ACCEPT_ARG = 3;

    private final int minArgs;
    private final int maxArgs;
    private final int textArg;
    private final int modelArg;
    private final int optionsArg;
    private final int vectorArg;

    AiFunction(int minArgs, int maxArgs, int textArg, int modelArg, int optionsArg, int vectorArg) {
        this.minArgs = minArgs;
        this.maxArgs = maxArgs;
        this.textArg = textArg;
        this.modelArg = modelArg;
        this.optionsArg = optionsArg;
        this.vectorArg = vectorArg;
    }

    /** Every built-in AI function's name, as the scan must flag them. */
    public static java.util.List<String> names() {
        return java.util.Arrays.stream(values()).map(Enum::name).toList();
    }

    /** The function named {@code name} (any case), or null. */
    public static AiFunction named(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public int minArgs() {
        return minArgs;
    }

    public int maxArgs() {
        return maxArgs;
    }

    /** Position of the text (or prompt, or question) the model reads. */
    public int textArg() {
        return textArg;
    }

    /** Position of the optional model name. */
    public int modelArg() {
        return modelArg;
    }

    /** Position of the optional options JSON. */
    public int optionsArg() {
        return optionsArg;
    }

    /** Position of the vector a distance is measured from (distance functions only). */
    public int vectorArg() {
        return vectorArg;
    }

    /** Whether the model is an embedding model (else a text model, or a raw one). */
    public boolean embeds() {
        return this != GENERATE && this != ANSWER && this != INVOKE_MODEL && this != CHUNK_TEXT && this != RERANK_SCORE;
    }

    /** Whether the model is a reranker (RERANK_SCORE): a score per text for the query in the options' place. */
    public boolean reranks() {
        return this == RERANK_SCORE;
    }

    /** Whether the proxy computes the result itself, calling no model (CHUNK_TEXT). */
    public boolean local() {
        return this == CHUNK_TEXT;
    }

    /** Whether the model gets a raw body (INVOKE_MODEL): body in, body out. */
    public boolean raw() {
        return this == INVOKE_MODEL;
    }

    /** How the function is written, for messages: {@code EMBED(text [, model [, options_json]])}. */
    public String signature() {
        return switch (this) {
            case EMBED -> "EMBED(text [, model [, options_json]])";
            case EMBED_TEXT -> "EMBED_TEXT(model, text [, options_json])";
            case VEC_EMBED_COSINE_DISTANCE -> "VEC_EMBED_COSINE_DISTANCE(vector, text)";
            case VEC_EMBED_L2_DISTANCE -> "VEC_EMBED_L2_DISTANCE(vector, text)";
            case GENERATE -> "GENERATE(prompt [, model [, options_json]])";
            case ANSWER -> "ANSWER(question, context [, model [, options_json]])";
            case INVOKE_MODEL -> "INVOKE_MODEL(model_id, body [, content_type [, accept [, options_json]]])";
            case CHUNK_TEXT -> "CHUNK_TEXT(text [, options_json])";
            case RERANK_SCORE -> "RERANK_SCORE(query, text [, model])";
        };
    }
}
