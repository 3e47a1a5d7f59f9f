package io.ragproxy.catalog.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collections;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Options of one embedding request. Immutable and thread-safe.
 *
 * <p>Every field is optional: null means "the model's default" (see the model's documentation). The
 * {@link #cacheKey()} identifies the options in the result cache: two options objects with equal
 * cache keys must produce the same vectors for the same input.
 *
 * <p>Recognised JSON keys (as in {@code EMBED(text, model, '{"dimensions":512}')}):
 * <ul>
 *   <li>{@code dimensions} — positive integer; Titan V2 accepts 256, 512 or 1024.</li>
 *   <li>{@code normalize} — boolean; Titan V2 only.</li>
 *   <li>{@code input_type} — {@code search_document} / {@code document} (text to store, the default) or
 *       {@code search_query} / {@code query} (text to search with); Cohere v3 uses it.</li>
 *   <li>{@code truncate} — Cohere's {@code NONE|START|END}; passed through in {@link #extra()}.</li>
 * </ul>
 */
public final class EmbedOptions {

    /** What an embedded text is for; asymmetric models (Cohere v3) embed the two differently. */
    public enum InputPurpose {
        /** Text that will be stored and searched (Cohere {@code search_document}). */
        DOCUMENT,
        /** Text used to search stored documents (Cohere {@code search_query}). */
        QUERY
    }

    /** No options: every model default, input purpose DOCUMENT. */
    public static final EmbedOptions DEFAULT = new EmbedOptions(null, null, InputPurpose.DOCUMENT, Map.of());

    /** Keys that are not fields of their own but are passed to the model through {@link #extra()}. */
    private static final java.util.Set<String> EXTRA_KEYS = java.util.Set.of("truncate");

    private final Integer dimensions;
    private final Boolean normalize;
    private final InputPurpose inputPurpose;
    private final Map<String, String> extra;
    private final String cacheKey;

    /**
     * @param dimensions   requested vector length, or null for the model default
     * @param normalize    whether to return unit vectors, or null for the model default
     * @param inputPurpose document or query; null means DOCUMENT
     * @param extra        provider-specific options passed through as strings (e.g. {@code truncate})
     */
    public EmbedOptions(Integer dimensions, Boolean normalize, InputPurpose inputPurpose, Map<String, String> extra) {
        if (dimensions != null && dimensions <= 0) {
            throw new IllegalArgumentException("EMBED option 'dimensions' must be a positive integer, got " + dimensions);
        }
        this.dimensions = dimensions;
        this.normalize = normalize;
        this.inputPurpose = inputPurpose == null ? InputPurpose.DOCUMENT : inputPurpose;
        this.extra = extra == null || extra.isEmpty() ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(extra));
        this.cacheKey = buildCacheKey();
    }

    /**
     * Parses the options JSON of an {@code EMBED()} call. Null or blank → {@link #DEFAULT}.
     *
     * @throws IllegalArgumentException naming the bad key or value
     */
    public static EmbedOptions fromJson(String json) {
        ObjectNode node = OptionsJson.parseObject(json, "EMBED");
        return node == null ? DEFAULT : fromNode(node);
    }

    /** Like {@link #fromJson(String)} for an already parsed object. */
    public static EmbedOptions fromNode(JsonNode node) {
        if (node == null || node.isNull()) {
            return DEFAULT;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("EMBED options must be a JSON object, e.g. {\"dimensions\":512}");
        }
        Integer dimensions = null;
        Boolean normalize = null;
        InputPurpose purpose = null;
        Map<String, String> extra = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            switch (key) {
                case "dimensions" -> dimensions = OptionsJson.positiveInt(v, key, "EMBED");
                case "normalize" -> normalize = OptionsJson.bool(v, key, "EMBED");
                case "input_type" -> purpose = parsePurpose(OptionsJson.text(v, key, "EMBED"));
                default -> {
                    if (!EXTRA_KEYS.contains(key)) {
                        throw new IllegalArgumentException("unknown EMBED option '" + key
                                + "'; known options: dimensions, normalize, input_type, truncate");
                    }
                    if (v != null && !v.isNull()) {
                        extra.put(key, v.isTextual() ? v.asText() : v.toString());
                    }
                }
            }
        }
        return new EmbedOptions(dimensions, normalize, purpose, extra);
    }

    private static InputPurpose parsePurpose(String s) {
        if (s == null) {
            return null;
        }
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "search_document", "document" -> InputPurpose.DOCUMENT;
            case "search_query", "query" -> InputPurpose.QUERY;
            default -> throw new IllegalArgumentException("EMBED option 'input_type' must be 'search_document' or "
                    + "'search_query', got '" + s + "'");
        };
    }

    public Integer dimensions() {
        return dimensions;
    }

    public Boolean normalize() {
        return normalize;
    }

    public InputPurpose inputPurpose() {
        return inputPurpose;
    }

    /** Provider-specific options, sorted by key, unmodifiable. */
    public Map<String, String> extra() {
        return extra;
    }

    public EmbedOptions withDimensions(Integer d) {
        return new EmbedOptions(d, normalize, inputPurpose, extra);
    }

    public EmbedOptions withNormalize(Boolean n) {
        return new EmbedOptions(dimensions, n, inputPurpose, extra);
    }

    public EmbedOptions withInputPurpose(InputPurpose p) {
        return new EmbedOptions(dimensions, normalize, p, extra);
    }

    /**
     * These options, with every field left null here taken from {@code defaults} (a model's configured
     * defaults); extra keys of this object win over those of {@code defaults}.
     */
    public EmbedOptions orDefaults(EmbedOptions defaults) {
        if (defaults == null || defaults.isDefault()) {
            return this;
        }
        Map<String, String> mergedExtra = new TreeMap<>(defaults.extra);
        mergedExtra.putAll(extra);
        // inputPurpose always has a value; DOCUMENT is the neutral one, so only QUERY overrides a default.
        InputPurpose p = inputPurpose == InputPurpose.QUERY ? InputPurpose.QUERY : defaults.inputPurpose;
        return new EmbedOptions(dimensions != null ? dimensions : defaults.dimensions,
                normalize != null ? normalize : defaults.normalize, p, mergedExtra);
    }

    /**
     * A stable string identifying these options in cache keys: the same options always give the same
     * string, across runs (no hash codes of identity).
     */
    public String cacheKey() {
        return cacheKey;
    }

    private String buildCacheKey() {
        StringBuilder sb = new StringBuilder();
        sb.append("d=").append(dimensions == null ? "" : dimensions)
                .append(";n=").append(normalize == null ? "" : normalize)
                .append(";p=").append(inputPurpose.name());
        extra.forEach((k, v) -> sb.append(';').append(k).append('=').append(v));
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EmbedOptions other && cacheKey.equals(other.cacheKey);
    }

    @Override
    public int hashCode() {
        return cacheKey.hashCode();
    }

    @Override
    public String toString() {
        return "EmbedOptions[" + cacheKey + "]";
    }

    /** Whether these are the defaults (used to keep cache keys and EXPLAIN output short). */
    public boolean isDefault() {
        return Objects.equals(this, DEFAULT);
    }
}
