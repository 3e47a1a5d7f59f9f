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

    private final int maxBatchSize;
    private final int intraOpThreads;
    private LocalEmbeddingModel embedding; // guarded by this
    private boolean closed; // guarded by this

    /**
     * Local models as the proxy runs them: fp32 all-MiniLM-L6-v2, whose vectors do not depend on their batch, at most
     * {@link LocalEmbeddingModel#DEFAULT_MAX_BATCH_SIZE} texts per ONNX run (concurrent calls are merged up to that),
     * one ONNX thread per core.
     */
    public LocalModels() {
        this(LocalEmbeddingModel.DEFAULT_MAX_BATCH_SIZE, Runtime.getRuntime().availableProcessors());
    }

    /** Local models whose embedding model uses the given batch size and ONNX intra-op threads. */
    public LocalModels(int maxBatchSize, int intraOpThreads) {
        this.maxBatchSize = maxBatchSize;
        this.intraOpThreads = intraOpThreads;
    }

    /** The one {@link LocalEmbeddingModel} of this factory, created on first call. */
    @Override
    public synchronized LocalEmbeddingModel embedding() {
        if (closed) {
            throw new IllegalStateException("LocalModels is closed");
        }
        if (embedding == null) {
            embedding = new LocalEmbeddingModel(maxBatchSize, intraOpThreads);
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
