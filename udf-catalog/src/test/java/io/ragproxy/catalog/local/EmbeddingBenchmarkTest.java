package io.ragproxy.catalog.local;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import io.ragproxy.catalog.model.EmbedOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Prints sentences/second of {@link LocalEmbeddingModel} at batch sizes 1, 8, 32 and 128 and of langchain4j's
 * {@code embedAll} on the same sentences. No assertions: numbers depend on the machine. Disabled by default;
 * run with {@code -Dragproxy.bench=true -Dtest=EmbeddingBenchmarkTest} (or call {@link #main}).
 */
class EmbeddingBenchmarkTest {

    private static final int SENTENCES = 512;

    @Test
    @EnabledIfSystemProperty(named = "ragproxy.bench", matches = "true")
    void benchmark() {
        main(new String[0]);
    }

    public static void main(String[] args) {
        List<String> corpus = corpus(SENTENCES);
        try (LocalEmbeddingModel model = new LocalEmbeddingModel(128, Runtime.getRuntime().availableProcessors())) {
            model.warmUp().join();
            for (int batch : new int[] {1, 8, 32, 128}) {
                run(model, corpus, batch); // warm-up for this shape
                long t0 = System.nanoTime();
                run(model, corpus, batch);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("ragproxy LocalEmbeddingModel batch %3d: %6.0f sentences/s%n", batch, SENTENCES / s);
            }
        }
        AllMiniLmL6V2QuantizedEmbeddingModel lc = new AllMiniLmL6V2QuantizedEmbeddingModel();
        List<TextSegment> segments = corpus.stream().map(TextSegment::from).toList();
        lc.embedAll(segments);
        long t0 = System.nanoTime();
        lc.embedAll(segments);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("langchain4j embedAll (%d texts):     %6.0f sentences/s%n", SENTENCES, SENTENCES / s);
    }

    private static void run(LocalEmbeddingModel model, List<String> corpus, int batch) {
        for (int i = 0; i < corpus.size(); i += batch) {
            model.embed(corpus.subList(i, Math.min(corpus.size(), i + batch)), EmbedOptions.DEFAULT).join();
        }
    }

    /** Sentences of 8 to 24 words, like the seed sentences; fixed seed so every run embeds the same text. */
    static List<String> corpus(int n) {
        String[] words = ("the database stores vectors and rows across many nodes while queries run fast with "
                + "indexes on distributed storage engines TiDB MySQL Bedrock model embeddings answer question")
                .split(" ");
        Random r = new Random(42);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int len = 8 + r.nextInt(17);
            for (int j = 0; j < len; j++) {
                sb.append(j == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            }
            out.add(sb.append('.').toString());
        }
        return out;
    }
}
