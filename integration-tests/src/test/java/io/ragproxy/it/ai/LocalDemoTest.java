package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.maxAbsDiff;
import static io.ragproxy.it.ai.AiProxy.parseVector;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Seed 000's demo (and seed 001's Chinese text) through the proxy on the LOCAL defaults — the ONNX
 * all-MiniLM-L6-v2 embedding model (384 dimensions) and the local extractive text model — against the local
 * MariaDB backend, with JDBC and with the mariadb CLI.
 */
class LocalDemoTest {
    private static final String DB = "ragproxy_it_ai_local";
    private static AiProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        LocalBackend.get().recreateDatabase(DB);
        proxy = AiProxy.local();
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        LocalBackend.get().dropDatabase(DB);
    }

    /** The stored vector of every sentence is the local model's vector of exactly that sentence. */
    private static float[] localEmbedding(String text) throws Exception {
        return proxy.pipeline().invoker().embed(null, text, EmbedOptions.DEFAULT, null).get();
    }

    @Test
    void demoScriptThroughTheMariadbCli() throws Exception {
        String db = DB + "_cli";
        LocalBackend.get().recreateDatabase(db);
        try {
            List<String> out = Seeds.runCli(proxy.host(), proxy.port(), db, Seeds.demoSql(384));
            // 3 ranking rows, 3 ranking rows (VEC_EMBED_COSINE_DISTANCE), 1 answer.
            assertEquals(7, out.size(), () -> "CLI output:\n" + String.join("\n", out));
            for (int block = 0; block < 2; block++) {
                double previous = -1;
                for (int i = 0; i < 3; i++) {
                    String[] cols = out.get(block * 3 + i).split("\t");
                    assertEquals(2, cols.length, out.get(block * 3 + i));
                    double d = Double.parseDouble(cols[1]);
                    assertTrue(d >= previous, "distances ascend: " + out);
                    previous = d;
                }
                assertEquals(Seeds.TIDB_SENTENCE, out.get(block * 3).split("\t")[0], "first hit of block " + block);
            }
            // Both spellings rank the same rows with the same distances.
            assertEquals(out.subList(0, 3), out.subList(3, 6));
            String answer = out.get(6);
            assertTrue(answer.contains(Seeds.TIDB_SENTENCE), "the generated answer contains the TiDB sentence: " + answer);
        } finally {
            LocalBackend.get().dropDatabase(db);
        }
    }

    /** The README's quickstart block, as written there, on the local defaults (database renamed to this test's). */
    @Test
    void readmeQuickstartRunsOnTheLocalDefaults() throws Exception {
        java.nio.file.Path readme = LocalBackend.repoRoot().resolve("README.md");
        String text = java.nio.file.Files.readString(readme);
        int section = text.indexOf("## Quickstart");
        int start = section < 0 ? -1 : text.indexOf("```sql\n", section);
        int end = start < 0 ? -1 : text.indexOf("\n```", start + 7);
        assertTrue(end > 0, "README.md has no ```sql block under ## Quickstart");
        String sql = text.substring(start + 7, end);
        assertTrue(sql.contains("CREATE DATABASE rag_demo") && sql.contains("EXPLAIN RAG"),
                "the quickstart no longer creates rag_demo or shows EXPLAIN RAG; update this test with it: " + sql);
        String db = DB + "_readme";
        sql = sql.replaceAll("\\brag_demo\\b", db);
        LocalBackend.get().dropDatabase(db);
        try {
            List<String> out = Seeds.runCli(proxy.host(), proxy.port(), "", sql);
            assertTrue(out.size() >= 4, () -> "CLI output:\n" + String.join("\n", out));
            assertEquals(Seeds.TIDB_SENTENCE, out.get(0).split("\t")[0], "first hit: " + out);
            assertTrue(out.stream().anyMatch(l -> !l.contains("\t") && l.contains(Seeds.TIDB_SENTENCE)),
                    "an answer line with the TiDB sentence: " + out);
            assertTrue(out.stream().anyMatch(l -> l.startsWith("literal\t1\t")), "EXPLAIN RAG row: " + out);
            // The figures the README prints after the query are the ones the query returns.
            java.util.regex.Matcher shown = java.util.regex.Pattern.compile("(?m)^-- (.+?)\\s+(0\\.\\d+)$").matcher(sql);
            int checked = 0;
            while (shown.find()) {
                String sentence = shown.group(1).trim();
                String line = out.stream().filter(l -> l.startsWith(sentence + "\t")).findFirst().orElseThrow(
                        () -> new AssertionError("README shows a distance for a sentence not returned: " + sentence));
                assertEquals(Double.parseDouble(shown.group(2)), Double.parseDouble(line.split("\t")[1]), 1e-9,
                        "README's distance for: " + sentence);
                checked++;
            }
            assertEquals(3, checked, "the README shows the three nearest sentences with their distances");
        } finally {
            LocalBackend.get().dropDatabase(db);
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void demoThroughJdbc(Driver driver) throws Exception {
        String table = "docs_" + driver.name().toLowerCase();
        try (Connection c = proxy.connect(driver, DB)) {
            exec(c, "CREATE TABLE " + table + " (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT,"
                    + " embedding VECTOR(384) NOT NULL)");
            String values = Seeds.SENTENCES.stream().map(s -> "(" + quote(s) + ", EMBED(" + quote(s) + "))")
                    .collect(Collectors.joining(", "));
            assertEquals(5, update(c, "INSERT INTO " + table + " (content, embedding) VALUES " + values));

            // Every row holds the local model's vector of its own sentence, with 384 dimensions.
            for (List<String> row : rows(c, "SELECT content, VEC_ToText(embedding) FROM " + table + " ORDER BY id")) {
                float[] stored = parseVector(row.get(1));
                assertEquals(384, stored.length);
                assertTrue(maxAbsDiff(localEmbedding(row.get(0)), stored) < 1e-6, "vector of " + row.get(0));
            }

            List<List<String>> ranked = rows(c, "SELECT content, VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?'))"
                    + " FROM " + table + " ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) LIMIT 3");
            assertEquals(3, ranked.size());
            assertEquals(Seeds.TIDB_SENTENCE, ranked.get(0).get(0), "first hit: " + ranked);
            // The distance the backend computed is the cosine distance between the two local vectors.
            double expected = AiProxy.cosineDistance(localEmbedding(Seeds.TIDB_SENTENCE), localEmbedding(Seeds.QUESTION));
            assertEquals(expected, Double.parseDouble(ranked.get(0).get(1)), 1e-5);

            List<List<String>> ranked2 = rows(c, "SELECT content, VEC_EMBED_COSINE_DISTANCE(embedding, 'What is TiDB?') d"
                    + " FROM " + table + " ORDER BY d LIMIT 3");
            assertEquals(ranked, ranked2, "VEC_EMBED_COSINE_DISTANCE ranks like VEC_COSINE_DISTANCE(…, EMBED(…))");

            exec(c, "SET @context = (SELECT GROUP_CONCAT(content SEPARATOR '\\n') FROM (SELECT content FROM " + table
                    + " ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, 'What is TiDB?') LIMIT 3) t)");
            String context = scalar(c, "SELECT @context");
            assertEquals(ranked.stream().map(r -> r.get(0)).collect(Collectors.toSet()), Set.of(context.split("\n")));
            String answer = scalar(c, "SELECT GENERATE(CONCAT('ONLY use the content below to generate an answer:\\n',"
                    + " @context, '\\n----\\nPlease carefully think about the question: What is TiDB?')) AS answer");
            assertNotNull(answer);
            assertTrue(answer.contains(Seeds.TIDB_SENTENCE), "answer: " + answer);
            // The extractive model answers from the context only.
            for (String s : Seeds.SENTENCES.subList(3, 5)) {
                assertTrue(!answer.contains(s), "answer cites a sentence outside the context: " + answer);
            }
        }
    }

    @Test
    void chineseTextOfSeed001RoundTripsAndRanks() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            exec(c, "CREATE TABLE docs_zh (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT, embedding VECTOR(384))"
                    + " DEFAULT CHARSET=utf8mb4");
            String values = Seeds.SENTENCES_ZH.stream().map(s -> "(" + quote(s) + ", EMBED(" + quote(s) + "))")
                    .collect(Collectors.joining(", "));
            assertEquals(5, update(c, "INSERT INTO docs_zh (content, embedding) VALUES " + values));

            List<List<String>> stored = rows(c, "SELECT content, VEC_ToText(embedding) FROM docs_zh ORDER BY id");
            assertEquals(Seeds.SENTENCES_ZH, stored.stream().map(r -> r.get(0)).toList(), "utf8mb4 round trip");
            // The proxy embedded the exact text (a mis-decoded string would have another vector).
            for (List<String> row : stored) {
                assertTrue(maxAbsDiff(localEmbedding(row.get(0)), parseVector(row.get(1))) < 1e-6, "vector of " + row.get(0));
            }
            // Bytes as the backend stored them.
            try (Connection direct = LocalBackend.get().connect(DB)) {
                assertEquals(Seeds.SENTENCES_ZH.get(0), scalar(direct, "SELECT content FROM docs_zh WHERE id = 1"));
                assertEquals(Long.toString(Seeds.SENTENCES_ZH.get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8).length),
                        scalar(direct, "SELECT LENGTH(content) FROM docs_zh WHERE id = 1"));
            }

            List<List<String>> ranked = rows(c, "SELECT content FROM docs_zh ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED("
                    + quote(Seeds.QUESTION_ZH) + "))");
            // all-MiniLM-L6-v2 is an English model: it cannot tell the three TiDB sentences apart in Chinese, but it
            // must rank all three above the two sentences that are not about TiDB.
            Set<String> top3 = new HashSet<>();
            ranked.subList(0, 3).forEach(r -> top3.add(r.get(0)));
            assertEquals(new HashSet<>(Seeds.SENTENCES_ZH.subList(0, 3)), top3, "top 3: " + ranked);

            String answer = scalar(c, "SELECT GENERATE(" + quote(Seeds.SENTENCES_ZH.get(0) + Seeds.SENTENCES_ZH.get(4)
                    + "\n问题：" + Seeds.QUESTION_ZH) + ")");
            assertTrue(answer != null && answer.contains(Seeds.SENTENCES_ZH.get(0)), "answer: " + answer);
        }
    }

    @Test
    void userVariableAndExpressionArgumentsAreConstants() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            exec(c, "SET @q = 'What is TiDB?'");
            String viaVar = scalar(c, "SELECT VEC_ToText(EMBED(@q))");
            String viaLiteral = scalar(c, "SELECT VEC_ToText(EMBED('What is TiDB?'))");
            assertNotNull(viaVar);
            assertEquals(viaLiteral, viaVar);
            String concat = scalar(c, "SELECT VEC_ToText(EMBED(CONCAT('a', 'b')))");
            String ab = scalar(c, "SELECT VEC_ToText(EMBED('ab'))");
            String ba = scalar(c, "SELECT VEC_ToText(EMBED('ba'))");
            assertNotNull(concat);
            assertEquals(ab, concat);
            assertNotEquals(ab, ba, "different texts, different vectors");
            assertEquals(384, parseVector(ab).length);
            // And in a comparison the backend evaluates.
            assertEquals("1", scalar(c, "SELECT VEC_DISTANCE_COSINE(EMBED(CONCAT(@q, '')), EMBED('What is TiDB?')) < 1e-6"));
        }
    }

    /** MariaDB's {@code SELECT … INTO @var} with an AI call: the way to keep a retrieved context without a subquery. */
    @Test
    void selectIntoAUserVariable() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            exec(c, "SELECT VEC_ToText(EMBED('kept in a variable')) INTO @kept");
            assertEquals(scalar(c, "SELECT VEC_ToText(EMBED('kept in a variable'))"), scalar(c, "SELECT @kept"));
        }
    }

    @Test
    void nullAndEmptyTextGiveNullWithoutAModelCall() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            Map<String, String> before = status(c);
            List<List<String>> r = rows(c, "SELECT EMBED(NULL) IS NULL, EMBED('') IS NULL, EMBED(@no_such_variable) IS NULL,"
                    + " GENERATE(NULL) IS NULL, GENERATE('') IS NULL,"
                    + " VEC_EMBED_COSINE_DISTANCE(VEC_FromText('[1,2]'), NULL) IS NULL");
            assertEquals(List.of(List.of("1", "1", "1", "1", "1", "1")), r);
            Map<String, String> after = status(c);
            assertEquals(counter(before, "Rag_ml_requests"), counter(after, "Rag_ml_requests"), "model requests");
            assertEquals(counter(before, "Rag_ml_cache_misses"), counter(after, "Rag_ml_cache_misses"), "cache misses");
        }
    }
}
