package io.ragproxy.emulator;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Deterministic stand-in embeddings: the sum of one pseudo-random vector per word (seeded by the word's
 * hash) plus a small per-text component. Texts that share words are therefore closer than texts that do
 * not — crude, but enough for "What is TiDB?" to land next to the sentence about TiDB — and the same text
 * always gives the same vector, on every run and machine.
 */
final class FakeVectors {

    /** Words (letters/digits runs) and, for scripts without spaces, single ideographs. */
    private static final Pattern TOKEN = Pattern.compile("\\p{IsHan}|[\\p{L}\\p{N}]+|[^\\s\\p{L}\\p{N}]");

    private FakeVectors() {
    }

    static float[] embed(String text, int dimensions, boolean normalize) {
        double[] acc = new double[dimensions];
        Matcher m = TOKEN.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            String tok = m.group();
            if (tok.length() == 1 && !Character.isLetterOrDigit(tok.charAt(0))) {
                continue; // punctuation carries no meaning here
            }
            addRandom(acc, seed(tok), 1.0);
        }
        addRandom(acc, seed("\u0000text:" + text), 0.25);
        float[] out = new float[dimensions];
        double norm = 0;
        for (double v : acc) {
            norm += v * v;
        }
        norm = Math.sqrt(norm);
        // Unnormalized vectors are scaled like a real model's (components of order 0.01-0.1), not left raw.
        double scale = normalize ? (norm == 0 ? 1 : 1 / norm) : (norm == 0 ? 1 : 3.0 / norm);
        for (int i = 0; i < dimensions; i++) {
            out[i] = (float) (acc[i] * scale);
        }
        return out;
    }

    private static void addRandom(double[] acc, long seed, double weight) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < acc.length; i++) {
            acc[i] += weight * (r.nextDouble() * 2 - 1);
        }
    }

    /** FNV-1a 64 over UTF-8: stable across JVMs, unlike String.hashCode mixing assumptions. */
    static long seed(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** A rough token count: words, ideographs and punctuation marks. At least 1 for non-empty text. */
    static int tokenCount(String text) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        int n = 0;
        Matcher m = TOKEN.matcher(text);
        while (m.find()) {
            n++;
        }
        return Math.max(n, 1);
    }
}
