package io.ragproxy.catalog.chunk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How {@link TextChunker} splits a text: CHUNK_TEXT's {@code options_json}, validated.
 *
 * @param size the largest chunk, overlap included, in {@code unit}s (≥ 1)
 * @param overlap how much of the text before a chunk it repeats at its start, in {@code unit}s (0 ≤ overlap < size)
 * @param unit what sizes count
 * @param separators the user's separators, in order of preference (each its own level), or empty for the
 *        defaults of {@code format}
 * @param format which default separators apply
 */
public record ChunkOptions(int size, int overlap, Unit unit, List<String> separators, Format format) {
    /** Default chunk size, in characters. */
    public static final int DEFAULT_SIZE = 800;
    /** The largest size accepted. */
    public static final int MAX_SIZE = 1_000_000;
    /** The most separators accepted. */
    public static final int MAX_SEPARATORS = 64;
    /** {@code {"size": 800}}: 800 characters, no overlap, the text separators. */
    public static final ChunkOptions DEFAULT = new ChunkOptions(DEFAULT_SIZE, 0, Unit.CHARS, List.of(), Format.TEXT);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EXAMPLE = "{\"size\": 800, \"overlap\": 100, \"unit\": \"chars\"}";

    /** What a size counts. */
    public enum Unit {
        /** Unicode code points (what CHAR_LENGTH counts). */
        CHARS,
        /** Tokens of the embedding tokenizer ({@link TokenCounter}). */
        TOKENS
    }

    /** Which separators apply when none are given. */
    public enum Format {
        /** Paragraphs, lines, sentences, words. */
        TEXT,
        /** Markdown headings (level 1 to 6) first, then as {@link #TEXT}. */
        MARKDOWN
    }

    public ChunkOptions {
        separators = List.copyOf(separators);
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("size must be a whole number from 1 to " + MAX_SIZE + ", got " + size);
        }
        if (overlap < 0 || overlap >= size) {
            throw new IllegalArgumentException("overlap must be a whole number from 0 to size - 1 (size is " + size
                    + "), got " + overlap);
        }
    }

    /**
     * Reads {@code options_json}: an object with any of {@code size}, {@code overlap}, {@code unit}, {@code separators}
     * and {@code format}. Null or blank → {@link #DEFAULT}.
     *
     * @throws IllegalArgumentException with a message that says which key is wrong and what it takes
     */
    public static ChunkOptions fromJson(String json) {
        if (json == null || json.isBlank()) {
            return DEFAULT;
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("options_json is not valid JSON (" + e.getOriginalMessage()
                    + "); write an object such as " + EXAMPLE);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("options_json must be a JSON object such as " + EXAMPLE + ", got " + json);
        }
        int size = DEFAULT_SIZE;
        int overlap = 0;
        Unit unit = Unit.CHARS;
        Format format = Format.TEXT;
        List<String> separators = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "size" -> size = wholeNumber("size", v);
                case "overlap" -> overlap = wholeNumber("overlap", v);
                case "unit" -> unit = Unit.valueOf(word("unit", v, "chars", "tokens"));
                case "format" -> format = Format.valueOf(word("format", v, "text", "markdown"));
                case "separators" -> {
                    if (!v.isArray() || v.isEmpty() || v.size() > MAX_SEPARATORS) {
                        throw new IllegalArgumentException("separators must be an array of 1 to " + MAX_SEPARATORS
                                + " non-empty strings in order of preference, e.g. [\"\\n\\n\", \"\\n\", \" \"]; got " + v);
                    }
                    for (JsonNode s : v) {
                        if (!s.isTextual() || s.asText().isEmpty()) {
                            throw new IllegalArgumentException("separators must hold non-empty strings (text is cut"
                                    + " between characters anyway when no separator fits); got " + s);
                        }
                        separators.add(s.asText());
                    }
                }
                default -> throw new IllegalArgumentException("unknown option '" + e.getKey() + "'; the options are"
                        + " size, overlap, unit (\"chars\" or \"tokens\"), separators and format (\"text\" or"
                        + " \"markdown\")");
            }
        }
        return new ChunkOptions(size, overlap, unit, separators, format);
    }

    private static int wholeNumber(String key, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(key + " must be a whole number, e.g. " + EXAMPLE + "; got " + v);
        }
        return v.asInt();
    }

    private static String word(String key, JsonNode v, String a, String b) {
        String s = v.isTextual() ? v.asText().toLowerCase(Locale.ROOT) : "";
        if (!s.equals(a) && !s.equals(b)) {
            throw new IllegalArgumentException(key + " must be \"" + a + "\" or \"" + b + "\", got " + v);
        }
        return s.toUpperCase(Locale.ROOT);
    }
}
