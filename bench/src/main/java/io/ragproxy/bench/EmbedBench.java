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
 * Then settings fed the way a statement feeds them, single-text calls {@code --in-flight} at a time: int8 with one
 * text per run (one run on all cores, or one single-thread run per core side by side), fp32 merging queued calls
 * into runs of up to {@code --cap} texts (the same two ways), and the proxy's own ({@link LocalModels}). The useful
 * compute rate is sentences/s × the pool's mean word pieces × 21.2 MFLOP per word piece (bench/README.md's estimate: 10.6 M multiply-adds per token for the
 * six layers; attention's length-dependent part, under 3% at these lengths, left out), compared with the fp32 rate
 * of one large ONNX Runtime {@code MatMul} on this machine ({@link MatMulPeak}), at the same thread count.
 *
 * <pre>EmbedBench --batches 1,2,4,8,16,32,64,128 --threads 1,2 --seconds 2 --rounds 2 --warmup-seconds 0.5
 *            --in-flight 64 [--cap 32] [--matrix false] --out FILE</pre>
 * ({@code --matrix false}: only the settings fed as the proxy feeds them.)
 */
public final class EmbedBench {

    /** Multiply-adds per word piece of all-MiniLM-L6-v2's six layers, times 2 (bench/README.md, "Local embeddings"). */
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

        // Loading: what the first EMBED after start pays (the proxy loads the model lazily, on the first call).
        for (MiniLmWeights w : MiniLmWeights.values()) {
            long t0 = System.nanoTime();
            try (LocalEmbeddingModel m = new LocalEmbeddingModel(w, 1, threadCounts[threadCounts.length - 1])) {
                m.embed(List.of(pool.get(0)), EmbedOptions.DEFAULT).join();
                Bench.log(Bench.fmt("%s: model load + first call %.0f ms", w, (System.nanoTime() - t0) / 1e6));
            }
        }

        // Peak: GFLOP/s of wall time and GFLOP per CPU-second (the latter is per core, and holds up when others load
        // the machine).
        Map<Integer, double[]> peak = new LinkedHashMap<>();
        for (int t : threadCounts) {
            double[] big = MatMulPeak.gflops(1024, 1024, 1024, t, Math.max(1, seconds));
            double[] ffn = MatMulPeak.gflops(32 * 26, 384, 1536, t, Math.max(1, seconds));
            peak.put(t, big);
            Bench.log(Bench.fmt("ONNX Runtime MatMul fp32, %d thread(s): 1024×1024×1024 %.1f GFLOP/s (%.1f per CPU-s);"
                    + " 832×384×1536 (a feed-forward layer of 32 sentences) %.1f GFLOP/s (%.1f per CPU-s); load %s",
                    t, big[0], big[1], ffn[0], ffn[1], loadAverage()));
        }

        for (int t : a.get("matrix", "true").equals("true") ? threadCounts : new int[0]) {
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
                    List<List<Rate>> sides = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
                    for (int r = 0; r < rounds; r++) {
                        // Rotate which side goes first, so that drift in the machine's load is shared.
                        for (int k = 0; k < 3; k++) {
                            int side = (r + k) % 3;
                            sides.get(side).add(run(side == 0 ? int8 : fp32, pool, pieces, b, side == 2, seconds));
                        }
                    }
                    Rate q = median(sides.get(0));
                    Rate f = median(sides.get(1));
                    Rate fs = median(sides.get(2));
                    Rate best = f.perCpuSecond >= fs.perCpuSecond ? f : fs;
                    double[] pk = peak.get(t);
                    Bench.log(Bench.fmt("batch %d, %d thread(s): int8 %s; fp32 %s; fp32 sorted %s; load %s", b, t,
                            sides.get(0), sides.get(1), sides.get(2), loadAverage()));
                    Bench.row(out, "5", "local embeddings",
                            Bench.fmt("all-MiniLM-L6-v2, batch %d, %d ONNX thread%s", b, t, t == 1 ? "" : "s"),
                            Bench.fmt("int8 %s sent/s (%s per CPU-s)", Bench.group(q.rate), Bench.group(q.perCpuSecond)),
                            Bench.fmt("fp32 %s sent/s (%s per CPU-s); length-sorted runs %s (%s per CPU-s)",
                                    Bench.group(f.rate), Bench.group(f.perCpuSecond), Bench.group(fs.rate),
                                    Bench.group(fs.perCpuSecond)),
                            Bench.fmt("%.2f", best.perCpuSecond / q.perCpuSecond),
                            Bench.fmt("fp32 best %.1f GFLOP/s useful (%.0f%% of the MatMul's %.1f), %.1f per CPU-s"
                                    + " (%.0f%% of the MatMul's %.1f); padded positions %.0f%% (sorted %.0f%%)",
                                    best.rate * flopPerSentence / 1e9, 100 * best.rate * flopPerSentence / 1e9 / pk[0],
                                    pk[0], best.perCpuSecond * flopPerSentence / 1e9,
                                    100 * best.perCpuSecond * flopPerSentence / 1e9 / pk[1], pk[1],
                                    100 * f.padding, 100 * fs.padding),
                            "—");
                }
            }
        }

        // Settings fed as the proxy feeds them: single-text calls, `inFlight` outstanding, which a batch-independent
        // model merges into runs of up to its cap; with 2 runners two runs go at once, one ONNX thread each.
        int cores = Runtime.getRuntime().availableProcessors();
        int cap = a.getInt("cap", 32);
        List<LocalEmbeddingModel> settings = List.of(
                new LocalEmbeddingModel(MiniLmWeights.INT8, 1, cores, 1),
                new LocalEmbeddingModel(MiniLmWeights.INT8, 1, 1, cores),
                new LocalEmbeddingModel(MiniLmWeights.FP32, cap, cores, 1),
                new LocalEmbeddingModel(MiniLmWeights.FP32, cap, 1, cores),
                new LocalModels().embedding());
        try {
            List<List<Rate>> rates = new ArrayList<>();
            for (LocalEmbeddingModel m : settings) {
                m.warmUp().join();
                merged(m, pool, inFlight, warmup);
                rates.add(new ArrayList<>());
            }
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < settings.size(); k++) {
                    int i = (r + k) % settings.size();
                    rates.get(i).add(merged(settings.get(i), pool, inFlight, seconds));
                }
            }
            for (int i = 0; i < settings.size(); i++) {
                Rate m = median(rates.get(i));
                boolean shipped = i == settings.size() - 1;
                Bench.log(settings.get(i) + ": " + rates.get(i) + "; load " + loadAverage());
                Bench.row(out, "5", "local embeddings",
                        Bench.fmt("%s%s, %d single-text calls in flight", shipped ? "**the proxy's setting**: " : "",
                                settings.get(i), inFlight),
                        "—", Bench.fmt("%s sent/s (%s per CPU-s)", Bench.group(m.rate), Bench.group(m.perCpuSecond)), "—",
                        Bench.fmt("%.1f GFLOP/s useful, %.1f per CPU-s", m.rate * flopPerSentence / 1e9,
                                m.perCpuSecond * flopPerSentence / 1e9),
                        shipped ? "≥ 500/s: " + Bench.verdict(m.rate >= 500) : "—");
            }
        } finally {
            settings.forEach(LocalEmbeddingModel::close);
        }
    }

    /** The side's round with the median CPU-time rate (rounds are few: the lower middle one when even). */
    private static Rate median(List<Rate> rounds) {
        List<Rate> sorted = new ArrayList<>(rounds);
        sorted.sort(Comparator.comparingDouble(Rate::perCpuSecond));
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /**
     * Sentences per second of wall time, sentences per second of this process's CPU time (the machine is shared: CPU
     * time moves far less with other work than wall time does), and the share of the runs' input positions that
     * were padding.
     */
    record Rate(double rate, double perCpuSecond, double padding) {
        @Override
        public String toString() {
            return Bench.fmt("%.0f/s (%.0f/CPU-s)", rate, perCpuSecond);
        }
    }

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    /**
     * Embeds batches of {@code b} sentences for about {@code seconds}. With {@code sorted}, the pool is taken 128
     * sentences at a time, sorted by length, and cut into runs of {@code b}.
     */
    private static Rate run(LocalEmbeddingModel model, List<String> pool, int[] pieces, int b, boolean sorted,
            double seconds) {
        int group = Math.max(128, b);
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long cpu0 = OS.getProcessCpuTime();
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
        return new Rate(done / ((System.nanoTime() - t0) / 1e9), done / ((OS.getProcessCpuTime() - cpu0) / 1e9),
                1 - (double) real / positions);
    }

    /** Single-text calls, {@code inFlight} outstanding at any time, for about {@code seconds}; sentences per second. */
    private static Rate merged(LocalEmbeddingModel model, List<String> pool, int inFlight, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long cpu0 = OS.getProcessCpuTime();
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
        return new Rate(done / ((System.nanoTime() - t0) / 1e9), done / ((OS.getProcessCpuTime() - cpu0) / 1e9), 0);
    }
}
