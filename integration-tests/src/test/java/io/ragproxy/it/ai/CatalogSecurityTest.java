package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.server.catalog.BuiltinNames;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #11, items 1 and 5, as reproduced there: accounts {@code owner} (all privileges on database a),
 * {@code intruder} (all privileges on database b, none on a) and the catalog they share through one proxy. Users have
 * no grant on schema {@code ragproxy}: the proxy keeps it through its own account (root on the local backend).
 */
class CatalogSecurityTest {
    private static final String A = "ragproxy_it_sec_a";
    private static final String B = "ragproxy_it_sec_b";
    private static final String HAIKU = AuroraFunctionsTest.HAIKU;
    private static final String TITAN_TEXT = "amazon.titan-text-express-v1";
    private static final String OWNER = "rp_sec_owner";
    private static final String INTRUDER = "rp_sec_intruder";
    private static final String PASSWORD = "pw-sec-1";

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(A, UnaryOperator.identity());

    @BeforeAll
    static void accounts() throws SQLException {
        LocalBackend.get().exec("", "DROP DATABASE IF EXISTS " + B, "CREATE DATABASE " + B,
                "DROP USER IF EXISTS '" + OWNER + "'@'%'", "DROP USER IF EXISTS '" + INTRUDER + "'@'%'",
                "CREATE USER '" + OWNER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + INTRUDER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "GRANT ALL ON " + A + ".* TO '" + OWNER + "'@'%'",
                "GRANT ALL ON " + B + ".* TO '" + INTRUDER + "'@'%'");
    }

    @AfterAll
    static void dropAccounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + OWNER + "'@'%'", "DROP USER IF EXISTS '" + INTRUDER
                + "'@'%'", "DROP DATABASE IF EXISTS " + B);
    }

    @BeforeEach
    void emptyCatalog() throws SQLException {
        CatalogWorld.dropCatalog();
    }

    Connection as(String user, String db) throws SQLException {
        return Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), db, user, PASSWORD, false);
    }

    static String createFunction(String name, String model) {
        return "CREATE FUNCTION " + name + " (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + model
                + "'";
    }

    static String body(String text) {
        return AuroraFunctionsTest.haikuBody(text);
    }

    @Test
    void usersCannotWriteTheCatalogTablesSoForgedRowsAreImpossible() throws Exception {
        try (Connection owner = as(OWNER, A)) {
            exec(owner, "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT, attachment BLOB)");
            exec(owner, createFunction("owner_fn", HAIKU));
        }
        try (Connection intruder = as(INTRUDER, B)) {
            assertSqlError(intruder, "INSERT INTO ragproxy.embedding_rules (schema_name, name, definition, owner) VALUES"
                    + " ('" + A + "', '" + A + ".notes.attachment', '{}', '" + OWNER + "@%')", 1142, "42000");
            assertSqlError(intruder, "UPDATE ragproxy.catalog_version SET version = version + 1", 1142, "42000");
            assertSqlError(intruder, "SELECT definition FROM ragproxy.functions", 1142, "42000");
        }
        try (Connection owner = as(OWNER, A)) {
            exec(owner, "INSERT INTO notes VALUES (1, 'b', X'00FF')");
            exec(owner, "UPDATE notes SET body = 'c' WHERE id = 1");
            assertEquals("00FF", scalar(owner, "SELECT HEX(attachment) FROM notes"), "the BLOB is untouched");
            exec(owner, "DROP TABLE notes");
        }
        try (Connection root = WORLD.proxy().connect(A)) {
            assertEquals(OWNER + "@%", scalar(root, "SELECT owner FROM ragproxy.functions WHERE name = 'owner_fn'"),
                    "the owner is CURRENT_USER() of the session that ran the DDL");
        }
    }

    @Test
    void everyBuiltinFunctionNameIsRefusedAsAFunctionOrModelName() throws Exception {
        List<String> accepted = new ArrayList<>();
        try (Connection c = WORLD.proxy().connect(A)) {
            for (String name : BuiltinNames.load().names()) {
                try {
                    exec(c, createFunction(name, HAIKU));
                    accepted.add(name);
                } catch (SQLException e) {
                    if (e.getErrorCode() != 7025) {
                        accepted.add(name + " (" + e.getErrorCode() + ": " + e.getMessage() + ")");
                    }
                }
            }
            assertEquals(List.of(), accepted);
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA ="
                    + " 'ragproxy' AND TABLE_NAME = 'functions'"), "nothing was written");
            for (String name : List.of("lower", "count", "md5", "sha2", "now", "concat")) {
                SQLException e = assertSqlError(c, "CREATE MODEL " + name + " PREDICT answer USING engine = 'bedrock',"
                        + " prompt_template = 'x {{q}}'", 7025, "42000");
                assertTrue(e.getMessage().contains("built-in function of MySQL, MariaDB or TiDB"), e.getMessage());
            }
            SQLException e = assertSqlError(c, createFunction("lower", HAIKU), 7025, "42000");
            assertTrue(e.getMessage().contains("LOWER is a built-in function"), e.getMessage());
            assertEquals("abc", scalar(c, "SELECT LOWER('ABC')"));
            assertEquals("1", scalar(c, "SELECT COUNT(*) FROM (SELECT 1) AS t"));
        }
    }

    @Test
    void anotherAccountsFunctionsAndModelsCannotBeReplacedOrDropped() throws Exception {
        try (Connection owner = as(OWNER, A)) {
            exec(owner, createFunction("owner_fn", HAIKU));
            exec(owner, "CREATE MODEL owner_model PREDICT answer USING engine = 'bedrock',"
                    + " prompt_template = 'Answer: {{question}}'");
        }
        try (Connection intruder = as(INTRUDER, B)) {
            SQLException e = assertSqlError(intruder, "CREATE OR REPLACE FUNCTION " + A + ".owner_fn (b TEXT) RETURNS"
                    + " TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + HAIKU + "'", 7024, "42000");
            assertTrue(e.getMessage().contains("CREATE ROUTINE privilege on database " + A), e.getMessage());
            e = assertSqlError(intruder, "CREATE OR REPLACE MODEL owner_model PREDICT answer USING engine = 'bedrock',"
                    + " prompt_template = 'Leak: {{question}}'", 7024, "42000");
            assertTrue(e.getMessage().contains("belongs to " + OWNER + "@%"), e.getMessage());
            assertSqlError(intruder, "DROP MODEL owner_model", 7024, "42000");
            LocalBackend.get().exec("", "GRANT CREATE ROUTINE ON " + A + ".* TO '" + INTRUDER + "'@'%'");
        }
        try (Connection intruder = as(INTRUDER, B)) {
            SQLException e = assertSqlError(intruder, "CREATE OR REPLACE FUNCTION " + A + ".owner_fn (b TEXT) RETURNS"
                    + " TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + TITAN_TEXT + "'", 7024, "42000");
            assertTrue(e.getMessage().contains("only its owner or an account with ALTER ROUTINE on database " + A),
                    e.getMessage());
            assertSqlError(intruder, "DROP FUNCTION " + A + ".owner_fn", 7024, "42000");
            // A new name in a is fine with CREATE ROUTINE there, as on Aurora.
            exec(intruder, "CREATE FUNCTION " + A + ".intruder_fn (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID '" + HAIKU + "'");
        } finally {
            LocalBackend.get().exec("", "REVOKE CREATE ROUTINE ON " + A + ".* FROM '" + INTRUDER + "'@'%'");
        }
        try (Connection root = WORLD.proxy().connect(A)) {
            assertEquals(HAIKU, scalar(root, "SELECT JSON_UNQUOTE(JSON_EXTRACT(definition, '$.model_id')) FROM"
                    + " ragproxy.functions WHERE name = 'owner_fn'"));
            assertTrue(scalar(root, "SELECT definition FROM ragproxy.models WHERE name = 'owner_model'")
                    .contains("Answer: {{question}}"));
            exec(root, "DROP FUNCTION " + A + ".intruder_fn"); // ALTER ROUTINE everywhere: an administrator
        }
        try (Connection owner = as(OWNER, A)) {
            exec(owner, "DROP FUNCTION owner_fn");
            exec(owner, "DROP MODEL owner_model");
        }
    }

    /**
     * The ownership check and the write are one atomic step: the catalog rows are changed behind the proxy's cached
     * view (as another proxy or session would, between the check and the write), and every replace or drop the view
     * still allows writes nothing and fails with 7028; run again against the current catalog, the check refuses it.
     */
    @Test
    void replacingOrDroppingAnObjectChangedSinceTheOwnershipCheckWritesNothing() throws Exception {
        try (Connection intruder = as(INTRUDER, B)) {
            exec(intruder, createFunction("race_fn", HAIKU));
            exec(intruder, "CREATE MODEL race_model PREDICT answer USING engine = 'bedrock',"
                    + " prompt_template = 'Mine: {{question}}'");
            // Behind the proxy's view (no version bump): both now belong to owner, and B.race_new exists.
            LocalBackend.get().exec("", "UPDATE ragproxy.functions SET owner = '" + OWNER + "@%' WHERE name = 'race_fn'",
                    "UPDATE ragproxy.models SET owner = '" + OWNER + "@%' WHERE name = 'race_model'",
                    "INSERT INTO ragproxy.functions (schema_name, name, definition, owner) SELECT schema_name,"
                            + " 'race_new', definition, '" + OWNER + "@%' FROM ragproxy.functions WHERE name = 'race_fn'");
            assertSqlError(intruder, "CREATE OR REPLACE FUNCTION race_fn (b TEXT) RETURNS TEXT ALIAS"
                    + " AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + TITAN_TEXT + "'", 7028, "40001");
            assertSqlError(intruder, "DROP FUNCTION race_fn", 7028, "40001");
            SQLException e = assertSqlError(intruder, "CREATE OR REPLACE MODEL race_model PREDICT answer USING"
                    + " engine = 'bedrock', prompt_template = 'Leak: {{question}}'", 7028, "40001");
            assertTrue(e.getMessage().contains("nothing was written"), e.getMessage());
            assertSqlError(intruder, "DROP MODEL race_model", 7028, "40001");
            assertSqlError(intruder, "CREATE OR REPLACE FUNCTION race_new (b TEXT) RETURNS TEXT ALIAS"
                    + " AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + TITAN_TEXT + "'", 7028, "40001");
        }
        try (Connection root = WORLD.proxy().connect(A)) {
            assertEquals(HAIKU, scalar(root, "SELECT JSON_UNQUOTE(JSON_EXTRACT(definition, '$.model_id')) FROM"
                    + " ragproxy.functions WHERE name = 'race_fn'"), "the function is unchanged");
            assertEquals(OWNER + "@%", scalar(root, "SELECT owner FROM ragproxy.functions WHERE name = 'race_fn'"));
            assertEquals(OWNER + "@%", scalar(root, "SELECT owner FROM ragproxy.functions WHERE name = 'race_new'"));
            assertEquals(OWNER + "@%", scalar(root, "SELECT owner FROM ragproxy.models WHERE name = 'race_model'"));
            assertTrue(scalar(root, "SELECT definition FROM ragproxy.models WHERE name = 'race_model'")
                    .contains("Mine: {{question}}"), "the model is unchanged");
        }
        // Once the proxy has read the change, the check itself refuses the intruder's replace of owner's model.
        LocalBackend.get().exec("", "UPDATE ragproxy.catalog_version SET version = version + 1");
        Thread.sleep(1_100);
        try (Connection intruder = as(INTRUDER, B)) {
            assertSqlError(intruder, "CREATE OR REPLACE MODEL race_model PREDICT answer USING engine = 'bedrock',"
                    + " prompt_template = 'Leak: {{question}}'", 7024, "42000");
        }
    }

    @Test
    void twoAccountsEachHaveTheirOwnFunctionOfTheSameName() throws Exception {
        try (Connection owner = as(OWNER, A); Connection intruder = as(INTRUDER, B)) {
            exec(owner, createFunction("ask", HAIKU));
            exec(intruder, createFunction("ask", TITAN_TEXT));
            WORLD.emulator().clearRequests();
            scalar(owner, "SELECT ask('" + body("from a") + "')");
            scalar(intruder, "SELECT ask('{\"inputText\": \"from b\"}')");
            List<String> models = WORLD.emulator().requests().stream().map(r -> r.modelId()).toList();
            assertEquals(List.of(HAIKU, TITAN_TEXT), models, "each account's call goes to its own database's function");
            // From anywhere, qualified; without a database, an unqualified name is not the catalog's.
            WORLD.emulator().clearRequests();
            try (Connection root = WORLD.proxy().connect("")) {
                scalar(root, "SELECT " + A + ".ask('" + body("qualified") + "')");
                assertEquals(List.of(HAIKU), WORLD.emulator().requests().stream().map(r -> r.modelId()).toList());
                assertSqlError(root, "SELECT ask('x')", 1305, "42000"); // the backend's: no such function
            }
            exec(owner, "DROP FUNCTION ask");
            exec(intruder, "DROP FUNCTION ask");
        }
    }

    @Test
    void showRagListsOnlyWhatTheAccountMaySee() throws Exception {
        try (Connection owner = as(OWNER, A); Connection intruder = as(INTRUDER, B)) {
            exec(owner, createFunction("secret_fn", HAIKU));
            exec(owner, "CREATE MODEL owner_model PREDICT answer USING engine = 'bedrock',"
                    + " prompt_template = 'Secret template: {{question}}'");
            exec(owner, "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(384) GENERATED ALWAYS AS"
                    + " (EMBED_TEXT('local:all-minilm-l6-v2', content)) STORED)");
            exec(intruder, createFunction("mine", HAIKU));

            List<String> seen = new ArrayList<>();
            String modelDefinition = "absent";
            for (List<String> row : rows(intruder, "SHOW RAG FUNCTIONS")) {
                seen.add(row.get(0));
                if (row.get(0).equals("owner_model")) {
                    modelDefinition = row.get(4);
                }
            }
            assertTrue(seen.contains(B + ".mine"), seen.toString());
            assertFalse(seen.contains(A + ".secret_fn"), seen.toString());
            assertFalse(seen.stream().anyMatch(n -> n.startsWith(A + ".docs")), seen.toString());
            assertTrue(seen.contains("owner_model"), "models are global, callable by everyone: " + seen);
            assertNull(modelDefinition, "but their prompt templates are the owner's");
            assertEquals(List.of(), rows(intruder, "SHOW RAG PENDING"), "no table of database a");

            List<String> ownerSees = rows(owner, "SHOW RAG FUNCTIONS").stream().map(r -> r.get(0)).toList();
            assertTrue(ownerSees.contains(A + ".secret_fn") && !ownerSees.contains(B + ".mine"), ownerSees.toString());
            assertEquals(A + ".docs", rows(owner, "SHOW RAG PENDING").get(0).get(0));
            exec(owner, "DROP TABLE docs");
            exec(owner, "DROP FUNCTION secret_fn");
            exec(owner, "DROP MODEL owner_model");
            exec(intruder, "DROP FUNCTION mine");
        }
    }

    @Test
    void anAutoEmbeddingColumnNeedsAlterOnItsTable() throws Exception {
        LocalBackend.get().exec("", "GRANT SELECT, INSERT, CREATE ON " + A + ".* TO '" + INTRUDER + "'@'%'");
        try (Connection intruder = as(INTRUDER, B)) {
            SQLException e = assertSqlError(intruder, "CREATE TABLE " + A + ".t (id INT PRIMARY KEY, body TEXT, v"
                    + " VECTOR(384) GENERATED ALWAYS AS (EMBED_TEXT('local:all-minilm-l6-v2', body)) STORED)", 7024,
                    "42000");
            assertTrue(e.getMessage().contains("needs the ALTER privilege on that table"), e.getMessage());
        } finally {
            LocalBackend.get().exec("", "REVOKE SELECT, INSERT, CREATE ON " + A + ".* FROM '" + INTRUDER + "'@'%'");
        }
        try (Connection root = WORLD.proxy().connect(A)) {
            assertEquals("0", scalar(root, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + A
                    + "' AND TABLE_NAME = 't'"), "nothing was created");
        }
    }
}
