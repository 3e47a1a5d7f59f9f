package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.plan.FakeModels;
import io.ragproxy.server.plan.FakeSession;
import io.ragproxy.server.plan.StatementAnalysis;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CatalogRewriterTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;
    static final AliasFunction HAIKU = new AliasFunction("claude3_haiku", "db", "request_body", "TEXT", "TEXT",
            "anthropic.claude-3-haiku-20240307-v1:0", null, null, null, null, null);
    static final AliasFunction QUICK = new AliasFunction("quick", "db", "b", "TEXT", "TEXT", "m.x-v1", "text/plain",
            "*/*", 200, null, null);
    static final MindsModel DEFAULT_MODEL = new MindsModel("bedrock_default_model", "answer", "bedrock", null, null,
            "Answer the users input in a helpful way: {{question}}", null, null, null, null, null, null);
    static final MindsModel CONTEXT_MODEL = new MindsModel("ctx_model", "answer", "bedrock", "llama", null, null,
            "question", "context", 100, 0.3, null, null);
    static final MindsModel CONVERSATION = new MindsModel("chat", "answer", "bedrock", null, "conversational", null,
            "question", null, null, null, null, null);
    static final EmbeddingRule DOCS = new EmbeddingRule("db", "documents", "embedding", 3, "titan-v2", "content",
            "{\"input_type@search\":\"search_query\",\"input_type\":\"search_document\"}");
    static final EmbeddingRule NOTES = new EmbeddingRule("db", "notes", "v", 3, "m", "CONCAT(title, ': ', body)", null);
    static final EmbeddingRule TRACKED = new EmbeddingRule("db", "tracked", "v", 3, "m", "body", null, "v_h");

    final CatalogRewriter rewriter = new CatalogRewriter();
    CatalogSnapshot snapshot;
    FakeSession session;


    @BeforeEach
    void setUp() {
        List<CatalogEntry> entries = new ArrayList<>();
        for (CatalogObject o : List.of(HAIKU, QUICK, DEFAULT_MODEL, CONTEXT_MODEL, CONVERSATION, DOCS, NOTES,
                TRACKED)) {
            entries.add(new CatalogEntry(o, "root@%", "2025-01-01 00:00:00"));
        }
        snapshot = new CatalogSnapshot(3, "epoch", entries);
        session = new FakeSession("5.5.5-11.8.6-MariaDB", true, RagSettings.defaults(FakeModels.settings()));
        session.answer("SELECT DATABASE()", "db");
    }

    String rewrite(String sql) {
        try {
            return rewriter.rewrite(session, sql, StatementAnalysis.parse(sql, PARSER), snapshot).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void auroraCallsBecomeInvokeModelAndKeepTheirLabel() {
        assertEquals("SELECT json_unquote(json_extract(INVOKE_MODEL('anthropic.claude-3-haiku-20240307-v1:0', '{\"a\":1}',"
                + " 'application/json', 'application/json'), '$.content[0].text')) AS r",
                rewrite("SELECT json_unquote(json_extract(claude3_haiku('{\"a\":1}'), '$.content[0].text')) AS r"));
        assertEquals("SELECT INVOKE_MODEL('m.x-v1', body, 'text/plain', '*/*', '{\"timeout_ms\":200}') AS `QUICK(body)`"
                + " FROM t", rewrite("SELECT QUICK(body) FROM t"));
        // A backquoted name is a stored function of the backend; db.f(…) is function f of database db, from anywhere.
        assertEquals("SELECT `claude3_haiku`('x'), INVOKE_MODEL('anthropic.claude-3-haiku-20240307-v1:0', 'y',"
                + " 'application/json', 'application/json') AS `db.claude3_haiku('y')`",
                rewrite("SELECT `claude3_haiku`('x'), db.claude3_haiku('y')"));
        assertNull(rewrite("SELECT other.claude3_haiku('y')"), "no function of that name in database other");
        assertNull(rewrite("SELECT 1"));
        ProxyException e = assertThrows(ProxyException.class, () -> rewrite("SELECT claude3_haiku('a', 'b')"));
        assertEquals(7010, e.code());
        assertTrue(e.getMessage().startsWith("claude3_haiku() takes one argument (request_body TEXT), the request body"
                + " for anthropic.claude-3-haiku-20240307-v1:0; got 2"), e.getMessage());
    }

    @Test
    void anUnqualifiedCallResolvesInTheCurrentDatabaseOnly() {
        session.answer("SELECT DATABASE()", "other");
        assertNull(rewrite("SELECT claude3_haiku('x')"), "db's function is not other's");
        session.answer("SELECT DATABASE()", (String) null);
        assertNull(rewrite("SELECT claude3_haiku('x')"), "no database selected: only db.claude3_haiku(…) reaches it");
        assertEquals("SELECT INVOKE_MODEL('m.x-v1', 'x', 'text/plain', '*/*', '{\"timeout_ms\":200}') AS `db.quick('x')`",
                rewrite("SELECT db.quick('x')"));
    }

    @Test
    void distanceToAnAutoEmbeddingColumnUsesItsModelAndSearchOptions() {
        assertEquals("SELECT id FROM documents ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED_TEXT('titan-v2',"
                + " \"solar power\", '{\"input_type\":\"search_query\"}')) LIMIT 3",
                rewrite("SELECT id FROM documents ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, \"solar power\") LIMIT 3"));
        assertEquals("SELECT VEC_L2_DISTANCE(d.embedding, EMBED_TEXT('titan-v2', @q, '{\"input_type\":\"search_query\"}'))"
                + " AS `VEC_EMBED_L2_DISTANCE(d.embedding, @q)` FROM db.documents AS d",
                rewrite("SELECT VEC_EMBED_L2_DISTANCE(d.embedding, @q) FROM db.documents AS d"));
        // Another table's column, or another database's table of that name: the built-in function as written.
        assertNull(rewrite("SELECT VEC_EMBED_COSINE_DISTANCE(embedding, 'x') FROM other"));
        assertNull(rewrite("SELECT VEC_EMBED_COSINE_DISTANCE(embedding, 'x') FROM db2.documents"));
    }

    @Test
    void insertsFillTheColumnFromEachRowsSource() {
        assertEquals("INSERT INTO documents (content, `embedding`) VALUES ('a', EMBED_TEXT('titan-v2', 'a',"
                + " '{\"input_type\":\"search_document\"}')), (@b, EMBED_TEXT('titan-v2', @b,"
                + " '{\"input_type\":\"search_document\"}'))",
                rewrite("INSERT INTO documents (content) VALUES ('a'), (@b)"));
        assertEquals("INSERT INTO notes (id, title, body, `v`) VALUES (1, 'T', 'B', EMBED_TEXT('m', CONCAT('T', ': ',"
                + " 'B')))", rewrite("INSERT INTO notes (id, title, body) VALUES (1, 'T', 'B')"));
        assertEquals("INSERT INTO notes (id, body, v) VALUES (1, 'B', EMBED_TEXT('m', CONCAT(NULL, ': ', 'B')))",
                rewrite("INSERT INTO notes (id, body, v) VALUES (1, 'B', DEFAULT)"));
        // A value of its own for the column is kept.
        assertNull(rewrite("INSERT INTO notes (id, body, v) VALUES (1, 'B', VEC_FromText('[1,2,3]'))"));
        session.answers.put("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                + CatalogStore.literal("db") + " AND TABLE_NAME = " + CatalogStore.literal("documents")
                + " AND EXTRA NOT LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION", rows(List.of("id"), List.of("content"),
                List.of("embedding")));
        assertEquals("REPLACE INTO documents (`id`, `content`, `embedding`) VALUES (1, 'x', EMBED_TEXT('titan-v2',"
                + " 'x', '{\"input_type\":\"search_document\"}'))",
                rewrite("REPLACE INTO documents VALUES (1, 'x', NULL)"));
        assertEquals("INSERT INTO documents (id, content, `embedding`) SELECT id, CONCAT('copy ', c), EMBED_TEXT("
                + "'titan-v2', CONCAT('copy ', c), '{\"input_type\":\"search_document\"}') FROM src",
                rewrite("INSERT INTO documents (id, content) SELECT id, CONCAT('copy ', c) FROM src"));
        assertEquals("INSERT INTO documents (id, content, `embedding`) VALUES (1, 'a', EMBED_TEXT('titan-v2', 'a',"
                + " '{\"input_type\":\"search_document\"}')) ON DUPLICATE KEY UPDATE `embedding` = EMBED_TEXT("
                + "'titan-v2', VALUES(content), '{\"input_type\":\"search_document\"}'), content = VALUES(content)",
                rewrite("INSERT INTO documents (id, content) VALUES (1, 'a') ON DUPLICATE KEY UPDATE content ="
                        + " VALUES(content)"));
        ProxyException e = assertThrows(ProxyException.class, () -> rewrite("INSERT INTO documents (id, content)"
                + " SELECT * FROM src"));
        assertEquals(7001, e.code());
        // Another database's table of that name is not ours.
        assertNull(rewrite("INSERT INTO db2.documents (content) VALUES ('a')"));
    }

    @Test
    void updatesOfTheSourceSetTheColumnFirstFromTheValuesBefore() {
        assertEquals("UPDATE documents SET `embedding` = EMBED_TEXT('titan-v2', 'new',"
                + " '{\"input_type\":\"search_document\"}'), content = 'new' WHERE id = 1",
                rewrite("UPDATE documents SET content = 'new' WHERE id = 1"));
        assertEquals("UPDATE notes SET `v` = EMBED_TEXT('m', CONCAT(upper(body), ': ', CONCAT(upper(body), '!')))"
                + ", title = upper(body), body = CONCAT(title, '!')",
                rewrite("UPDATE notes SET title = upper(body), body = CONCAT(title, '!')"));
        assertNull(rewrite("UPDATE notes SET id = 2 WHERE id = 1"));
        assertNull(rewrite("UPDATE notes SET v = EMBED_TEXT('m', CONCAT(title, ': ', body)) WHERE v IS NULL"));
        assertEquals("UPDATE documents AS d JOIN src AS s ON s.id = d.id SET `d`.`embedding` = EMBED_TEXT('titan-v2',"
                + " s.text, '{\"input_type\":\"search_document\"}'), d.content = s.text",
                rewrite("UPDATE documents AS d JOIN src AS s ON s.id = d.id SET d.content = s.text"));
    }

    @Test
    void everyWriteOfTheVectorAlsoWritesTheHashOfItsText() {
        String hashB = "UNHEX(SHA2(CONVERT( ('B') USING utf8mb4 ), 256))";
        assertEquals("INSERT INTO tracked (id, body, `v`, `v_h`) VALUES (1, 'B', EMBED_TEXT('m', 'B'), " + hashB + ")",
                rewrite("INSERT INTO tracked (id, body) VALUES (1, 'B')"));
        // A vector of the statement's own is taken as the embedding of the row's text.
        assertEquals("INSERT INTO tracked (id, body, v, `v_h`) VALUES (1, 'B', VEC_FromText('[1,2,3]'), " + hashB + ")",
                rewrite("INSERT INTO tracked (id, body, v) VALUES (1, 'B', VEC_FromText('[1,2,3]'))"));
        assertEquals("INSERT INTO tracked (id, body, `v`, `v_h`) SELECT id, CONCAT('c ', t), EMBED_TEXT('m',"
                + " CONCAT('c ', t)), UNHEX(SHA2(CONVERT( (CONCAT('c ', t)) USING utf8mb4 ), 256)) FROM src",
                rewrite("INSERT INTO tracked (id, body) SELECT id, CONCAT('c ', t) FROM src"));
        assertEquals("INSERT INTO tracked (id, body, `v`, `v_h`) VALUES (1, 'B', EMBED_TEXT('m', 'B'), " + hashB + ")"
                + " ON DUPLICATE KEY UPDATE `v` = EMBED_TEXT('m', VALUES(body)), `v_h` = UNHEX(SHA2(CONVERT("
                + " VALUES(body) USING utf8mb4 ), 256)), body = VALUES(body)",
                rewrite("INSERT INTO tracked (id, body) VALUES (1, 'B') ON DUPLICATE KEY UPDATE body = VALUES(body)"));
        assertEquals("UPDATE tracked SET `v` = EMBED_TEXT('m', CONCAT(body, '!')), `v_h` = UNHEX(SHA2(CONVERT("
                + " (CONCAT(body, '!')) USING utf8mb4 ), 256)), body = CONCAT(body, '!') WHERE id = 1",
                rewrite("UPDATE tracked SET body = CONCAT(body, '!') WHERE id = 1"));
        assertEquals("UPDATE tracked SET v = NULL, `v_h` = UNHEX(SHA2(CONVERT( (body) USING utf8mb4 ), 256))",
                rewrite("UPDATE tracked SET v = NULL"));
        // The refresh statement sets both itself.
        assertNull(rewrite(CatalogStatements.refreshStatement(TRACKED).replace("`db`.", "")));
        assertNull(rewrite("UPDATE tracked SET id = 2 WHERE id = 1"));
    }

    @Test
    void mindsdbModelsReadLikeTables() {
        assertEquals("SELECT 'What?' AS `question`, GENERATE(CONCAT('Answer the users input in a helpful way: ',"
                + " 'What?'), NULL) AS `answer`",
                rewrite("SELECT * FROM bedrock_default_model WHERE question = 'What?'"));
        assertEquals("SELECT GENERATE(CONCAT('Context: ', 'c', '\nQuestion: ', 'q', '\nAnswer: '), 'llama',"
                + " '{\"max_tokens\":100,\"temperature\":0.3}') AS `a`",
                rewrite("SELECT m.answer AS a FROM mindsdb.ctx_model AS m WHERE m.context = 'c' AND question = 'q'"));
        assertEquals("SELECT *, GENERATE(CONCAT('Answer the users input in a helpful way: ', d.`question`), NULL) AS"
                + " `answer` FROM files.unrelated_questions AS d",
                rewrite("SELECT * FROM files.unrelated_questions AS d JOIN bedrock_default_model AS m"));
        assertEquals("SELECT d.id, GENERATE(CONCAT('Answer the users input in a helpful way: ', d.`question`), NULL) AS"
                + " `answer` FROM q AS d WHERE d.id > 1",
                rewrite("SELECT d.id, m.answer FROM q AS d JOIN bedrock_default_model AS m ON d.id > 1"));
        ProxyException e = assertThrows(ProxyException.class, () -> rewrite("SELECT * FROM bedrock_default_model"));
        assertEquals(7023, e.code());
        assertTrue(e.getMessage().contains("give every input in WHERE: question = '…'"), e.getMessage());
        e = assertThrows(ProxyException.class, () -> rewrite("SELECT * FROM bedrock_default_model WHERE question LIKE"
                + " 'x%'"));
        assertEquals(7023, e.code());
        e = assertThrows(ProxyException.class, () -> rewrite("SELECT d.id FROM q AS d JOIN bedrock_default_model AS m"
                + " ORDER BY m.answer"));
        assertTrue(e.getMessage().contains("in the select list only"), e.getMessage());
    }

    @Test
    void conversationalModelAnswersTheWholeConversationInTheLastRow() {
        session.answers.put("SELECT d.`question` FROM files.related AS d ORDER BY d.id", rows(
                List.of("What is the capital of Sweden?"), List.of("What are some cool places to visit there?")));
        assertEquals("SELECT *, CASE WHEN ROW_NUMBER() OVER (ORDER BY d.id) = COUNT(*) OVER () THEN GENERATE('What is"
                + " the capital of Sweden?\nWhat are some cool places to visit there?', NULL) END AS `answer` FROM"
                + " files.related AS d ORDER BY d.id",
                rewrite("SELECT * FROM files.related AS d JOIN chat AS m ORDER BY d.id"));
        ProxyException e = assertThrows(ProxyException.class, () -> rewrite("SELECT * FROM files.related AS d JOIN"
                + " chat AS m LIMIT 1"));
        assertEquals(7023, e.code());
    }

    @Test
    void sourceSubstitutionLeavesKeywordsFunctionsAndQualifiedNamesAlone() {
        assertEquals("CASE WHEN (x) IS NULL THEN '' ELSE CONCAT(t.a, (x)) END", CatalogRewriter.substitute(
                "CASE WHEN content IS NULL THEN '' ELSE CONCAT(t.a, content) END",
                n -> n.equals("content") ? "(x)" : null));
        assertEquals(List.of("title", "body"), CatalogRewriter.identifiers("CONCAT(title, ': ', `body`)"));
    }

    @SafeVarargs
    static QueryResult rows(List<String>... rows) {
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < rows[0].size(); i++) {
            columns.add("c" + i);
        }
        return new QueryResult(List.of(new QueryResult.ResultSet(columns, copy(rows))), 0, 0, 0, "");
    }

    @Test
    void anEmptyCatalogCostsNothing() {
        snapshot = CatalogSnapshot.EMPTY;
        assertNull(rewrite("SELECT claude3_haiku('x')"));
        assertEquals(List.of(), session.queries);
        assertInstanceOf(List.class, session.queries);
    }

    /** The rows as a list (a loop, so the varargs array never escapes). */
    @SafeVarargs
    static List<List<String>> copy(List<String>... rows) {
        List<List<String>> out = new ArrayList<>();
        for (List<String> row : rows) {
            out.add(row);
        }
        return out;
    }
}
