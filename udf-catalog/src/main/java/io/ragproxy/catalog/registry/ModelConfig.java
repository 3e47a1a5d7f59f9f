package io.ragproxy.catalog.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.GenerateOptions;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Per-model settings from {@code [models.model."<id or alias>"]}: default request options (a request's own
 * options win), limits and price.
 *
 * @param embedDefaults    default EMBED options ({@code dimensions, normalize, input_type, truncate})
 * @param generateDefaults default GENERATE options ({@code max_tokens, temperature, top_p, stop, system})
 * @param maxConcurrency   calls in flight at once for this model across all requests; null = the global default
 * @param batchSize        most texts per call; null = the model's own limit
 * @param price            price per 1k tokens (and per 1k queries, a reranker's); null = the built-in table or free
 * @param kind             {@code embedding}, {@code text}, {@code reranking} or null (inferred from the id)
 */
public record ModelConfig(EmbedOptions embedDefaults, GenerateOptions generateDefaults, Integer maxConcurrency,
                          Integer batchSize, ModelPrice price, String kind) {

    public static final ModelConfig NONE = new ModelConfig(EmbedOptions.DEFAULT, GenerateOptions.DEFAULT, null, null, null, null);

    private static final Set<String> EMBED_KEYS = Set.of("dimensions", "normalize", "input_type", "truncate");
    private static final Set<String> GENERATE_KEYS = Set.of("max_tokens", "temperature", "top_p", "stop", "system");

    /** Parses one model's table; {@code where} names it in error messages. */
    static ModelConfig fromJson(String where, JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("[" + where + "] must be a table");
        }
        ObjectNode embed = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        ObjectNode gen = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        Integer maxConc = null;
        Integer batch = null;
        Double pin = null;
        Double pout = null;
        Double pq = null;
        String kind = null;
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String k = e.getKey();
            JsonNode v = e.getValue();
            if (EMBED_KEYS.contains(k)) {
                embed.set(k, v);
            } else if (GENERATE_KEYS.contains(k)) {
                gen.set(k, v);
            } else {
                switch (k) {
                    case "max_concurrency" -> maxConc = positive(where, k, v);
                    case "batch_size" -> batch = positive(where, k, v);
                    case "price_input_per_1k" -> pin = v.asDouble();
                    case "price_output_per_1k" -> pout = v.asDouble();
                    case "price_per_1k_queries" -> pq = v.asDouble();
                    case "kind" -> {
                        kind = v.asText();
                        if (!Set.of("embedding", "text", "reranking").contains(kind)) {
                            throw new IllegalArgumentException("[" + where + "] kind must be \"embedding\", \"text\" or"
                                    + " \"reranking\", got " + v);
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown key '" + k + "' in [" + where + "]; known: "
                            + "dimensions, normalize, input_type, truncate, max_tokens, temperature, top_p, stop, system, "
                            + "max_concurrency, batch_size, price_input_per_1k, price_output_per_1k, price_per_1k_queries, kind");
                }
            }
        }
        ModelPrice price = pin == null && pout == null && pq == null ? null
                : new ModelPrice(pin == null ? 0 : pin, pout == null ? 0 : pout, pq == null ? 0 : pq);
        try {
            return new ModelConfig(EmbedOptions.fromNode(embed), GenerateOptions.fromNode(gen), maxConc, batch, price, kind);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("[" + where + "]: " + ex.getMessage(), ex);
        }
    }

    private static Integer positive(String where, String k, JsonNode v) {
        if (!v.canConvertToInt() || v.asInt() < 1) {
            throw new IllegalArgumentException("[" + where + "] " + k + " must be a positive integer, got " + v);
        }
        return v.asInt();
    }
}
