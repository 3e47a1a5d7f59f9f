package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.LLAMA;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.ProxyProcess;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A streamed SELECT of 100,000 rows (300 MB of them) with GENERATE through a proxy whose JVM has a 256 MB heap: the
 * proxy holds the rows of a few batches at a time, not the result, so it completes without running out of memory.
 * The proxy is a child process started with {@code -Xmx256m -XX:+ExitOnOutOfMemoryError}: an OutOfMemoryError
 * anywhere in it ends it, and the test with it. The client reads with streaming (MySQL Connector/J, fetch size
 * {@code Integer.MIN_VALUE}), so it holds nothing either.
 */
class StreamedMemoryTest {
    private static final String DB = "ragproxy_it_ai_streamed_memory";
    private static final int ROWS = 100_000;
    /** Bytes of padding per row: the whole result is about 300 MB, more than the proxy's heap. */
    private static final int PAD = 3_000;
    /** Distinct prompts: the first rows call the model, the later ones are answered by the cache. */
    private static final int PROMPTS = 2_000;

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @Test
    void hundredThousandRowsThroughA256MbProxy() throws Exception {
        LocalBackend backend = LocalBackend.get();
        backend.exec(DB, "CREATE TABLE big (id INT PRIMARY KEY)", "SET SESSION max_recursive_iterations = " + ROWS,
                "INSERT INTO big SELECT i FROM (WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s"
                        + " WHERE i < " + ROWS + ") SELECT i FROM s) t");
        List<CompletableFuture<String>> expected = new ArrayList<>();
        for (int p = 0; p < PROMPTS; p++) {
            expected.add(WORLD.reference().converse(LLAMA, "Summarize row " + p));
        }
        String toml = """
                [backend]
                address = "%s:%d"
                [tls]
                enabled = false
                [models]
                default_text = "llama3-2-3b"
                # The cache has its own bound; kept small so the heap left is the plan's to use.
                cache_mb = 16
                [models.bedrock]
                region = "us-east-1"
                endpoint_override = "%s"
                """.formatted(backend.host(), backend.port(), WORLD.emulator().endpoint());
        try (ProxyProcess proxy = ProxyProcess.start(List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"), toml,
                Map.of("AWS_ACCESS_KEY_ID", "AKIDRAGPROXYTEST", "AWS_SECRET_ACCESS_KEY", "ragproxy-test-secret"))) {
            long rows = 0;
            try (Connection c = Driver.MYSQL_CJ.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER,
                    LocalBackend.PASSWORD, false)) {
                exec(c, "SET rag_max_calls = " + ROWS);
                try (Statement s = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
                    s.setFetchSize(Integer.MIN_VALUE);
                    try (ResultSet rs = s.executeQuery("SELECT id, REPEAT('x', " + PAD + ") AS pad, GENERATE(CONCAT("
                            + "'Summarize row ', id % " + PROMPTS + ")) AS summary FROM big ORDER BY id")) {
                        while (rs.next()) {
                            rows++;
                            int id = rs.getInt(1);
                            assertEquals(rows, id, "rows in the statement's order");
                            assertEquals(PAD, rs.getString(2).length(), "row " + id);
                            assertEquals(expected.get(id % PROMPTS).join(), rs.getString(3), "row " + id);
                        }
                    }
                }
                assertEquals("1", scalar(c, "SELECT 1"), "the connection is still usable");
            }
            assertEquals(ROWS, rows);
            assertTrue(proxy.isAlive(), "the proxy still runs; its output:\n" + proxy.output());
            assertFalse(proxy.sawOutOfMemory(), proxy.output());
            int calls = WORLD.emulator().requests(LLAMA, "converse").size();
            assertTrue(calls >= PROMPTS && calls < ROWS, "each distinct prompt called about once: " + calls);
        } finally {
            backend.exec(DB, "DROP TABLE IF EXISTS big");
        }
    }
}
