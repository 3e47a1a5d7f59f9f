package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #14, budgets and usage: accounts {@code app} and {@code other} (all privileges on one database, none on
 * {@code ragproxy}) and {@code admin} ({@code SELECT ON ragproxy.* WITH GRANT OPTION}), created by root, in front of
 * the Bedrock emulator, with Titan V2 priced at 1 USD per 1,000 input tokens so that cents buy a few calls: EXPLAIN
 * RAG then estimates 0.256 USD per model input (256 tokens). Llama is priced the same (its output free), so a prompt
 * of 1,000 words costs about 1 USD while EXPLAIN RAG, not reading the texts, estimates 0.256. Account {@code stream}
 * runs the statements whose budget runs out midway. Usage is flushed every 200 ms.
 */
class BudgetsTest {
    private static final String DB = "ragproxy_it_budget";
    private static final String APP = "rp_bud_app";
    private static final String OTHER = "rp_bud_other";
    private static final String ADMIN = "rp_bud_admin";
    private static final String STREAM = "rp_bud_stream";
    private static final String PASSWORD = "pw-bud-1";
    private static final int ROWS = 10;

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, BudgetsTest::priced);

    static ObjectNode priced(ObjectNode ai) {
        ObjectNode prices = ((ObjectNode) ai.get("models")).putObject("prices");
        prices.putObject(AiProxy.TITAN_V2).put("input", 1.0).put("output", 0.0);
        prices.putObject(AiProxy.LLAMA).put("input", 1.0).put("output", 0.0);
        ai.putObject("usage").put("flush_interval_ms", 200);
        return ai;
    }

    @BeforeAll
    static void accounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + APP + "'@'%'", "DROP USER IF EXISTS '" + OTHER + "'@'%'",
                "DROP USER IF EXISTS '" + ADMIN + "'@'%'", "DROP USER IF EXISTS '" + STREAM + "'@'%'",
                "CREATE USER '" + STREAM + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "GRANT ALL ON " + DB + ".* TO '" + STREAM + "'@'%'",
                "CREATE USER '" + APP + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + OTHER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + ADMIN + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "GRANT ALL ON " + DB + ".* TO '" + APP + "'@'%'",
                "GRANT ALL ON " + DB + ".* TO '" + OTHER + "'@'%'",
                "GRANT SELECT ON ragproxy.* TO '" + ADMIN + "'@'%' WITH GRANT OPTION");
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) SELECT seq, CONCAT('budget row ', seq) FROM seq_1_to_" + ROWS,
                "DROP TABLE IF EXISTS prompts",
                "CREATE TABLE prompts (id INT PRIMARY KEY, words TEXT)",
                "INSERT INTO prompts SELECT seq, REPEAT(' w', 998) FROM seq_1_to_" + ROWS);
    }

    @AfterAll
    static void dropAccounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + APP + "'@'%'", "DROP USER IF EXISTS '" + OTHER + "'@'%'",
                "DROP USER IF EXISTS '" + ADMIN + "'@'%'", "DROP USER IF EXISTS '" + STREAM + "'@'%'");
    }

    static Connection as(AiProxy proxy, String user) throws SQLException {
        return Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), user.equals(ADMIN) ? "" : DB, user, PASSWORD,
                false);
    }

    /** 100 tokens for the emulator's tokenizer (0.10 USD at the test's price), new to the result cache. */
    static String hundredTokens() {
        StringBuilder b = new StringBuilder(UUID.randomUUID().toString().replace("-", ""));
        for (int i = 1; i < 100; i++) {
            b.append(" w").append(i);
        }
        return b.toString();
    }

    /** The requests the emulator has recorded, once none is in flight. */
    int requests() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (WORLD.emulator().inFlight() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return WORLD.emulator().requestCount();
    }

    @Test
    void aBudgetRefusesWhatWouldOverspendItBeforeAnyCallAcrossInstancesAndRestarts() throws Exception {
        AiProxy first = WORLD.proxy();
        AiProxy second = WORLD.startProxy();
        try (Connection app = as(first, APP); Connection other = as(first, OTHER);
                Connection admin = as(first, ADMIN)) {
            assertSqlError(app, "SET RAG BUDGET FOR '" + APP + "'@'%' = 0.50 USD PER DAY", 7024, "42000");
            exec(admin, "SET RAG BUDGET FOR '" + APP + "'@'%' = 0.50 USD PER DAY");
            List<List<String>> budgets = rows(app, "SHOW RAG BUDGETS");
            assertEquals(1, budgets.size(), "the account sees its own budget: " + budgets);
            assertEquals(List.of("'" + APP + "'@'%'", "0.50", "USD", "DAY"), budgets.get(0).subList(0, 4));

            // 10 rows at an estimated 0.256 USD each: 2.56 USD does not fit 0.50.
            int before = requests();
            SQLException refused = assertSqlError(app, "UPDATE docs SET embedding = EMBED(content)", 7111, "42000");
            String m = refused.getMessage();
            assertTrue(m.contains("2.560000 USD") && m.contains("0.50 USD PER DAY") && m.contains("spent 0.000000"),
                    "names the estimate, the budget and what was spent: " + m);
            assertEquals(before, requests(), "no model was called for a refused statement");
            assertEquals("10", scalar(app, "SELECT COUNT(*) FROM docs WHERE embedding IS NULL"));
            assertEquals(ROWS, update(other, "UPDATE docs SET embedding = EMBED(content)"), "no budget, no limit");

            // Smaller statements (0.256 estimated, 0.10 spent each) run until what is left is less than an estimate.
            int ran = 0;
            while (true) {
                try {
                    assertNotNull(scalar(app, "SELECT VEC_AS_TEXT(EMBED('" + hundredTokens() + "'))"));
                    ran++;
                } catch (SQLException e) {
                    assertEquals(7111, e.getErrorCode(), e.getMessage());
                    assertTrue(e.getMessage().contains("spent 0.300000"), e.getMessage());
                    break;
                }
                assertTrue(ran <= 3, "0.50 USD allows three statements of 0.10 USD and a fourth estimated at 0.256");
            }
            assertEquals(3, ran);

            // The other instance sees the usage once this one flushed it and it read it back.
            try (Connection app2 = as(second, APP)) {
                ModelGrantsTest.assertEventually(() -> {
                    try {
                        scalar(app2, "SELECT VEC_AS_TEXT(EMBED('" + hundredTokens() + "'))");
                        return false;
                    } catch (SQLException e) {
                        return e.getErrorCode() == 7111;
                    }
                });
                List<List<String>> usage = rows(app2, "SHOW RAG USAGE");
                assertEquals(1, usage.size(), "one model, one day: " + usage);
                assertEquals(List.of("'" + APP + "'@'%'", AiProxy.TITAN_V2), usage.get(0).subList(0, 2));
                long requests = Long.parseLong(usage.get(0).get(3));
                assertTrue(requests >= 3, "requests: " + usage);
                assertEquals(0, new BigDecimal(usage.get(0).get(6)).compareTo(BigDecimal.valueOf(requests, 1)),
                        "0.10 USD a request: " + usage);
                assertEquals(100 * requests, Long.parseLong(usage.get(0).get(4)), "input tokens: " + usage);
            }
            assertSqlError(app, "SHOW RAG USAGE FOR '" + OTHER + "'@'%'", 7024, "42000");

            // Usage written at shutdown, and read by a proxy started afterwards.
            try (Connection other2 = as(second, OTHER)) {
                assertNotNull(scalar(other2, "SELECT VEC_AS_TEXT(EMBED('" + hundredTokens() + "'))"));
            }
            WORLD.close(second);
            second = null;
            List<List<String>> otherUsage = rows(admin, "SHOW RAG USAGE FOR '" + OTHER + "'@'%'");
            assertEquals(ROWS + 1L, otherUsage.stream().mapToLong(r -> Long.parseLong(r.get(3))).sum(),
                    "the backfill's rows and the statement on the closed instance: " + otherUsage);
            WORLD.restartProxy();
            try (Connection app3 = as(WORLD.proxy(), APP); Connection admin3 = as(WORLD.proxy(), ADMIN)) {
                before = requests();
                assertSqlError(app3, "SELECT VEC_AS_TEXT(EMBED('" + hundredTokens() + "'))", 7111, "42000");
                assertEquals(before, requests(), "a restarted proxy keeps what was spent");
                exec(admin3, "SET RAG BUDGET FOR '" + APP + "'@'%' = NONE");
                assertNotNull(scalar(app3, "SELECT VEC_AS_TEXT(EMBED('" + hundredTokens() + "'))"),
                        "no budget any more");
                assertEquals(List.of(), rows(admin3, "SHOW RAG BUDGETS"));
            }
        } finally {
            if (second != null) {
                WORLD.close(second);
            }
        }
    }

    @Test
    void aTokenBudgetCountsTokens() throws Exception {
        try (Connection app = as(WORLD.proxy(), OTHER); Connection admin = as(WORLD.proxy(), ADMIN)) {
            exec(admin, "SET RAG BUDGET FOR '" + OTHER + "'@'%' = 200 TOKENS PER MONTH");
            // EXPLAIN RAG's 256 tokens per input do not fit 200 tokens.
            SQLException refused = assertSqlError(app, "SELECT VEC_AS_TEXT(EMBED('" + hundredTokens() + "'))", 7111,
                    "42000");
            assertTrue(refused.getMessage().contains("256 tokens"), refused.getMessage());
            exec(admin, "SET RAG BUDGET FOR '" + OTHER + "'@'%' = NONE");
        }
    }

    @Test
    void aStreamedStatementStopsWhenTheBudgetRunsOutMidwayOrGivesNullsWithWarnings() throws Exception {
        try (Connection stream = as(WORLD.proxy(), STREAM); Connection admin = as(WORLD.proxy(), ADMIN)) {
            exec(admin, "SET RAG BUDGET FOR '" + STREAM + "'@'%' = 3.00 USD PER DAY");
            // One call at a time, one row per batch: each call is checked once the calls before it were counted.
            exec(stream, "SET rag_concurrency = 1");
            exec(stream, "SET rag_batch_size = 1");
            // Each prompt is 1,001 words (about 1 USD); EXPLAIN RAG estimates 0.256 USD each, 2.56 USD in all, which
            // fits 3.00: the statement starts, and its fourth call finds the budget spent.
            String select = "SELECT id, GENERATE(CONCAT('budget %s ', id, words)) AS g FROM prompts ORDER BY id";
            List<List<String>> plan = rows(stream, "EXPLAIN RAG " + String.format(select, "stop"));
            assertEquals("2.560000", plan.get(0).get(4), "the estimate the statement starts with: " + plan);
            int before = requests();
            SQLException stopped = assertSqlError(stream, String.format(select, "stop"), 7111, "42000");
            assertEquals(3, requests() - before, "three calls of about 1 USD spend 3.00 USD; no call after that");
            String m = stopped.getMessage();
            assertTrue(m.contains("3.00 USD PER DAY and it ran out during this statement")
                    && m.contains("of that by this statement's 3 model requests"), "names the budget, what was spent"
                    + " and what the statement spent: " + m);
            AiProxy.assertSelect1(stream); // the connection goes on
            assertEquals(before + 3, requests(), "nothing was sent after the statement stopped");
            // The budget check before the next statement refuses it at once: nothing is left.
            SQLException refused = assertSqlError(stream, String.format(select, "again"), 7111, "42000");
            assertTrue(refused.getMessage().contains("no model was called"), refused.getMessage());

            // Raised by 3.00 USD: under rag_on_error = 'null' the rows after the budget ran out are NULL, each with a
            // warning, and the statement ends normally.
            exec(admin, "SET RAG BUDGET FOR '" + STREAM + "'@'%' = 6.00 USD PER DAY");
            exec(stream, "SET rag_on_error = 'null'");
            before = requests();
            List<List<String>> got = new ArrayList<>();
            List<SQLWarning> warnings = new ArrayList<>();
            try (Statement s = stream.createStatement();
                    ResultSet rs = s.executeQuery(String.format(select, "null"))) {
                while (rs.next()) {
                    got.add(Arrays.asList(rs.getString(1), rs.getString(2)));
                }
                for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
                    warnings.add(w);
                }
            }
            assertEquals(3, requests() - before, "three more calls of about 1 USD reach 6.00 USD");
            assertEquals(ROWS, got.size(), "every row: " + got);
            for (int i = 0; i < ROWS; i++) {
                assertEquals(Integer.toString(i + 1), got.get(i).get(0));
                assertEquals(i >= 3, got.get(i).get(1) == null, "the three rows whose calls were sent have their"
                        + " answers, the rest are NULL: " + got + "; warnings: " + warnings);
            }
            assertEquals(ROWS - 3, warnings.size(), "one warning per row that got NULL: " + warnings);
            for (SQLWarning w : warnings) {
                assertEquals(7111, w.getErrorCode(), w.getMessage());
                assertTrue(w.getMessage().contains("ran out during this statement")
                        && w.getMessage().contains("is NULL (rag_on_error = 'null')"), w.getMessage());
            }
            exec(stream, "SET rag_on_error = 'error'");
            exec(admin, "SET RAG BUDGET FOR '" + STREAM + "'@'%' = NONE");
        }
    }
}
