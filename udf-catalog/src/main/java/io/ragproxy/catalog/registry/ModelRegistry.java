package io.ragproxy.catalog.registry;

import io.ragproxy.catalog.bedrock.BedrockClientFactory;
import io.ragproxy.catalog.bedrock.BedrockModelIds;
import io.ragproxy.catalog.bedrock.BedrockRawModel;
import io.ragproxy.catalog.bedrock.BedrockRerankModel;
import io.ragproxy.catalog.bedrock.BedrockSettings;
import io.ragproxy.catalog.bedrock.CohereEmbeddingModel;
import io.ragproxy.catalog.bedrock.ConverseTextModel;
import io.ragproxy.catalog.bedrock.TitanEmbeddingModel;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.LocalModelFactory;
import io.ragproxy.catalog.local.EmbeddingSimilarityReranker;
import io.ragproxy.catalog.model.RawModel;
import io.ragproxy.catalog.model.RerankingModel;
import io.ragproxy.catalog.model.TextModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.bedrockagentruntime.BedrockAgentRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.model.ListAsyncInvokesRequest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Resolves model names to models: a configured alias ({@code titan-v2}), a Bedrock model id or inference
 * profile ({@code amazon.titan-embed-text-v2:0}, {@code us.meta.llama3-2-3b-instruct-v1:0}, an ARN), or a local
 * model ({@code local:all-minilm-l6-v2}, {@code local:extractive}, {@code local:minilm-cosine}). Null or blank means
 * the default model of the kind asked for.
 *
 * <p>Models are created on first use and kept for the registry's life; the Bedrock client is created only when
 * the first Bedrock model is used, so the offline defaults never touch AWS configuration; the Bedrock Agent Runtime
 * client the rerankers call is made the same way, on the first Bedrock reranker's use. {@link #reconfigure} swaps
 * the configuration while calls run (a reload on SIGHUP): aliases, defaults, per-model settings, prices, the policy
 * and the input limit; the Bedrock connection settings stay those of the start. Thread-safe.
 * {@link #close()} closes the Bedrock client (if this registry created it) and local models that are closeable.
 */
public final class ModelRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    /** Replaced as a whole by {@link #reconfigure}; each lookup reads it once. */
    private volatile ModelsConfig config;
    private final LocalModelFactory local;
    private final Supplier<BedrockRuntimeAsyncClient> clientSupplier;
    private final boolean ownsClient;
    private volatile BedrockRuntimeAsyncClient client;
    /** Makes the Agent Runtime client (Rerank API) from the runtime client's region, endpoint and credentials. */
    private final java.util.function.Function<BedrockRuntimeAsyncClient, BedrockAgentRuntimeAsyncClient> agentClients;
    private volatile BedrockAgentRuntimeAsyncClient agentClient;
    private boolean closed; // guarded by this: no client is built after close()

    private final Map<String, EmbeddingModel> embeddingModels = new ConcurrentHashMap<>();
    private final Map<String, TextModel> textModels = new ConcurrentHashMap<>();
    private final Map<String, RawModel> rawModels = new ConcurrentHashMap<>();
    private final Map<String, RerankingModel> rerankingModels = new ConcurrentHashMap<>();
    /** Ids of models added with {@code register}, kept across {@link #reconfigure}. */
    private final java.util.Set<String> registered = ConcurrentHashMap.newKeySet();

    /**
     * A registry that creates its own Bedrock client from {@code config.bedrock()} (credentials from the AWS
     * default provider chain) on first use, and closes it.
     *
     * @param local the local models' factory ({@code new LocalModels()}); null when local models are unavailable
     */
    public ModelRegistry(ModelsConfig config, LocalModelFactory local) {
        this(config, local, () -> BedrockClientFactory.create(config.bedrock()), true,
                runtime -> BedrockClientFactory.createAgent(config.bedrock(), null));
    }

    /**
     * A registry that uses the given Bedrock client, which the caller keeps and closes (tests pass one aimed
     * at the emulator). The rerankers' Agent Runtime client, which this registry makes and closes, takes that
     * client's region, endpoint override and credentials.
     */
    public ModelRegistry(ModelsConfig config, LocalModelFactory local, BedrockRuntimeAsyncClient bedrockClient) {
        this(config, local, () -> bedrockClient, false, ModelRegistry::agentClientLike);
    }

    private ModelRegistry(ModelsConfig config, LocalModelFactory local, Supplier<BedrockRuntimeAsyncClient> clients, boolean owns,
                          java.util.function.Function<BedrockRuntimeAsyncClient, BedrockAgentRuntimeAsyncClient> agentClients) {
        this.config = Objects.requireNonNull(config, "config");
        this.local = local;
        this.clientSupplier = clients;
        this.ownsClient = owns;
        this.agentClients = agentClients;
    }

    /** An Agent Runtime client aimed where {@code runtime} is: its region, endpoint override and credentials. */
    private static BedrockAgentRuntimeAsyncClient agentClientLike(BedrockRuntimeAsyncClient runtime) {
        var c = runtime.serviceClientConfiguration();
        BedrockSettings settings = BedrockSettings.DEFAULT.withEndpointOverride(c.endpointOverride().orElse(null))
                .withRegion(c.region() == null ? null : c.region().id());
        AwsCredentialsProvider credentials = c.credentialsProvider() instanceof AwsCredentialsProvider p ? p : null;
        return BedrockClientFactory.createAgent(settings, credentials);
    }

    public ModelsConfig config() {
        return config;
    }

    /**
     * Takes {@code next} as the configuration from now on: aliases, default models, per-model settings, prices, the
     * policy and the input limit apply to the next lookup and the next call's cost; calls under way finish as they
     * started. {@code next}'s Bedrock settings are not used: the Bedrock client, once built, stays as it is. Bedrock
     * models resolved so far are resolved again on their next use, so a model the new configuration no longer names is
     * refused as unknown; local models and registered ones are kept (they do not depend on the configuration).
     */
    public void reconfigure(ModelsConfig next) {
        config = Objects.requireNonNull(next, "next");
        java.util.function.Predicate<String> rebuilt = id -> !id.startsWith("local:") && !registered.contains(id);
        embeddingModels.keySet().removeIf(rebuilt);
        textModels.keySet().removeIf(rebuilt);
        rawModels.keySet().removeIf(rebuilt);
        rerankingModels.keySet().removeIf(rebuilt);
    }

    /**
     * Adds a model under its {@link EmbeddingModel#id()} (tests use small fakes; the proxy could add others).
     * It takes precedence over the built-in resolution of that id.
     */
    public ModelRegistry register(EmbeddingModel model) {
        registered.add(model.id());
        embeddingModels.put(model.id(), model);
        return this;
    }

    /** Adds a text model under its id, like {@link #register(EmbeddingModel)}. */
    public ModelRegistry register(TextModel model) {
        registered.add(model.id());
        textModels.put(model.id(), model);
        return this;
    }

    /** The canonical id for a name: the alias target, or the name itself. Null/blank is not allowed here. */
    public String canonicalId(String name) {
        String n = name.trim();
        String target = config.aliases().get(n);
        return target != null ? target : n;
    }

    /** The id of the embedding model {@code name} (null = default) resolves to. */
    public String embeddingModelId(String name) {
        return canonicalId(name == null || name.isBlank() ? config.defaultEmbedding() : name);
    }

    /** The id of the text model {@code name} (null = default) resolves to. */
    public String textModelId(String name) {
        return canonicalId(name == null || name.isBlank() ? config.defaultText() : name);
    }

    /**
     * The embedding model named {@code name} (alias, id, {@code local:…}; null = default).
     *
     * @throws UnknownModelException if it is unknown or not an embedding model
     */
    public EmbeddingModel embeddingModel(String name) {
        String id = embeddingModelId(name);
        EmbeddingModel m = embeddingModels.get(id);
        if (m != null) {
            return m;
        }
        return embeddingModels.computeIfAbsent(id, k -> createEmbedding(name, k));
    }

    /**
     * The text model named {@code name} (null = default).
     *
     * @throws UnknownModelException if it is unknown or not a text model
     */
    public TextModel textModel(String name) {
        String id = textModelId(name);
        TextModel m = textModels.get(id);
        if (m != null) {
            return m;
        }
        return textModels.computeIfAbsent(id, k -> createText(name, k));
    }

    /**
     * A Bedrock model called with raw bodies (alias functions). Any Bedrock id is accepted, embedding or text.
     *
     * @throws UnknownModelException if {@code modelId} is not a Bedrock model id or alias of one
     */
    public RawModel rawModel(String modelId) {
        String id = canonicalId(Objects.requireNonNull(modelId, "modelId"));
        if (!BedrockModelIds.looksLikeBedrockId(id)) {
            throw new UnknownModelException(modelId, "'" + modelId + "' is not a Bedrock model id; AWS_BEDROCK_INVOKE_MODEL "
                    + "functions need one, e.g. anthropic.claude-3-haiku-20240307-v1:0");
        }
        requireConfigured(modelId, id);
        return rawModels.computeIfAbsent(id, k -> new BedrockRawModel(bedrock(), k));
    }

    /** The id of the reranking model {@code name} (null or blank = {@code [models] default_reranking}) resolves to. */
    public String rerankingModelId(String name) {
        return canonicalId(name == null || name.isBlank() ? config.defaultReranking() : name);
    }

    /**
     * The reranking model named {@code name} (alias, Bedrock id, {@code local:minilm-cosine}; null = the configured
     * default, {@code [models] default_reranking}).
     *
     * @throws UnknownModelException if it is unknown or not a reranking model
     */
    public RerankingModel rerankingModel(String name) {
        String id = rerankingModelId(name);
        RerankingModel m = rerankingModels.get(id);
        if (m != null) {
            return m;
        }
        return rerankingModels.computeIfAbsent(id, k -> createReranking(name, k));
    }

    /** The configured default options of a model (by id), merged under each request's own options. */
    public EmbedOptions embedDefaults(String modelId) {
        return config.model(modelId).embedDefaults();
    }

    public GenerateOptions generateDefaults(String modelId) {
        return config.model(modelId).generateDefaults();
    }

    /** The price of a model (by id). */
    public ModelPrice price(String modelId) {
        return config.price(modelId);
    }

    /** The most calls in flight for a model (by id) across all requests. */
    public int maxConcurrency(String modelId) {
        Integer c = config.model(modelId).maxConcurrency();
        return c != null ? c : config.modelMaxConcurrency();
    }

    /** The configured batch size cap for a model (by id), or null. */
    public Integer batchSize(String modelId) {
        return config.model(modelId).batchSize();
    }

    private EmbeddingModel createEmbedding(String asked, String id) {
        if (id.startsWith("local:")) {
            if (id.equals(ModelsConfig.LOCAL_EMBEDDING)) {
                return localFactory(asked).embedding();
            }
            if (id.equals(ModelsConfig.LOCAL_EXTRACTIVE)) {
                throw wrongKind(asked, id, "text", "EMBED");
            }
            if (id.equals(ModelsConfig.LOCAL_RERANK)) {
                throw new UnknownModelException(asked, "model '" + asked + "' is a reranking model; EMBED needs an"
                        + " embedding model, e.g. " + ModelsConfig.LOCAL_EMBEDDING);
            }
            throw unknown(asked);
        }
        if (BedrockModelIds.looksLikeBedrockId(id)) {
            requireConfigured(asked, id);
            TitanEmbeddingModel.Version v = TitanEmbeddingModel.versionOf(id);
            if (v != null) {
                return new TitanEmbeddingModel(bedrock(), id, v);
            }
            if (CohereEmbeddingModel.isCohereEmbed(id)) {
                return new CohereEmbeddingModel(bedrock(), id);
            }
            if ("embedding".equals(config.model(id).kind())) {
                throw new UnknownModelException(asked, "model '" + id + "' is configured as an embedding model, but ragproxy "
                        + "knows only the Titan Text Embeddings (v1, v2) and Cohere Embed v3 request formats");
            }
            if (BedrockRerankModel.isRerank(id)) {
                throw new UnknownModelException(asked, "model '" + asked + "' is a reranking model; use it with"
                        + " RERANK_SCORE(query, text, model) or a knowledge base's reranking_model");
            }
            if (BedrockModelIds.isEmbedding(id)) {
                throw new UnknownModelException(asked, "embedding model '" + id + "' is not supported; use Titan Text "
                        + "Embeddings (amazon.titan-embed-text-v2:0, v1) or Cohere Embed v3 (cohere.embed-english-v3, "
                        + "cohere.embed-multilingual-v3)");
            }
            throw wrongKind(asked, id, "text", "EMBED");
        }
        throw unknown(asked);
    }

    private RerankingModel createReranking(String asked, String id) {
        String shown = asked == null || asked.isBlank() ? id : asked;
        if (id.equals(ModelsConfig.LOCAL_RERANK)) {
            return new EmbeddingSimilarityReranker(id, embeddingModel(ModelsConfig.LOCAL_EMBEDDING));
        }
        if (BedrockModelIds.looksLikeBedrockId(id) && BedrockRerankModel.isRerank(id)) {
            requireConfigured(shown, id);
            return new BedrockRerankModel(agentBedrock(), id);
        }
        if (id.startsWith("local:") && !id.equals(ModelsConfig.LOCAL_EMBEDDING) && !id.equals(ModelsConfig.LOCAL_EXTRACTIVE)) {
            throw unknown(shown);
        }
        if (!id.startsWith("local:") && !BedrockModelIds.looksLikeBedrockId(id)) {
            throw unknown(shown);
        }
        throw new UnknownModelException(shown, "model '" + shown + "' is " + (kindOf(id).equals("embedding") ? "an embedding"
                : "a text") + " model; RERANK_SCORE and reranking_model need a reranking model: "
                + ModelsConfig.LOCAL_RERANK + " (local), cohere.rerank-v3-5:0 or amazon.rerank-v1:0 (Bedrock)");
    }

    private TextModel createText(String asked, String id) {
        if (id.startsWith("local:")) {
            if (id.equals(ModelsConfig.LOCAL_EXTRACTIVE)) {
                return localFactory(asked).extractive(embeddingModel(ModelsConfig.LOCAL_EMBEDDING));
            }
            if (id.equals(ModelsConfig.LOCAL_EMBEDDING)) {
                throw wrongKind(asked, id, "embedding", "GENERATE");
            }
            if (id.equals(ModelsConfig.LOCAL_RERANK)) {
                throw new UnknownModelException(asked, "model '" + asked + "' is a reranking model; GENERATE needs a"
                        + " text model, e.g. " + ModelsConfig.LOCAL_EXTRACTIVE);
            }
            throw unknown(asked);
        }
        if (BedrockModelIds.looksLikeBedrockId(id)) {
            requireConfigured(asked, id);
            if (BedrockModelIds.isEmbedding(id) || "embedding".equals(config.model(id).kind())) {
                throw wrongKind(asked, id, "embedding", "GENERATE");
            }
            if (BedrockRerankModel.isRerank(id)) {
                throw new UnknownModelException(asked, "model '" + asked + "' is a reranking model; use it with"
                        + " RERANK_SCORE(query, text, model) or a knowledge base's reranking_model");
            }
            return new ConverseTextModel(bedrock(), id);
        }
        throw unknown(asked);
    }

    private LocalModelFactory localFactory(String asked) {
        if (local == null) {
            throw new UnknownModelException(asked, "local models are not available in this build; configure a Bedrock "
                    + "model ([models] default_embedding / default_text) instead");
        }
        return local;
    }

    /**
     * Whether a default model or a {@code [models.model."…"]} table names a Bedrock model, so that the proxy will call
     * Bedrock (aliases alone do not count: the built-in ones name Bedrock models the offline defaults never call).
     */
    public boolean usesBedrock() {
        return isBedrock(config.defaultEmbedding()) || isBedrock(config.defaultText())
                || config.models().keySet().stream().anyMatch(this::isBedrock);
    }

    /** Whether {@code name} (a model id or an alias) names a Bedrock model. */
    private boolean isBedrock(String name) {
        String id = name == null ? null : config.aliases().getOrDefault(name, name);
        return id != null && !id.isBlank() && !id.startsWith("local:");
    }

    /**
     * Readies Bedrock calls on a background thread, when {@link #usesBedrock()}, so that the first statement's model
     * call spends its {@code rag_inference_timeout_ms} on the call, not on about 2 s of SDK warm-up:
     * <ul>
     *   <li>runs the default embedding and text models' whole call path (body, marshalling, unmarshalling, parsing)
     *       once on a client that sends nothing ({@link BedrockClientFactory#createCanned}), so no model is called;</li>
     *   <li>then builds the Bedrock client (the SDK's classes, region, credential chain, HTTP client) and sends one free,
     *       read-only request (ListAsyncInvokes, one result), which opens a pooled connection and runs signing and the
     *       JSON protocol; its answer is ignored (an account without that permission gets 403, which warms as well).</li>
     * </ul>
     * An endpoint that cannot be reached is left for the first call to report.
     *
     * @return completes when the warm-up is over (never exceptionally); at once when Bedrock is not used
     */
    public CompletableFuture<Void> warmUp() {
        if (!usesBedrock()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            long started = System.nanoTime();
            try (BedrockRuntimeAsyncClient canned = BedrockClientFactory.createCanned(config.bedrock())) {
                ModelRegistry offline = new ModelRegistry(config, null, canned);
                if (isBedrock(config.defaultEmbedding())) {
                    quietly(() -> offline.embeddingModel(config.defaultEmbedding()).embed(List.of("warm-up"),
                            embedDefaults(canonicalId(config.defaultEmbedding()))));
                }
                if (isBedrock(config.defaultText())) {
                    quietly(() -> offline.textModel(config.defaultText()).generate("warm-up",
                            generateDefaults(canonicalId(config.defaultText()))));
                }
            } catch (RuntimeException e) {
                LOG.debug("Bedrock warm-up of the models' call path failed: {}", e.toString());
            }
            CompletableFuture<?> listed; // last, so that its arrival tells the endpoint the warm-up is over
            try {
                listed = bedrock().listAsyncInvokes(ListAsyncInvokesRequest.builder().maxResults(1).build());
            } catch (RuntimeException e) {
                listed = CompletableFuture.failedFuture(e);
            }
            listed.handle((r, e) -> {
                LOG.debug("Bedrock client warmed up in {} ms ({})", (System.nanoTime() - started) / 1_000_000,
                        e == null ? "listed async invocations" : e.toString());
                return done.complete(null);
            });
        }, "ragproxy-bedrock-warm-up");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /** Waits for {@code call}'s outcome, whatever it is: a warm-up step. */
    private static void quietly(Supplier<CompletableFuture<?>> call) {
        try {
            call.get().handle((r, e) -> null).join();
        } catch (RuntimeException e) {
            LOG.debug("Bedrock warm-up step failed: {}", e.toString());
        }
    }

    private BedrockAgentRuntimeAsyncClient agentBedrock() {
        BedrockAgentRuntimeAsyncClient c = agentClient;
        if (c == null) {
            BedrockRuntimeAsyncClient runtime = bedrock();
            synchronized (this) {
                c = agentClient;
                if (closed) {
                    throw new IllegalStateException("the model registry is closed");
                }
                if (c == null) {
                    c = agentClients.apply(runtime);
                    agentClient = c;
                }
            }
        }
        return c;
    }

    private BedrockRuntimeAsyncClient bedrock() {
        BedrockRuntimeAsyncClient c = client;
        if (c == null) {
            synchronized (this) {
                c = client;
                if (closed) {
                    throw new IllegalStateException("the model registry is closed");
                }
                if (c == null) {
                    c = clientSupplier.get();
                    client = c;
                }
            }
        }
        return c;
    }

    /**
     * Refuses a Bedrock model id that is not configured, unless {@code [models] allow_any_model_id} is on: a session
     * names only the models the operator chose to pay for.
     */
    private void requireConfigured(String asked, String id) {
        if (!config.policy().allowAnyModelId() && !config.isConfigured(id)) {
            throw new UnknownModelException(asked, "model '" + (asked == null ? id : asked) + "' is not configured;"
                    + " ragproxy calls only configured models: " + configuredList() + ". An administrator can add it"
                    + " under [models.aliases] or [models.model.\"" + id + "\"] in ragproxy.toml (or set [models]"
                    + " allow_any_model_id = true)");
        }
    }

    private UnknownModelException unknown(String asked) {
        return new UnknownModelException(asked, "unknown model '" + asked + "'; configured models: " + configuredList()
                + "; or name a Bedrock model id such as amazon.titan-embed-text-v2:0");
    }

    private UnknownModelException wrongKind(String asked, String id, String isKind, String function) {
        String need = isKind.equals("text") ? "an embedding" : "a text";
        return new UnknownModelException(asked, "model '" + asked + "'" + (asked != null && !asked.equals(id) ? " (" + id + ")" : "")
                + " is " + (isKind.equals("text") ? "a text" : "an embedding") + " model; " + function + " needs " + need
                + " model, e.g. " + describe().stream()
                .filter(d -> d.kind().equals(isKind.equals("text") ? "embedding" : "text"))
                .map(ModelDescription::name).limit(4).toList());
    }

    private String configuredList() {
        List<String> parts = new ArrayList<>();
        for (ModelDescription d : describe()) {
            parts.add(d.name() + (d.name().equals(d.modelId()) ? "" : " (" + d.modelId() + ")"));
        }
        return String.join(", ", parts);
    }

    /** One row per known model (defaults, alias targets, configured and created models), defaults first. */
    public List<ModelDescription> describe() {
        Map<String, List<String>> aliasesOf = new LinkedHashMap<>();
        config.aliases().forEach((a, id) -> aliasesOf.computeIfAbsent(id, k -> new ArrayList<>()).add(a));
        String defEmbed = canonicalId(config.defaultEmbedding());
        String defText = canonicalId(config.defaultText());
        String defRerank = canonicalId(config.defaultReranking());
        Set<String> ids = new LinkedHashSet<>();
        ids.add(defEmbed);
        ids.add(defText);
        ids.add(defRerank);
        ids.addAll(aliasesOf.keySet());
        ids.addAll(config.models().keySet());
        ids.addAll(embeddingModels.keySet());
        ids.addAll(textModels.keySet());
        ids.addAll(rerankingModels.keySet());
        List<ModelDescription> rows = new ArrayList<>();
        for (String id : ids) {
            String kind = kindOf(id);
            String provider = id.startsWith("local:") ? "local" : "bedrock";
            Integer dims = kind.equals("embedding") ? dimensionsOf(id) : null;
            List<String> aliases = aliasesOf.getOrDefault(id, List.of());
            String name = aliases.isEmpty() ? id : aliases.get(0);
            boolean isDefault = id.equals(switch (kind) {
                case "embedding" -> defEmbed;
                case "reranking" -> defRerank;
                default -> defText;
            });
            rows.add(new ModelDescription(name, kind, provider, id, dims, aliases, isDefault, price(id)));
        }
        return rows;
    }

    private String kindOf(String id) {
        if (embeddingModels.containsKey(id)) {
            return "embedding";
        }
        if (textModels.containsKey(id)) {
            return "text";
        }
        if (rerankingModels.containsKey(id) || id.equals(ModelsConfig.LOCAL_RERANK) || BedrockRerankModel.isRerank(id)) {
            return "reranking";
        }
        String k = config.model(id).kind();
        if (k != null) {
            return k;
        }
        if (id.equals(ModelsConfig.LOCAL_EMBEDDING) || BedrockModelIds.isEmbedding(id)) {
            return "embedding";
        }
        return "text";
    }

    private Integer dimensionsOf(String id) {
        EmbedOptions defaults = embedDefaults(id);
        EmbeddingModel m = embeddingModels.get(id);
        if (m != null) {
            return m.dimensions(defaults);
        }
        if (id.equals(ModelsConfig.LOCAL_EMBEDDING)) {
            return ModelsConfig.LOCAL_EMBEDDING_DIMENSIONS;
        }
        TitanEmbeddingModel.Version v = TitanEmbeddingModel.versionOf(id);
        if (v == TitanEmbeddingModel.Version.V1) {
            return 1536;
        }
        if (v == TitanEmbeddingModel.Version.V2) {
            return defaults.dimensions() != null ? defaults.dimensions() : 1024;
        }
        if (CohereEmbeddingModel.isCohereEmbed(id)) {
            return CohereEmbeddingModel.DIMENSIONS;
        }
        return defaults.dimensions();
    }

    @Override
    public void close() {
        for (Object m : new ArrayList<Object>(embeddingModels.values())) {
            closeQuietly(m);
        }
        for (Object m : new ArrayList<Object>(textModels.values())) {
            closeQuietly(m);
        }
        BedrockRuntimeAsyncClient c;
        BedrockAgentRuntimeAsyncClient agent;
        synchronized (this) {
            closed = true;
            c = client;
            agent = agentClient;
        }
        if (ownsClient && c != null) {
            c.close();
        }
        if (agent != null) {
            agent.close(); // always this registry's own
        }
    }

    private static void closeQuietly(Object o) {
        if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing at shutdown: nothing useful to do with a failure
            }
        }
    }
}
