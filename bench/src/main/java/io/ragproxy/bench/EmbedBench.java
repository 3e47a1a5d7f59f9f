package io.ragproxy.bench;

import io.ragproxy.catalog.local.LocalEmbeddingModel;
import io.ragproxy.catalog.local.LocalModels;
import io.ragproxy.catalog.local.MiniLmTokenCounter;
import io.ragproxy.catalog.local.MiniLmWeights;
import io.ragproxy.catalog.model.EmbedOptions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Benchmark (5), local embeddings: sentences per second of {@link LocalEmbeddingModel} with the int8 and the fp32
 * build of all-MiniLM-L6-v2 ({@link MiniLmWeights}), at several batch sizes (texts per ONNX run) and ONNX intra-op
 * thread counts, with graph optimization ALL and sequential execution (the model's fixed session options). Three
 * sides per cell, alternated in time slices over several rounds (each cell the median of its rounds):
 * <ul>
 *   <li><b>int8</b> and <b>fp32</b>: consecutive batches of the sentence pool, each one run padded to its longest
 *       text (the mask keeps padding out of attention and pooling);</li>
 *   <li><b>fp32 sorted</b>: the pool taken 128 texts at a time, sorted by length and cut into runs of the batch
 *       size, so that each run pads little (what a backlog of merged calls could do).</li>
 * </ul>
 * Then the setting the proxy ships ({@link LocalModels}) fed the way a statement feeds it: single-text calls,
 * {@code --in-flight} at a time, which the model merges into runs. The useful compute rate is sentences/s × the
 * pool's mean word pieces × 21.2 MFLOP per word piece (the README's estimate: 10.6 M multiply-adds per token for the
 * six layers; attention's length-dependent part, under 3% at these lengths, left out), compared with the fp32 rate
 * of one large ONNX Runtime {@code MatMul} on this machine ({@link MatMulPeak}), at the same thread count.
 *
 * <pre>EmbedBench --batches 1,2,4,8,16,32,64,128 --threads 1,2 --seconds 2 --rounds 2 --warmup-seconds 0.5
 *            --in-flight 64 --out FILE</pre>
 */
public final class EmbedBench {

    /** Multiply-adds per word piece of all-MiniLM-L6-v2's six layers, times 2 (README, "Local embeddings"). */
    static final double FLOP_PER_TOKEN = 21.2e6;

    public static void main(String[] argv) throws Exception {
        Bench.Args a = new Bench.Args(argv);
        int[] batches = a.getInts("batches", "1,2,4,8,16,32,64,128");
        int[] threadCounts = a.getInts("threads", "1,2");
        double seconds = a.getDouble("seconds", 2);
        double warmup = a.getDouble("warmup-seconds", Math.min(0.5, seconds));
        int rounds = a.getInt("rounds", 2);
        int inFlight = a.getInt("in-flight", 64);
        String out = a.get("out", null);
        int maxBatch = 128;
        for (int b : batches) {
            maxBatch = Math.max(maxBatch, b);
        }

        List<String> pool = Bench.sentences(4096, 11);
        int[] pieces = new int[pool.size()];
        double meanPieces;
        try (MiniLmTokenCounter counter = new MiniLmTokenCounter()) {
            long sum = 0;
            for (int i = 0; i < pool.size(); i++) {
                pieces[i] = Math.min(128, counter.count(pool.get(i)) + 2); // + [CLS], [SEP]; truncated at 128
                sum += pieces[i];
            }
            meanPieces = (double) sum / pool.size();
        }
        double flopPerSentence = meanPieces * FLOP_PER_TOKEN;
        Bench.log(Bench.fmt("pool: %d sentences, %.1f word pieces on average, %.2f GFLOP per sentence",
                pool.size(), meanPieces, flopPerSentence / 1e9));

        Map<Integer, Double> peak = new LinkedHashMap<>();
        for (int t : threadCounts) {
            peak.put(t, MatMulPeak.gflops(1024, 1024, 1024, t, Math.max(1, seconds)));
            double ffn = MatMulPeak.gflops(32 * 22, 384, 1536, t, Math.max(1, seconds));
            Bench.log(Bench.fmt("ONNX Runtime MatMul fp32, %d thread(s): 1024×1024×1024 %.1f GFLOP/s; 704×384×1536"
                    + " (a feed-forward layer of 32 sentences) %.1f GFLOP/s", t, peak.get(t), ffn));
        }

        for (int t : threadCounts) {
            try (LocalEmbeddingModel int8 = new LocalEmbeddingModel(MiniLmWeights.INT8, maxBatch, t);
                 LocalEmbeddingModel fp32 = new LocalEmbeddingModel(MiniLmWeights.FP32, maxBatch, t)) {
                int8.warmUp().join();
                fp32.warmUp().join();
                for (int b : batches) {
                    // ONNX Runtime sizes its buffers per shape: every side sees every batch size before it is timed.
                    run(int8, pool, pieces, b, false, warmup);
                    run(fp32, pool, pieces, b, false, warmup);
                    run(fp32, pool, pieces, b, true, warmup);
                }
                for (int b : batches) {
                    List<Double> q = new ArrayList<>();
                    List<Double> f = new ArrayList<>();
                    List<Double> fs = new ArrayList<>();
                    double[] padding = new double[2];
                    for (int r = 0; r < rounds; r++) {
                        // Rotate which side goes first, so that drift in the machine's load is shared.
                        for (int k = 0; k < 3; k++) {
                            switch ((r + k) % 3) {
                                case 0 -> q.add(run(int8, pool, pieces, b, false, seconds).rate);
                                case 1 -> {
                                    Rate x = run(fp32, pool, pieces, b, false, seconds);
                                    f.add(x.rate);
                                    padding[0] = x.padding;
                                }
                                default -> {
                                    Rate x = run(fp32, pool, pieces, b, true, seconds);
                                    fs.add(x.rate);
                                    padding[1] = x.padding;
                                }
                            }
                        }
                    }
                    double qm = Bench.median(q);
                    double fm = Bench.median(f);
                    double fsm = Bench.median(fs);
                    double best = Math.max(fm, fsm);
                    double gflops = best * flopPerSentence / 1e9;
                    Bench.log(Bench.fmt("batch %d, %d thread(s): int8 %s, fp32 %s, fp32 sorted %s sent/s", b, t, q, f, fs));
                    Bench.row(out, "5", "local embeddings",
                            Bench.fmt("all-MiniLM-L6-v2, batch %d, %d ONNX thread%s", b, t, t == 1 ? "" : "s"),
                            Bench.fmt("int8 %s sent/s", Bench.group(qm)),
                            Bench.fmt("fp32 %s sent/s; sorted %s", Bench.group(fm), Bench.group(fsm)),
                            Bench.fmt("%.2f", best / qm),
                            Bench.fmt("fp32 best %.1f GFLOP/s useful = %.0f%% of the measured MatMul peak (%.1f GFLOP/s,"
                                    + " %d thread%s); padded positions %.0f%% (sorted %.0f%%)", gflops,
                                    100 * gflops / peak.get(t), peak.get(t), t, t == 1 ? "" : "s",
                                    100 * padding[0], 100 * padding[1]),
                            "—");
                }
            }
        }

        // The shipped setting, fed as the proxy feeds it: single-text calls that the model merges into runs.
        try (LocalModels models = new LocalModels()) {
            LocalEmbeddingModel shipped = models.embedding();
            shipped.warmUp().join();
            merged(shipped, pool, inFlight, warmup);
            List<Double> rates = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                rates.add(merged(shipped, pool, inFlight, seconds));
            }
            double m = Bench.median(rates);
            double gflops = m * flopPerSentence / 1e9;
            int threads = Runtime.getRuntime().availableProcessors();
            Double p = peak.get(threads);
            Bench.row(out, "5", "local embeddings",
                    Bench.fmt("the proxy's setting: %s, %d single-text calls in flight (merged into runs)", shipped, inFlight),
                    "before (int8, 1 text per run): see batch 1 above",
                    Bench.fmt("%s sent/s", Bench.group(m)), "—",
                    Bench.fmt("%.1f GFLOP/s useful%s", gflops,
                            p == null ? "" : Bench.fmt(" = %.0f%% of the measured MatMul peak", 100 * gflops / p)),
                    "≥ 500/s: " + Bench.verdict(m >= 500));
        }
    }

    /** Sentences per second and the share of the runs' input positions that were padding. */
    record Rate(double rate, double padding) {
    }

    /**
     * Embeds batches of {@code b} sentences for about {@code seconds}. With {@code sorted}, the pool is taken 128
     * sentences at a time, sorted by length, and cut into runs of {@code b}.
     */
    private static Rate run(LocalEmbeddingModel model, List<String> pool, int[] pieces, int b, boolean sorted,
            double seconds) {
        int group = Math.max(128, b);
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long t0 = System.nanoTime();
        long done = 0;
        long positions = 0;
        long real = 0;
        int offset = 0;
        do {
            if (offset + group > pool.size()) {
                offset = 0;
            }
            List<Integer> order = new ArrayList<>(group);
            for (int i = offset; i < offset + group; i++) {
                order.add(i);
            }
            if (sorted) {
                order.sort(Comparator.comparingInt(i -> pieces[i]));
            }
            for (int from = 0; from < group && (from == 0 || System.nanoTime() < deadline); from += b) {
                List<String> batch = new ArrayList<>(b);
                int longest = 0;
                for (int i : order.subList(from, from + b)) {
                    batch.add(pool.get(i));
                    longest = Math.max(longest, pieces[i]);
                    real += pieces[i];
                }
                positions += (long) longest * b;
                int n = model.embed(batch, EmbedOptions.DEFAULT).join().vectors().size();
                if (n != b) {
                    throw new IllegalStateException("expected " + b + " vectors, got " + n);
                }
                done += b;
            }
            offset += group;
        } while (System.nanoTime() < deadline);
        return new Rate(done / ((System.nanoTime() - t0) / 1e9), 1 - (double) real / positions);
    }

    /** Single-text calls, {@code inFlight} outstanding at any time, for about {@code seconds}; sentences per second. */
    private static double merged(LocalEmbeddingModel model, List<String> pool, int inFlight, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long t0 = System.nanoTime();
        long done = 0;
        int offset = 0;
        do {
            List<CompletableFuture<?>> calls = new ArrayList<>(inFlight);
            for (int i = 0; i < inFlight; i++) {
                calls.add(model.embed(List.of(pool.get(offset++ % pool.size())), EmbedOptions.DEFAULT));
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
            done += inFlight;
        } while (System.nanoTime() < deadline);
        return done / ((System.nanoTime() - t0) / 1e9);
    }
}
