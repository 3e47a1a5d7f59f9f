package io.ragproxy.bench;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import io.ragproxy.catalog.local.LocalEmbeddingModel;
import io.ragproxy.catalog.local.LocalModels;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (5), local embeddings: sentences per second of ragproxy's {@link LocalEmbeddingModel} (one ONNX run
 * per batch) at several batch sizes against langchain4j's {@code AllMiniLmL6V2QuantizedEmbeddingModel.embedAll}
 * given the same batches (the baseline). The two run alternately, a fixed time slice each, for several rounds;
 * each cell is the median of its rounds. Both models load and warm up before any measurement.
 *
 * <pre>EmbedBench --batches 1,8,32,128 --seconds 3 --rounds 3 --warmup-seconds 1 --out FILE</pre>
 */
public final class EmbedBench {

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        int[] batches = a.getInts("batches", "1,8,32,128");
        double seconds = a.getDouble("seconds", 3);
        double warmup = a.getDouble("warmup-seconds", Math.min(1.0, seconds));
        int rounds = a.getInt("rounds", 3);
        String out = a.get("out", null);
        int cores = Runtime.getRuntime().availableProcessors();
        int maxBatch = 1;
        for (int b : batches) {
            maxBatch = Math.max(maxBatch, b);
        }

        List<String> pool = Bench.sentences(4096, 11);
        List<TextSegment> segments = pool.stream().map(TextSegment::from).toList();
        try (LocalEmbeddingModel local = new LocalEmbeddingModel(maxBatch, cores)) {
            AllMiniLmL6V2QuantizedEmbeddingModel l4j = new AllMiniLmL6V2QuantizedEmbeddingModel();
            local.warmUp().join();
            // Warm-up: every batch size on both (at least one call each: ONNX Runtime sizes its buffers per shape).
            for (int b : batches) {
                run(local, null, pool, segments, b, warmup);
                run(null, l4j, pool, segments, b, warmup);
            }
            for (int b : batches) {
                List<Double> mine = new ArrayList<>();
                List<Double> base = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    if (r % 2 == 0) {
                        mine.add(run(local, null, pool, segments, b, seconds));
                        base.add(run(null, l4j, pool, segments, b, seconds));
                    } else {
                        base.add(run(null, l4j, pool, segments, b, seconds));
                        mine.add(run(local, null, pool, segments, b, seconds));
                    }
                }
                double m = Bench.median(mine);
                double l = Bench.median(base);
                Bench.log("batch " + b + ": LocalEmbeddingModel " + mine + " /s, langchain4j embedAll " + base + " /s");
                String note = b == LocalModels.DETERMINISTIC_BATCH_SIZE
                        ? "the proxy's setting (LocalModels: 1 text per run, deterministic vectors)"
                        : "";
                Bench.row(out, "5", "local embeddings", Bench.fmt("all-MiniLM-L6-v2 q8, batch %d, %d ONNX threads", b, cores),
                        Bench.fmt("embedAll %s sent/s", Bench.group(l)),
                        Bench.fmt("LocalEmbeddingModel %s sent/s", Bench.group(m)),
                        Bench.fmt("%.2f", m / l), note, "≥ 500/s: " + Bench.verdict(m >= 500));
            }
        }
    }

    /** Embeds consecutive batches of {@code b} sentences for about {@code seconds}; returns sentences per second. */
    private static double run(LocalEmbeddingModel local, AllMiniLmL6V2QuantizedEmbeddingModel l4j, List<String> pool,
            List<TextSegment> segments, int b, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long t0 = System.nanoTime();
        long done = 0;
        int offset = 0;
        do {
            if (offset + b > pool.size()) {
                offset = 0;
            }
            int n;
            if (local != null) {
                n = local.embed(pool.subList(offset, offset + b), null).join().vectors().size();
            } else {
                n = l4j.embedAll(segments.subList(offset, offset + b)).content().size();
            }
            if (n != b) {
                throw new IllegalStateException("expected " + b + " vectors, got " + n);
            }
            done += b;
            offset += b;
        } while (System.nanoTime() < deadline);
        return done / ((System.nanoTime() - t0) / 1e9);
    }
}
