package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.LLAMA;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.EmulatedError;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The materialized plan: AI calls over columns in every position a user writes them, through the proxy with the
 * Bedrock emulator (Titan V2 512 + Llama 3.2). Each result is checked against a table computed in the test from
 * the rows and the reference emulator's answers, never against the proxy's own output.
 */
class MaterializedPlanTest {
    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld("ragproxy_it_ai_materialized");

    /** id → (title, body, cat); bodies repeat and one is NULL, to show de-duplication and NULL handling. */
    private static final Map<Integer, String[]> DOCS = new LinkedHashMap<>();

    static {
        String[][] rows = {
            {"alpha", "TiDB is a distributed SQL database.", "db"},
            {"beta", "MariaDB 11.7 added a VECTOR type.", "db"},
            {"gamma", "Cats sleep most of the day.", "pet"},
            {"delta", null, "pet"},
            {"alpha", "TiDB is a distributed SQL database.", "db"},
            {"epsilon", "Dogs like long walks.", "pet"},
            {"zeta", "Vector search finds similar text.", "db"},
            {"eta", "Parrots can mimic speech.", "bird"},
        };
        for (int i = 0; i < rows.length; i++) {
            DOCS.put(i + 1, rows[i]);
        }
    }

    @BeforeAll
    static void createTable() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "CREATE TABLE docs (id INT PRIMARY KEY, title VARCHAR(40), body TEXT, cat VARCHAR(10))");
            for (Map.Entry<Integer, String[]> e : DOCS.entrySet()) {
                String[] d = e.getValue();
                exec(c, "INSERT INTO docs VALUES (" + e.getKey() + ", " + quote(d[0]) + ", "
                        + (d[1] == null ? "NULL" : quote(d[1])) + ", " + quote(d[2]) + ")");
            }
        }
    }

    @BeforeEach
    void quiet() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
    }

    private static String answer(String prompt) {
        return prompt == null ? null : WORLD.reference().converse(LLAMA, prompt).join();
    }

    private static float[] vector(String text) {
        return WORLD.reference().titan512(text).join();
    }

    @Test
    void nestedInASelectListExpression() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT id, UPPER(GENERATE(CONCAT('Summarize: ', body))) AS s,"
                    + " JSON_VALUE(SUBSTRING(GENERATE(CONCAT('{\"t\": \"', title, '\"}')), 7), '$.t') AS t"
                    + " FROM docs ORDER BY id");
            List<List<String>> expected = new ArrayList<>();
            DOCS.forEach((id, d) -> {
                String s = d[1] == null ? null : answer("Summarize: " + d[1]).toUpperCase(Locale.ROOT);
                String echoed = answer("{\"t\": \"" + d[0] + "\"}");
                expected.add(Arrays.asList(id.toString(), s, echoed.startsWith("echo: ") ? d[0] : null));
            });
            assertEquals(expected, got);
        }
    }

    @Test
    void eachDistinctArgumentIsSentOnceThenComesFromTheCache() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            rows(c, "SELECT id, GENERATE(CONCAT('Once: ', body)) FROM docs");
            Set<String> distinct = DOCS.values().stream().filter(d -> d[1] != null).map(d -> d[1])
                    .collect(Collectors.toSet());
            assertEquals(distinct.size(), WORLD.emulator().requests(LLAMA, "converse").size(),
                    "one call per distinct non-NULL body: " + WORLD.emulator().requests());
            WORLD.emulator().clearRequests();
            rows(c, "SELECT id FROM docs WHERE GENERATE(CONCAT('Once: ', body)) IS NOT NULL");
            assertEquals(0, WORLD.emulator().requestCount(), "the same arguments again come from the cache");
        }
    }

    @Test
    void whereFiltersOnAiResults() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT id FROM docs WHERE cat <> 'bird' AND GENERATE(body) LIKE '%sql%'"
                    + " ORDER BY id");
            List<List<String>> expected = new ArrayList<>();
            DOCS.forEach((id, d) -> {
                String a = answer(d[1]);
                if (!d[2].equals("bird") && a != null && a.toLowerCase(Locale.ROOT).contains("sql")) {
                    expected.add(List.of(id.toString()));
                }
            });
            assertEquals(List.of(List.of("1"), List.of("5")), expected, "the fixture itself");
            assertEquals(expected, got);
        }
    }

    @Test
    void orderByTheDistanceBetweenTwoEmbeddingsOfColumns() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT id FROM docs WHERE body IS NOT NULL ORDER BY"
                    + " VEC_COSINE_DISTANCE(EMBED(body), EMBED(title)), id");
            List<Integer> ids = new ArrayList<>();
            Map<Integer, Double> distance = new TreeMap<>();
            DOCS.forEach((id, d) -> {
                if (d[1] != null) {
                    ids.add(id);
                    distance.put(id, AiProxy.cosineDistance(vector(d[1]), vector(d[0])));
                }
            });
            ids.sort(Comparator.comparing((Integer id) -> distance.get(id)).thenComparing(id -> id));
            assertEquals(ids.stream().map(id -> List.of(id.toString())).toList(), got);
        }
    }

    @Test
    void groupByAndHavingOverAiResults() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT GENERATE(cat) AS g, COUNT(*) FROM docs GROUP BY GENERATE(cat)"
                    + " ORDER BY g");
            Map<String, Integer> expected = new TreeMap<>();
            DOCS.values().forEach(d -> expected.merge(answer(d[2]), 1, Integer::sum));
            assertEquals(expected.entrySet().stream().map(e -> List.of(e.getKey(), e.getValue().toString())).toList(),
                    got);

            List<List<String>> having = rows(c, "SELECT cat FROM docs GROUP BY cat HAVING"
                    + " GENERATE(GROUP_CONCAT(title ORDER BY id SEPARATOR ' ')) LIKE '%alpha%' ORDER BY cat");
            Map<String, List<String>> titles = new TreeMap<>();
            DOCS.values().forEach(d -> titles.computeIfAbsent(d[2], k -> new ArrayList<>()).add(d[0]));
            List<List<String>> expectedHaving = new ArrayList<>();
            titles.forEach((cat, t) -> {
                if (answer(String.join(" ", t)).contains("alpha")) {
                    expectedHaving.add(List.of(cat));
                }
            });
            assertEquals(List.of(List.of("db")), expectedHaving, "the fixture itself");
            assertEquals(expectedHaving, having);
        }
    }

    @Test
    void insertSelectAndCreateTableAsSelectStoreTheResults() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "DROP TABLE IF EXISTS summaries");
            exec(c, "CREATE TABLE summaries (id INT PRIMARY KEY, s TEXT)");
            assertEquals(3, update(c, "INSERT INTO summaries (id, s) SELECT id, GENERATE(CONCAT('S: ', body)) FROM docs"
                    + " WHERE cat = 'pet'"));
            List<List<String>> expected = new ArrayList<>();
            DOCS.forEach((id, d) -> {
                if (d[2].equals("pet")) {
                    expected.add(Arrays.asList(id.toString(), answer("S: " + d[1])));
                }
            });
            expected.set(1, Arrays.asList("4", null)); // CONCAT('S: ', NULL) is NULL: no call, NULL stored
            assertEquals(expected, rows(c, "SELECT id, s FROM summaries ORDER BY id"));

            exec(c, "DROP TABLE IF EXISTS vecs");
            exec(c, "CREATE TABLE vecs AS SELECT id, EMBED(body) AS v FROM docs WHERE body IS NOT NULL");
            for (List<String> row : rows(c, "SELECT id, VEC_ToText(v) FROM vecs ORDER BY id")) {
                float[] want = vector(DOCS.get(Integer.parseInt(row.get(0)))[1]);
                assertTrue(AiProxy.maxAbsDiff(want, AiProxy.parseVector(row.get(1))) < 1e-6, "row " + row.get(0));
            }
            assertEquals("7", scalar(c, "SELECT COUNT(*) FROM vecs"));
            // With the column declared, it is a VECTOR column (and a distance over it works).
            exec(c, "DROP TABLE IF EXISTS vecs2");
            exec(c, "CREATE TABLE vecs2 (id INT PRIMARY KEY, v VECTOR(512)) AS SELECT id, EMBED(body) AS v FROM docs"
                    + " WHERE body IS NOT NULL");
            assertEquals("1", scalar(c, "SELECT id FROM vecs2 ORDER BY VEC_EMBED_COSINE_DISTANCE(v, "
                    + quote(DOCS.get(1)[1]) + "), id LIMIT 1"));
        }
    }

    @Test
    void updateReadsTheNewValuesOfColumnsAssignedBeforeIt() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "DROP TABLE IF EXISTS notes");
            exec(c, "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT, v VECTOR(512), s TEXT)");
            exec(c, "INSERT INTO notes (id, body) SELECT id, body FROM docs WHERE body IS NOT NULL");
            assertEquals(3, update(c, "UPDATE notes SET body = CONCAT(body, ' (edited)'), v = EMBED(body),"
                    + " s = GENERATE(body) WHERE id > 3 ORDER BY id LIMIT 3"));
            for (List<String> row : rows(c, "SELECT id, body, VEC_ToText(v), s FROM notes WHERE id > 3 ORDER BY id")) {
                int id = Integer.parseInt(row.get(0));
                if (id > 7) {
                    continue;
                }
                String edited = DOCS.get(id)[1] + " (edited)";
                assertEquals(edited, row.get(1));
                assertTrue(AiProxy.maxAbsDiff(vector(edited), AiProxy.parseVector(row.get(2))) < 1e-6, "vector of " + id);
                assertEquals(answer(edited), row.get(3));
            }
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM notes WHERE id <= 3 AND (v IS NOT NULL OR s IS NOT NULL)"));
        }
    }

    @Test
    void derivedTablesJoinsAndDelete() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> derived = rows(c, "SELECT t.id FROM (SELECT id, GENERATE(title) AS g FROM docs) t"
                    + " WHERE t.g = " + quote(answer("alpha")) + " ORDER BY t.id");
            assertEquals(List.of(List.of("1"), List.of("5")), derived);

            List<List<String>> joined = rows(c, "SELECT a.id, b.id FROM docs a JOIN docs b"
                    + " ON GENERATE(a.title) = GENERATE(b.title) AND a.id < b.id ORDER BY a.id, b.id");
            assertEquals(List.of(List.of("1", "5")), joined, "the two rows with equal titles");

            exec(c, "DROP TABLE IF EXISTS pets");
            exec(c, "CREATE TABLE pets AS SELECT * FROM docs WHERE cat = 'pet'");
            assertEquals(1, update(c, "DELETE FROM pets WHERE GENERATE(body) LIKE '%walks%'"));
            assertEquals(List.of(List.of("3"), List.of("4")), rows(c, "SELECT id FROM pets ORDER BY id"));
        }
    }

    @Test
    void aCallOverAnotherCallsResult() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            String v = scalar(c, "SELECT VEC_ToText(EMBED(GENERATE(body))) FROM docs WHERE id = 2");
            float[] want = vector(answer(DOCS.get(2)[1]));
            assertTrue(AiProxy.maxAbsDiff(want, AiProxy.parseVector(v)) < 1e-6);
        }
    }

    @Test
    void manyDistinctResultsGoThroughATemporaryTableThatIsDroppedAfterwards() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "DROP TABLE IF EXISTS numbers");
            exec(c, "CREATE TABLE numbers (n INT PRIMARY KEY)");
            exec(c, "INSERT INTO numbers SELECT seq FROM seq_1_to_300");
            List<List<String>> got = rows(c, "SELECT n, GENERATE(CONCAT('n=', n)) FROM numbers"
                    + " WHERE GENERATE(CONCAT('n=', n)) <> 'x' ORDER BY n");
            assertEquals(300, got.size());
            for (List<String> row : got) {
                assertEquals(answer("n=" + row.get(0)), row.get(1));
            }
            // The plan's session temporary tables are gone once the response has been relayed.
            for (String table : List.of("ragproxy_results_0", "ragproxy_results_1")) {
                assertSqlError(c, "SELECT COUNT(*) FROM " + table, 1146, "42S02");
            }
        }
    }

    /** A table of 40 numbers: 40 distinct model inputs, more than the inline CASE takes. */
    private static void createForty() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "CREATE TABLE IF NOT EXISTS forty (n INT PRIMARY KEY)");
            exec(c, "INSERT IGNORE INTO forty SELECT seq FROM seq_1_to_40");
        }
    }

    /**
     * Runs {@code sql} on {@code raw} and reads its result set: rows, and the warning count of its final EOF, as the
     * mariadb CLI prints "N rows in set, W warnings".
     */
    private static int[] resultOf(io.ragproxy.it.RawMysqlClient raw, String sql) throws Exception {
        byte[] first = raw.command(io.ragproxy.it.RawMysqlClient.COM_QUERY, sql);
        assertTrue((first[0] & 0xff) != 0xff && (first[0] & 0xff) != 0x00, io.ragproxy.it.RawMysqlClient.describe(first));
        for (int i = 0; i < (first[0] & 0xff); i++) {
            raw.readPacket();
        }
        raw.readPacket();
        int rows = 0;
        while (true) {
            byte[] p = raw.readPacket();
            if ((p[0] & 0xff) == 0xfe && p.length < 9) {
                return new int[] {rows, (p[1] & 0xff) | (p[2] & 0xff) << 8};
            }
            assertTrue((p[0] & 0xff) != 0xff, io.ragproxy.it.RawMysqlClient.describe(p));
            rows++;
        }
    }

    @Test
    void theWarningsAReplyCountsAreTheOnesShowWarningsListsPastTheInlineLimit() throws Exception {
        createForty();
        try (io.ragproxy.it.RawMysqlClient raw = io.ragproxy.it.RawMysqlClient.login(WORLD.proxy().host(),
                WORLD.proxy().port(), io.ragproxy.it.LocalBackend.USER, io.ragproxy.it.LocalBackend.PASSWORD,
                WORLD.database())) {
            // Each answer ("echo: …") cast to a number is a backend warning: 40 of them, 40 distinct results.
            int[] reply = resultOf(raw, "SELECT SUM(CAST(GENERATE(CONCAT('w=', n)) AS SIGNED)) FROM forty");
            assertEquals(1, reply[0]);
            assertEquals(40, reply[1], "the reply's warning count");
            assertEquals(40, resultOf(raw, "SHOW WARNINGS")[0], "SHOW WARNINGS lists them");
            assertEquals("40", raw.queryFirstValue("SELECT @@warning_count"));
            assertEquals("40", raw.queryFirstValue("SHOW COUNT(*) WARNINGS"));
            assertEquals(0, resultOf(raw, "SELECT 1")[1], "the next statement clears them");
            assertEquals(0, resultOf(raw, "SHOW WARNINGS")[0]);
        }
    }

    @Test
    void aSelectOnlyAccountWithoutADefaultDatabaseGetsPastTheInlineLimit() throws Exception {
        createForty();
        try (Connection root = io.ragproxy.it.LocalBackend.get().connect(WORLD.database())) {
            exec(root, "CREATE USER IF NOT EXISTS 'ragproxy_it_reader'@'%' IDENTIFIED BY 'reader-pw'");
            exec(root, "GRANT SELECT ON `" + WORLD.database() + "`.* TO 'ragproxy_it_reader'@'%'");
        }
        try (Connection c = io.ragproxy.it.Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), "",
                "ragproxy_it_reader", "reader-pw", false)) {
            assertEquals("40", scalar(c, "SELECT COUNT(*) FROM `" + WORLD.database() + "`.forty"
                    + " WHERE GENERATE(CONCAT('r=', n)) LIKE 'echo%'"));
            exec(c, "USE `" + WORLD.database() + "`"); // a database, but no CREATE TEMPORARY TABLES on it
            assertEquals("40", scalar(c, "SELECT COUNT(*) FROM forty WHERE GENERATE(CONCAT('s=', n)) LIKE 'echo%'"));
        } finally {
            try (Connection root = io.ragproxy.it.LocalBackend.get().connect(WORLD.database())) {
                exec(root, "DROP USER IF EXISTS 'ragproxy_it_reader'@'%'");
            }
        }
    }

    @Test
    void aFailedModelCallWritesNothingAndTheCostGuardRefusesBeforeAnyCall() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "DROP TABLE IF EXISTS guarded");
            exec(c, "CREATE TABLE guarded (id INT PRIMARY KEY, body TEXT, s TEXT)");
            exec(c, "INSERT INTO guarded (id, body) SELECT id, body FROM docs");
            WORLD.emulator().failWhenInputContains("Parrots", EmulatedError.ACCESS_DENIED);
            assertSqlError(c, "UPDATE guarded SET s = GENERATE(CONCAT('F: ', body)) WHERE id > 0 ORDER BY id", 7103,
                    "28000");
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM guarded WHERE s IS NOT NULL"), "no row half-written");
            WORLD.emulator().reset();

            exec(c, "SET rag_max_calls = 3");
            WORLD.emulator().clearRequests();
            var e = assertSqlError(c, "SELECT id FROM guarded WHERE GENERATE(CONCAT('guard ', body)) LIKE '%x%'", 7013,
                    "54000");
            assertTrue(e.getMessage().contains("needs 6 distinct model inputs"), e.getMessage());
            assertEquals(0, WORLD.emulator().requestCount(), "refused before any model call");
            List<List<String>> explain = rows(c, "EXPLAIN RAG SELECT id FROM guarded WHERE"
                    + " GENERATE(CONCAT('guard ', body)) LIKE '%x%'");
            assertEquals("materialized", explain.get(0).get(0));
            assertEquals("6", explain.get(0).get(1));
            // 6 inputs × Llama 3.2 3B's listed price ($0.00015 per 1k tokens in and out) for 256 tokens each way.
            assertEquals("0.000461", explain.get(0).get(4));
            assertEquals(0, WORLD.emulator().requestCount(), "EXPLAIN RAG calls no model");
            exec(c, "SET rag_max_calls = 1000");
        }
    }

    @Test
    void aTransactionRollbackUndoesAMaterializedUpdate() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "DROP TABLE IF EXISTS tx");
            exec(c, "CREATE TABLE tx (id INT PRIMARY KEY, body TEXT, s TEXT)");
            exec(c, "INSERT INTO tx (id, body) SELECT id, body FROM docs");
            c.setAutoCommit(false);
            update(c, "UPDATE tx SET s = GENERATE(body) ORDER BY id LIMIT 5");
            assertEquals("4", scalar(c, "SELECT COUNT(*) FROM tx WHERE s IS NOT NULL"), "row 4's body is NULL");
            c.rollback();
            c.setAutoCommit(true);
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM tx WHERE s IS NOT NULL"));
            Set<String> distinct = new LinkedHashSet<>();
            rows(c, "SELECT id FROM tx").forEach(r -> distinct.add(r.get(0)));
            assertEquals(8, distinct.size());
        }
    }
}
