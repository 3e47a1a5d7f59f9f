package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RERANK_SCORE through the proxy against the Bedrock emulator's Rerank route, whose documented score (the Jaccard
 * similarity of the query's and the document's word sets) the test computes itself: the issue's one-statement query
 * (vector search for candidates, reranked, limited), batching (the emulator's recorded requests), the cost guard,
 * EXPLAIN RAG, a throttled and a failing route, and the local reranker on the embedded defaults.
 */
class RerankTest {
    private static final String DB = "ragproxy_it_ai_rerank";
    private static final String COHERE = "cohere.rerank-v3-5:0";
    private static final String AMAZON = "amazon.rerank-v1:0";
    private static final String QUERY = "how does tidb scale out";
    /** The knowledge base's question: not QUERY, whose scores the other tests leave in the cache. */
    private static final String KB_QUESTION = "tidb storage scale out";
    private static final String[] DOCS = {
        "TiDB is a distributed SQL database that can scale out horizontally by adding TiKV storage nodes to a cluster",
        "TiDB scale out",
        "how does it work",
        "does tidb scale",
        "Sourdough bread needs a lively starter",
        "scale out the web tier",
        "how tidb handles scale out and scale in of its storage layer with placement driver scheduling",
        "MariaDB builds an HNSW graph for its vector index",
        "TiDB",
        "out of the box TiDB works with MySQL clients",
        "Glaciers carve valleys over thousands of years",
        "how does a lighthouse warn ships",
    };

    /** Amazon Rerank takes 10 texts a request here, so that batching shows on a few rows. */
    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, ai -> {
        ((ObjectNode) ai.get("models").get("model")).putObject(AMAZON).put("batch_size", 10);
        return ai;
    });

    @BeforeAll
    static void documents() throws Exception {
        LocalBackend.get().exec(DB, "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "CREATE TABLE many (id INT PRIMARY KEY, content TEXT)");
        StringBuilder insert = new StringBuilder("INSERT INTO docs (id, content) VALUES ");
        for (int i = 0; i < DOCS.length; i++) {
            insert.append(i == 0 ? "" : ", ").append('(').append(i + 1).append(", ").append(quote(DOCS[i])).append(')');
        }
        StringBuilder many = new StringBuilder("INSERT INTO many (id, content) VALUES ");
        for (int i = 1; i <= 25; i++) {
            many.append(i == 1 ? "" : ", ").append('(').append(i).append(", 'text number ").append(i).append("')");
        }
        LocalBackend.get().exec(DB, insert.toString(), many.toString());
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "UPDATE docs SET embedding = EMBED(content)");
        }
    }

    @BeforeEach
    void resetEmulator() throws InterruptedException {
        AiProxy.quiesce(WORLD.emulator());
    }

    /** The emulator's documented score: |Q ∩ D| / |Q ∪ D| over lower-case words (runs of letters or digits). */
    static double score(String query, String document) {
        Set<String> q = words(query);
        Set<String> d = words(document);
        Set<String> union = new HashSet<>(q);
        union.addAll(d);
        q.retainAll(d);
        return union.isEmpty() ? 0 : (double) q.size() / union.size();
    }

    private static Set<String> words(String text) {
        Set<String> out = new HashSet<>(Arrays.asList(text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")));
        out.remove("");
        return out;
    }

    private static List<RecordedRequest> reranks(String model) {
        return WORLD.emulator().requests(model, "rerank");
    }

    @Test
    void theIssuesQueryRerankesTheVectorCandidatesInOneStatementAsTheScoresSay() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            String candidates = "SELECT id, content FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, "
                    + quote(QUERY) + ") LIMIT 8";
            List<Integer> vectorOrder = rows(c, candidates).stream().map(r -> Integer.parseInt(r.get(0))).toList();
            assertEquals(8, vectorOrder.size());
            List<Integer> expected = new ArrayList<>(vectorOrder);
            expected.sort(Comparator.<Integer>comparingDouble(id -> -score(QUERY, DOCS[id - 1])).thenComparing(id -> id));
            expected = expected.subList(0, 5);
            assertNotEquals(vectorOrder.subList(0, 5), expected, "the data must make reranking change the order");
            WORLD.emulator().clearRequests();

            List<Integer> reranked = rows(c, "SELECT id FROM (" + candidates + ") t ORDER BY RERANK_SCORE("
                    + quote(QUERY) + ", content, 'cohere-rerank-3-5') DESC, id LIMIT 5").stream()
                    .map(r -> Integer.parseInt(r.get(0))).toList();
            assertEquals(expected, reranked);
            List<RecordedRequest> sent = reranks(COHERE);
            assertEquals(1, sent.size(), "the candidates go in one request, not one per row: " + sent);
            assertEquals(8, sent.get(0).json().get("sources").size());
            assertEquals(QUERY, sent.get(0).json().at("/queries/0/textQuery/text").asText());

            // The scores themselves, as a column; a second statement reads them from the cache.
            for (List<String> row : rows(c, "SELECT id, RERANK_SCORE(" + quote(QUERY) + ", content, '" + COHERE
                    + "') FROM docs ORDER BY id")) {
                int id = Integer.parseInt(row.get(0));
                assertEquals(score(QUERY, DOCS[id - 1]), Double.parseDouble(row.get(1)), 1e-6, DOCS[id - 1]);
            }
            assertEquals(2, reranks(COHERE).size(), "the 4 documents not yet scored in one more request");
            assertEquals(4, reranks(COHERE).get(1).json().get("sources").size());
        }
    }

    @Test
    void aQuerysTextsGoInBatchedRequestsAndTheCostGuardCountsRequests() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_calls = 2");
            String sql = "SELECT id FROM many ORDER BY RERANK_SCORE('text number 17', content, 'amazon-rerank') DESC,"
                    + " id LIMIT 3";
            SQLException e = assertSqlError(c, sql, 7013, "54000");
            assertTrue(e.getMessage().contains("needs 3"), e.getMessage());
            assertEquals(0, reranks(AMAZON).size(), "refused before any request");

            List<List<String>> explain = rows(c, "EXPLAIN RAG " + sql);
            assertEquals("materialized", explain.get(0).get(0));
            assertEquals("3", explain.get(0).get(1), "25 texts, 10 a request: 3 requests");
            assertTrue(explain.toString().contains("score from " + AMAZON), explain.toString());
            assertEquals("0.003000", explain.get(0).get(4), "3 requests of up to 100 documents at $1 per 1,000 queries");
            assertEquals(0, reranks(AMAZON).size(), "EXPLAIN RAG calls no model");

            exec(c, "SET rag_max_calls = 3");
            // 'text number 17' scores 1; the others share 'text' and 'number' (2/4), in id order.
            assertEquals(List.of(List.of("17"), List.of("1"), List.of("2")), rows(c, sql));
            List<RecordedRequest> sent = reranks(AMAZON);
            assertEquals(3, sent.size(), sent.toString());
            assertEquals(25, sent.stream().mapToInt(r -> r.json().get("sources").size()).sum());
            assertTrue(sent.stream().allMatch(r -> r.json().get("sources").size() <= 10));
        } finally {
            try (Connection c = WORLD.proxy().connect(DB)) {
                exec(c, "SET rag_max_calls = DEFAULT");
            }
        }
    }

    @Test
    void aThrottledRerankRouteFailsLikeOtherModelsAfterTheThrottleWait() throws Exception {
        WORLD.emulator().failWhenInputContains("always-throttled", EmulatedError.THROTTLING);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_throttle_wait_ms = 300");
            SQLException e = assertSqlError(c, "SELECT id FROM docs ORDER BY RERANK_SCORE('always-throttled', content,"
                    + " 'cohere-rerank-3-5') DESC LIMIT 2", 7101, "HY000");
            assertTrue(e.getMessage().contains(COHERE), "names the model: " + e.getMessage());
            assertTrue(reranks(COHERE).size() >= 2, "retried while throttled: " + reranks(COHERE));
            assertTrue(reranks(COHERE).stream().allMatch(r -> r.response() == 429));
            assertSelect1(c);
        }
    }

    @Test
    void aFailingRerankRouteIsAnErrorOrNullUnderRagOnErrorNull() throws Exception {
        WORLD.emulator().failWhenInputContains("Sourdough", EmulatedError.INTERNAL);
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "SET rag_max_attempts = 1");
            SQLException e = assertSqlError(c, "SELECT id, RERANK_SCORE('bread', content, 'cohere-rerank-3-5') FROM docs",
                    7100, "HY000");
            assertTrue(e.getMessage().contains("RERANK_SCORE") && e.getMessage().contains(COHERE), e.getMessage());
            assertSelect1(c);

            exec(c, "SET rag_on_error = 'null'");
            try (Statement s = c.createStatement()) {
                List<List<String>> rows = rows(s.executeQuery("SELECT id, RERANK_SCORE('bread', content,"
                        + " 'cohere-rerank-3-5') FROM docs ORDER BY id"));
                assertEquals(DOCS.length, rows.size());
                for (List<String> row : rows) {
                    int id = Integer.parseInt(row.get(0));
                    if (DOCS[id - 1].contains("Sourdough")) {
                        assertNull(row.get(1), "the failed text's score is NULL");
                    } else {
                        assertTrue(row.get(1) != null, "the other texts are scored: " + rows);
                        assertEquals(score("bread", DOCS[id - 1]), Double.parseDouble(row.get(1)), 1e-6);
                    }
                }
                SQLWarning w = s.getWarnings();
                assertTrue(w != null && w.getMessage().contains("Sourdough"), "a warning names the input: " + w);
            }
        } finally {
            try (Connection c = WORLD.proxy().connect(DB)) {
                exec(c, "SET rag_on_error = DEFAULT");
                exec(c, "SET rag_max_attempts = DEFAULT");
            }
        }
    }

    @Test
    void theLocalRerankerScoresByTheLocalEmbeddingsCosine() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            // The default reranker; its score is 1 minus the cosine distance of the local model's embeddings.
            List<List<String>> rows = rows(c, "SELECT id, RERANK_SCORE(" + quote(QUERY) + ", content),"
                    + " 1 - VEC_DISTANCE_COSINE(EMBED(content, 'local:all-minilm-l6-v2'),"
                    + " EMBED(" + quote(QUERY) + ", 'local:all-minilm-l6-v2')) FROM docs ORDER BY id");
            assertEquals(DOCS.length, rows.size());
            for (List<String> row : rows) {
                assertEquals(Double.parseDouble(row.get(2)), Double.parseDouble(row.get(1)), 1e-4, row.toString());
            }
            assertEquals(0, WORLD.emulator().requestCount(), "the local reranker calls no service");
            String best = scalar(c, "SELECT id FROM docs ORDER BY RERANK_SCORE('bread starter', content,"
                    + " 'local:minilm-cosine') DESC LIMIT 1");
            assertEquals("5", best);
        }
    }

    @Test
    void wrongModelsAndArgumentsAreRefusedBeforeAnyCall() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT RERANK_SCORE('q', content, 'titan-v2') FROM docs", 7011, "42000");
            assertTrue(e.getMessage().contains("reranking model"), e.getMessage());
            assertSqlError(c, "SELECT RERANK_SCORE('q') FROM docs", 7010, "42000");
            assertSqlError(c, "SELECT EMBED('q', 'cohere-rerank-3-5')", 7011, "42000");
            assertEquals(0, WORLD.emulator().requestCount());
        }
    }

    @Test
    void aKnowledgeBaseWithARerankingModelRanksItsCandidatesByTheRerankersScore() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE KNOWLEDGE_BASE rr_kb USING embedding_model = 'local:all-minilm-l6-v2',"
                    + " reranking_model = 'cohere-rerank-3-5', storage = rr_chunks, content_columns = ['content'],"
                    + " id_column = 'id'");
            try {
                exec(c, "INSERT INTO rr_kb SELECT id, content FROM docs");
                WORLD.emulator().clearRequests();
                String search = "SELECT id, chunk_content, relevance, distance FROM rr_kb WHERE content = " + quote(KB_QUESTION);

                // Every chunk is a candidate (12 < 50): the rows are all chunks by the reranker's score, best first.
                List<List<String>> reranked = rows(c, search + " LIMIT 5");
                List<Double> best = new ArrayList<>();
                for (String d : DOCS) {
                    best.add(score(KB_QUESTION, d));
                }
                best.sort(Comparator.reverseOrder());
                assertEquals(5, reranked.size());
                for (int i = 0; i < 5; i++) {
                    List<String> row = reranked.get(i);
                    assertEquals(score(KB_QUESTION, row.get(1)), Double.parseDouble(row.get(2)), 1e-6, "relevance: " + row);
                    assertEquals(best.get(i), Double.parseDouble(row.get(2)), 1e-6, "rank " + i + ": " + reranked);
                }
                assertEquals(1, reranks(COHERE).size(), "the candidates in one request");
                // EXPLAIN RAG counts that request and prices it ($2 per 1,000 queries), calling no model.
                List<String> explained = rows(c, "EXPLAIN RAG " + search + " LIMIT 5").get(0);
                assertTrue(explained.get(2).contains("cohere.rerank-v3-5:0"), explained.toString());
                // (the question's embedding, local and free, counts as an input at the dearest model's price too)
                assertTrue(Double.parseDouble(explained.get(4)) >= 0.002, explained.toString());
                assertEquals(1, reranks(COHERE).size(), "EXPLAIN RAG calls no model");
                assertEquals(DOCS.length, reranks(COHERE).get(0).json().get("sources").size());

                // reranking = false: the vector search as it is, relevance = 1 - distance, nearest first.
                List<List<String>> plain = rows(c, search + " AND reranking = false LIMIT 3");
                assertEquals(3, plain.size());
                for (List<String> row : plain) {
                    assertEquals(1 - Double.parseDouble(row.get(3)), Double.parseDouble(row.get(2)), 1e-6);
                }
                assertEquals(1, reranks(COHERE).size(), "no reranking");

                // The 3 nearest as the candidates, reordered by the reranker's score.
                List<List<String>> three = rows(c, search + " AND reranking_candidates = 3");
                List<String> expected = new ArrayList<>(plain.stream().map(r -> r.get(0)).toList());
                expected.sort(Comparator.<String>comparingDouble(id -> -score(KB_QUESTION, DOCS[Integer.parseInt(id) - 1]))
                        .thenComparing(id -> id));
                List<String> got = three.stream().map(r -> r.get(0)).toList();
                assertEquals(Set.copyOf(expected), Set.copyOf(got), "the same candidates");
                for (int i = 0; i + 1 < three.size(); i++) {
                    assertTrue(Double.parseDouble(three.get(i).get(2)) >= Double.parseDouble(three.get(i + 1).get(2)),
                            "highest score first: " + three);
                }

                // A condition on relevance applies to the reranker's score; others choose the candidates.
                for (List<String> row : rows(c, search + " AND relevance >= 0.4")) {
                    assertTrue(score(KB_QUESTION, row.get(1)) >= 0.4, row.toString());
                }
                assertEquals(List.of(List.of("5")), rows(c, "SELECT id FROM rr_kb WHERE content = " + quote(KB_QUESTION)
                        + " AND chunk_content LIKE '%bread%'"));
                assertSqlError(c, search + " AND reranking_candidates = 0", 7073, "42000");
            } finally {
                exec(c, "DROP KNOWLEDGE_BASE rr_kb");
            }
            SQLException e = assertSqlError(c, "CREATE KNOWLEDGE_BASE rr_bad USING embedding_model ="
                    + " 'local:all-minilm-l6-v2', reranking_model = 'titan-v2', storage = rr_bad_chunks", 7011, "42000");
            assertTrue(e.getMessage().contains("reranking_model"), e.getMessage());
        }
    }
}
