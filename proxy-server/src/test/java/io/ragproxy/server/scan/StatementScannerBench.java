package io.ragproxy.server.scan;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * A rough throughput check of {@link StatementScanner} on plain SQL, for a human to run by hand
 * ({@code main}); not a test and not JMH, so read the numbers as orders of magnitude.
 */
public final class StatementScannerBench {

    private StatementScannerBench() {
    }

    public static void main(String[] args) {
        StatementScanner scanner = new StatementScanner(FunctionNames.of("EMBED", "EMBED_TEXT", "GENERATE", "ANSWER",
                "VEC_EMBED_COSINE_DISTANCE", "VEC_EMBED_L2_DISTANCE"));
        byte[] small = "SELECT id, title FROM docs WHERE id = ?".replace("?", "42").getBytes(UTF_8);
        byte[] medium = ("SELECT d.id, d.title, d.body, /* note */ a.name FROM docs d JOIN authors a ON a.id = d.author_id "
                + "WHERE d.lang = 'en' AND d.published > '2024-01-01' AND d.title LIKE '%retrieval%' "
                + "ORDER BY d.published DESC LIMIT 20").getBytes(UTF_8);
        StringBuilder insert = new StringBuilder("INSERT INTO docs (id, title, body) VALUES ");
        for (int i = 0; i < 200; i++) {
            insert.append(i == 0 ? "" : ",").append('(').append(i).append(", 'title ").append(i)
                    .append("', 'some body text that is not very long, it\\'s fine')");
        }
        byte[] large = insert.toString().getBytes(UTF_8);
        ByteBuf direct = Unpooled.directBuffer(large.length).writeBytes(large);
        for (int round = 0; round < Integer.getInteger("rounds", 3); round++) {
            run("small  byte[]", small.length, () -> scanner.scan(small, 0, small.length));
            run("medium byte[]", medium.length, () -> scanner.scan(medium, 0, medium.length));
            run("large  byte[]", large.length, () -> scanner.scan(large, 0, large.length));
            run("large  direct", large.length, () -> scanner.scan(direct, 0, large.length));
        }
        direct.release();
    }

    private static void run(String label, int bytes, java.util.function.Supplier<ScanResult> scan) {
        int iterations = Math.max(10_000, 200_000_000 / Math.max(1, bytes) / 10);
        int hits = 0;
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            hits += scan.get().isPlain() ? 0 : 1;
        }
        long nanos = System.nanoTime() - start;
        System.out.printf("%s  %6d B  %8.1f ns/scan  %6.2f GB/s  (hits %d)%n", label, bytes,
                (double) nanos / iterations, (double) bytes * iterations / nanos, hits);
    }
}
