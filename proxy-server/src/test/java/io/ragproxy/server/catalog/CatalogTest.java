package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.plan.FakeSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CatalogTest {
    static final String MIGRATED = "SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ragproxy'"
            + " AND COLUMN_NAME = 'schema_name'";
    static final String TABLES = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ragproxy'";
    static final String VERSION = "SELECT version, epoch FROM ragproxy.catalog_version WHERE id = 1";
    static final String LOAD = "SELECT 'function', name, definition, owner, created FROM ragproxy.functions UNION ALL"
            + " SELECT 'model', name, definition, owner, created FROM ragproxy.models UNION ALL SELECT 'ml_engine', name,"
            + " definition, owner, created FROM ragproxy.ml_engines UNION ALL SELECT 'embedding', name, definition,"
            + " owner, created FROM ragproxy.embedding_rules UNION ALL SELECT 'knowledge_base', name, definition, owner,"
            + " created FROM ragproxy.knowledge_bases";
    static final String GRANTS = "SELECT user, host, model, granted_by, granted_at FROM ragproxy.model_grants ORDER BY"
            + " user, host, model";
    static final String HAIKU_DEFINITION = "{\"schema\":\"db\",\"parameter\":\"b\",\"parameter_type\":\"TEXT\","
            + "\"returns\":\"TEXT\",\"model_id\":\"anthropic.claude-3-haiku-20240307-v1:0\"}";

    long now;
    /** The catalog's own connection (the [catalog] account). */
    FakeSession backend;
    /** A client session, whose event loop the results are delivered on. */
    FakeSession session;
    List<CatalogSnapshot> installed;
    Catalog catalog;

    @BeforeEach
    void setUp() {
        now = 1_000_000_000L;
        session = new FakeSession("5.5.5-11.8.6-MariaDB", true, null);
        backend = new FakeSession("5.5.5-11.8.6-MariaDB", true, null);
        installed = new ArrayList<>();
        catalog = new Catalog(backend::query, () -> now, Duration.ofSeconds(1), installed::add);
        backend.rows(MIGRATED, List.of("functions"), List.of("models"), List.of("ml_engines"),
                List.of("embedding_rules"), List.of("knowledge_bases"));
        backend.rows(TABLES, List.of("catalog_version"), List.of("functions"), List.of("models"), List.of("ml_engines"),
                List.of("embedding_rules"), List.of("knowledge_bases"), List.of("model_grants"));
        backend.rows(GRANTS);
    }

    CatalogSnapshot due() {
        return catalog.refreshIfDue(session).join();
    }

    @Test
    void versionIsCheckedAtMostOncePerIntervalAndObjectsReadOnlyWhenItChanges() {
        backend.rows(VERSION, List.of("1", "e1"));
        backend.rows(LOAD, List.of("function", "claude3_haiku", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        CatalogSnapshot first = due();
        assertEquals(List.of(VERSION, MIGRATED, TABLES, LOAD, GRANTS), backend.queries,
                "the version, the layout once, the objects and the model grants");
        assertEquals(1, first.version());
        assertEquals("anthropic.claude-3-haiku-20240307-v1:0", first.function("DB", "CLAUDE3_HAIKU").modelId());
        assertEquals(List.of(first), installed);

        now += 999_000_000L;
        assertSame(first, due());
        assertEquals(5, backend.queries.size(), "no query within the interval");
        now += 2_000_000L;
        assertSame(first, due());
        assertEquals(List.of(VERSION, MIGRATED, TABLES, LOAD, GRANTS, VERSION), backend.queries, "same version: no reload");

        backend.rows(VERSION, List.of("2", "e1"));
        backend.rows(LOAD);
        assertSame(first, due(), "not due yet");
        now += 1_000_000_001L;
        CatalogSnapshot second = due();
        assertTrue(second.isEmpty());
        assertEquals(List.of(first, second), installed);
    }

    @Test
    void anotherEpochWithTheSameCounterIsAnotherCatalog() {
        backend.rows(VERSION, List.of("1", "e1"));
        backend.rows(LOAD, List.of("function", "a", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        due();
        backend.rows(VERSION, List.of("1", "e2"));
        backend.rows(LOAD, List.of("function", "b", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        CatalogSnapshot other = catalog.refresh(session).join();
        assertEquals(List.of("b"), List.copyOf(other.functionNames()));
    }

    @Test
    void aCatalogThatCannotBeReadKeepsTheViewAndIsAskedAgainOnlyAfterTheInterval() {
        backend.fail(VERSION, 1045, "Access denied for user 'ragproxy'@'localhost'");
        assertSame(CatalogSnapshot.EMPTY, due());
        assertSame(CatalogSnapshot.EMPTY, due());
        assertEquals(List.of(VERSION), backend.queries, "rate limited even before a first success");
        assertEquals(List.of(), installed);

        now += 1_000_000_001L;
        backend.fail(VERSION, 1049, "Unknown database 'ragproxy'");
        CatalogSnapshot none = due();
        assertTrue(none.isEmpty());
        assertEquals(0, none.version());
    }

    @Test
    void tablesOfAnOlderRagproxyAreMigratedOnceOnTheFirstRead() {
        backend.rows(MIGRATED, List.of("models"));
        backend.rows(TABLES, List.of("catalog_version"), List.of("functions"), List.of("models"), List.of("ml_engines"),
                List.of("embedding_rules"));
        backend.otherAnswers = sql -> sql.startsWith("ALTER TABLE ragproxy.") || sql.startsWith("UPDATE ragproxy.")
                || sql.startsWith("CREATE TABLE IF NOT EXISTS ragproxy.")
                ? new io.ragproxy.server.backend.QueryResult(List.of(), 0, 0, 0, "") : null;
        backend.rows(VERSION, List.of("1", "e1"));
        backend.rows(LOAD, List.of("function", "a", HAIKU_DEFINITION, "root@%", "t"));
        assertEquals("a", due().function("db", "a").name(), "the migrated function belongs to its definition's schema");
        List<String> migration = backend.queries.stream().filter(q -> q.startsWith("ALTER") || q.startsWith("UPDATE"))
                .toList();
        assertEquals(6, migration.size(), "three tables, each altered and filled: " + migration);
        assertTrue(migration.get(0).startsWith("ALTER TABLE ragproxy.functions ADD COLUMN schema_name"));
        assertTrue(backend.queries.stream().anyMatch(q -> q.startsWith(
                "CREATE TABLE IF NOT EXISTS ragproxy.knowledge_bases")), "a kind newer than the catalog gets its table");
        now += 1_000_000_001L;
        int before = backend.queries.size();
        due();
        assertEquals(List.of(VERSION), backend.queries.subList(before, backend.queries.size()), "once per process");
    }

    @Test
    void aBadRowIsSkippedNotTheCatalog() {
        backend.rows(VERSION, List.of("4", "e"));
        backend.rows(LOAD, List.of("function", "good", HAIKU_DEFINITION, "root@%", "t"),
                List.of("function", "bad", "{not json", "root@%", "t"),
                List.of("embedding", "db.t.v", "{\"schema\":\"db\",\"table\":\"t\",\"column\":\"v\",\"model\":\"m\","
                        + "\"source\":\"(SELECT password FROM secrets)\"}", "root@%", "t"));
        CatalogSnapshot s = due();
        assertEquals(List.of("good"), List.copyOf(s.functionNames()));
        assertEquals(List.of(), s.rules(), "a rule whose source is not the row's own text is not used");
    }
}
