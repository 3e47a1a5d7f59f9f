package io.ragproxy.catalog.local;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The synchronous core of {@link LocalEmbeddingModel}: an all-MiniLM-L6-v2 ONNX model ({@link MiniLmWeights})
 * and its WordPiece tokenizer, both read from the classpath resources of the langchain4j artifact that ships
 * them, and one {@link OrtSession#run} per batch.
 *
 * <p>Not a public API: {@link LocalEmbeddingModel} owns one instance and calls it from its inference threads
 * (its runners), concurrently when it has several: ONNX Runtime sessions and the HuggingFace tokenizer are
 * thread-safe, and two single-thread runs side by side use two cores better than one run split over both.
 */
final class MiniLmEncoder implements AutoCloseable {

    /** Width of the model's hidden state, and so of every sentence vector. */
    static final int DIMENSIONS = 384;

    private final MiniLmWeights weights;
    private final OrtEnvironment environment;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean needsTokenTypeIds;
    private final int maxTokens;

    /**
     * Loads model and tokenizer.
     *
     * @param weights        which build of the model
     * @param intraOpThreads threads ONNX Runtime may use inside one {@code run} (the machine's cores is right
     *                       when runs are serialized, as {@link LocalEmbeddingModel} does)
     */
    MiniLmEncoder(MiniLmWeights weights, int intraOpThreads) {
        this.weights = weights;
        // ORT's environment is a process-wide singleton by ORT's own design; we only borrow it.
        this.environment = OrtEnvironment.getEnvironment();
        HuggingFaceTokenizer tok = null;
        OrtSession sess = null;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(Math.max(1, intraOpThreads));
            // One graph, run sequentially: inter-op parallelism only adds scheduling noise for a 6-layer BERT.
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // Same input batch -> same bits: callers cache vectors by text, so they must not wobble.
            options.setDeterministicCompute(true);
            // No busy-waiting between runs: the proxy's event loops share these cores, and spinning ORT threads
            // would steal them while the model is idle.
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            sess = environment.createSession(readResource(weights.modelResource(), weights), options);
            // Padding is ours (to the longest text of each batch); truncation stays as the shipped
            // tokenizer.json configures it, so long texts are cut exactly where langchain4j cuts them.
            try (InputStream in = resource(weights.tokenizerResource(), weights)) {
                tok = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false"));
            }
            this.needsTokenTypeIds = sess.getInputNames().contains("token_type_ids");
            Set<String> inputs = sess.getInputNames();
            if (!inputs.contains("input_ids") || !inputs.contains("attention_mask")) {
                throw new IllegalStateException("unexpected ONNX model inputs " + inputs);
            }
        } catch (OrtException | IOException | RuntimeException e) {
            closeQuietly(tok, sess);
            throw new IllegalStateException("cannot load the local embedding model: " + e.getMessage(), e);
        }
        this.session = sess;
        this.tokenizer = tok;
        int configured = tok.getMaxLength();
        // The tokenizer truncates when configured to; if a future artifact ships without truncation we still
        // must not exceed BERT's 512 position embeddings.
        this.maxTokens = configured > 0 ? Math.min(configured, 512) : 512;
    }

    /** Maximum word pieces per text, [CLS] and [SEP] included; longer texts are truncated. */
    int maxTokens() {
        return maxTokens;
    }

    /** The weights this encoder runs. */
    MiniLmWeights weights() {
        return weights;
    }

    /**
     * The result of one batch, in input order: the vectors, the word pieces the model read for each text, and
     * the positions of the run's input tensors (texts × longest text), padding included.
     */
    record Batch(float[][] vectors, int[] tokens, long paddedPositions) {
    }

    /** {@link #encode(List, boolean[])} with the same {@code normalize} for every text. */
    Batch encode(List<String> texts, boolean normalize) throws OrtException {
        boolean[] each = new boolean[texts.size()];
        java.util.Arrays.fill(each, normalize);
        return encode(texts, each);
    }

    /**
     * Encodes all {@code texts} with a single {@link OrtSession#run}: tensors of shape
     * {@code [texts.size(), longest]}, shorter texts padded with id 0 and mask 0 (so attention never looks at
     * padding), then mean pooling over each text's own positions only.
     *
     * @param normalize per text, whether to scale its vector to unit L2 norm
     */
    Batch encode(List<String> texts, boolean[] normalize) throws OrtException {
        int batch = texts.size();
        if (batch == 0) {
            return new Batch(new float[0][], new int[0], 0);
        }
        Encoding[] encodings = tokenizer.batchEncode(texts);
        int seq = 0;
        for (Encoding e : encodings) {
            seq = Math.max(seq, Math.min(e.getIds().length, maxTokens));
        }
        long[] ids = new long[batch * seq];
        long[] mask = new long[batch * seq];
        long[] types = new long[batch * seq];
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            long[] tokIds = encodings[b].getIds();
            long[] tokTypes = encodings[b].getTypeIds();
            int len = Math.min(tokIds.length, seq);
            System.arraycopy(tokIds, 0, ids, b * seq, len);
            System.arraycopy(tokTypes, 0, types, b * seq, len);
            for (int t = 0; t < len; t++) {
                mask[b * seq + t] = 1;
            }
            lengths[b] = len;
        }
        long[] shape = {batch, seq};
        try (OnnxTensor idsT = OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), shape);
             OnnxTensor maskT = OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), shape);
             OnnxTensor typesT = OnnxTensor.createTensor(environment, LongBuffer.wrap(types), shape)) {
            Map<String, OnnxTensor> inputs = new HashMap<>(4);
            inputs.put("input_ids", idsT);
            inputs.put("attention_mask", maskT);
            if (needsTokenTypeIds) {
                inputs.put("token_type_ids", typesT);
            }
            try (OrtSession.Result result = session.run(inputs)) {
                // Output 0 is last_hidden_state [batch, seq, 384]; read it flat, without boxing into float[][][].
                FloatBuffer hidden = ((OnnxTensor) result.get(0)).getFloatBuffer();
                return new Batch(pool(hidden, lengths, seq, normalize), lengths, (long) batch * seq);
            }
        }
    }

    /**
     * Masked mean pooling. Padding sits at the end of each row, so the mask of row b is exactly its first
     * {@code lengths[b]} positions. Sums run in double and in a fixed order, so the result depends only on
     * the hidden states.
     */
    private static float[][] pool(FloatBuffer hidden, int[] lengths, int seq, boolean[] normalize) {
        float[][] out = new float[lengths.length][];
        double[] acc = new double[DIMENSIONS];
        for (int b = 0; b < lengths.length; b++) {
            java.util.Arrays.fill(acc, 0);
            int base = b * seq * DIMENSIONS;
            for (int t = 0; t < lengths[b]; t++) {
                int off = base + t * DIMENSIONS;
                for (int d = 0; d < DIMENSIONS; d++) {
                    acc[d] += hidden.get(off + d);
                }
            }
            double n = Math.max(1, lengths[b]);
            double norm = 0;
            for (int d = 0; d < DIMENSIONS; d++) {
                acc[d] /= n;
                norm += acc[d] * acc[d];
            }
            double scale = normalize[b] && norm > 0 ? 1.0 / Math.sqrt(norm) : 1.0;
            float[] v = new float[DIMENSIONS];
            for (int d = 0; d < DIMENSIONS; d++) {
                v[d] = (float) (acc[d] * scale);
            }
            out[b] = v;
        }
        return out;
    }

    /** Word pieces the model would read for {@code text}, [CLS] and [SEP] included, after truncation. */
    int countTokens(String text) {
        return Math.min(tokenizer.encode(text).getIds().length, maxTokens);
    }

    @Override
    public void close() {
        closeQuietly(tokenizer, session);
    }

    private static void closeQuietly(HuggingFaceTokenizer tok, OrtSession sess) {
        if (tok != null) {
            tok.close();
        }
        if (sess != null) {
            try {
                sess.close();
            } catch (OrtException ignored) {
                // Nothing useful to do: the process keeps running without the native session either way.
            }
        }
    }

    static InputStream resource(String name, MiniLmWeights weights) throws IOException {
        InputStream in = MiniLmEncoder.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException("resource " + name + " not on the classpath (it ships in " + weights.artifact() + ")");
        }
        return in;
    }

    private static byte[] readResource(String name, MiniLmWeights weights) {
        try (InputStream in = resource(name, weights)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
