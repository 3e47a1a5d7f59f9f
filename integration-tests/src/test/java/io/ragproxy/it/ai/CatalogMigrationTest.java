package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A catalog written by an older ragproxy (tables keyed by name alone, no {@code schema_name}) is migrated on the first
 * read: every table gets {@code schema_name}, filled from the definition's database, and its functions keep working.
 */
class CatalogMigrationTest {
    private static final String DB = "ragproxy_it_migration";
    private static final String HAIKU = AuroraFunctionsTest.HAIKU;

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, UnaryOperator.identity());

    @Test
    void tablesOfTheOlderLayoutGetSchemaNameAndTheirFunctionsStillWork() throws Exception {
        List<String> old = new java.util.ArrayList<>(List.of(
                "CREATE DATABASE ragproxy CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
                "CREATE TABLE ragproxy.catalog_version (id TINYINT NOT NULL PRIMARY KEY, version BIGINT NOT NULL,"
                        + " epoch VARCHAR(64) NOT NULL, changed TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))",
                "INSERT INTO ragproxy.catalog_version (id, version, epoch) VALUES (1, 7, 'old-epoch')"));
        for (String table : List.of("functions", "models", "ml_engines", "embedding_rules")) {
            old.add("CREATE TABLE ragproxy." + table + " (name VARCHAR(255) NOT NULL PRIMARY KEY, definition JSON NOT"
                    + " NULL, owner VARCHAR(300) NOT NULL, created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))");
        }
        old.add("INSERT INTO ragproxy.functions (name, definition, owner) VALUES ('old_fn', '{\"schema\":\"" + DB
                + "\",\"parameter\":\"b\",\"parameter_type\":\"TEXT\",\"returns\":\"TEXT\",\"model_id\":\"" + HAIKU
                + "\"}', 'root@localhost')");
        old.add("INSERT INTO ragproxy.models (name, definition, owner) VALUES ('old_model', '{\"predict\":\"answer\","
                + "\"engine\":\"bedrock\",\"prompt_template\":\"Q: {{question}}\"}', 'root@localhost')");
        LocalBackend.get().exec("", old.toArray(String[]::new));

        WORLD.emulator().clearRequests();
        try (Connection c = WORLD.proxy().connect(DB)) {
            scalar(c, "SELECT old_fn('" + AuroraFunctionsTest.haikuBody("still there?") + "')");
            assertEquals(List.of(HAIKU), WORLD.emulator().requests().stream().map(r -> r.modelId()).toList());
            assertEquals(List.of(List.of("functions", DB, "old_fn"), List.of("models", "", "old_model")),
                    rows(c, "SELECT 'functions', schema_name, name FROM ragproxy.functions UNION ALL"
                            + " SELECT 'models', schema_name, name FROM ragproxy.models"));
            assertEquals("5", scalar(c, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                    + " 'ragproxy' AND COLUMN_NAME = 'schema_name'"), "every table migrated, knowledge_bases added");
            assertEquals("1", scalar(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA ="
                    + " 'ragproxy' AND TABLE_NAME = 'knowledge_bases'"), "a kind newer than the catalog gets its table");
            assertTrue(rows(c, "SHOW RAG FUNCTIONS").stream().anyMatch(r -> r.get(0).equals(DB + ".old_fn")));
        }
    }
}
