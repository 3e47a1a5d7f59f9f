package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.chunk.ChunkOptions;
import io.ragproxy.catalog.chunk.TextChunker;
import io.ragproxy.catalog.local.MiniLmTokenCounter;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.RawMysqlClient;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A MindsDB knowledge base through MariaDB Connector/J and the proxy, on the local embedding model: created (its
 * storage table with the vector and FULLTEXT indexes), filled from a table of 20 documents, re-filled with one
 * document changed and one unchanged (model calls counted by SHOW RAG STATUS), searched with and without a metadata
 * filter, guarded against another account, and dropped.
 */
class KnowledgeBaseTest {
    private static final String DB = "ragproxy_it_ai_kb";
    private static final String OTHER = "rp_kb_other";
    private static final String OTHER_DB = "ragproxy_it_ai_kb_other";
    private static final String PASSWORD = "pw-kb-1";
    private static final String MODEL = "local:all-minilm-l6-v2";
    private static final String PREPROCESSING = "{\"size\": 200, \"overlap\": 20}";
    private static final String[] TOPICS = {"TiDB scales out by adding TiKV storage nodes",
        "MariaDB builds an HNSW graph for its vector index", "Sourdough bread needs a lively starter",
        "Marathon runners train with long slow runs", "Honeybees dance to tell where flowers are",
        "Volcanoes erupt when magma pressure rises", "Chess openings fight for the centre squares",
        "Photosynthesis turns sunlight into sugar", "Glaciers carve valleys over thousands of years",
        "Jazz musicians improvise over chord changes", "Tides follow the pull of the moon",
        "Espresso is brewed by forcing hot water through coffee", "Owls hunt at night with silent wings",
        "Solar panels convert light into electricity", "Knitting patterns repeat rows of stitches",
        "Lighthouses warn ships away from rocks", "Origami folds paper into cranes",
        "Rust prevents data races with ownership", "Tea ceremonies value calm and ritual",
        "Comets grow tails near the sun"};

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, UnaryOperator.identity());

    private static final MiniLmTokenCounter TOKENS = new MiniLmTokenCounter();
    private static final TextChunker CHUNKER = new TextChunker(TOKENS);

    static String body(int i, String extra) {
        String topic = TOPICS[i - 1];
        StringBuilder b = new StringBuilder();
        for (int s = 0; s < 4; s++) {
            b.append(topic).append(", says note ").append(s + 1).append(" of document ").append(i).append(". ");
        }
        return b.append(extra).toString().trim();
    }

    static String author(int i) {
        return i % 2 == 1 ? "Jane" : "Omar";
    }

    @BeforeAll
    static void documents() throws Exception {
        LocalBackend.get().exec("", "DROP DATABASE IF EXISTS " + OTHER_DB, "CREATE DATABASE " + OTHER_DB,
                "DROP USER IF EXISTS '" + OTHER + "'@'%'", "CREATE USER '" + OTHER + "'@'%' IDENTIFIED BY '" + PASSWORD
                        + "'", "GRANT ALL ON " + OTHER_DB + ".* TO '" + OTHER + "'@'%'");
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE docs (doc_id INT PRIMARY KEY, body TEXT, author VARCHAR(40), published DATE)");
            for (int i = 1; i <= 20; i++) {
                exec(c, "INSERT INTO docs VALUES (" + i + ", " + quote(body(i, "")) + ", '" + author(i) + "', '2024-01-"
                        + String.format("%02d", i) + "')");
            }
        }
    }

    @AfterAll
    static void cleanUp() throws SQLException {
        TOKENS.close();
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + OTHER + "'@'%'", "DROP DATABASE IF EXISTS " + OTHER_DB);
    }

    static int expectedChunks(String text) {
        return CHUNKER.chunks(text, ChunkOptions.fromJson(PREPROCESSING)).size();
    }

    /** id → (chunk_id:content_hash …) of every stored chunk. */
    static Map<String, String> stored(Connection c) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (List<String> r : rows(c, "SELECT id, GROUP_CONCAT(CONCAT(chunk_id, ':', content_hash) ORDER BY chunk_id)"
                + " FROM kb_chunks GROUP BY id ORDER BY id")) {
            out.put(r.get(0), r.get(1));
        }
        return out;
    }

    static int update(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            return s.executeUpdate(sql);
        }
    }

    @Test
    void createIngestReingestSearchGuardAndDrop() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE KNOWLEDGE_BASE kb USING embedding_model = '" + MODEL + "', reranking_model = false,"
                    + " storage = " + DB + ".kb_chunks, content_columns = ['body'], metadata_columns = ['author',"
                    + " 'published'], id_column = 'doc_id', preprocessing = " + PREPROCESSING);
            List<List<String>> kbs = rows(c, "SHOW KNOWLEDGE_BASES");
            assertEquals(1, kbs.size(), kbs.toString());
            assertEquals(List.of("kb", MODEL), kbs.get(0).subList(0, 2));
            assertEquals(DB + ".kb_chunks", rows(c, "DESCRIBE KNOWLEDGE_BASE kb").get(0).get(3));
            List<String> indexTypes = new ArrayList<>();
            rows(c, "SELECT DISTINCT INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" + DB
                    + "' AND TABLE_NAME = 'kb_chunks' ORDER BY INDEX_TYPE").forEach(r -> indexTypes.add(r.get(0)));
            assertEquals(List.of("BTREE", "FULLTEXT", "VECTOR"), indexTypes, "the storage table's indexes");

            // Ingestion: every document chunked, embedded and stored.
            Map<String, String> before = status(c);
            int written = update(c, "INSERT INTO kb SELECT doc_id, body, author, published FROM docs");
            int chunks = 0;
            for (int i = 1; i <= 20; i++) {
                chunks += expectedChunks(body(i, ""));
            }
            assertTrue(chunks > 20, "the documents make several chunks each: " + chunks);
            assertEquals(chunks, written, "the INSERT reports the chunks written");
            assertEquals(String.valueOf(chunks), scalar(c, "SELECT COUNT(*) FROM kb_chunks"));
            assertEquals("20", scalar(c, "SELECT COUNT(DISTINCT id) FROM kb_chunks"));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM kb_chunks WHERE embedding IS NULL"));
            assertEquals("{\"author\": \"Jane\", \"published\": \"2024-01-07\"}", scalar(c,
                    "SELECT metadata FROM kb_chunks WHERE id = '7' AND chunk_id = 0").replace("\":\"", "\": \"")
                    .replace("\",\"", "\", \""));
            assertTrue(counter(status(c), "Rag_ml_cache_misses") - counter(before, "Rag_ml_cache_misses") > 0);

            // One document changed: exactly its chunks are replaced; the others stay as they were.
            Map<String, String> kept = stored(c);
            exec(c, "UPDATE docs SET body = " + quote(body(3, "A wild yeast culture is fed flour and water every"
                    + " day until it bubbles, and only then does the dough rise well.")) + " WHERE doc_id = 3");
            before = status(c);
            int rewritten = update(c, "INSERT INTO kb SELECT doc_id, body, author, published FROM docs WHERE doc_id IN"
                    + " (3, 5)");
            int doc3 = expectedChunks(body(3, "A wild yeast culture is fed flour and water every day until it bubbles,"
                    + " and only then does the dough rise well."));
            assertEquals(doc3, rewritten, "only the changed document's chunks are written");
            Map<String, String> after = stored(c);
            for (Map.Entry<String, String> e : kept.entrySet()) {
                if (!e.getKey().equals("3")) {
                    assertEquals(e.getValue(), after.get(e.getKey()), "document " + e.getKey() + " is untouched");
                }
            }
            assertFalse(kept.get("3").equals(after.get("3")));
            assertEquals(String.valueOf(doc3), scalar(c, "SELECT COUNT(*) FROM kb_chunks WHERE id = '3'"));
            long misses = counter(status(c), "Rag_ml_cache_misses") - counter(before, "Rag_ml_cache_misses");
            assertTrue(misses > 0 && misses <= doc3, "the changed chunks are embedded: " + misses);

            // An unchanged document: skipped, no model call at all.
            before = status(c);
            assertEquals(0, update(c, "INSERT INTO kb SELECT doc_id, body, author, published FROM docs WHERE doc_id ="
                    + " 5"));
            Map<String, String> now = status(c);
            assertEquals(counter(before, "Rag_ml_requests"), counter(now, "Rag_ml_requests"));
            assertEquals(counter(before, "Rag_ml_cache_misses"), counter(now, "Rag_ml_cache_misses"));
            assertEquals(counter(before, "Rag_ml_cache_hits"), counter(now, "Rag_ml_cache_hits"));

            // Search: the document a question is taken from comes first; relevance = 1 - distance.
            List<List<String>> hits = rows(c, "SELECT id, chunk_content, distance, relevance FROM kb WHERE content ="
                    + " 'Which database scales out by adding storage nodes?' LIMIT 3");
            assertEquals(3, hits.size());
            assertEquals("1", hits.get(0).get(0), hits.toString());
            for (List<String> h : hits) {
                assertEquals(1.0, Double.parseDouble(h.get(2)) + Double.parseDouble(h.get(3)), 1e-6);
            }
            assertTrue(Double.parseDouble(hits.get(0).get(2)) <= Double.parseDouble(hits.get(1).get(2)));
            // A metadata filter: document 1 is Jane's, so Omar's best chunks come from elsewhere.
            List<List<String>> omar = rows(c, "SELECT id, metadata, relevance FROM kb WHERE content = 'Which database"
                    + " scales out by adding storage nodes?' AND author = 'Omar' LIMIT 5");
            assertEquals(5, omar.size());
            for (List<String> h : omar) {
                assertEquals(0, Integer.parseInt(h.get(0)) % 2, "Omar writes the even documents: " + omar);
                assertTrue(h.get(1).contains("Omar"), h.get(1));
            }
            List<List<String>> relevant = rows(c, "SELECT id, relevance FROM kb WHERE content = 'Which database scales"
                    + " out by adding storage nodes?' AND relevance >= 0.5 LIMIT 50");
            assertFalse(relevant.isEmpty());
            for (List<String> h : relevant) {
                assertTrue(Double.parseDouble(h.get(1)) >= 0.5, relevant.toString());
            }
            // On MariaDB a search weighs at least 80 candidates in the vector index (mhnsw_ef_search, default 20), or
            // as many as it takes; a session value the user set is kept; the session's value is unchanged after it.
            String question = "SELECT id, @@mhnsw_ef_search FROM kb WHERE content = 'Which database scales out?'";
            assertEquals("80", rows(c, question + " LIMIT 5").get(0).get(1));
            assertEquals("120", rows(c, question + " LIMIT 100 OFFSET 20").get(0).get(1));
            assertEquals("80", scalar(c, "SELECT t.w FROM (SELECT id, @@mhnsw_ef_search AS w FROM kb WHERE content ="
                    + " 'Which database scales out?' LIMIT 3) AS t LIMIT 1"), "as a subquery too");
            assertEquals("20", scalar(c, "SELECT @@mhnsw_ef_search"));
            exec(c, "SET mhnsw_ef_search = 30");
            assertEquals("30", rows(c, question + " LIMIT 5").get(0).get(1));
            exec(c, "SET mhnsw_ef_search = DEFAULT");

            // Used as a subquery, as the RAG query of the README does.
            assertEquals("1", scalar(c, "SELECT t.id FROM (SELECT id, chunk_content FROM kb WHERE content = 'Which"
                    + " database scales out by adding storage nodes?' LIMIT 1) AS t"));

            // Mistakes are errors that say what to do; the connection stays usable.
            assertSqlError(c, "INSERT INTO kb SELECT body, author FROM docs", 7072, "42000");
            assertSqlError(c, "SELECT chunk_content FROM kb WHERE content = 'x' OR content = 'y'", 7073, "42000");
            assertSqlError(c, "CREATE KNOWLEDGE_BASE kb USING storage = " + DB + ".other", 7020, "42000");
        }

        // Another account may neither drop nor replace it.
        try (Connection other = Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), OTHER_DB, OTHER,
                PASSWORD, false)) {
            assertSqlError(other, "DROP KNOWLEDGE_BASE kb", 7024, "42000");
            assertSqlError(other, "CREATE OR REPLACE KNOWLEDGE_BASE kb USING embedding_model = '" + MODEL + "', storage"
                    + " = " + OTHER_DB + ".mine, content_columns = ['body'], id_column = 'doc_id'", 7024, "42000");
        }

        try (Connection c = WORLD.proxy().connect(DB)) {
            assertEquals("1", scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + DB
                    + "' AND TABLE_NAME = 'kb_chunks'"), "the owner's storage is intact");
            exec(c, "DROP KNOWLEDGE_BASE kb");
            assertTrue(rows(c, "SHOW KNOWLEDGE_BASES").isEmpty());
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + DB
                    + "' AND TABLE_NAME = 'kb_chunks'"), "DROP KNOWLEDGE_BASE drops its storage table");
            assertSqlError(c, "DROP KNOWLEDGE_BASE kb", 7021, "42000");
            exec(c, "DROP KNOWLEDGE_BASE IF EXISTS kb");
        }
    }

    @Test
    void deleteFromTheKnowledgeBaseDeletesWholeDocuments() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE KNOWLEDGE_BASE del_kb USING embedding_model = '" + MODEL + "', storage = del_chunks,"
                    + " content_columns = ['body'], metadata_columns = ['author'], id_column = 'doc_id', preprocessing"
                    + " = " + PREPROCESSING);
            update(c, "INSERT INTO del_kb SELECT doc_id, body, author FROM docs WHERE doc_id <= 6");
            Map<String, Integer> chunks = new LinkedHashMap<>();
            for (List<String> r : rows(c, "SELECT id, COUNT(*) FROM del_chunks GROUP BY id ORDER BY id")) {
                chunks.put(r.get(0), Integer.parseInt(r.get(1)));
            }
            assertEquals(6, chunks.size(), chunks.toString());
            String untouched = rowIds(c, "id NOT IN ('3', '4', '5', '6')");

            // MindsDB's form: one document by id; the OK counts its chunks.
            assertEquals((int) chunks.get("4"), update(c, "DELETE FROM del_kb WHERE id = 4"));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM del_chunks WHERE id = '4'"));
            // A condition on a metadata field and on a chunk deletes whole documents: Jane's among 3 and 5.
            assertEquals(chunks.get("3") + chunks.get("5"), update(c, "DELETE FROM mindsdb.del_kb WHERE author ="
                    + " 'Jane' AND id IN (3, 5, 6) AND chunk_id = 0"));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM del_chunks WHERE id IN ('3', '5')"));
            assertEquals(0, update(c, "DELETE FROM del_kb WHERE id = 99"));
            // ORDER BY and LIMIT choose among the chunks: Omar's last document (6; 2 and 4 are his too).
            assertEquals((int) chunks.get("6"), update(c, "DELETE FROM del_kb WHERE author = 'Omar' ORDER BY id DESC"
                    + " LIMIT 1"));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM del_chunks WHERE id = '6'"));
            assertEquals(untouched, rowIds(c, "id NOT IN ('3', '4', '5', '6')"), "the other documents are untouched");

            // Deleted documents are ingested again; the others are skipped as unchanged.
            Map<String, String> before = status(c);
            assertEquals(chunks.get("3") + chunks.get("4") + chunks.get("5") + chunks.get("6"), update(c, "INSERT INTO"
                    + " del_kb SELECT doc_id, body, author FROM docs WHERE doc_id <= 6"));
            assertEquals(counter(before, "Rag_ml_cache_misses"), counter(status(c), "Rag_ml_cache_misses"),
                    "their chunks' embeddings come from the cache");
            assertEquals(untouched, rowIds(c, "id NOT IN ('3', '4', '5', '6')"));
            assertSqlError(c, "DELETE FROM del_kb AS k WHERE k.id = 1", 7073, "42000");
            exec(c, "DROP KNOWLEDGE_BASE del_kb");
        }
    }

    /** The OK's info text of {@code sql} run on a connection of its own (JDBC does not show it). */
    private static String okInfo(String sql) throws Exception {
        try (RawMysqlClient client = RawMysqlClient.login(WORLD.proxy().host(), WORLD.proxy().port(),
                LocalBackend.USER, LocalBackend.PASSWORD, DB)) {
            byte[] reply = client.command(RawMysqlClient.COM_QUERY, sql);
            assertEquals(0x00, reply[0] & 0xff, () -> RawMysqlClient.describe(reply));
            String text = new String(reply, StandardCharsets.UTF_8);
            int at = text.indexOf("Documents:");
            assertTrue(at >= 0, text);
            return text.substring(at).trim();
        }
    }

    @Test
    void documentsWithoutContentAreSkippedAndReportedAndUpdateSaysToInsertAgain() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE sparse (doc_id INT PRIMARY KEY, body TEXT)");
            exec(c, "INSERT INTO sparse VALUES (1, " + quote(body(1, "")) + "), (2, NULL), (3, '')");
            exec(c, "CREATE KNOWLEDGE_BASE sparse_kb USING embedding_model = '" + MODEL + "', storage = sparse_chunks,"
                    + " content_columns = ['body'], id_column = 'doc_id', preprocessing = " + PREPROCESSING);
        }
        try {
            emptyDocumentsAndUpdate();
        } finally {
            try (Connection c = WORLD.proxy().connect(DB)) {
                exec(c, "DROP KNOWLEDGE_BASE IF EXISTS sparse_kb");
            }
        }
    }

    private static void emptyDocumentsAndUpdate() throws Exception {
        int chunks = expectedChunks(body(1, ""));
        String insert = "INSERT INTO sparse_kb SELECT doc_id, body FROM sparse";
        assertEquals("Documents: 1  Chunks: " + chunks + "  Skipped: 2  Empty: 2", okInfo(insert));
        assertEquals("Documents: 0  Chunks: 0  Skipped: 3  Empty: 2", okInfo(insert),
                "a re-run writes nothing: the empty documents are skipped again, not written again");
        try (Connection c = WORLD.proxy().connect(DB)) {
            // A document that loses its text loses its chunks (once), then is skipped like the other empty ones.
            exec(c, "UPDATE sparse SET body = NULL WHERE doc_id = 1");
            assertEquals("Documents: 1  Chunks: 0  Skipped: 2  Empty: 2", okInfo(insert));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM sparse_chunks"));
            assertEquals("Documents: 0  Chunks: 0  Skipped: 3  Empty: 3", okInfo(insert));

            // UPDATE of a knowledge base is refused with what to do instead; the connection stays usable.
            SQLException e = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> update(c, "UPDATE sparse_kb SET chunk_content = 'x' WHERE id = '1'"));
            assertEquals(7074, e.getErrorCode());
            assertEquals("0A000", e.getSQLState());
            assertTrue(e.getMessage().contains("INSERT it again"), e.getMessage());
            assertSqlError(c, "update sparse_kb set metadata = '{}' where id = '2'", 7074, "0A000");
            assertEquals("1", scalar(c, "SELECT 1"));
        }
    }

    /** The row_ids of the chunks of the documents {@code where} selects: whether a statement rewrote them. */
    private static String rowIds(Connection c, String where) throws SQLException {
        return scalar(c, "SELECT GROUP_CONCAT(row_id ORDER BY row_id) FROM del_chunks WHERE " + where);
    }

    @Test
    void hybridSearchFindsAnExactProductCode() throws Exception {
        String[] colours = {"red", "blue", "green", "black", "white", "yellow", "grey", "orange"};
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, description TEXT)");
            for (int i = 0; i < colours.length; i++) {
                exec(c, "INSERT INTO products VALUES ('p" + i + "', 'A " + colours[i] + " travel mug that keeps coffee"
                        + " hot for hours. Part number QZT" + (7781 + i) + ".')");
            }
            exec(c, "CREATE KNOWLEDGE_BASE products_kb USING embedding_model = '" + MODEL + "', storage = products_chunks,"
                    + " content_columns = ['description'], id_column = 'sku'");
            assertEquals(colours.length, update(c, "INSERT INTO products_kb SELECT sku, description FROM products"));
            List<List<String>> hybrid = rows(c, "SELECT id, relevance FROM products_kb WHERE content = 'QZT7785' AND"
                    + " hybrid_search = true LIMIT 3");
            assertEquals("p4", hybrid.get(0).get(0), "the full-text match of the exact code ranks first: " + hybrid);
            assertTrue(Double.parseDouble(hybrid.get(0).get(1)) > Double.parseDouble(hybrid.get(1).get(1)));
            // alpha = 0: full-text only decides the first place as well; alpha = 1 is the vector ranking alone.
            assertEquals("p4", scalar(c, "SELECT id FROM products_kb WHERE content = 'QZT7785' AND hybrid_search = true"
                    + " AND hybrid_search_alpha = 0 LIMIT 1"));
            assertEquals(scalar(c, "SELECT id FROM products_kb WHERE content = 'QZT7785' LIMIT 1"), scalar(c,
                    "SELECT id FROM products_kb WHERE content = 'QZT7785' AND hybrid_search = true AND"
                            + " hybrid_search_alpha = 1 LIMIT 1"));
            assertSqlError(c, "SELECT id FROM products_kb WHERE content = 'x' AND hybrid_search = 'maybe'", 7073,
                    "42000");

            // Hybrid search as the knowledge base's setting: on without asking, off for one query when it says so.
            exec(c, "CREATE KNOWLEDGE_BASE products_hybrid_kb USING embedding_model = '" + MODEL + "', storage ="
                    + " products_hybrid_chunks, content_columns = ['description'], id_column = 'sku', hybrid_search ="
                    + " true, hybrid_search_alpha = 0");
            List<String> described = rows(c, "DESCRIBE KNOWLEDGE_BASE products_hybrid_kb").get(0);
            assertEquals(List.of("true", "0.0"), described.subList(8, 10), described.toString());
            assertEquals(List.of("false", "0.5"), rows(c, "DESCRIBE KNOWLEDGE_BASE products_kb").get(0).subList(8, 10),
                    "a knowledge base created without the setting is vector-only");
            update(c, "INSERT INTO products_hybrid_kb SELECT sku, description FROM products");
            assertEquals(rows(c, "SELECT id, relevance FROM products_kb WHERE content = 'QZT7785' AND hybrid_search ="
                    + " true AND hybrid_search_alpha = 0 LIMIT 3"), rows(c, "SELECT id, relevance FROM"
                    + " products_hybrid_kb WHERE content = 'QZT7785' LIMIT 3"), "the setting's fusion and weight");
            assertEquals(rows(c, "SELECT id, relevance FROM products_kb WHERE content = 'QZT7785' AND hybrid_search ="
                    + " true LIMIT 3"), rows(c, "SELECT id, relevance FROM products_hybrid_kb WHERE content = 'QZT7785'"
                    + " AND hybrid_search_alpha = 0.5 LIMIT 3"), "the query's weight overrides the setting's");
            List<List<String>> vectorOnly = rows(c, "SELECT id, distance, relevance FROM products_hybrid_kb WHERE"
                    + " content = 'QZT7785' AND hybrid_search = false LIMIT 3");
            assertEquals(rows(c, "SELECT id, distance, relevance FROM products_kb WHERE content = 'QZT7785' LIMIT 3"),
                    vectorOnly, "hybrid_search = false turns the setting off for one query");
            for (List<String> h : vectorOnly) {
                assertEquals(1.0, Double.parseDouble(h.get(1)) + Double.parseDouble(h.get(2)), 1e-6, "vector relevance");
            }
            assertEquals(String.valueOf(colours.length), scalar(c, "SELECT COUNT(*) FROM products_hybrid_kb"),
                    "without a question the setting does nothing");
            exec(c, "DROP KNOWLEDGE_BASE products_hybrid_kb");
            exec(c, "DROP KNOWLEDGE_BASE products_kb");
        }
    }
}
