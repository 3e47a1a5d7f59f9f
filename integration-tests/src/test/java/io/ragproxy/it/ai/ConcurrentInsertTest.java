package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.maxAbsDiff;
import static io.ragproxy.it.ai.AiProxy.parseVector;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.RecordedRequest;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One multi-row INSERT with 1,000 distinct {@code EMBED} texts against the emulator at 50 ms per call: the calls
 * run concurrently (bounded by {@code rag_concurrency}), each text is sent once, and every row gets the vector of
 * its own text.
 */
class ConcurrentInsertTest {
    private static final String DB = "ragproxy_it_ai_concurrency";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    private static final int ROWS = 1000;
    private static final int CONCURRENCY = 8;

    private static String text(int i) {
        return "document number " + i + " about topic " + (i * 7919 % 1000);
    }

    @Test
    void thousandDistinctTextsAreEmbeddedConcurrentlyIntoTheRightRows() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512) NOT NULL)");
            exec(c, "SET rag_concurrency = " + CONCURRENCY);
            WORLD.emulator().setLatency(Duration.ofMillis(50));
            String values = IntStream.range(0, ROWS)
                    .mapToObj(i -> "(" + i + ", " + quote(text(i)) + ", EMBED(" + quote(text(i)) + "))")
                    .collect(Collectors.joining(", "));
            long t0 = System.nanoTime();
            assertEquals(ROWS, update(c, "INSERT INTO docs (id, content, embedding) VALUES " + values));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            WORLD.emulator().setLatency(Duration.ZERO);

            int maxInFlight = WORLD.emulator().maxInFlight();
            assertTrue(maxInFlight > 1, "calls were not concurrent: max in flight " + maxInFlight);
            assertTrue(maxInFlight <= CONCURRENCY, "rag_concurrency = " + CONCURRENCY + " exceeded: " + maxInFlight);
            // Sequential calls would take ROWS * 50 ms = 50 s.
            assertTrue(ms < ROWS * 50L / 2, "the INSERT took " + ms + " ms");

            List<RecordedRequest> record = WORLD.emulator().requests(TITAN_V2, "invoke");
            assertEquals(ROWS, record.size(), "one call per distinct text");
            assertEquals(IntStream.range(0, ROWS).mapToObj(ConcurrentInsertTest::text).collect(Collectors.toSet()),
                    record.stream().map(r -> r.json().get("inputText").asText()).collect(Collectors.toSet()));

            Map<Integer, float[]> stored = new LinkedHashMap<>();
            for (List<String> row : rows(c, "SELECT id, content, VEC_ToText(embedding) FROM docs ORDER BY id")) {
                int id = Integer.parseInt(row.get(0));
                assertEquals(text(id), row.get(1));
                stored.put(id, parseVector(row.get(2)));
            }
            assertEquals(ROWS, stored.size());
            List<CompletableFuture<float[]>> expected = new ArrayList<>();
            for (int i = 0; i < ROWS; i++) {
                expected.add(WORLD.reference().titan512(text(i)));
            }
            HashSet<String> distinct = new HashSet<>();
            for (int i = 0; i < ROWS; i++) {
                float[] want = expected.get(i).get();
                float[] got = stored.get(i);
                assertEquals(512, got.length);
                double diff = maxAbsDiff(want, got);
                assertTrue(diff < 1e-6, "row " + i + " holds another vector (max diff " + diff + ")");
                distinct.add(java.util.Arrays.toString(got));
            }
            assertEquals(ROWS, distinct.size(), "1,000 texts, 1,000 different vectors");
        }
    }
}
