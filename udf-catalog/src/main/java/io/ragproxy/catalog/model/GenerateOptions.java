package io.ragproxy.catalog.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Options of one text-generation request. Immutable and thread-safe. Every field is nullable: null
 * means "the model's default" (the Converse API then omits the field).
 *
 * <p>Recognised JSON keys (as in {@code GENERATE(prompt, model, '{"max_tokens":256}')}): {@code max_tokens},
 * {@code temperature} (0..1), {@code top_p} (0..1), {@code stop} (a string or an array of strings),
 * {@code system} (a system prompt). {@code maxTokens}, {@code topP}, {@code stop_sequences} and
 * {@code stopSequences} are accepted as spellings of the same keys.
 */
public final class GenerateOptions {

    /** No options: every model default. */
    public static final GenerateOptions DEFAULT = new GenerateOptions(null, null, null, null, null);

    private final Integer maxTokens;
    private final Double temperature;
    private final Double topP;
    private final List<String> stopSequences;
    private final String system;
    private final String cacheKey;

    public GenerateOptions(Integer maxTokens, Double temperature, Double topP, List<String> stopSequences, String system) {
        if (maxTokens != null && maxTokens <= 0) {
            throw new IllegalArgumentException("GENERATE option 'max_tokens' must be a positive integer, got " + maxTokens);
        }
        if (temperature != null && (temperature < 0 || temperature > 1)) {
            throw new IllegalArgumentException("GENERATE option 'temperature' must be between 0 and 1, got " + temperature);
        }
        if (topP != null && (topP < 0 || topP > 1)) {
            throw new IllegalArgumentException("GENERATE option 'top_p' must be between 0 and 1, got " + topP);
        }
        this.maxTokens = maxTokens;
        this.temperature = temperature;
        this.topP = topP;
        this.stopSequences = stopSequences == null || stopSequences.isEmpty() ? null : List.copyOf(stopSequences);
        this.system = system;
        this.cacheKey = buildCacheKey();
    }

    /**
     * Parses the options JSON of a {@code GENERATE()} or {@code ANSWER()} call. Null or blank → {@link #DEFAULT}.
     *
     * @throws IllegalArgumentException naming the bad key or value
     */
    public static GenerateOptions fromJson(String json) {
        ObjectNode node = OptionsJson.parseObject(json, "GENERATE");
        return node == null ? DEFAULT : fromNode(node);
    }

    /** Like {@link #fromJson(String)} for an already parsed object. */
    public static GenerateOptions fromNode(JsonNode node) {
        if (node == null || node.isNull()) {
            return DEFAULT;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException("GENERATE options must be a JSON object, e.g. {\"max_tokens\":256}");
        }
        Integer maxTokens = null;
        Double temperature = null;
        Double topP = null;
        List<String> stop = null;
        String system = null;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            switch (key) {
                case "max_tokens", "maxTokens" -> maxTokens = OptionsJson.positiveInt(v, key, "GENERATE");
                case "temperature" -> temperature = OptionsJson.number(v, key, "GENERATE", 0, 1);
                case "top_p", "topP" -> topP = OptionsJson.number(v, key, "GENERATE", 0, 1);
                case "stop", "stop_sequences", "stopSequences" -> stop = parseStop(v, key);
                case "system" -> system = OptionsJson.text(v, key, "GENERATE");
                default -> throw new IllegalArgumentException("unknown GENERATE option '" + key
                        + "'; known options: max_tokens, temperature, top_p, stop, system");
            }
        }
        return new GenerateOptions(maxTokens, temperature, topP, stop, system);
    }

    private static List<String> parseStop(JsonNode v, String key) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (v.isArray()) {
            List<String> out = new ArrayList<>();
            for (JsonNode s : v) {
                if (!s.isTextual()) {
                    throw new IllegalArgumentException("GENERATE option '" + key
                            + "' must be a string or an array of strings, got " + v);
                }
                out.add(s.asText());
            }
            return out;
        }
        throw new IllegalArgumentException("GENERATE option '" + key + "' must be a string or an array of strings, got " + v);
    }

    public Integer maxTokens() {
        return maxTokens;
    }

    public Double temperature() {
        return temperature;
    }

    public Double topP() {
        return topP;
    }

    /** Stop sequences, or null when none were given. */
    public List<String> stopSequences() {
        return stopSequences;
    }

    /** The system prompt, or null. */
    public String system() {
        return system;
    }

    public GenerateOptions withSystem(String s) {
        return new GenerateOptions(maxTokens, temperature, topP, stopSequences, s);
    }

    public GenerateOptions withMaxTokens(Integer m) {
        return new GenerateOptions(m, temperature, topP, stopSequences, system);
    }

    /** These options, with every field left null here taken from {@code defaults} (a model's configured defaults). */
    public GenerateOptions orDefaults(GenerateOptions defaults) {
        if (defaults == null || defaults.equals(DEFAULT)) {
            return this;
        }
        return new GenerateOptions(maxTokens != null ? maxTokens : defaults.maxTokens,
                temperature != null ? temperature : defaults.temperature,
                topP != null ? topP : defaults.topP,
                stopSequences != null ? stopSequences : defaults.stopSequences,
                system != null ? system : defaults.system);
    }

    /** A stable string identifying these options in cache keys. */
    public String cacheKey() {
        return cacheKey;
    }

    private String buildCacheKey() {
        // JSON-quote the free-text fields so that separators inside them cannot make two options collide.
        return "m=" + (maxTokens == null ? "" : maxTokens)
                + ";t=" + (temperature == null ? "" : temperature)
                + ";p=" + (topP == null ? "" : topP)
                + ";s=" + (stopSequences == null ? "" : OptionsJson.MAPPER.valueToTree(stopSequences).toString())
                + ";y=" + (system == null ? "" : OptionsJson.MAPPER.getNodeFactory().textNode(system).toString());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerateOptions other && cacheKey.equals(other.cacheKey);
    }

    @Override
    public int hashCode() {
        return cacheKey.hashCode();
    }

    @Override
    public String toString() {
        return "GenerateOptions[" + cacheKey + "]";
    }
}
