package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.maxAbsDiff;
import static io.ragproxy.it.ai.AiProxy.parseVector;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backfill plan: {@code UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL} pages through the
 * table by primary key, committing each page in autocommit mode, so a failure leaves whole pages written and a
 * re-run finishes the rest; inside a transaction the UPDATE is atomic. Checked against the Bedrock emulator.
 */
class BackfillTest {
    private static final String DB = "ragproxy_it_ai_backfill";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    private static final int ROWS = 2000;
    private static final int POISONED_ID = 1234;
    private static final String POISON = "poison-marker";

    @BeforeEach
    void freshTable() throws Exception {
        WORLD.emulator().reset();
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) SELECT seq, IF(seq = " + POISONED_ID + ", CONCAT('" + POISON
                        + " ', seq), CONCAT('backfill row ', seq)) FROM seq_1_to_" + ROWS);
    }

    private static long embedded(Connection c) throws SQLException {
        return Long.parseLong(scalar(c, "SELECT COUNT(embedding) FROM docs"));
    }

    @Test
    void aFailureLeavesWholePagesCommittedAndARerunFinishes() throws Exception {
        WORLD.emulator().failWhenInputContains(POISON, EmulatedError.VALIDATION);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = 5000");
            SQLException e = assertSqlError(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL",
                    7104, "22023");
            Matcher written = Pattern.compile("(\\d+) rows were already written and committed").matcher(e.getMessage());
            assertTrue(written.find(), e.getMessage());
            long committed = Long.parseLong(written.group(1));
            assertEquals(committed, embedded(c), "the message counts exactly the rows that are stored");
            assertTrue(committed > 0 && committed < POISONED_ID, "pages before the failing row were committed: " + committed);
            assertSelect1(c);

            WORLD.emulator().reset(); // the model works again
            int changed = update(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL");
            assertEquals(ROWS - committed, changed, "the re-run writes only the unfinished rows");
            assertEquals(ROWS, embedded(c));
            Set<String> resent = WORLD.emulator().requests(TITAN_V2, "invoke").stream()
                    .map(r -> r.json().get("inputText").asText()).collect(Collectors.toSet());
            // Texts of the failed page that did succeed come from the proxy's cache; committed rows are not asked again.
            assertTrue(resent.contains(POISON + " " + POISONED_ID), "the failed text is asked again");
            for (long id = 1; id <= committed; id++) {
                assertTrue(!resent.contains("backfill row " + id), "committed row " + id + " was embedded again");
            }
            assertTrue(resent.size() <= ROWS - committed, resent.size() + " texts sent for " + (ROWS - committed) + " rows");

            List<List<String>> stored = rows(c, "SELECT content, VEC_ToText(embedding) FROM docs ORDER BY id");
            List<CompletableFuture<float[]>> expected = new ArrayList<>();
            for (List<String> row : stored) {
                expected.add(WORLD.reference().titan512(row.get(0)));
            }
            for (int i = 0; i < stored.size(); i++) {
                double diff = maxAbsDiff(expected.get(i).get(), parseVector(stored.get(i).get(1)));
                assertTrue(diff < 1e-6, "row " + (i + 1) + " holds another text's vector (max diff " + diff + ")");
            }
        }
    }

    @Test
    void insideATransactionTheUpdateIsAtomic() throws Exception {
        WORLD.emulator().failWhenInputContains(POISON, EmulatedError.VALIDATION);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = 5000");
            c.setAutoCommit(false);
            SQLException e = assertSqlError(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL",
                    7104, "22023");
            assertTrue(e.getMessage().contains("rolled back"), e.getMessage());
            assertEquals(0, embedded(c), "no page of the failed UPDATE is visible in the transaction");
            c.rollback();
            c.setAutoCommit(true);
            assertEquals(0, embedded(c));
        }
    }

    @Test
    void throttlingIsRetriedAndTheBackfillCompletes() throws Exception {
        LocalBackend.get().exec(DB, "DELETE FROM docs WHERE id > 300");
        WORLD.emulator().setThrottleRate(0.3);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_attempts = 10");
            assertEquals(300, update(c, "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL"));
            assertEquals(300, embedded(c));
        }
    }

    @Test
    void aTableWithoutAPrimaryKeyIsRefusedBeforeAnyModelCall() throws Exception {
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS nokey",
                "CREATE TABLE nokey (content TEXT, embedding VECTOR(512))", "INSERT INTO nokey (content) VALUES ('a')");
        AiProxy.quiesce(WORLD.emulator());
        int before = WORLD.emulator().requests().size();
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "UPDATE nokey SET embedding = EMBED(content)", 7001, "0A000");
            assertTrue(e.getMessage().contains("primary key"), e.getMessage());
            assertEquals(before, WORLD.emulator().requests().size(), "refused before any model call");
            assertSelect1(c);
        }
    }

    @Test
    void theCostGuardCountsDistinctTextsFirst() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        WORLD.emulator().clearRequests();
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = 100");
            SQLException e = assertSqlError(c, "UPDATE docs SET embedding = EMBED(content)", 7013, "54000");
            assertTrue(e.getMessage().contains(Integer.toString(ROWS)), e.getMessage());
            assertEquals(0, WORLD.emulator().requests().size(), "refused before any model call");
            List<List<String>> plan = rows(c, "EXPLAIN RAG UPDATE docs SET embedding = EMBED(content)");
            assertEquals("backfill", plan.get(0).get(0));
            assertEquals(Integer.toString(ROWS), plan.get(0).get(1));
            assertEquals(0, WORLD.emulator().requests().size(), "EXPLAIN RAG calls no model");
        }
    }
}
