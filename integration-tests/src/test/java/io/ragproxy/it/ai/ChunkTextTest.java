package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.quote;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ragproxy.catalog.chunk.ChunkOptions;
import io.ragproxy.catalog.chunk.TextChunker;
import io.ragproxy.catalog.local.MiniLmTokenCounter;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * CHUNK_TEXT through MariaDB Connector/J and the proxy: over constants, over columns in the streamed and the
 * materialized plans, with MariaDB's JSON_TABLE, and its errors. Chunks are checked against {@link TextChunker} run
 * in the test and against the texts themselves (joined back without overlap); no model is called.
 */
class ChunkTextTest {
    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld("ragproxy_it_ai_chunk_text");

    private static final Map<Integer, String> DOCS = new LinkedHashMap<>();
    private static final MiniLmTokenCounter TOKENS = new MiniLmTokenCounter();
    private static final TextChunker CHUNKER = new TextChunker(TOKENS);

    static {
        DOCS.put(1, "TiDB scales out by adding TiKV nodes.\n\nRegions split when they grow. Placement rules decide"
                + " where replicas live.");
        DOCS.put(2, "# Guide\nMariaDB 11.7 added vectors.\n## Index\nCREATE VECTOR INDEX builds an HNSW graph.");
        DOCS.put(3, "数据库很快。向量检索也很快。这句话比较长一点点的样子。");
        DOCS.put(4, null);
        DOCS.put(5, "");
        DOCS.put(6, "TiDB scales out by adding TiKV nodes.\n\nRegions split when they grow. Placement rules decide"
                + " where replicas live.");
    }

    @BeforeAll
    static void createTable() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT CHARACTER SET utf8mb4)");
            for (Map.Entry<Integer, String> e : DOCS.entrySet()) {
                exec(c, "INSERT INTO docs VALUES (" + e.getKey() + ", " + (e.getValue() == null ? "NULL"
                        : quote(e.getValue())) + ")");
            }
        }
    }

    @AfterAll
    static void closeTokens() {
        TOKENS.close();
    }

    @BeforeEach
    void quiet() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        WORLD.emulator().clearRequests();
    }

    private static List<String> parse(String json) throws Exception {
        return json == null ? null : AiProxy.JSON.readValue(json, new TypeReference<List<String>>() {});
    }

    private static List<String> expected(String text, String options) {
        return text == null || text.isEmpty() ? null : CHUNKER.chunks(text, ChunkOptions.fromJson(options));
    }

    @Test
    void overAConstant() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            String json = scalar(c, "SELECT CHUNK_TEXT('First paragraph here.\\n\\nSecond one is here.', '{\"size\": 25}')");
            assertEquals(List.of("First paragraph here.\n\n", "Second one is here."), parse(json));
            assertEquals("[\"short\"]", scalar(c, "SELECT CHUNK_TEXT('short')"));
            assertNull(scalar(c, "SELECT CHUNK_TEXT(NULL)"));
            assertNull(scalar(c, "SELECT CHUNK_TEXT('', '{\"size\": 5}')"));
            assertEquals("3", scalar(c, "SELECT JSON_LENGTH(CHUNK_TEXT(REPEAT('abcd ', 6), '{\"size\": 10}'))"));
            assertEquals(0, WORLD.emulator().requestCount(), "CHUNK_TEXT calls no model");
        }
    }

    @Test
    void overAColumnStreamed() throws Exception {
        String options = "{\"size\": 40, \"format\": \"markdown\"}";
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT id, CHUNK_TEXT(body, '" + options + "') AS chunks FROM docs ORDER BY id");
            assertEquals(DOCS.size(), got.size());
            for (List<String> row : got) {
                String body = DOCS.get(Integer.parseInt(row.get(0)));
                List<String> chunks = parse(row.get(1));
                assertEquals(expected(body, options), chunks, "doc " + row.get(0));
                if (chunks != null) {
                    assertEquals(body, String.join("", chunks), "doc " + row.get(0) + " joined back");
                }
            }
        }
    }

    @Test
    void overAColumnMaterialized() throws Exception {
        String options = "{\"size\": 30, \"overlap\": 10}";
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT id, JSON_LENGTH(CHUNK_TEXT(body, '" + options + "')) AS n FROM docs"
                    + " WHERE JSON_LENGTH(CHUNK_TEXT(body, '" + options + "')) > 2 ORDER BY id");
            List<List<String>> want = new ArrayList<>();
            DOCS.forEach((id, body) -> {
                List<String> chunks = expected(body, options);
                if (chunks != null && chunks.size() > 2) {
                    want.add(List.of(id.toString(), Integer.toString(chunks.size())));
                }
            });
            assertEquals(want, got);
        }
    }

    @Test
    void withJsonTableOneRowPerChunk() throws Exception {
        String options = "{\"size\": 60}";
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            List<List<String>> got = rows(c, "SELECT d.id, j.n, j.chunk FROM docs d, JSON_TABLE(CHUNK_TEXT(d.body, '"
                    + options + "'), '$[*]' COLUMNS (n FOR ORDINALITY, chunk TEXT PATH '$')) j ORDER BY d.id, j.n");
            List<List<String>> want = new ArrayList<>();
            DOCS.forEach((id, body) -> {
                List<String> chunks = expected(body, options);
                for (int i = 0; chunks != null && i < chunks.size(); i++) {
                    want.add(Arrays.asList(id.toString(), Integer.toString(i + 1), chunks.get(i)));
                }
            });
            assertEquals(want, got);
        }
    }

    @Test
    void insertSelectStoresChunks() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            exec(c, "CREATE TABLE doc_chunks (id INT, n INT, chunk TEXT CHARACTER SET utf8mb4)");
            exec(c, "INSERT INTO doc_chunks SELECT d.id, j.n, j.chunk FROM docs d, JSON_TABLE(CHUNK_TEXT(d.body,"
                    + " '{\"size\": 50, \"unit\": \"tokens\"}'), '$[*]' COLUMNS (n FOR ORDINALITY, chunk TEXT PATH '$')) j");
            for (Map.Entry<Integer, String> e : DOCS.entrySet()) {
                String joined = scalar(c, "SELECT GROUP_CONCAT(chunk ORDER BY n SEPARATOR '') FROM doc_chunks WHERE id = "
                        + e.getKey());
                assertEquals(e.getValue() == null || e.getValue().isEmpty() ? null : e.getValue(), joined);
            }
        }
    }

    @Test
    void badOptionsAreAClearErrorAndTheConnectionStaysUsable() throws Exception {
        try (Connection c = WORLD.proxy().connect(WORLD.database())) {
            var e = assertSqlError(c, "SELECT CHUNK_TEXT('abc', '{\"size\": 100, \"overlap\": 100}')", 7070, "22023");
            assertTrue(e.getMessage().contains("overlap must be a whole number from 0 to size - 1"), e.getMessage());
            e = assertSqlError(c, "SELECT id, CHUNK_TEXT(body, '{\"unit\": \"words\"}') FROM docs", 7070, "22023");
            assertTrue(e.getMessage().contains("unit must be \"chars\" or \"tokens\""), e.getMessage());
            assertSqlError(c, "SELECT CHUNK_TEXT()", 7010, "42000");
        }
    }
}
