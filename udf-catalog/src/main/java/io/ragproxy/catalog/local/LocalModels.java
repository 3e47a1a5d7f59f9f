package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.LocalModelFactory;
import io.ragproxy.catalog.model.TextModel;

/**
 * The local, offline models: one {@link LocalEmbeddingModel} per instance (created on first use; its weights
 * load on its first call) and {@link ExtractiveTextModel}s over any embedding model. The proxy passes
 * {@code new LocalModels()} to the model registry; closing it frees the embedding model.
 */
public final class LocalModels implements LocalModelFactory, AutoCloseable {

    /**
     * Batch size of the embedding model the proxy uses: one text per ONNX run. The shipped int8 model quantizes
     * activations dynamically with one scale per batch, so a text's vector would depend (by up to 0.02 per
     * component) on the other texts of its run; the proxy caches vectors by text, so it must get the same vector for
     * the same text every time. This costs little: int8 runs of one text embed about as many sentences per
     * CPU-second as runs of up to 64, and more than the fp32 build's batch-independent runs at any batch size
     * (docs/performance.md, "Local embeddings by batch size").
     */
    public static final int DETERMINISTIC_BATCH_SIZE = 1;

    /**
     * ONNX runs in progress at once, each with one intra-op thread: the proxy sends a statement's texts as concurrent
     * single-text calls, and two single-text runs side by side use two cores better than one run split over both
     * (ONNX Runtime's threads synchronize after every operator, and a one-text run has little to split).
     */
    public static final int RUNNERS = Math.max(1, Runtime.getRuntime().availableProcessors());

    private final MiniLmWeights weights;
    private final int maxBatchSize;
    private final int intraOpThreads;
    private final int runners;
    private LocalEmbeddingModel embedding; // guarded by this
    private boolean closed; // guarded by this

    /** Local models as the proxy runs them: int8, one text per run, {@link #RUNNERS} runs at once of one thread each. */
    public LocalModels() {
        this(MiniLmWeights.INT8, DETERMINISTIC_BATCH_SIZE, 1, RUNNERS);
    }

    /** Local models whose embedding model uses the given batch size and ONNX intra-op threads, one run at a time. */
    public LocalModels(int maxBatchSize, int intraOpThreads) {
        this(MiniLmWeights.INT8, maxBatchSize, intraOpThreads, 1);
    }

    /** Local models whose embedding model runs {@code weights} with the given batch size, threads and runners. */
    public LocalModels(MiniLmWeights weights, int maxBatchSize, int intraOpThreads, int runners) {
        this.weights = weights;
        this.maxBatchSize = maxBatchSize;
        this.intraOpThreads = intraOpThreads;
        this.runners = runners;
    }

    /** The one {@link LocalEmbeddingModel} of this factory, created on first call. */
    @Override
    public synchronized LocalEmbeddingModel embedding() {
        if (closed) {
            throw new IllegalStateException("LocalModels is closed");
        }
        if (embedding == null) {
            embedding = new LocalEmbeddingModel(weights, maxBatchSize, intraOpThreads, runners);
        }
        return embedding;
    }

    /** An extractive model ranking with {@code embedder}, or with this factory's embedding model when null. */
    @Override
    public TextModel extractive(EmbeddingModel embedder) {
        return new ExtractiveTextModel(embedder != null ? embedder : embedding());
    }

    @Override
    public void close() {
        LocalEmbeddingModel e;
        synchronized (this) {
            closed = true;
            e = embedding;
            embedding = null;
        }
        if (e != null) {
            e.close();
        }
    }
}
