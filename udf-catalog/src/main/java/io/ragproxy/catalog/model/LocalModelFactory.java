package io.ragproxy.catalog.model;

/**
 * Creates the local, offline models. The model registry depends on this interface only, so it does not
 * need the ONNX runtime on its compile path; {@code io.ragproxy.catalog.local.LocalModels} implements it and
 * the proxy passes {@code new LocalModels()} to the registry.
 *
 * <p>Each method is called at most once per registry, on first use of the model, and may be slow (it may
 * load model weights). The registry closes returned models that implement {@link AutoCloseable}.
 */
public interface LocalModelFactory {

    /** The local sentence embedding model ({@code local:all-minilm-l6-v2}, 384 dimensions). */
    EmbeddingModel embedding();

    /**
     * The local extractive text model ({@code local:extractive}): answers by returning the context sentences
     * closest to the question under {@code embedder}.
     */
    TextModel extractive(EmbeddingModel embedder);
}
