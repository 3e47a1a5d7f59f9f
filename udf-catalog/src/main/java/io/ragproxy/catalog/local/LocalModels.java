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
     * Batch size of the embedding model the proxy uses: one text per ONNX run. The shipped model is int8 with
     * dynamic quantization, whose scale is computed per batch, so a text's vector would depend (by about 1%) on
     * the other texts in its batch; the proxy caches vectors by text, so it must get the same bits for the same
     * text every time. Batching also bought no speed here (the quantized matmuls dominate and padding costs).
     */
    public static final int DETERMINISTIC_BATCH_SIZE = 1;

    /** Local models as the proxy runs them: deterministic single-text inference, one ONNX thread per core. */
    public LocalModels() {
        this(DETERMINISTIC_BATCH_SIZE, Runtime.getRuntime().availableProcessors());
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
