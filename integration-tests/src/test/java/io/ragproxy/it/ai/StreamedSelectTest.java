package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.LLAMA;
import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The streamed plan end to end: a SELECT whose GENERATE calls over columns are whole select-list items, against the
 * Bedrock emulator, through MySQL Connector/J, MariaDB Connector/J and the mariadb CLI. Expected answers come from
 * a second, private emulator asked directly ({@link ReferenceBedrock}); expected rows and column types from the
 * backend asked directly.
 */
class StreamedSelectTest {
    private static final String DB = "ragproxy_it_ai_streamed";
    private static final String SUMMARIES = "SELECT id, n, GENERATE(CONCAT('Summarize: ', body)) AS summary, created,"
            + " price FROM docs ORDER BY id DESC";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @BeforeAll
    static void data() throws Exception {
        List<String> sql = new ArrayList<>(List.of(
                "CREATE TABLE docs (id INT PRIMARY KEY, n SMALLINT, body TEXT, created DATE, price DECIMAL(6,2))",
                "CREATE TABLE flaky (id INT PRIMARY KEY, body TEXT)",
                "INSERT INTO flaky VALUES (1, 'ok one'), (2, 'fail-me first'), (3, 'ok two'), (4, 'fail-me second'),"
                        + " (5, 'fail-me first')"));
        List<String> bodies = new ArrayList<>(Seeds.SENTENCES);
        bodies.addAll(Seeds.SENTENCES_ZH);
        bodies.add(Seeds.SENTENCES.get(0)); // a repeated text
        bodies.add(null);
        bodies.add("");
        for (int i = 0; i < bodies.size(); i++) {
            String body = bodies.get(i) == null ? "NULL" : AiProxy.quote(bodies.get(i));
            sql.add("INSERT INTO docs VALUES (" + (i + 1) + ", " + (i * 7) + ", " + body + ", '2024-01-"
                    + String.format("%02d", i + 1) + "', " + (i + 0.25) + ")");
        }
        LocalBackend.get().exec(DB, sql.toArray(String[]::new));
    }

    @BeforeEach
    void resetEmulator() throws InterruptedException {
        AiProxy.quiesce(WORLD.emulator());
    }

    /** What the emulator answers Llama for {@code prompt}, asked directly; null for NULL or empty prompts (no call). */
    private static String expected(String prompt) {
        return prompt == null || prompt.isEmpty() ? null : WORLD.reference().converse(LLAMA, prompt).join();
    }

    /** The rows of {@code directSql} on the backend, with column {@code textColumn} replaced by the model's answer to it. */
    private static List<List<String>> expectedRows(String directSql, int textColumn) throws Exception {
        List<List<String>> direct;
        try (Connection c = LocalBackend.get().connect(DB)) {
            direct = rows(c, directSql);
        }
        List<CompletableFuture<String>> answers = new ArrayList<>();
        for (List<String> row : direct) {
            String prompt = row.get(textColumn);
            answers.add(prompt == null || prompt.isEmpty() ? CompletableFuture.completedFuture(null)
                    : WORLD.reference().converse(LLAMA, prompt));
        }
        List<List<String>> out = new ArrayList<>();
        for (int r = 0; r < direct.size(); r++) {
            List<String> row = new ArrayList<>(direct.get(r));
            row.set(textColumn, answers.get(r).join());
            out.add(row);
        }
        return out;
    }

    @Test
    void rowsMatchTheReferenceInTheStatementsOrderOnBothDrivers() throws Exception {
        List<List<String>> expected = expectedRows("SELECT id, n, CONCAT('Summarize: ', body), created, price FROM docs"
                + " ORDER BY id DESC", 2);
        assertNull(expected.get(1).get(2), "the NULL body's row (a check of the fixture)");
        for (Driver d : Driver.values()) {
            try (Connection c = WORLD.proxy().connect(d, DB)) {
                assertEquals(expected, rows(c, SUMMARIES), d.toString());
                assertSelect1(c);
            }
        }
        List<RecordedRequest> calls = WORLD.emulator().requests(LLAMA, "converse");
        assertEquals(calls.size(), calls.stream().map(RecordedRequest::bodyString).distinct().count(),
                "each prompt asked for once at most: the repeated text and the second driver's run come from the cache");
    }

    @Test
    void otherColumnsKeepTheBackendsTypesAndAiColumnsAreText() throws Exception {
        for (Driver d : Driver.values()) {
            try (Connection proxied = WORLD.proxy().connect(d, DB);
                    Connection direct = d.connect(LocalBackend.get().host(), LocalBackend.get().port(), DB,
                            LocalBackend.USER, LocalBackend.PASSWORD, false);
                    Statement ps = proxied.createStatement();
                    Statement ds = direct.createStatement();
                    ResultSet pr = ps.executeQuery(SUMMARIES + " LIMIT 1");
                    ResultSet dr = ds.executeQuery("SELECT id, n, CONCAT('Summarize: ', body) AS summary, created, price"
                            + " FROM docs ORDER BY id DESC LIMIT 1")) {
                ResultSetMetaData p = pr.getMetaData();
                ResultSetMetaData m = dr.getMetaData();
                assertEquals(5, p.getColumnCount());
                for (int col : new int[] {1, 2, 4, 5}) {
                    String what = d + " column " + m.getColumnLabel(col);
                    assertEquals(m.getColumnLabel(col), p.getColumnLabel(col), what);
                    assertEquals(m.getColumnType(col), p.getColumnType(col), what);
                    assertEquals(m.getColumnTypeName(col), p.getColumnTypeName(col), what);
                    assertEquals(m.getPrecision(col), p.getPrecision(col), what);
                    assertEquals(m.getScale(col), p.getScale(col), what);
                    assertEquals(m.getTableName(col), p.getTableName(col), what);
                }
                assertEquals(Types.INTEGER, p.getColumnType(1), d + ": INT stays INT");
                assertEquals("summary", p.getColumnLabel(3));
                int ai = p.getColumnType(3);
                assertTrue(ai == Types.LONGVARCHAR || ai == Types.VARCHAR || ai == Types.CLOB,
                        d + ": the GENERATE column is text, got JDBC type " + ai + " " + p.getColumnTypeName(3));
                assertTrue(pr.next());
                dr.next();
                assertEquals(dr.getInt(1), pr.getInt(1));
                assertEquals(dr.getDate(4), pr.getDate(4));
                assertEquals(dr.getBigDecimal(5), pr.getBigDecimal(5));
                assertEquals(expected(dr.getString(3)), pr.getString(3));
            }
        }
    }

    @Test
    void anUnaliasedCallIsLabelledByItsText() throws Exception {
        try (Connection c = WORLD.proxy().connect(Driver.MYSQL_CJ, DB);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, GENERATE(body) FROM docs WHERE id = 1")) {
            assertEquals("GENERATE(body)", rs.getMetaData().getColumnLabel(2));
            assertTrue(rs.next());
            assertEquals(expected(Seeds.SENTENCES.get(0)), rs.getString("GENERATE(body)"));
        }
    }

    @Test
    void nullAndEmptyTextGiveNullWithoutACall() throws Exception {
        String where = " FROM docs WHERE body IS NULL OR body = '' ORDER BY id";
        List<List<String>> expected;
        try (Connection direct = LocalBackend.get().connect(DB)) {
            expected = rows(direct, "SELECT id, NULL" + where);
        }
        assertEquals(2, expected.size(), "the fixture has a NULL and an empty body");
        try (Connection c = WORLD.proxy().connect(DB)) {
            assertEquals(expected, rows(c, "SELECT id, GENERATE(body) AS g" + where));
        }
        assertEquals(0, WORLD.emulator().requestCount(), WORLD.emulator().requests().toString());
    }

    @Test
    void theMariadbCliPrintsTheStreamedRows() throws Exception {
        List<List<String>> expected = expectedRows("SELECT id, CONCAT('Summarize: ', body) FROM docs ORDER BY id", 1);
        List<String> lines = Seeds.runCli(WORLD.proxy().host(), WORLD.proxy().port(), DB,
                "SELECT id, GENERATE(CONCAT('Summarize: ', body)) AS summary FROM docs ORDER BY id;\n");
        List<String> want = expected.stream().map(r -> r.get(0) + "\t" + (r.get(1) == null ? "NULL" : r.get(1))).toList();
        assertEquals(want, lines);
    }

    @Test
    void onErrorNullGivesNullRowsAndWarningsThatTheNextStatementClears() throws Exception {
        WORLD.emulator().failWhenInputContains("fail-me", EmulatedError.VALIDATION);
        for (Driver d : Driver.values()) {
            try (Connection c = WORLD.proxy().connect(d, DB)) {
                exec(c, "SET rag_on_error = 'null'");
                List<List<String>> got = new ArrayList<>();
                SQLWarning warnings;
                try (Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT id, GENERATE(body) AS g FROM flaky ORDER BY id")) {
                    while (rs.next()) {
                        got.add(Arrays.asList(rs.getString(1), rs.getString(2)));
                    }
                    warnings = s.getWarnings();
                }
                assertEquals(List.of(Arrays.asList("1", expected("ok one")), Arrays.asList("2", null),
                        Arrays.asList("3", expected("ok two")), Arrays.asList("4", null), Arrays.asList("5", null)), got,
                        d.toString());
                List<SQLWarning> chain = new ArrayList<>();
                for (SQLWarning w = warnings; w != null; w = w.getNextWarning()) {
                    chain.add(w);
                }
                assertEquals(2, chain.size(), d + ": one warning per failed distinct input: " + chain);
                for (SQLWarning w : chain) {
                    assertEquals(7104, w.getErrorCode(), d + ": " + w.getMessage());
                    assertTrue(w.getMessage().contains(LLAMA), "names the model: " + w.getMessage());
                }

                List<List<String>> listed = rows(c, "SHOW WARNINGS");
                assertEquals(2, listed.size(), listed.toString());
                for (List<String> w : listed) {
                    assertEquals("Warning", w.get(0));
                    assertEquals("7104", w.get(1));
                    assertTrue(w.get(2).contains(LLAMA) && w.get(2).contains("fail-me"), w.get(2));
                }
                assertTrue(listed.get(0).get(2).contains("'fail-me first'") && listed.get(1).get(2).contains("'fail-me second'"),
                        "in the order of the rows: " + listed);
                assertEquals("2", scalar(c, "SHOW COUNT(*) WARNINGS"));
                assertEquals("2", scalar(c, "SELECT @@warning_count"));
                assertEquals(1, rows(c, "SHOW WARNINGS LIMIT 1, 5").size());

                assertSelect1(c); // any other statement clears them
                assertEquals(List.of(), rows(c, "SHOW WARNINGS"));
                assertEquals("0", scalar(c, "SELECT @@warning_count"));

                // The literal plan's warnings ride on the backend's own reply to the rewritten statement.
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT GENERATE('fail-me too') AS g")) {
                    assertTrue(rs.next());
                    assertNull(rs.getString(1));
                    SQLWarning w = s.getWarnings();
                    assertNotNull(w, d + ": the forwarded statement's warning count includes the proxy's");
                    assertEquals(7104, w.getErrorCode());
                }
                assertEquals("1", scalar(c, "SHOW COUNT(*) WARNINGS"));
                exec(c, "SET rag_on_error = 'error'");
                assertEquals(List.of(), rows(c, "SHOW WARNINGS"), "a SET clears them too");
            }
        }
    }

    @Test
    void aModelErrorPartWayFailsTheStatementAndLeavesTheConnectionUsable() throws Exception {
        WORLD.emulator().failWhenInputContains("fail-me", EmulatedError.VALIDATION);
        String sql = "SELECT id, GENERATE(body) AS g FROM flaky ORDER BY id";
        try (Connection c = WORLD.proxy().connect(Driver.MARIADB_CJ, DB)) {
            SQLException e = assertSqlError(c, sql, 7104, "22023");
            assertTrue(e.getMessage().contains(LLAMA), e.getMessage());
            assertEquals("5", scalar(c, "SELECT COUNT(*) FROM flaky"));
        }
        // Rows answered before the failure reach the client, then the error in place of the next row. The first
        // batch (of 2) comes from the cache, so it is written before the second batch's call fails.
        try (Connection c = WORLD.proxy().connect(Driver.MYSQL_CJ, DB)) {
            assertEquals(2, rows(c, "SELECT GENERATE('ok one'), GENERATE('ok two')").get(0).stream()
                    .filter(v -> v != null).count());
            exec(c, "SET rag_batch_size = 2");
            List<String> seen = new ArrayList<>();
            SQLException e;
            try (Statement s = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
                s.setFetchSize(Integer.MIN_VALUE);
                e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> {
                    try (ResultSet rs = s.executeQuery("SELECT body, GENERATE(body) AS g FROM flaky ORDER BY body DESC")) {
                        while (rs.next()) {
                            seen.add(rs.getString(1) + " -> " + rs.getString(2));
                        }
                    }
                });
            }
            assertEquals(List.of("ok two -> " + expected("ok two"), "ok one -> " + expected("ok one")), seen);
            assertEquals(7104, e.getErrorCode(), e.getMessage());
            assertTrue(e.getMessage().contains("the first 2 rows were sent before the error"), e.getMessage());
            assertEquals("5", scalar(c, "SELECT COUNT(*) FROM flaky"));
        }
        // MySQL Connector/J turns every SQLSTATE 22xxx into a DataTruncation (22001): the code is what stays.
        try (Connection c = WORLD.proxy().connect(Driver.MYSQL_CJ, DB)) {
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class, () -> rows(c, sql));
            assertEquals(7104, e.getErrorCode(), e.getMessage());
            assertEquals("5", scalar(c, "SELECT COUNT(*) FROM flaky"));
        }
    }

    @Test
    void theCostGuardRefusesTooManyDistinctInputsAndExplainCountsThem() throws Exception {
        String count;
        try (Connection direct = LocalBackend.get().connect(DB)) {
            count = scalar(direct, "SELECT COUNT(DISTINCT CONCAT('Summarize: ', body)) FROM docs");
        }
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = 3");
            try {
                SQLException e = assertSqlError(c, SUMMARIES, 7013, "54000");
                assertTrue(e.getMessage().contains(count + " distinct model inputs"), e.getMessage());
                assertTrue(e.getMessage().contains("rag_max_calls"), e.getMessage());
                List<List<String>> explain = rows(c, "EXPLAIN RAG " + SUMMARIES);
                assertEquals(1, explain.size());
                assertEquals("streamed", explain.get(0).get(0));
                assertEquals(count, explain.get(0).get(1));
                assertEquals(LLAMA, explain.get(0).get(2));
                assertTrue(explain.get(0).get(3).startsWith("SELECT id, n, CONCAT('Summarize: ', body) AS "),
                        explain.get(0).get(3));
                assertEquals(0, WORLD.emulator().requestCount(), "no model call: " + WORLD.emulator().requests());
                // LIMIT 2 proves two inputs at most: no count needed, and it runs.
                assertEquals(2, rows(c, SUMMARIES + " LIMIT 2").size());
            } finally {
                exec(c, "SET rag_max_calls = DEFAULT");
            }
        }
    }

    @Test
    void aClientGoneMidStreamLeavesTheProxyWorking() throws Exception {
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS many", "CREATE TABLE many (id INT PRIMARY KEY)",
                "SET SESSION max_recursive_iterations = 100000",
                "INSERT INTO many SELECT i FROM (WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s"
                        + " WHERE i < 10000) SELECT i FROM s) t");
        WORLD.emulator().setLatency(Duration.ofMillis(20));
        try {
            Connection gone = WORLD.proxy().connect(Driver.MYSQL_CJ, DB);
            exec(gone, "SET rag_max_calls = 20000");
            Statement s = gone.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
            s.setFetchSize(Integer.MIN_VALUE);
            // Rows of 4 kB: the socket buffers between proxy and client hold a few thousand of them, not all.
            ResultSet rs = s.executeQuery("SELECT id, REPEAT('x', 4000) AS pad, GENERATE(CONCAT('Row ', id)) AS g"
                    + " FROM many ORDER BY id");
            for (int i = 1; i <= 5; i++) {
                assertTrue(rs.next());
                assertEquals(i, rs.getInt(1));
            }
            gone.abort(Runnable::run); // the socket closes under the running statement

            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (WORLD.proxy().openConnections() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, WORLD.proxy().openConnections(), "the proxy let the connection go");
            // The batches already with the model finish; no further batch starts.
            int before;
            int after = WORLD.emulator().requestCount();
            do {
                before = after;
                Thread.sleep(500);
                after = WORLD.emulator().requestCount();
            } while (after != before && System.nanoTime() < deadline);
            assertEquals(before, after, "model calls stopped after the client went away");
            assertTrue(after < 10000, "the statement did not run to its end for nobody: " + after + " calls");

            WORLD.emulator().setLatency(Duration.ZERO);
            try (Connection c = WORLD.proxy().connect(Driver.MYSQL_CJ, DB)) {
                assertEquals(List.of(Arrays.asList("1", expected(Seeds.SENTENCES.get(0)))),
                        rows(c, "SELECT id, GENERATE(body) AS g FROM docs WHERE id = 1"));
                assertSelect1(c);
            }
        } finally {
            WORLD.emulator().setLatency(Duration.ZERO);
        }
    }

    /** Rows of the streamed SELECT read by MySQL Connector/J in streaming mode equal those read whole. */
    @Test
    void streamingReadsGetTheSameRows() throws Exception {
        List<List<String>> whole;
        try (Connection c = WORLD.proxy().connect(Driver.MYSQL_CJ, DB)) {
            whole = rows(c, SUMMARIES);
        }
        Map<String, String> byId = new LinkedHashMap<>();
        try (Connection c = WORLD.proxy().connect(Driver.MYSQL_CJ, DB);
                Statement s = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            s.setFetchSize(Integer.MIN_VALUE);
            try (ResultSet rs = s.executeQuery(SUMMARIES)) {
                while (rs.next()) {
                    byId.put(rs.getString(1), rs.getString(3));
                }
            }
            assertSelect1(c);
        }
        assertEquals(whole.stream().map(r -> r.get(0)).toList(), new ArrayList<>(byId.keySet()));
        for (List<String> r : whole) {
            assertEquals(r.get(2), byId.get(r.get(0)));
        }
    }
}
