package io.ragproxy.catalog.invoke;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.ModelException.Kind;
import io.ragproxy.catalog.model.RawModel;
import io.ragproxy.catalog.model.RerankingModel;
import io.ragproxy.catalog.model.Rerankings;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.model.Usage;
import io.ragproxy.catalog.registry.ModelPrice;
import io.ragproxy.catalog.registry.ModelRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The invocation policy: the one place every model call goes through. It adds, around the models' single calls,
 * <ul>
 *   <li>the result cache with in-flight de-duplication ({@link ResultCache}): a thousand identical inputs cost
 *       one call; failures are not cached;</li>
 *   <li>batching: the distinct uncached inputs of one request go out in batches of
 *       {@code min(model.maxBatchSize(), settings.batchSize, configured batch_size)};</li>
 *   <li>bounded concurrency: per request ({@link InvocationSettings#maxConcurrency()}, an {@link AsyncLimiter})
 *       and per model across all requests (an {@link AdaptiveLimiter}: {@code model_max_concurrency} until the
 *       model throttles, then halved per throttle and widened again by successes) — no thread ever blocks;</li>
 *   <li>inputs longer than {@code [models] max_input_chars} refused before any call ({@link InputTooLongException});</li>
 *   <li>the caller's {@link CallGate}, when it has one, asked before each attempt is sent (after its permits, and after
 *       the usage of the attempts that released them was counted): a refused call is not sent and fails with
 *       {@link Kind#REFUSED} (a statement's budget ran out);</li>
 *   <li>retries with exponential backoff and full jitter (permits are given back while waiting): on THROTTLED for
 *       up to {@link InvocationSettings#throttleWaitMs()} after the call's first throttle, each retry ahead of the
 *       calls queued behind it; on MODEL_NOT_READY, SERVER_ERROR, UNAVAILABLE and server-reported TIMEOUT up to
 *       {@link InvocationSettings#maxAttempts()} attempts;</li>
 *   <li>a per-attempt timeout ({@link InvocationSettings#timeoutMs()}) → {@link ModelException} TIMEOUT, not retried;</li>
 *   <li>cancellation: cancelling a returned future cancels queued and running calls (aborting their HTTP
 *       requests) and frees their permits;</li>
 *   <li>accounting in {@link InvocationCounters}, in total and per model, with costs from the price table, and
 *       again in the counters of the request's {@link Caller} (a session's); the cache is partitioned by
 *       {@link Caller#cachePartition()};</li>
 * </ul>
 *
 * <p>Every method returns at once with a future; model calls are started on a call executor (local models may
 * compute on the calling thread), and completions run on whichever thread completes the model's future. Futures
 * fail with {@link ModelException} (model failures), or {@code UnknownModelException} / IllegalArgumentException
 * (bad model names or options). Returned vectors are shared with the cache: treat them as read-only.
 * Thread-safe; one instance per proxy.
 */
public final class ModelInvoker implements AutoCloseable {

    private final ModelRegistry registry;
    private final ResultCache cache;
    private final InvocationSettings defaults;
    private final ScheduledExecutorService scheduler;
    private final Executor callExecutor;
    private final List<ExecutorService> owned = new ArrayList<>();
    private final InvocationListener listener;

    private final CounterSet global = new CounterSet();
    private final InvocationCounters total = global.total();
    private final Map<String, AdaptiveLimiter> modelLimiters = new ConcurrentHashMap<>();

    /**
     * An invoker with its own timer thread and call executor (closed by {@link #close()}).
     *
     * @param defaults the settings used when a call passes null settings
     */
    public ModelInvoker(ModelRegistry registry, ResultCache cache, InvocationSettings defaults) {
        this(registry, cache, defaults, null, null);
    }

    /**
     * An invoker using the given scheduler (timeouts, backoff) and call executor (starting model calls); null
     * for either creates a private one.
     */
    public ModelInvoker(ModelRegistry registry, ResultCache cache, InvocationSettings defaults,
                        ScheduledExecutorService scheduler, Executor callExecutor) {
        this(registry, cache, defaults, scheduler, callExecutor, InvocationListener.NONE);
    }

    /**
     * An invoker using the given scheduler and call executor (null for either creates a private one) that tells
     * {@code listener} about every attempt it sends.
     */
    public ModelInvoker(ModelRegistry registry, ResultCache cache, InvocationSettings defaults,
                        ScheduledExecutorService scheduler, Executor callExecutor, InvocationListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        if (scheduler == null) {
            ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(daemon("ragproxy-model-timer"));
            owned.add(s);
            scheduler = s;
        }
        if (callExecutor == null) {
            // Unbounded on purpose: the limiters bound how many calls run; local models may block a thread each.
            ExecutorService e = Executors.newCachedThreadPool(daemon("ragproxy-model-call"));
            owned.add(e);
            callExecutor = e;
        }
        this.scheduler = scheduler;
        this.callExecutor = callExecutor;
    }

    /** An invoker with a cache and defaults from the registry's configuration. */
    public static ModelInvoker create(ModelRegistry registry) {
        return create(registry, InvocationListener.NONE);
    }

    /** An invoker with a cache and defaults from the registry's configuration, telling {@code listener} of attempts. */
    public static ModelInvoker create(ModelRegistry registry, InvocationListener listener) {
        return new ModelInvoker(registry, new ResultCache(registry.config().cacheBytes()), registry.config().invocation(),
                null, null, listener);
    }

    public ModelRegistry registry() {
        return registry;
    }

    public ResultCache cache() {
        return cache;
    }

    /** The default settings (from {@code [models.invocation]}); the proxy derives session settings from them. */
    public InvocationSettings defaults() {
        return defaults;
    }

    // ------------------------------------------------------------------------------------------- embeddings

    /**
     * Embeds {@code texts} with {@code model} (alias, id or {@code local:…}; null = the default embedding model).
     * Null and empty strings give null entries and no model call; duplicates are embedded once; results are in
     * input order. {@code opts} (null = none) are merged over the model's configured defaults.
     */
    public CompletableFuture<List<float[]>> embedAll(String model, List<String> texts, EmbedOptions opts, InvocationSettings s) {
        return embedAll(model, texts, opts, s, null);
    }

    /**
     * {@link #embedAll(String, List, EmbedOptions, InvocationSettings)} whose calls take their permits from
     * {@code statementLimiter}, shared by every request of one statement (null: a limiter of this request's own,
     * {@code s.maxConcurrency()} wide). A plan that keeps several requests in flight, such as a backfill's next page,
     * passes one so that {@code rag_concurrency} bounds the statement, not each request. The caller owns a
     * shared limiter: it is not closed when this request fails, only this request's calls are cancelled.
     */
    public CompletableFuture<List<float[]>> embedAll(String model, List<String> texts, EmbedOptions opts, InvocationSettings s,
                                                     AsyncLimiter statementLimiter) {
        InvocationSettings settings = s == null ? defaults : s;
        EmbeddingModel m;
        EmbedOptions options;
        try {
            m = registry.embeddingModel(model);
            options = (opts == null ? EmbedOptions.DEFAULT : opts).orDefaults(registry.embedDefaults(m.id()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        String id = m.id();
        InputTooLongException tooLong = tooLong(id, texts);
        if (tooLong != null) {
            return CompletableFuture.failedFuture(tooLong);
        }

        // Distinct non-empty inputs, each with the positions it fills.
        Map<String, List<Integer>> positions = new LinkedHashMap<>();
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            if (t != null && !t.isEmpty()) {
                positions.computeIfAbsent(t, k -> new ArrayList<>()).add(i);
            }
        }
        Map<String, CompletableFuture<float[]>> futures = new LinkedHashMap<>();
        List<String> ownedTexts = new ArrayList<>();
        List<CompletableFuture<float[]>> ownedFutures = new ArrayList<>();
        List<ResultCache.Key> ownedKeys = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : positions.entrySet()) {
            ResultCache.Key key = new ResultCache.Key(ResultCache.Kind.EMBEDDING, id, options.cacheKey(), e.getKey(),
                    settings.caller().cachePartition());
            CompletableFuture<float[]> f = cache.getIfPresent(key);
            if (f == null) {
                CompletableFuture<float[]> mine = new CompletableFuture<>();
                f = cache.putIfAbsent(key, mine);
                if (f == null) {
                    f = mine;
                    ownedTexts.add(e.getKey());
                    ownedFutures.add(mine);
                    ownedKeys.add(key);
                }
            }
            boolean miss = f == (ownedFutures.isEmpty() ? null : ownedFutures.get(ownedFutures.size() - 1));
            add(id, settings.caller().counters(), miss ? 0 : 1, miss ? 1 : 0, e.getValue().size() - 1);
            futures.put(e.getKey(), f);
        }

        // Batch the inputs this request computes.
        int batch = Math.max(1, Math.min(m.maxBatchSize(), settings.batchSize()));
        Integer configured = registry.batchSize(id);
        if (configured != null) {
            batch = Math.min(batch, configured);
        }
        AsyncLimiter requestLimiter = statementLimiter != null ? statementLimiter : new AsyncLimiter(settings.maxConcurrency());
        List<CompletableFuture<Embeddings>> units = new ArrayList<>();
        for (int from = 0; from < ownedTexts.size(); from += batch) {
            int to = Math.min(ownedTexts.size(), from + batch);
            List<String> part = List.copyOf(ownedTexts.subList(from, to));
            List<CompletableFuture<float[]>> partFutures = ownedFutures.subList(from, to);
            List<ResultCache.Key> partKeys = ownedKeys.subList(from, to);
            CompletableFuture<Embeddings> unit = call(id, requestLimiter, settings, () -> m.embed(part, options), Embeddings::usage);
            units.add(unit);
            unit.whenComplete((emb, t) -> settle(id, emb == null ? null : emb.vectors(), t, "vectors", partFutures, partKeys));
        }

        CompletableFuture<List<float[]>> out = new CompletableFuture<>();
        out.whenComplete((r, t) -> {
            // Cancelled, or failed fast on one input: the request's other calls are no longer wanted. Queued ones
            // first, at once, so no permit a call frees while the others are being cancelled starts one of them.
            if (t != null) {
                if (statementLimiter == null) {
                    requestLimiter.close();
                }
                cancelAll(units);
            }
        });
        if (futures.isEmpty()) {
            out.complete(Arrays.asList(new float[texts.size()][]));
            return out;
        }
        AtomicInteger remaining = new AtomicInteger(futures.size());
        Map<String, float[]> results = new ConcurrentHashMap<>();
        java.util.Set<CompletableFuture<float[]>> ownedSet = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        ownedSet.addAll(ownedFutures);
        futures.forEach((text, f) -> {
            boolean joined = !ownedSet.contains(f);
            CompletableFuture<float[]> g = joined ? rejoinIfCancelled(f, out, () -> embedAll(model, List.of(text), opts, settings,
                    statementLimiter).thenApply(l -> l.get(0))) : f;
            g.whenComplete((v, t) -> {
                if (t != null) {
                    out.completeExceptionally(unwrap(t));
                    return;
                }
                results.put(text, v);
                if (remaining.decrementAndGet() == 0) {
                    List<float[]> list = new ArrayList<>(texts.size());
                    for (String tx : texts) {
                        list.add(tx == null || tx.isEmpty() ? null : results.get(tx));
                    }
                    out.complete(list);
                }
            });
        });
        return out;
    }

    /** One text; null or empty gives null without a call. See {@link #embedAll}. */
    public CompletableFuture<float[]> embed(String model, String text, EmbedOptions opts, InvocationSettings s) {
        return embedAll(model, java.util.Collections.singletonList(text), opts, s).thenApply(l -> l.get(0));
    }

    /** The vector length {@code model} (null = default) returns with {@code opts} merged over its defaults. */
    public int dimensions(String model, EmbedOptions opts) {
        EmbeddingModel m = registry.embeddingModel(model);
        return m.dimensions((opts == null ? EmbedOptions.DEFAULT : opts).orDefaults(registry.embedDefaults(m.id())));
    }

    // ------------------------------------------------------------------------------------------- generation

    /**
     * Generates text for {@code prompt} with {@code model} (null = the default text model); a null or empty
     * prompt gives null without a call. Results are cached by (model, options, prompt).
     */
    public CompletableFuture<String> generate(String model, String prompt, GenerateOptions opts, InvocationSettings s) {
        return generateAll(model, java.util.Collections.singletonList(prompt), opts, s).thenApply(l -> l.get(0));
    }

    /** {@link #generate} for many prompts, concurrently, de-duplicated, results in input order. */
    public CompletableFuture<List<String>> generateAll(String model, List<String> prompts, GenerateOptions opts, InvocationSettings s) {
        return generateAll(model, prompts, opts, s, null);
    }

    /**
     * {@link #generateAll(String, List, GenerateOptions, InvocationSettings)} with the statement's shared limiter
     * (null: one of this request's own); see {@link #embedAll(String, List, EmbedOptions, InvocationSettings,
     * AsyncLimiter)}.
     */
    public CompletableFuture<List<String>> generateAll(String model, List<String> prompts, GenerateOptions opts,
                                                       InvocationSettings s, AsyncLimiter statementLimiter) {
        InvocationSettings settings = s == null ? defaults : s;
        TextModel m;
        GenerateOptions options;
        try {
            m = registry.textModel(model);
            options = (opts == null ? GenerateOptions.DEFAULT : opts).orDefaults(registry.generateDefaults(m.id()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        String id = m.id();
        InputTooLongException tooLong = tooLong(id, prompts);
        if (tooLong != null) {
            return CompletableFuture.failedFuture(tooLong);
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String p : prompts) {
            if (p != null && !p.isEmpty()) {
                counts.merge(p, 1, Integer::sum);
            }
        }
        AsyncLimiter requestLimiter = statementLimiter != null ? statementLimiter : new AsyncLimiter(settings.maxConcurrency());
        List<CompletableFuture<Generation>> units = new ArrayList<>();
        Map<String, CompletableFuture<String>> futures = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            String prompt = e.getKey();
            ResultCache.Key key = new ResultCache.Key(ResultCache.Kind.GENERATION, id, options.cacheKey(), prompt,
                    settings.caller().cachePartition());
            CompletableFuture<String> f = cache.getIfPresent(key);
            boolean miss = false;
            if (f == null) {
                CompletableFuture<String> mine = new CompletableFuture<>();
                f = cache.putIfAbsent(key, mine);
                if (f == null) {
                    f = mine;
                    miss = true;
                    CompletableFuture<Generation> unit = call(id, requestLimiter, settings, () -> m.generate(prompt, options), Generation::usage);
                    units.add(unit);
                    unit.whenComplete((g, t) -> {
                        if (t == null) {
                            mine.complete(g.text());
                        } else {
                            cache.remove(key, mine); // before failing the waiters, as above
                            mine.completeExceptionally(toModelException(t, id));
                        }
                    });
                } else {
                    f = rejoinIfCancelled(f, null, () -> generateAll(model, List.of(prompt), opts, settings, statementLimiter)
                            .thenApply(l -> l.get(0)));
                }
            }
            add(id, settings.caller().counters(), miss ? 0 : 1, miss ? 1 : 0, e.getValue() - 1);
            futures.put(prompt, f);
        }
        CompletableFuture<List<String>> out = new CompletableFuture<>();
        out.whenComplete((r, t) -> {
            // Cancelled, or failed fast on one input: the request's other calls are no longer wanted. Queued ones
            // first, at once, so no permit a call frees while the others are being cancelled starts one of them.
            if (t != null) {
                if (statementLimiter == null) {
                    requestLimiter.close();
                }
                cancelAll(units);
            }
        });
        CompletableFuture.allOf(futures.values().toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
            if (t != null) {
                out.completeExceptionally(unwrap(t));
                return;
            }
            List<String> list = new ArrayList<>(prompts.size());
            for (String p : prompts) {
                list.add(p == null || p.isEmpty() ? null : futures.get(p).join());
            }
            out.complete(list);
        });
        // Fail fast: the first failure fails the request without waiting for the other prompts.
        futures.values().forEach(f -> f.whenComplete((v, t) -> {
            if (t != null) {
                out.completeExceptionally(unwrap(t));
            }
        }));
        return out;
    }

    // ------------------------------------------------------------------------------------------- reranking

    /**
     * Scores {@code texts} against {@code query} with the reranking model {@code model} (alias, id or
     * {@code local:minilm-cosine}; null = the configured default, {@code [models] default_reranking}): the distinct uncached texts go to the
     * model in batches of {@link #rerankBatchSize(String)}, each batch one request; scores are cached per (model,
     * query, text), with in-flight de-duplication. Null and empty texts, and every text of a null or empty query, give
     * null without a call. Results in input order; fails fast like {@link #embedAll}.
     */
    public CompletableFuture<List<Double>> rerankAll(String model, String query, List<String> texts, InvocationSettings s,
                                                     AsyncLimiter statementLimiter) {
        InvocationSettings settings = s == null ? defaults : s;
        RerankingModel m;
        try {
            m = registry.rerankingModel(model);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        String id = m.id();
        if (query == null || query.isEmpty()) {
            return CompletableFuture.completedFuture(Arrays.asList(new Double[texts.size()]));
        }
        List<String> inputs = new ArrayList<>(texts);
        inputs.add(query);
        InputTooLongException tooLong = tooLong(id, inputs);
        if (tooLong != null) {
            return CompletableFuture.failedFuture(tooLong);
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String t : texts) {
            if (t != null && !t.isEmpty()) {
                counts.merge(t, 1, Integer::sum);
            }
        }
        Map<String, CompletableFuture<Double>> futures = new LinkedHashMap<>();
        List<String> ownedTexts = new ArrayList<>();
        List<CompletableFuture<Double>> ownedFutures = new ArrayList<>();
        List<ResultCache.Key> ownedKeys = new ArrayList<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            // The query takes the options' place in the key: a score is the pair's.
            ResultCache.Key key = new ResultCache.Key(ResultCache.Kind.RERANK, id, query, e.getKey(),
                    settings.caller().cachePartition());
            CompletableFuture<Double> f = cache.getIfPresent(key);
            boolean miss = false;
            if (f == null) {
                CompletableFuture<Double> mine = new CompletableFuture<>();
                f = cache.putIfAbsent(key, mine);
                if (f == null) {
                    f = mine;
                    miss = true;
                    ownedTexts.add(e.getKey());
                    ownedFutures.add(mine);
                    ownedKeys.add(key);
                }
            }
            add(id, settings.caller().counters(), miss ? 0 : 1, miss ? 1 : 0, e.getValue() - 1);
            futures.put(e.getKey(), f);
        }
        int batch = rerankBatchSize(m);
        AsyncLimiter requestLimiter = statementLimiter != null ? statementLimiter : new AsyncLimiter(settings.maxConcurrency());
        List<CompletableFuture<Rerankings>> units = new ArrayList<>();
        for (int from = 0; from < ownedTexts.size(); from += batch) {
            int to = Math.min(ownedTexts.size(), from + batch);
            List<String> part = List.copyOf(ownedTexts.subList(from, to));
            List<CompletableFuture<Double>> partFutures = ownedFutures.subList(from, to);
            List<ResultCache.Key> partKeys = ownedKeys.subList(from, to);
            CompletableFuture<Rerankings> unit = call(id, requestLimiter, settings, () -> m.rerank(query, part), r -> Usage.NONE);
            units.add(unit);
            unit.whenComplete((r, t) -> settle(id, r == null ? null : r.scores(), t, "scores", partFutures, partKeys));
        }
        java.util.Set<CompletableFuture<Double>> ownedSet = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        ownedSet.addAll(ownedFutures);
        CompletableFuture<List<Double>> out = new CompletableFuture<>();
        out.whenComplete((r, t) -> {
            if (t != null) {
                if (statementLimiter == null) {
                    requestLimiter.close();
                }
                cancelAll(units);
            }
        });
        Map<String, CompletableFuture<Double>> joined = new LinkedHashMap<>();
        futures.forEach((text, f) -> joined.put(text, ownedSet.contains(f) ? f : rejoinIfCancelled(f, out,
                () -> rerankAll(model, query, List.of(text), settings, statementLimiter).thenApply(l -> l.get(0)))));
        CompletableFuture.allOf(joined.values().toArray(CompletableFuture[]::new)).whenComplete((v, t) -> {
            if (t != null) {
                out.completeExceptionally(unwrap(t));
                return;
            }
            List<Double> list = new ArrayList<>(texts.size());
            for (String tx : texts) {
                list.add(tx == null || tx.isEmpty() ? null : joined.get(tx).join());
            }
            out.complete(list);
        });
        joined.values().forEach(f -> f.whenComplete((v, t) -> {
            if (t != null) {
                out.completeExceptionally(unwrap(t));
            }
        }));
        return out;
    }

    /**
     * How many texts one reranking request of {@code model} carries: the model's limit (1,000 for Bedrock's Rerank
     * API), or the model's configured {@code batch_size} when lower. The session's {@code rag_batch_size} (sized for
     * embedding calls) does not apply: a reranker reads a query's candidates together.
     */
    public int rerankBatchSize(String model) {
        return rerankBatchSize(registry.rerankingModel(model));
    }

    private int rerankBatchSize(RerankingModel m) {
        int batch = Math.max(1, m.maxBatchSize());
        Integer configured = registry.batchSize(m.id());
        return configured != null ? Math.min(batch, configured) : batch;
    }

    // ------------------------------------------------------------------------------------------- raw

    /**
     * Sends a raw body to a Bedrock model (alias functions). Not cached: raw bodies often ask for sampled output
     * and the caller decides what a repeated call means. Retries, timeout, limits and accounting apply.
     */
    public CompletableFuture<byte[]> invokeRaw(String modelId, byte[] body, String contentType, String accept, InvocationSettings s) {
        return invokeRaw(modelId, body, contentType, accept, s, null);
    }

    /**
     * {@link #invokeRaw(String, byte[], String, String, InvocationSettings)} under the statement's shared limiter
     * (null: a limiter of this call's own), so that a statement's many bodies stay within its
     * {@code rag_concurrency}.
     */
    public CompletableFuture<byte[]> invokeRaw(String modelId, byte[] body, String contentType, String accept,
                                               InvocationSettings s, AsyncLimiter statementLimiter) {
        InvocationSettings settings = s == null ? defaults : s;
        RawModel m;
        try {
            m = registry.rawModel(modelId);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        add(m.id(), settings.caller().counters(), 0, 1, 0);
        return call(m.id(), statementLimiter != null ? statementLimiter : new AsyncLimiter(settings.maxConcurrency()), settings,
                () -> m.invoke(body, contentType, accept), r -> Usage.NONE);
    }

    /** The refusal of the first input longer than {@code [models] max_input_chars}, or null when all fit. */
    private InputTooLongException tooLong(String modelId, List<String> inputs) {
        int limit = registry.config().maxInputChars();
        if (limit > 0) {
            for (String in : inputs) {
                if (in != null && in.length() > limit) {
                    return new InputTooLongException(modelId, in.length(), limit);
                }
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------- counters

    /** Counters over all models. */
    public InvocationCounters counters() {
        return total;
    }

    /** Counters of one model (by id); created empty on first use. */
    public InvocationCounters counters(String modelId) {
        return global.model(modelId);
    }

    /** Per-model counters, by model id, sorted. */
    public Map<String, InvocationCounters> countersByModel() {
        return global.byModel();
    }

    /**
     * {@code SHOW RAG STATUS}: the total counters ({@link InvocationCounters#snapshot()}) followed by
     * {@code Rag_ml_cache_entries} and {@code Rag_ml_cache_bytes}.
     */
    public Map<String, Number> snapshot() {
        Map<String, Number> m = total.snapshot();
        m.put("Rag_ml_cache_entries", cache.size());
        m.put("Rag_ml_cache_bytes", cache.weightedSize());
        return m;
    }

    /**
     * Per-model snapshots, by model id: {@link InvocationCounters#snapshot()} followed, for a model that was called,
     * by {@code Rag_ml_concurrency_limit}, its current adaptive limit ({@link #concurrencyLimit(String)}).
     */
    public Map<String, Map<String, Number>> snapshotByModel() {
        Map<String, Map<String, Number>> m = new TreeMap<>(global.snapshotByModel());
        m.forEach((k, snapshot) -> {
            AdaptiveLimiter limiter = modelLimiters.get(k);
            if (limiter != null) {
                snapshot.put("Rag_ml_concurrency_limit", limiter.limit());
            }
        });
        return m;
    }

    /** Counts cache hits and misses of model {@code modelId} globally and in the caller's counters (null: none). */
    private void add(String modelId, CounterSet caller, long hits, long misses, long duplicateHits) {
        for (CounterSet set : new CounterSet[] {global, caller}) {
            if (set != null) {
                for (InvocationCounters c : new InvocationCounters[] {set.total(), set.model(modelId)}) {
                    c.cacheHits.add(hits + duplicateHits);
                    c.cacheMisses.add(misses);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------- the policy

    /**
     * Runs one model call under the policy: permits (request, then model), a timeout per attempt, retries with
     * backoff, accounting. Cancelling the returned future cancels whatever stage is pending.
     */
    private <T> CompletableFuture<T> call(String modelId, AsyncLimiter requestLimiter, InvocationSettings s,
                                          Supplier<CompletableFuture<T>> call, Function<T, Usage> usageOf) {
        PolicyCall<T> c = new PolicyCall<>(modelId, requestLimiter, modelLimiter(modelId), s, call, usageOf);
        c.start(false);
        return c.result;
    }

    private AdaptiveLimiter modelLimiter(String modelId) {
        return modelLimiters.computeIfAbsent(modelId, id -> new AdaptiveLimiter(registry.maxConcurrency(id)));
    }

    /**
     * The current concurrency limit of {@code modelId} across all requests: {@code model_max_concurrency} (or the
     * model's own) until the model throttles, then adapted (see {@link AdaptiveLimiter}).
     */
    public int concurrencyLimit(String modelId) {
        return modelLimiter(modelId).limit();
    }

    private final class PolicyCall<T> {
        /**
         * The call's outcome. Cancelling it once the model answered does nothing: the answer, paid for, is delivered
         * (to the cache, and to the requests sharing it) a moment later.
         */
        final CompletableFuture<T> result = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                return !answered && super.cancel(mayInterruptIfRunning);
            }
        };
        /** Set once an attempt succeeded, before its permits go back. */
        volatile boolean answered;
        final String modelId;
        final AsyncLimiter requestLimiter;
        final AdaptiveLimiter modelLimiter;
        final InvocationSettings s;
        final Supplier<CompletableFuture<T>> call;
        final Function<T, Usage> usageOf;
        final InvocationCounters mc;
        /** The caller's own counters, or null. */
        final InvocationCounters sc;
        /** The caller's own counters of this model, or null. */
        final InvocationCounters smc;
        /** The stage to cancel when the caller cancels: a permit wait, an attempt, or a backoff timer. */
        volatile Future<?> pending;
        // Touched by one stage at a time (each stage starts the next), so plain fields published by the futures.
        /** Failed attempts other than throttles: bounded by maxAttempts. */
        int failures;
        /** Throttled attempts: they spend time (throttleWaitMs from the first), not attempts. */
        int throttles;
        long firstThrottleNanos;

        PolicyCall(String modelId, AsyncLimiter requestLimiter, AdaptiveLimiter modelLimiter, InvocationSettings s,
                   Supplier<CompletableFuture<T>> call, Function<T, Usage> usageOf) {
            this.modelId = modelId;
            this.requestLimiter = requestLimiter;
            this.modelLimiter = modelLimiter;
            this.s = s;
            this.call = call;
            this.usageOf = usageOf;
            this.mc = counters(modelId);
            CounterSet caller = s.caller().counters();
            this.sc = caller == null ? null : caller.total();
            this.smc = caller == null ? null : caller.model(modelId);
            result.whenComplete((r, t) -> {
                if (result.isCancelled()) {
                    each(c -> c.cancelled.increment());
                    Future<?> p = pending;
                    if (p != null) {
                        p.cancel(true);
                    }
                }
            });
        }

        /** Sets the pending stage, cancelling it at once if the call was cancelled meanwhile. */
        private void pending(Future<?> f) {
            pending = f;
            if (result.isDone()) {
                f.cancel(true);
            }
        }

        /** Counts in the model's, the total and the caller's counters. */
        private void each(java.util.function.Consumer<InvocationCounters> count) {
            count.accept(mc);
            count.accept(total);
            if (sc != null) {
                count.accept(sc);
                count.accept(smc);
            }
        }

        /** Takes the permits and runs an attempt; a retry after a throttle goes ahead of the calls queued behind it. */
        void start(boolean afterThrottle) {
            if (result.isDone()) {
                return;
            }
            CompletableFuture<AsyncLimiter.Permit> a1 = afterThrottle ? requestLimiter.acquireFirst() : requestLimiter.acquire();
            pending(a1);
            a1.whenComplete((p1, t1) -> {
                if (t1 != null) {
                    return;
                }
                if (result.isDone()) {
                    p1.release();
                    return;
                }
                CompletableFuture<AdaptiveLimiter.Permit> a2 = afterThrottle ? modelLimiter.acquireFirst() : modelLimiter.acquire();
                pending(a2);
                a2.whenComplete((p2, t2) -> {
                    if (t2 != null) {
                        p1.release();
                        return;
                    }
                    if (result.isDone()) {
                        p2.release(AdaptiveLimiter.Outcome.IGNORED);
                        p1.release();
                        return;
                    }
                    attempt(outcome -> {
                        p2.release(outcome);
                        p1.release();
                    });
                });
            });
        }

        private void attempt(java.util.function.Consumer<AdaptiveLimiter.Outcome> releasePermits) {
            CallGate gate = s.caller().gate();
            if (gate != null) {
                RuntimeException refusal;
                try {
                    refusal = gate.refusal(modelId);
                } catch (RuntimeException e) {
                    refusal = e;
                }
                if (refusal != null) {
                    each(c -> c.errors.increment());
                    // Failed before the permits go back: the request then cancels its queued calls, which would
                    // otherwise take the permits one by one only to be refused in turn.
                    result.completeExceptionally(new ModelException(Kind.REFUSED, modelId, "model '" + modelId
                            + "' was not called: " + refusal.getMessage(), refusal));
                    releasePermits.accept(AdaptiveLimiter.Outcome.IGNORED);
                    return;
                }
            }
            each(c -> c.requests.increment());
            CompletableFuture<T> attemptF = new CompletableFuture<>();
            AtomicReference<CompletableFuture<T>> modelF = new AtomicReference<>();
            ModelException localTimeout = new ModelException(Kind.TIMEOUT, modelId, "model '" + modelId + "' did not answer within "
                    + s.timeoutMs() + " ms; raise the limit with SET rag_inference_timeout_ms = <ms>, or send smaller batches");
            ScheduledFuture<?> timer = scheduler.schedule(() -> attemptF.completeExceptionally(localTimeout), s.timeoutMs(), TimeUnit.MILLISECONDS);
            long started = System.nanoTime();
            attemptF.whenComplete((r, t) -> {
                timer.cancel(false);
                InvocationListener.Outcome outcome = outcome(t);
                listener.attemptEnded(modelId, outcome, System.nanoTime() - started);
                if (t == null) {
                    // Before the permits go back: the next call's gate sees what this one cost, and should it refuse
                    // that call (which cancels the other calls of its request), this answered one is not cancelled.
                    countUsage(r);
                    answered = true;
                }
                releasePermits.accept(switch (outcome) {
                    case OK -> AdaptiveLimiter.Outcome.SUCCESS;
                    case THROTTLED -> AdaptiveLimiter.Outcome.THROTTLED;
                    default -> AdaptiveLimiter.Outcome.IGNORED;
                });
                CompletableFuture<T> mf = modelF.get();
                if (t != null && mf != null) {
                    mf.cancel(true); // abort the HTTP request of a timed-out or cancelled attempt
                }
                if (t == null) {
                    result.complete(r);
                } else {
                    finish(t, t == localTimeout);
                }
            });
            pending(attemptF);
            try {
                callExecutor.execute(() -> {
                    if (attemptF.isDone()) {
                        return;
                    }
                    CompletableFuture<T> f;
                    try {
                        f = Objects.requireNonNull(call.get(), "model returned a null future");
                    } catch (Throwable e) {
                        attemptF.completeExceptionally(e);
                        return;
                    }
                    modelF.set(f);
                    f.whenComplete((r, t) -> {
                        if (t != null) {
                            attemptF.completeExceptionally(t);
                        } else {
                            attemptF.complete(r);
                        }
                    });
                    if (attemptF.isDone()) {
                        f.cancel(true);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                attemptF.completeExceptionally(new ModelException(Kind.UNAVAILABLE, modelId, "the proxy is shutting down", e));
            }
        }

        private InvocationListener.Outcome outcome(Throwable t) {
            if (t == null) {
                return InvocationListener.Outcome.OK;
            }
            if (result.isCancelled()) {
                return InvocationListener.Outcome.CANCELLED;
            }
            return switch (toModelException(t, modelId).kind()) {
                case THROTTLED -> InvocationListener.Outcome.THROTTLED;
                case TIMEOUT -> InvocationListener.Outcome.TIMEOUT;
                case CANCELLED -> InvocationListener.Outcome.CANCELLED;
                default -> InvocationListener.Outcome.ERROR;
            };
        }

        /** Counts a successful attempt's response, tokens and cost. */
        private void countUsage(T r) {
            each(c -> c.responses.increment());
            Usage u = r == null ? Usage.NONE : usageOf.apply(r);
            if (u != null && u != Usage.NONE) {
                each(c -> c.inputTokens.add(u.inputTokens()));
                each(c -> c.outputTokens.add(u.outputTokens()));
                ModelPrice price = registry.price(modelId);
                double cost = price.cost(u.inputTokens(), u.outputTokens());
                each(c -> c.costUsd.add(cost));
            }
            if (r instanceof Rerankings rk && rk.billedQueries() > 0) {
                double cost = registry.price(modelId).queryCost(rk.billedQueries());
                each(c -> c.costUsd.add(cost));
            }
        }

        /** After a failed attempt: a retry, or the call's failure. */
        private void finish(Throwable t, boolean timedOutLocally) {
            if (result.isDone()) {
                return; // cancelled by the caller
            }
            ModelException me = toModelException(t, modelId);
            if (me.kind() == Kind.TIMEOUT) {
                each(c -> c.timeouts.increment());
            }
            if (me.kind() == Kind.THROTTLED) {
                each(c -> c.throttles.increment());
                long now = System.nanoTime();
                if (throttles++ == 0) {
                    firstThrottleNanos = now;
                }
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(now - firstThrottleNanos);
                long leftMs = s.throttleWaitMs() - waitedMs;
                if (leftMs > 0 && retryAfter(Math.min(leftMs, backoff(throttles)), true)) {
                    return;
                }
                me = new ModelException(Kind.THROTTLED, modelId, "model '" + modelId + "' was still throttled after "
                        + waitedMs + " ms of retrying (" + throttles + (throttles == 1 ? " throttled attempt" : " throttled attempts")
                        + "; rag_throttle_wait_ms = " + s.throttleWaitMs() + "): " + me.getMessage(), me);
            } else if (!timedOutLocally && me.retryable() && ++failures < s.maxAttempts()
                    && retryAfter(backoff(failures), false)) {
                return;
            }
            each(c -> c.errors.increment());
            result.completeExceptionally(me);
        }

        /** Exponential backoff with full jitter: random(0, min(max, base * 2^(n-1))) for the n-th retry. */
        private long backoff(int n) {
            long cap = Math.min(s.backoffMaxMs(), s.backoffBaseMs() << Math.min(n - 1, 30));
            return cap <= 0 ? 0 : ThreadLocalRandom.current().nextLong(cap + 1);
        }

        /** Schedules the next attempt; false when the proxy is shutting down. */
        private boolean retryAfter(long delayMs, boolean afterThrottle) {
            each(c -> c.retries.increment());
            try {
                pending(scheduler.schedule(() -> start(afterThrottle), delayMs, TimeUnit.MILLISECONDS));
                return true;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return false;
            }
        }
    }

    /**
     * A future joined from another request: if that request is cancelled (and so is its call), compute the value
     * again for this one instead of failing it.
     */
    private static <V> CompletableFuture<V> rejoinIfCancelled(CompletableFuture<V> shared, CompletableFuture<?> owner,
                                                              Supplier<CompletableFuture<V>> again) {
        return shared.exceptionallyCompose(t -> {
            ModelException me = ModelException.find(t);
            boolean cancelled = unwrap(t) instanceof CancellationException || (me != null && me.kind() == Kind.CANCELLED);
            if (cancelled && (owner == null || !owner.isDone())) {
                return again.get();
            }
            return CompletableFuture.failedFuture(unwrap(t));
        });
    }

    /**
     * Cancels a request's calls, newest first: the oldest hold the permits, and cancelling them first would
     * hand their permits to queued calls of the same request that are about to be cancelled anyway.
     */
    private static void cancelAll(List<? extends CompletableFuture<?>> units) {
        for (int i = units.size() - 1; i >= 0; i--) {
            units.get(i).cancel(true);
        }
    }

    /**
     * Settles one request's waiters: each gets its result in order; when the request failed or answered a count that
     * does not match, every key is evicted before any waiter fails, so a retry right after the error (even one started
     * by the first waiter's failure, while the others are still to fail) calls the model again.
     */
    private <T> void settle(String id, List<T> results, Throwable error, String noun, List<CompletableFuture<T>> waiters,
            List<ResultCache.Key> keys) {
        Throwable t = error;
        if (t == null && results.size() != waiters.size()) {
            t = new ModelException(Kind.BAD_RESPONSE, id, "model '" + id + "' returned " + results.size() + " " + noun
                    + " for " + waiters.size() + " texts");
        }
        if (t == null) {
            for (int i = 0; i < waiters.size(); i++) {
                waiters.get(i).complete(results.get(i));
            }
            return;
        }
        for (int i = 0; i < waiters.size(); i++) {
            cache.remove(keys.get(i), waiters.get(i));
        }
        ModelException failure = toModelException(t, id);
        for (int i = 0; i < waiters.size(); i++) {
            waiters.get(i).completeExceptionally(failure);
        }
    }

    private static ModelException toModelException(Throwable t, String modelId) {
        Throwable c = unwrap(t);
        ModelException me = ModelException.find(c);
        if (me != null) {
            return me;
        }
        if (c instanceof CancellationException) {
            return new ModelException(Kind.CANCELLED, modelId, "call to model '" + modelId + "' was cancelled", c);
        }
        return new ModelException(Kind.BAD_RESPONSE, modelId, "model '" + modelId + "' failed: " + c, c);
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Stops the private timer and call threads; pending calls fail. Models and the registry are not closed. */
    @Override
    public void close() {
        owned.forEach(ExecutorService::shutdownNow);
    }
}
