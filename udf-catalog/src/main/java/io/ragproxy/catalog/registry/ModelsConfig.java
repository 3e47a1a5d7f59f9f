package io.ragproxy.catalog.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.catalog.bedrock.BedrockModelIds;
import io.ragproxy.catalog.bedrock.BedrockSettings;
import io.ragproxy.catalog.invoke.InvocationSettings;

import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The model layer's configuration: the {@code [models]} table of {@code conf/ragproxy.toml} (see
 * {@code conf/models.part.toml} for every key with its default). Immutable.
 *
 * <p>Everything has a default that works offline with no AWS account: the default embedding model is
 * {@code local:all-minilm-l6-v2} (384 dimensions) and the default text model {@code local:extractive}. The
 * built-in aliases and prices are kept when the file adds its own (the file wins on conflicts).
 *
 * @param defaultEmbedding    model used by EMBED() without a model argument (alias or id)
 * @param defaultText         model used by GENERATE()/ANSWER() without a model argument (alias or id)
 * @param defaultReranking    model used by RERANK_SCORE() without a model argument and by a knowledge base created
 *                            with {@code reranking_model = true} (alias or id; {@code default_reranking})
 * @param aliases             alias → model id, in file order
 * @param models              per-model settings, keyed by model id (aliases resolved)
 * @param prices              USD per 1k tokens, keyed by model id without inference-profile prefix
 * @param bedrock             how to reach Bedrock
 * @param cacheBytes          result cache bound in bytes ({@code cache_mb})
 * @param invocation          default invocation settings (the session can override them)
 * @param modelMaxConcurrency calls in flight per model across all sessions, unless a model sets its own; the
 *                            ceiling of each model's adaptive limit
 * @param policy              which model ids may be called, and the ceilings of the session settings that spend
 * @param maxInputChars       longest model input (text or prompt) in characters; longer ones are refused before
 *                            any call ({@code max_input_chars}; 0 = no limit)
 */
public record ModelsConfig(String defaultEmbedding, String defaultText, Map<String, String> aliases,
                           Map<String, ModelConfig> models, Map<String, ModelPrice> prices, BedrockSettings bedrock,
                           long cacheBytes, InvocationSettings invocation, int modelMaxConcurrency,
                           ModelPolicy policy, int maxInputChars, String defaultReranking) {

    public static final String LOCAL_EMBEDDING = "local:all-minilm-l6-v2";
    public static final String LOCAL_EXTRACTIVE = "local:extractive";
    /** The offline reranker: cosine similarity under the local embedding model (no cross-encoder ships offline). */
    public static final String LOCAL_RERANK = "local:minilm-cosine";
    /** The reranking model RERANK_SCORE uses when none is named and none is configured. */
    public static final String DEFAULT_RERANKING = LOCAL_RERANK;
    public static final int LOCAL_EMBEDDING_DIMENSIONS = 384;

    /** Built-in aliases; the ids are the ones in the Bedrock tutorials the project starts from. */
    public static final Map<String, String> DEFAULT_ALIASES = ordered(
            "minilm", LOCAL_EMBEDDING,
            "extractive", LOCAL_EXTRACTIVE,
            "titan-v2", "amazon.titan-embed-text-v2:0",
            "titan-v1", "amazon.titan-embed-text-v1",
            "cohere-english", "cohere.embed-english-v3",
            "cohere-multilingual", "cohere.embed-multilingual-v3",
            "llama3-2-3b", "us.meta.llama3-2-3b-instruct-v1:0",
            "claude-3-haiku", "anthropic.claude-3-haiku-20240307-v1:0",
            "titan-text-express", "amazon.titan-text-express-v1",
            "nova-micro", "us.amazon.nova-micro-v1:0",
            "cohere-rerank-3-5", "cohere.rerank-v3-5:0",
            "amazon-rerank", "amazon.rerank-v1:0");

    /** Built-in on-demand prices (USD per 1k tokens, a reranker's per 1k queries; us-east-1, as published when written; estimates only). */
    public static final Map<String, ModelPrice> DEFAULT_PRICES = Map.ofEntries(
            Map.entry("amazon.titan-embed-text-v2:0", new ModelPrice(0.00002, 0)),
            Map.entry("amazon.titan-embed-text-v1", new ModelPrice(0.0001, 0)),
            Map.entry("cohere.embed-english-v3", new ModelPrice(0.0001, 0)),
            Map.entry("cohere.embed-multilingual-v3", new ModelPrice(0.0001, 0)),
            Map.entry("meta.llama3-2-3b-instruct-v1:0", new ModelPrice(0.00015, 0.00015)),
            Map.entry("meta.llama3-2-1b-instruct-v1:0", new ModelPrice(0.0001, 0.0001)),
            Map.entry("anthropic.claude-3-haiku-20240307-v1:0", new ModelPrice(0.00025, 0.00125)),
            Map.entry("amazon.titan-text-express-v1", new ModelPrice(0.0002, 0.0006)),
            Map.entry("amazon.nova-micro-v1:0", new ModelPrice(0.000035, 0.00014)),
            Map.entry("amazon.nova-lite-v1:0", new ModelPrice(0.00006, 0.00024)),
            Map.entry("cohere.rerank-v3-5:0", ModelPrice.perThousandQueries(2.00)),
            Map.entry("amazon.rerank-v1:0", ModelPrice.perThousandQueries(1.00)));

    public static final long DEFAULT_CACHE_MB = 256;
    public static final int DEFAULT_MODEL_MAX_CONCURRENCY = 64;
    /** Twice Titan Text Embeddings v2's 50,000-character limit: anything longer is a mistake, not a document. */
    public static final int DEFAULT_MAX_INPUT_CHARS = 100_000;

    /** The defaults, as if the file had no {@code [models]} table. */
    public static final ModelsConfig DEFAULT = new ModelsConfig(LOCAL_EMBEDDING, LOCAL_EXTRACTIVE, DEFAULT_ALIASES, Map.of(),
            DEFAULT_PRICES, BedrockSettings.DEFAULT, DEFAULT_CACHE_MB * 1024 * 1024, InvocationSettings.DEFAULT,
            DEFAULT_MODEL_MAX_CONCURRENCY, ModelPolicy.DEFAULT, DEFAULT_MAX_INPUT_CHARS, DEFAULT_RERANKING);

    private static final Set<String> KNOWN_KEYS = Set.of("default_embedding", "default_text", "default_reranking",
            "cache_mb",
            "model_max_concurrency", "max_input_chars", "invocation", "bedrock", "aliases", "model", "prices",
            "allow_any_model_id", "rag_max_calls_ceiling", "rag_concurrency_ceiling");

    /** A configuration whose default reranking model is the local one. */
    public ModelsConfig(String defaultEmbedding, String defaultText, Map<String, String> aliases,
            Map<String, ModelConfig> models, Map<String, ModelPrice> prices, BedrockSettings bedrock, long cacheBytes,
            InvocationSettings invocation, int modelMaxConcurrency, ModelPolicy policy, int maxInputChars) {
        this(defaultEmbedding, defaultText, aliases, models, prices, bedrock, cacheBytes, invocation,
                modelMaxConcurrency, policy, maxInputChars, DEFAULT_RERANKING);
    }

    public ModelsConfig {
        java.util.Objects.requireNonNull(defaultReranking, "defaultReranking");
        aliases = Collections.unmodifiableMap(new LinkedHashMap<>(aliases));
        models = Map.copyOf(models);
        prices = Map.copyOf(prices);
        if (modelMaxConcurrency < 1) {
            throw new IllegalArgumentException("[models] model_max_concurrency must be >= 1");
        }
        if (maxInputChars < 0) {
            throw new IllegalArgumentException("[models] max_input_chars must be >= 0 (0 = no limit)");
        }
        if (cacheBytes < 0) {
            throw new IllegalArgumentException("[models] cache_mb must be >= 0");
        }
        java.util.Objects.requireNonNull(policy, "policy");
        if (invocation.maxConcurrency() > policy.concurrencyCeiling()) {
            throw new IllegalArgumentException("[models.invocation] max_concurrency = " + invocation.maxConcurrency()
                    + " is above [models] rag_concurrency_ceiling = " + policy.concurrencyCeiling());
        }
    }

    /**
     * Reads the configuration from a parsed TOML document: either the whole document (the {@code models} table is
     * taken from it) or the {@code models} table itself. Null or missing sections give the defaults.
     *
     * @throws IllegalArgumentException naming the bad key
     */
    public static ModelsConfig fromJson(JsonNode root) {
        if (root == null || root.isNull() || root.isMissingNode()) {
            return DEFAULT;
        }
        JsonNode m;
        if (root.has("models") && root.get("models").isObject()) {
            m = root.get("models");
        } else {
            // The models table itself, or a whole document without one (then: defaults).
            boolean anyKnown = false;
            for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
                anyKnown |= KNOWN_KEYS.contains(it.next());
            }
            if (!anyKnown) {
                return DEFAULT;
            }
            m = root;
        }
        for (Iterator<String> it = m.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KNOWN_KEYS.contains(k)) {
                throw new IllegalArgumentException("unknown key '" + k + "' in [models]; known: " + String.join(", ", new java.util.TreeSet<>(KNOWN_KEYS)));
            }
        }
        Map<String, String> aliases = new LinkedHashMap<>(DEFAULT_ALIASES);
        for (Map.Entry<String, JsonNode> e : m.path("aliases").properties()) {
            if (!e.getValue().isTextual() || e.getValue().asText().isBlank()) {
                throw new IllegalArgumentException("[models.aliases] " + e.getKey() + " must be a model id string");
            }
            aliases.put(e.getKey(), e.getValue().asText().trim());
        }
        Map<String, ModelConfig> models = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : m.path("model").properties()) {
            String id = aliases.getOrDefault(e.getKey(), e.getKey());
            models.put(id, ModelConfig.fromJson("models.model.\"" + e.getKey() + "\"", e.getValue()));
        }
        Map<String, ModelPrice> prices = new LinkedHashMap<>(DEFAULT_PRICES);
        for (Map.Entry<String, JsonNode> e : m.path("prices").properties()) {
            JsonNode v = e.getValue();
            String id = BedrockModelIds.baseModelId(aliases.getOrDefault(e.getKey(), e.getKey()));
            if (v.isObject()) {
                prices.put(id, new ModelPrice(v.path("input").asDouble(0), v.path("output").asDouble(0),
                        v.path("per_1k_queries").asDouble(0)));
            } else if (v.isArray() && v.size() == 2) {
                prices.put(id, new ModelPrice(v.get(0).asDouble(), v.get(1).asDouble()));
            } else {
                throw new IllegalArgumentException("[models.prices] \"" + e.getKey() + "\" must be { input = USD_PER_1K, output = USD_PER_1K }"
                        + " (a reranker: { per_1k_queries = USD })");
            }
        }
        // A per-model price overrides the price table.
        models.forEach((id, mc) -> {
            if (mc.price() != null) {
                prices.put(BedrockModelIds.baseModelId(id), mc.price());
            }
        });
        JsonNode b = m.path("bedrock");
        String endpoint = text(b, "endpoint_override");
        BedrockSettings bedrock = new BedrockSettings(text(b, "region"),
                endpoint == null ? null : parseUri(endpoint),
                b.path("max_connections").asInt(BedrockSettings.DEFAULT.maxConnections()),
                Duration.ofMillis(b.path("connect_timeout_ms").asLong(BedrockSettings.DEFAULT.connectTimeout().toMillis())),
                Duration.ofMillis(b.path("read_timeout_ms").asLong(BedrockSettings.DEFAULT.readTimeout().toMillis())));
        InvocationSettings inv = InvocationSettings.fromJson(m.get("invocation"), InvocationSettings.DEFAULT);
        String defEmbed = text(m, "default_embedding");
        String defText = text(m, "default_text");
        return new ModelsConfig(defEmbed == null ? LOCAL_EMBEDDING : defEmbed, defText == null ? LOCAL_EXTRACTIVE : defText,
                aliases, models, prices, bedrock, m.path("cache_mb").asLong(DEFAULT_CACHE_MB) * 1024 * 1024, inv,
                m.path("model_max_concurrency").asInt(DEFAULT_MODEL_MAX_CONCURRENCY),
                new ModelPolicy(m.path("allow_any_model_id").asBoolean(ModelPolicy.DEFAULT.allowAnyModelId()),
                        m.path("rag_max_calls_ceiling").asInt(ModelPolicy.DEFAULT.maxCallsCeiling()),
                        m.path("rag_concurrency_ceiling").asInt(ModelPolicy.DEFAULT.concurrencyCeiling())),
                m.path("max_input_chars").asInt(DEFAULT_MAX_INPUT_CHARS),
                text(m, "default_reranking") == null ? DEFAULT_RERANKING : text(m, "default_reranking"));
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() || v.asText().isBlank() ? null : v.asText().trim();
    }

    private static URI parseUri(String s) {
        try {
            URI u = URI.create(s);
            if (u.getScheme() == null || u.getHost() == null) {
                throw new IllegalArgumentException("no scheme or host");
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[models.bedrock] endpoint_override must be a URL like http://127.0.0.1:8599, got '" + s + "'");
        }
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** The settings of {@code modelId}, {@link ModelConfig#NONE} when it has none. */
    public ModelConfig model(String modelId) {
        return models.getOrDefault(modelId, ModelConfig.NONE);
    }

    /** The price of {@code modelId} (inference-profile prefix ignored), {@link ModelPrice#FREE} when unknown. */
    public ModelPrice price(String modelId) {
        return prices.getOrDefault(BedrockModelIds.baseModelId(modelId), ModelPrice.FREE);
    }

    public ModelsConfig withBedrock(BedrockSettings b) {
        return new ModelsConfig(defaultEmbedding, defaultText, aliases, models, prices, b, cacheBytes, invocation, modelMaxConcurrency, policy, maxInputChars, defaultReranking);
    }

    public ModelsConfig withDefaults(String embedding, String text) {
        return new ModelsConfig(embedding, text, aliases, models, prices, bedrock, cacheBytes, invocation, modelMaxConcurrency, policy, maxInputChars, defaultReranking);
    }

    public ModelsConfig withMaxInputChars(int chars) {
        return new ModelsConfig(defaultEmbedding, defaultText, aliases, models, prices, bedrock, cacheBytes, invocation,
                modelMaxConcurrency, policy, chars, defaultReranking);
    }

    public ModelsConfig withPolicy(ModelPolicy p) {
        return new ModelsConfig(defaultEmbedding, defaultText, aliases, models, prices, bedrock, cacheBytes, invocation,
                modelMaxConcurrency, p, maxInputChars, defaultReranking);
    }

    /**
     * Whether {@code modelId} is configured: a default model, an alias target or a {@code [models.model."…"]} table,
     * compared without an inference-profile prefix ({@code us.}, an ARN), or a local model.
     */
    public boolean isConfigured(String modelId) {
        if (modelId.startsWith("local:")) {
            return true;
        }
        String base = BedrockModelIds.baseModelId(modelId);
        java.util.function.Predicate<String> same = id -> id != null
                && BedrockModelIds.baseModelId(aliases.getOrDefault(id, id)).equals(base);
        return same.test(defaultEmbedding) || same.test(defaultText) || same.test(defaultReranking)
                || aliases.values().stream().anyMatch(same)
                || models.keySet().stream().anyMatch(same);
    }

    public ModelsConfig withInvocation(InvocationSettings s) {
        return new ModelsConfig(defaultEmbedding, defaultText, aliases, models, prices, bedrock, cacheBytes, s, modelMaxConcurrency, policy, maxInputChars, defaultReranking);
    }
}
