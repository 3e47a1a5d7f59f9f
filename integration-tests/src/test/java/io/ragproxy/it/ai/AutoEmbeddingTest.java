package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.TITAN_V2;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.cosineDistance;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.maxAbsDiff;
import static io.ragproxy.it.ai.AiProxy.parseVector;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.MariadbCli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TiDB Cloud's auto-embedding through the proxy on MariaDB: the quick start of TiDB Cloud's documentation as
 * written (its hosted Titan model name mapped to Bedrock's Titan V2 by an alias), Cohere with the {@code @search}
 * option suffix, every way of writing rows, and SHOW RAG PENDING with its refresh statement.
 */
class AutoEmbeddingTest {
    private static final String DB = "ragproxy_it_autoembed";
    static final String COHERE = "cohere.embed-english-v3";

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, CatalogWorld::tidbCloudModels);

    static final String QUICK_START_TABLE = """
            CREATE TABLE documents (
                id INT PRIMARY KEY AUTO_INCREMENT,
                content TEXT,
                content_vector VECTOR(1024) GENERATED ALWAYS AS (
                    EMBED_TEXT("tidbcloud_free/amazon/titan-embed-text-v2", content)
                ) STORED
            );""";
    static final String QUICK_START_INSERT = """
            INSERT INTO documents (content) VALUES
                ("Electric vehicles reduce air pollution in cities."),
                ("Solar panels convert sunlight into renewable energy."),
                ("Plant-based diets lower carbon footprints significantly."),
                ("Deep learning algorithms improve medical diagnosis accuracy."),
                ("Blockchain technology enhances data security systems.");""";
    static final String QUICK_START_QUERY = """
            SELECT id, content FROM documents
            ORDER BY VEC_EMBED_COSINE_DISTANCE(
                content_vector,
                "Renewable energy solutions for environmental protection"
            )
            LIMIT 3;""";

    @BeforeEach
    void quiet() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
    }

    /** The vector the emulator gives for the request the proxy sent for {@code text}, asked again directly. */
    static float[] expected(String model, String text) {
        RecordedRequest sent = WORLD.emulator().requests(model, "invoke").stream()
                .filter(r -> r.json().has("inputText") ? r.json().get("inputText").asText().equals(text)
                        : r.json().path("texts").toString().contains(AiProxy.JSON.getNodeFactory().textNode(text).toString()))
                .findFirst().orElseThrow(() -> new AssertionError("no request for " + text + ": "
                        + WORLD.emulator().requests()));
        var answer = WORLD.reference().post(model, "invoke", sent.body()).join();
        if (answer.has("embedding")) {
            return AiProxy.vectorOf(answer.get("embedding"));
        }
        List<String> texts = AiProxy.JSON.convertValue(sent.json().get("texts"), AiProxy.JSON.getTypeFactory()
                .constructCollectionType(List.class, String.class));
        return AiProxy.vectorOf(answer.get("embeddings").get(texts.indexOf(text)));
    }

    static Map<String, float[]> stored(Connection c, String table, String column) throws SQLException {
        return stored(c, table, "content", column);
    }

    /** Each row's text and its stored vector (null when there is none). */
    static Map<String, float[]> stored(Connection c, String table, String text, String column) throws SQLException {
        Map<String, float[]> out = new TreeMap<>();
        for (List<String> row : rows(c, "SELECT " + text + ", VEC_ToText(" + column + ") FROM " + table)) {
            out.put(row.get(0), row.get(1) == null ? null : parseVector(row.get(1)));
        }
        return out;
    }

    @Test
    void tidbCloudQuickStartRunsAsWritten() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, QUICK_START_TABLE);
            // The backend has a plain vector column; the generated expression lives in the catalog.
            try (Connection direct = LocalBackend.get().connect(DB)) {
                String ddl = rows(direct, "SHOW CREATE TABLE documents").get(0).get(1);
                assertTrue(ddl.contains("`content_vector` vector(1024)"), ddl);
                assertFalse(ddl.toUpperCase().contains("GENERATED") || ddl.contains("EMBED_TEXT"), ddl);
            }
            assertEquals(5, update(c, QUICK_START_INSERT));
            List<RecordedRequest> titan = WORLD.emulator().requests(TITAN_V2, "invoke");
            assertEquals(5, titan.size(), () -> WORLD.emulator().requests().toString());
            for (Map.Entry<String, float[]> e : stored(c, "documents", "content_vector").entrySet()) {
                assertEquals(1024, e.getValue().length);
                assertTrue(maxAbsDiff(expected(TITAN_V2, e.getKey()), e.getValue()) < 1e-6, e.getKey());
            }

            List<List<String>> top3 = rows(c, QUICK_START_QUERY);
            String query = "Renewable energy solutions for environmental protection";
            float[] q = expected(TITAN_V2, query);
            Map<String, float[]> vectors = stored(c, "documents", "content_vector");
            List<String> want = vectors.keySet().stream()
                    .sorted(Comparator.comparingDouble(k -> cosineDistance(vectors.get(k), q))).limit(3).toList();
            assertEquals(want, top3.stream().map(r -> r.get(1)).toList());
        }
    }

    @Test
    void searchSuffixOptionsEmbedQueriesAsQueries() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE docs_cohere (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT, embedding VECTOR(1024)"
                    + " GENERATED ALWAYS AS (EMBED_TEXT('" + COHERE + "', content, '{\"input_type\":\"search_document\","
                    + "\"input_type@search\":\"search_query\"}')) STORED)");
            update(c, "INSERT INTO docs_cohere (content) VALUES ('TiDB is a distributed SQL database.'),"
                    + " ('Bedrock hosts foundation models.')");
            List<RecordedRequest> stored = WORLD.emulator().requests(COHERE, "invoke");
            assertEquals(1, stored.size(), stored.toString());
            assertEquals("search_document", stored.get(0).json().get("input_type").asText());
            WORLD.emulator().clearRequests();

            List<List<String>> hits = rows(c, "SELECT content FROM docs_cohere ORDER BY"
                    + " VEC_EMBED_COSINE_DISTANCE(embedding, 'Which database is distributed?') LIMIT 1");
            List<RecordedRequest> searched = WORLD.emulator().requests(COHERE, "invoke");
            assertEquals(1, searched.size(), searched.toString());
            assertEquals("search_query", searched.get(0).json().get("input_type").asText());
            assertEquals("Which database is distributed?", searched.get(0).json().get("texts").get(0).asText());
            float[] q = expected(COHERE, "Which database is distributed?");
            Map<String, float[]> vectors = stored(c, "docs_cohere", "embedding");
            String nearest = vectors.keySet().stream()
                    .min(Comparator.comparingDouble(k -> cosineDistance(vectors.get(k), q))).orElseThrow();
            assertEquals(List.of(List.of(nearest)), hits);
        }
    }

    @Test
    void everyWriteFillsTheVectorInTheSameStatement() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE notes (id INT PRIMARY KEY, content TEXT, embedding VECTOR GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', content)) STORED)");
            try (Connection direct = LocalBackend.get().connect(DB)) {
                String ddl = rows(direct, "SHOW CREATE TABLE notes").get(0).get(1);
                assertTrue(ddl.contains("`embedding` vector(1024)"), "dimensions from the model: " + ddl);
            }
            update(c, "INSERT INTO notes (id, content) VALUES (1, 'first note')");
            update(c, "INSERT INTO notes VALUES (2, 'no column list', DEFAULT)");
            update(c, "REPLACE INTO notes (id, content) VALUES (3, 'replaced in')");
            update(c, "INSERT INTO notes (id, content) VALUES (4, 'fourth') ON DUPLICATE KEY UPDATE content = 'x'");
            update(c, "UPDATE notes SET content = 'first note, edited' WHERE id = 1");
            // Over a column: the backfill plan runs it (old value in, new vector out), in the same statement.
            update(c, "UPDATE notes SET content = CONCAT(content, ' (2)') WHERE id = 2");
            update(c, "UPDATE notes SET id = 40 WHERE id = 4");
            Map<String, float[]> vectors = stored(c, "notes", "embedding");
            assertEquals(List.of("first note, edited", "fourth", "no column list (2)", "replaced in"),
                    List.copyOf(vectors.keySet()));
            for (Map.Entry<String, float[]> e : vectors.entrySet()) {
                assertTrue(e.getValue() != null && maxAbsDiff(expected(TITAN_V2, e.getKey()), e.getValue()) < 1e-6,
                        e.getKey());
            }
            // The update of id only did not call the model again.
            assertEquals(1, WORLD.emulator().requests(TITAN_V2, "invoke").stream()
                    .filter(r -> r.json().get("inputText").asText().equals("fourth")).count());

            update(c, "INSERT INTO notes (id, content) SELECT id + 100,"
                    + " CONCAT('copy of ', content) FROM notes WHERE id = 3");
            float[] copy = parseVector(scalar(c, "SELECT VEC_ToText(embedding) FROM notes WHERE id = 103"));
            assertTrue(maxAbsDiff(expected(TITAN_V2, "copy of replaced in"), copy) < 1e-6);
        }
    }

    /** SHOW RAG PENDING's row for {@code table} of this test's database. */
    static List<String> pending(Connection c, String table) throws SQLException {
        return rows(c, "SHOW RAG PENDING").stream().filter(r -> r.get(0).equals(DB + "." + table)).findFirst()
                .orElseThrow(() -> new AssertionError("no SHOW RAG PENDING row for " + table));
    }

    /** Every stored vector of {@code table} is the model's vector of its row's current text (none for no text). */
    static void assertVectorsMatchTheirText(Connection c, String table, String text, String column) throws Exception {
        for (List<String> row : rows(c, "SELECT " + text + ", VEC_ToText(" + column + ") FROM " + table)) {
            if (row.get(0) == null || row.get(0).isEmpty()) {
                assertNull(row.get(1), "no text, no vector");
            } else {
                assertTrue(row.get(1) != null && maxAbsDiff(expected(TITAN_V2, row.get(0)), parseVector(row.get(1)))
                        < 1e-6, row.get(0));
            }
        }
    }

    @Test
    void showRagPendingCountsMissingAndStaleVectorsAndOneStatementRefreshesBoth() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE articles (id INT PRIMARY KEY, body TEXT, body_vec VECTOR(1024) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('" + CatalogWorld.TIDB_TITAN + "', body)) STORED)");
            update(c, "INSERT INTO articles (id, body) VALUES (1, 'through the proxy'), (5, 'also through the proxy')");
            update(c, "INSERT INTO articles VALUES (6, 'an article without a column list', DEFAULT)");
            try (Connection direct = LocalBackend.get().connect(DB)) {
                // The hash column is invisible: SELECT * and INSERT without a column list see the declared columns.
                assertEquals(3, direct.createStatement().executeQuery("SELECT * FROM articles").getMetaData()
                        .getColumnCount());
                exec(direct, "INSERT INTO articles VALUES (2, 'behind its back', NULL)");
                exec(direct, "INSERT INTO articles (id, body) VALUES (3, 'also behind its back'), (4, '')");
                exec(direct, "UPDATE articles SET body = 'changed behind its back' WHERE id = 1");
                exec(direct, "UPDATE articles SET body = NULL WHERE id = 5");
            }
            assertEquals(3, c.createStatement().executeQuery("SELECT * FROM articles").getMetaData().getColumnCount());
            List<String> pending = pending(c, "articles");
            assertEquals("body_vec", pending.get(1));
            assertEquals(CatalogWorld.TIDB_TITAN, pending.get(2));
            assertEquals("2", pending.get(3), "rows with text and no vector: " + pending);
            assertEquals("2", pending.get(4), "rows whose text changed behind the proxy's back: " + pending);
            String refresh = pending.get(5);
            assertTrue(refresh.startsWith("UPDATE `" + DB + "`.`articles` SET `body_vec` = EMBED_TEXT('"
                    + CatalogWorld.TIDB_TITAN + "', body), `body_vec_ragproxy_sha256` = "), refresh);
            int before = WORLD.emulator().requests(TITAN_V2, "invoke").size();
            assertEquals(4, update(c, refresh));
            assertEquals(3, WORLD.emulator().requests(TITAN_V2, "invoke").size() - before, "one call per text with a"
                    + " vector to make; the text set to NULL gets none: " + WORLD.emulator().requests());
            pending = pending(c, "articles");
            assertEquals(List.of("0", "0"), pending.subList(3, 5), pending.toString());
            assertVectorsMatchTheirText(c, "articles", "body", "body_vec");
            assertNull(scalar(c, "SELECT body_vec FROM articles WHERE id = 5"), "the text is gone, so is its vector");
            before = WORLD.emulator().requestCount();
            assertEquals(0, update(c, refresh), "nothing left to refresh");
            assertEquals(before, WORLD.emulator().requestCount());
        }
    }

    @Test
    void writesThroughTheProxyNeverLeaveAStaleVector() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE journal (id INT PRIMARY KEY, content TEXT, v VECTOR GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', content)) STORED)");
            update(c, "INSERT INTO journal (id, content) VALUES (1, 'one'), (2, 'two')");
            update(c, "INSERT INTO journal VALUES (3, 'three', DEFAULT)");
            update(c, "REPLACE INTO journal (id, content) VALUES (2, 'two again')");
            update(c, "INSERT INTO journal (id, content) VALUES (1, 'ignored') ON DUPLICATE KEY UPDATE content ="
                    + " 'one and more'");
            update(c, "UPDATE journal SET content = 'three, edited' WHERE id = 3");
            update(c, "UPDATE journal SET content = CONCAT(content, '!')"); // the backfill plan
            update(c, "INSERT INTO journal (id, content) SELECT id + 10, CONCAT('copy of ', content) FROM journal");
            update(c, "UPDATE journal SET v = NULL WHERE id = 11"); // the vector only: missing, not stale
            List<String> pending = pending(c, "journal");
            assertEquals(List.of("1", "0"), pending.subList(3, 5), pending.toString());
            update(c, pending.get(5));
            assertEquals(List.of("0", "0"), pending(c, "journal").subList(3, 5));
            assertVectorsMatchTheirText(c, "journal", "content", "v");
            assertEquals("6", scalar(c, "SELECT COUNT(*) FROM journal WHERE v IS NOT NULL"));
        }
    }

    @Test
    void aTextChangedWhileTheRefreshMakesItsVectorStaysPending() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB); Connection direct = LocalBackend.get().connect(DB)) {
            exec(c, "CREATE TABLE drafts (id INT PRIMARY KEY, body TEXT, v VECTOR(1024) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', body)) STORED)");
            update(c, "INSERT INTO drafts (id, body) VALUES (1, 'first draft'), (2, 'second draft')");
            exec(direct, "UPDATE drafts SET body = CONCAT(body, ', revised')");
            String refresh = pending(c, "drafts").get(5);
            WORLD.emulator().setLatency(Duration.ofMillis(1500));
            java.util.concurrent.CompletableFuture<Integer> refreshed = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try {
                            return update(c, refresh);
                        } catch (SQLException e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    });
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (WORLD.emulator().inFlight() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(WORLD.emulator().inFlight() > 0, "the refresh is making its vectors");
            // Another session edits row 1 after the refresh read it and before its vector is written.
            exec(direct, "UPDATE drafts SET body = 'third draft' WHERE id = 1");
            assertEquals(1, refreshed.get(30, java.util.concurrent.TimeUnit.SECONDS), "only row 2 is refreshed");
            WORLD.emulator().setLatency(Duration.ZERO);
            assertEquals(List.of("0", "1"), pending(c, "drafts").subList(3, 5), "row 1 is still stale");
            update(c, refresh);
            assertEquals(List.of("0", "0"), pending(c, "drafts").subList(3, 5));
            assertVectorsMatchTheirText(c, "drafts", "body", "v");
        }
    }

    @Test
    void tablesWithoutTheHashColumnCountMissingVectorsOnly() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE legacy (id INT PRIMARY KEY, body TEXT, v VECTOR(1024) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', body)) STORED)");
            // As a catalog row written before ragproxy kept hashes reads (and the table as it was then).
            try (Connection direct = LocalBackend.get().connect(DB)) {
                exec(direct, "ALTER TABLE legacy DROP COLUMN v_ragproxy_sha256");
                exec(direct, "UPDATE ragproxy.embedding_rules SET definition = JSON_REMOVE(definition,"
                        + " '$.source_hash') WHERE name = '" + DB + ".legacy.v'");
                exec(direct, "UPDATE ragproxy.catalog_version SET version = version + 1 WHERE id = 1");
            }
            Thread.sleep(1100); // the proxy checks the catalog's version at most once a second
            update(c, "INSERT INTO legacy (id, body) VALUES (1, 'kept up to date')");
            LocalBackend.get().exec(DB, "INSERT INTO legacy (id, body) VALUES (2, 'behind its back')");
            LocalBackend.get().exec(DB, "UPDATE legacy SET body = 'changed behind its back' WHERE id = 1");
            List<String> pending = pending(c, "legacy");
            assertEquals("1", pending.get(3));
            assertNull(pending.get(4), "staleness is not tracked: " + pending);
            assertEquals("UPDATE `" + DB + "`.`legacy` SET `v` = EMBED_TEXT('titan-v2', body) WHERE `v` IS NULL AND"
                    + " (body) <> ''", pending.get(5));
            assertEquals(1, update(c, pending.get(5)));
            assertEquals("0", pending(c, "legacy").get(3));
        }
    }

    /** A CSV file of {@code id,content} lines, deleted when the JVM exits. */
    static Path csv(String... lines) throws Exception {
        Path file = Files.createTempFile("ragproxy-it-load", ".csv");
        file.toFile().deleteOnExit();
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return file;
    }

    static String loadStatement(Path file, String table) {
        return "LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE " + table
                + " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' (id, content)";
    }

    static void createLoaded(Connection c, String table, String engine) throws SQLException {
        exec(c, "CREATE TABLE " + table + " (id INT PRIMARY KEY, content TEXT, embedding VECTOR(1024) GENERATED"
                + " ALWAYS AS (EMBED_TEXT('titan-v2', content)) STORED)" + (engine == null ? "" : " ENGINE=" + engine));
    }

    @Test
    void loadDataLocalFillsTheVectorsInTheSameTransactionWithEitherDriver() throws Exception {
        for (Driver driver : Driver.values()) {
            String table = "loaded_" + driver.name().toLowerCase();
            String option = driver == Driver.MYSQL_CJ ? "allowLoadLocalInfile=true" : "allowLocalInfile=true";
            try (Connection c = driver.connect(WORLD.proxy().host(), WORLD.proxy().port(), DB, LocalBackend.USER,
                    LocalBackend.PASSWORD, false, option)) {
                createLoaded(c, table, null);
                Path file = csv("1,loaded by " + driver, "2,\"a second, quoted line by " + driver + "\"", "3,");
                assertEquals(3, update(c, loadStatement(file, table)), "the load's own affected rows");
                assertEquals("3", scalar(c, "SELECT COUNT(*) FROM " + table));
                assertVectorsMatchTheirText(c, table, "content", "embedding");
                assertEquals("2", scalar(c, "SELECT COUNT(*) FROM " + table + " WHERE embedding IS NOT NULL"));
                assertEquals(List.of("0", "0"), pending(c, table).subList(3, 5));
                // Inside the client's transaction: under a savepoint, which the client's own ROLLBACK undoes.
                c.setAutoCommit(false);
                assertEquals(1, update(c, loadStatement(csv("4,in a transaction by " + driver), table)));
                assertEquals("4", scalar(c, "SELECT COUNT(*) FROM " + table + " WHERE embedding IS NOT NULL OR id = 3"));
                c.rollback();
                c.setAutoCommit(true);
                assertEquals("3", scalar(c, "SELECT COUNT(*) FROM " + table));
            }
        }
    }

    @Test
    void loadDataLocalThroughTheMariadbCli() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            createLoaded(c, "loaded_cli", null);
        }
        Path file = csv("1,loaded with the mariadb CLI", "2,its second line");
        Path script = Files.createTempFile("ragproxy-it-load", ".sql");
        try {
            Files.writeString(script, loadStatement(file, "loaded_cli") + ";\nSELECT COUNT(*) AS n FROM loaded_cli"
                    + " WHERE embedding IS NOT NULL;\n", StandardCharsets.UTF_8);
            List<String> args = new ArrayList<>(MariadbCli.connectArgs(WORLD.proxy().host(), WORLD.proxy().port(),
                    LocalBackend.USER, LocalBackend.PASSWORD));
            args.addAll(List.of("--skip-ssl", "--batch", "--local-infile=1", "--database=" + DB));
            MariadbCli.Result r = MariadbCli.run(args, script, Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), r::describe);
            assertEquals("n\n2\n", r.stdout(), r::describe);
        } finally {
            Files.deleteIfExists(script);
        }
        try (Connection c = WORLD.proxy().connect(DB)) {
            assertVectorsMatchTheirText(c, "loaded_cli", "content", "embedding");
        }
    }

    @Test
    void aLoadWhoseVectorsFailKeepsNoRowAndTheConnectionWorksOn() throws Exception {
        WORLD.emulator().failWhenInputContains("poisoned", EmulatedError.VALIDATION);
        try (Connection c = Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), DB,
                LocalBackend.USER, LocalBackend.PASSWORD, false, "allowLocalInfile=true")) {
            createLoaded(c, "loaded_failing", null);
            update(c, "INSERT INTO loaded_failing (id, content) VALUES (100, 'there before the load')");
            SQLException e = assertSqlError(c, loadStatement(csv("1,a fine line", "2,a poisoned line", "3,another"),
                    "loaded_failing"), 7104, "22023");
            assertTrue(e.getMessage().contains("LOAD DATA into loaded_failing was rolled back"), e.getMessage());
            assertEquals("1", scalar(c, "SELECT COUNT(*) FROM loaded_failing"), "no row of the file is kept");
            // The connection is usable, in autocommit as before: the next load goes through.
            assertEquals(2, update(c, loadStatement(csv("1,a fine line", "3,another"), "loaded_failing")));
            assertEquals("3", scalar(c, "SELECT COUNT(*) FROM loaded_failing WHERE embedding IS NOT NULL"));
            // The load's own errors are the backend's, as they are without the proxy.
            assertSqlError(c, loadStatement(csv("4,new"), "loaded_failing").replace("(id, content)",
                    "(id, no_such_column)"), 1054, "42S22");
            assertEquals("3", scalar(c, "SELECT COUNT(*) FROM loaded_failing"));
            // Inside a transaction, only the load is undone; the transaction stays open.
            c.setAutoCommit(false);
            update(c, "INSERT INTO loaded_failing (id, content) VALUES (200, 'in the transaction')");
            assertSqlError(c, loadStatement(csv("5,poisoned again"), "loaded_failing"), 7104, "22023");
            c.commit();
            c.setAutoCommit(true);
            assertEquals("4", scalar(c, "SELECT COUNT(*) FROM loaded_failing"));
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM loaded_failing WHERE id = 5"));
        }
    }

    @Test
    void aLoadIntoATableThatCannotRollBackIsRefused() throws Exception {
        try (Connection c = Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), DB,
                LocalBackend.USER, LocalBackend.PASSWORD, false, "allowLocalInfile=true")) {
            createLoaded(c, "loaded_myisam", "MyISAM");
            SQLException e = assertSqlError(c, loadStatement(csv("1,x"), "loaded_myisam"), 7001, "0A000");
            assertTrue(e.getMessage().contains("ENGINE=InnoDB") && e.getMessage().contains("UPDATE `" + DB
                    + "`.`loaded_myisam` SET `embedding` = EMBED_TEXT('titan-v2', content)"), e.getMessage());
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM loaded_myisam"));
        }
    }

    @Test
    void droppingTheTableForgetsItsColumnsAndMistakesAreExplained() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE short_lived (id INT PRIMARY KEY, t TEXT, v VECTOR(1024) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', t)) STORED)");
            assertEquals("1", scalar(c, "SELECT COUNT(*) FROM ragproxy.embedding_rules WHERE name = '" + DB
                    + ".short_lived.v'"));
            exec(c, "DROP TABLE short_lived");
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM ragproxy.embedding_rules WHERE name = '" + DB
                    + ".short_lived.v'"));
            assertTrue(rows(c, "SHOW RAG FUNCTIONS").stream().noneMatch(r -> r.get(3).contains("short_lived")));
            exec(c, "CREATE TABLE short_lived (id INT PRIMARY KEY, t TEXT)");
            update(c, "INSERT INTO short_lived VALUES (1, 'plain again')");
            assertEquals(0, WORLD.emulator().requestCount(), WORLD.emulator().requests().toString());

            SQLException e = assertSqlError(c, "CREATE TABLE wrong_dims (t TEXT, v VECTOR(512) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', t)) STORED)", 7012, "22023");
            assertTrue(e.getMessage().contains("declare VECTOR(1024)"), e.getMessage());
            assertSqlError(c, "CREATE TABLE wrong_model (t TEXT, v VECTOR(3) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('no-such-model', t)) STORED)", 7011, "42000");
            e = assertSqlError(c, "CREATE TABLE wrong_source (t TEXT, v VECTOR(1024) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('titan-v2', body)) STORED)", 7002, "42000");
            assertTrue(e.getMessage().contains("body, which is not a column of wrong_source"), e.getMessage());
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + DB
                    + "' AND TABLE_NAME LIKE 'wrong%'"));
        }
    }

}
