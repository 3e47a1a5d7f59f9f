package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.ProxyProcess;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Graceful drain, on a real process and a real SIGTERM: a 10,000-row backfill at 150 ms per model call is cut off by
 * the drain timeout and reports its committed rows; an idle connection's next statement gets error 7060 while the
 * proxy drains; the process exits within the drain timeout (plus the few seconds a stopped statement gets to
 * report); a re-run through a new proxy completes the backfill.
 */
class DrainTest {
    private static final String DB = "ragproxy_it_ops_drain";
    private static final int ROWS = 10_000;
    private static final int DRAIN_SECONDS = 3;

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @Test
    void sigtermDrainsThenStopsTheBackfillWhichReportsItsCommittedRows() throws Exception {
        LocalBackend backend = LocalBackend.get();
        backend.exec(DB, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) SELECT seq, CONCAT('drain row ', seq) FROM seq_1_to_" + ROWS);
        AiProxy.quiesce(WORLD.emulator());
        WORLD.emulator().setLatency(Duration.ofMillis(150));
        String toml = """
                [proxy]
                drain_timeout_s = %d
                [backend]
                address = "%s:%d"
                [tls]
                enabled = false
                [models]
                default_embedding = "titan-v2"
                [models.bedrock]
                region = "us-east-1"
                endpoint_override = "%s"
                [models.model."amazon.titan-embed-text-v2:0"]
                dimensions = 512
                """.formatted(DRAIN_SECONDS, backend.host(), backend.port(), WORLD.emulator().endpoint());
        try (ProxyProcess proxy = ProxyProcess.start(List.of(), toml,
                Map.of("AWS_ACCESS_KEY_ID", "AKIDRAGPROXYTEST", "AWS_SECRET_ACCESS_KEY", "ragproxy-test-secret"));
                Connection filler = connect(proxy);
                Connection idle = connect(proxy)) {
            exec(filler, "SET rag_max_calls = " + ROWS);
            exec(filler, "SET rag_concurrency = 32");
            CompletableFuture<Integer> backfill = CompletableFuture.supplyAsync(() -> {
                try {
                    return update(filler, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL");
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            awaitCommitted(backend, backfill);
            assertEquals("1", scalar(idle, "SELECT 1"), "the idle connection works before the drain");

            long signalled = System.nanoTime();
            new ProcessBuilder("kill", "-TERM", Long.toString(proxy.pid())).start().waitFor(5, TimeUnit.SECONDS);

            SQLException refused = null;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
            while (refused == null && System.nanoTime() < until) {
                try {
                    scalar(idle, "SELECT 1");
                    Thread.sleep(20);
                } catch (SQLException e) {
                    refused = e;
                }
            }
            assertNotNull(refused, "a statement on an idle connection is refused while the proxy drains");
            assertEquals(7060, refused.getErrorCode(), refused.getMessage());
            assertTrue(refused.getMessage().contains("shutting down"), refused.getMessage());

            SQLException cut;
            try {
                backfill.get(DRAIN_SECONDS + 15, TimeUnit.SECONDS);
                fail("the backfill of " + ROWS + " rows at 150 ms per call cannot finish within the drain timeout");
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable t = e.getCause();
                while (!(t instanceof SQLException) && t != null && t.getCause() != null) {
                    t = t.getCause();
                }
                assertTrue(t instanceof SQLException, "the backfill failed with " + e.getCause());
                cut = (SQLException) t;
            }
            Integer exit = proxy.awaitExit(Duration.ofSeconds(DRAIN_SECONDS + 10));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
            assertNotNull(exit, "the proxy still runs " + tookMillis + " ms after SIGTERM; its output:\n" + proxy.output());
            assertTrue(tookMillis < (DRAIN_SECONDS + 6) * 1000L, "exited " + tookMillis + " ms after SIGTERM");

            assertEquals(1317, cut.getErrorCode(), cut.getMessage());
            Matcher written = Pattern.compile("(\\d+) rows were already written and committed").matcher(cut.getMessage());
            assertTrue(written.find(), cut.getMessage());
            long committed = Long.parseLong(written.group(1));
            long stored = stored(backend);
            assertEquals(stored, committed, "the message counts exactly the rows that are stored");
            assertTrue(committed > 0 && committed < ROWS, "committed " + committed);
            assertTrue(proxy.output().contains("stopping 1 statement(s) still running after the drain timeout"),
                    proxy.output());
        }

        WORLD.emulator().setLatency(Duration.ZERO);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = " + ROWS);
            long left = Long.parseLong(scalar(c, "SELECT COUNT(*) FROM docs WHERE embedding IS NULL"));
            assertEquals(left, update(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL"),
                    "the re-run writes the rows left");
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM docs WHERE embedding IS NULL"));
        } finally {
            backend.exec(DB, "DROP TABLE IF EXISTS docs");
        }
    }

    private static Connection connect(ProxyProcess proxy) throws SQLException {
        return Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER, LocalBackend.PASSWORD,
                false);
    }

    /** Rows with an embedding, read directly from the backend. */
    private static long stored(LocalBackend backend) throws SQLException {
        try (Connection c = backend.connect(DB)) {
            return Long.parseLong(scalar(c, "SELECT COUNT(embedding) FROM docs"));
        }
    }

    /** Waits (at most 60 s) until the backfill has committed a page. */
    private static void awaitCommitted(LocalBackend backend, CompletableFuture<Integer> backfill) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (stored(backend) == 0) {
            assertFalse(backfill.isDone(), "the backfill ended before committing a page");
            assertTrue(System.nanoTime() < deadline, "no page committed within 60 s");
            Thread.sleep(100);
        }
    }
}
