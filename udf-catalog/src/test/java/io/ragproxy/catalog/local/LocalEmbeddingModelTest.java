package io.ragproxy.catalog.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.ModelException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LocalEmbeddingModelTest {

    // One model for the class: loading it takes a second, and the tests only read from it.
    private static LocalEmbeddingModel model;

    private static final List<String> VARIED = List.of(
            Seeds.TIDB,
            Seeds.QUESTION,
            Seeds.SEED_001_SENTENCE,
            Seeds.TIDB_ZH,
            "I love pizza 🍕🍕 and databases 😀!",
            "Meta Llama 3 is a powerful model for text generation.",
            "word ".repeat(300) + "a text far longer than the model's window");

    @BeforeAll
    static void load() {
        model = new LocalEmbeddingModel();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static List<float[]> embed(List<String> texts) {
        return model.embed(texts, EmbedOptions.DEFAULT).join().vectors();
    }

    @Test
    void identity() {
        assertEquals("local:all-minilm-l6-v2", model.id());
        assertEquals(384, model.dimensions(EmbedOptions.DEFAULT));
        assertTrue(model.maxBatchSize() >= 32);
    }

    @Test
    void agreesWithLangchain4j() {
        AllMiniLmL6V2QuantizedEmbeddingModel reference = new AllMiniLmL6V2QuantizedEmbeddingModel();
        for (String text : VARIED) {
            float[] ours = embed(List.of(text)).get(0);
            float[] theirs = reference.embed(text).content().vector();
            double cos = Seeds.cosine(ours, theirs);
            assertTrue(cos > 0.999, "cosine " + cos + " for " + text);
        }
    }

    @Test
    void vectorsHave384DimensionsAndUnitNorm() {
        Embeddings e = model.embed(VARIED, EmbedOptions.DEFAULT).join();
        assertEquals(VARIED.size(), e.vectors().size());
        for (float[] v : e.vectors()) {
            assertEquals(384, v.length);
            double n = 0;
            for (float x : v) {
                n += x * x;
            }
            assertEquals(1.0, Math.sqrt(n), 1e-5);
        }
        assertTrue(e.usage().inputTokens() > VARIED.size() * 3L, "usage counts word pieces: " + e.usage());
        assertEquals(0, e.usage().outputTokens());
    }

    @Test
    void normalizeFalseKeepsTheRawMeanButTheSameDirection() {
        float[] raw = model.embed(List.of(Seeds.TIDB), EmbedOptions.DEFAULT.withNormalize(false)).join().vectors().get(0);
        float[] unit = embed(List.of(Seeds.TIDB)).get(0);
        double n = 0;
        for (float x : raw) {
            n += x * x;
        }
        assertTrue(Math.abs(Math.sqrt(n) - 1) > 1e-3, "raw mean is not unit length");
        assertTrue(Seeds.cosine(raw, unit) > 0.99999);
    }

    /**
     * Batched vectors are close to single ones but not equal: the shipped int8 model quantizes activations with
     * one scale per tensor, i.e. per batch (see LocalEmbeddingModel). Measured cosine is about 0.99.
     */
    @Test
    void batchResultsMatchSingleResults() {
        List<float[]> batch = embed(VARIED);
        double min = 1;
        for (int i = 0; i < VARIED.size(); i++) {
            min = Math.min(min, Seeds.cosine(batch.get(i), embed(List.of(VARIED.get(i))).get(0)));
        }
        System.out.println("min cosine batch vs single: " + min);
        assertTrue(min > 0.98, "batch vs single cosine " + min);
    }

    @Test
    void deterministic() {
        assertArrayEquals(embed(List.of(Seeds.TIDB)).get(0), embed(List.of(Seeds.TIDB)).get(0));
        List<float[]> a = embed(VARIED);
        List<float[]> b = embed(VARIED);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), "same batch, same bits, text " + i);
        }
        // A batch of one text repeated has the single text's quantization scales, hence its bits.
        float[] single = embed(List.of(Seeds.QUESTION)).get(0);
        for (float[] v : embed(Collections.nCopies(5, Seeds.QUESTION))) {
            assertArrayEquals(single, v);
        }
    }

    @Test
    void emptyBatch() {
        Embeddings e = model.embed(List.of(), EmbedOptions.DEFAULT).join();
        assertTrue(e.vectors().isEmpty());
    }

    @Test
    void rejectsBadInputsAsClientErrors() {
        assertClientError(List.of(" "), EmbedOptions.DEFAULT);
        assertClientError(List.of(Seeds.TIDB), EmbedOptions.DEFAULT.withDimensions(512));
        List<String> tooMany = new ArrayList<>(Collections.nCopies(model.maxBatchSize() + 1, "x"));
        assertClientError(tooMany, EmbedOptions.DEFAULT);
        // 384 asked explicitly is fine.
        assertEquals(384, model.embed(List.of("x"), EmbedOptions.DEFAULT.withDimensions(384)).join().vectors().get(0).length);
    }

    private static void assertClientError(List<String> texts, EmbedOptions options) {
        CompletionException e = assertThrows(CompletionException.class, () -> model.embed(texts, options).join());
        ModelException me = ModelException.find(e);
        assertEquals(ModelException.Kind.CLIENT_ERROR, me.kind());
    }

    @Test
    void theTidbSentenceIsNearestToWhatIsTidb() {
        assertNearest(Seeds.QUESTION, Seeds.CONTENTS, 0);
        // all-MiniLM-L6-v2 is an English model: on Chinese its scores are close together and the order is not
        // asserted (ExtractiveTextModel adds lexical overlap for that); printed for the record.
        embedAndPrint(Seeds.QUESTION_ZH, Seeds.CONTENTS_ZH);
    }

    private static void assertNearest(String question, List<String> contents, int expected) {
        assertEquals(expected, embedAndPrint(question, contents), "nearest to " + question);
    }

    private static int embedAndPrint(String question, List<String> contents) {
        float[] q = embed(List.of(question)).get(0);
        List<float[]> docs = embed(contents);
        int best = -1;
        double bestScore = -2;
        for (int i = 0; i < docs.size(); i++) {
            double s = Seeds.cosine(q, docs.get(i));
            System.out.printf("%.4f  %s%n", s, contents.get(i));
            if (s > bestScore) {
                bestScore = s;
                best = i;
            }
        }
        return best;
    }

    @Test
    void runsOffTheCallersThreadAndFailsCleanlyWhenClosed() {
        LocalEmbeddingModel m = new LocalEmbeddingModel(4, 1);
        try {
            // A fresh instance must load the model first (hundreds of ms): had embed() worked on the caller's
            // thread, the future would already be complete when it returns.
            var future = m.embed(List.of("x"), EmbedOptions.DEFAULT);
            assertTrue(!future.isDone(), "embed() returned a completed future: it ran on the caller's thread");
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().startsWith("ragproxy-local-embed-") && t.isDaemon()));
            assertEquals(384, future.join().vectors().get(0).length);
            m.close();
            CompletionException e = assertThrows(CompletionException.class,
                    () -> m.embed(List.of("x"), EmbedOptions.DEFAULT).join());
            assertEquals(ModelException.Kind.UNAVAILABLE, ModelException.find(e).kind());
        } finally {
            m.close(); // idempotent
        }
    }
}
