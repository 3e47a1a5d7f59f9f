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
    static final String EXISTS = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ragproxy' AND"
            + " TABLE_NAME = 'catalog_version'";
    static final String VERSION = "SELECT version, epoch FROM ragproxy.catalog_version WHERE id = 1";
    static final String LOAD = "SELECT 'function', name, definition, owner, created FROM ragproxy.functions UNION ALL"
            + " SELECT 'model', name, definition, owner, created FROM ragproxy.models UNION ALL SELECT 'ml_engine', name,"
            + " definition, owner, created FROM ragproxy.ml_engines UNION ALL SELECT 'embedding', name, definition,"
            + " owner, created FROM ragproxy.embedding_rules";
    static final String HAIKU_DEFINITION = "{\"schema\":\"db\",\"parameter\":\"b\",\"parameter_type\":\"TEXT\","
            + "\"returns\":\"TEXT\",\"model_id\":\"anthropic.claude-3-haiku-20240307-v1:0\"}";

    long now;
    FakeSession session;
    List<CatalogSnapshot> installed;
    Catalog catalog;

    @BeforeEach
    void setUp() {
        now = 1_000_000_000L;
        session = new FakeSession("5.5.5-11.8.6-MariaDB", true, null);
        installed = new ArrayList<>();
        catalog = new Catalog(() -> now, Duration.ofSeconds(1), installed::add);
        session.rows(EXISTS, List.of("1"));
    }

    CatalogSnapshot due() {
        return catalog.refreshIfDue(session).join();
    }

    @Test
    void versionIsCheckedAtMostOncePerIntervalAndObjectsReadOnlyWhenItChanges() {
        session.rows(VERSION, List.of("1", "e1"));
        session.rows(LOAD, List.of("function", "claude3_haiku", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        CatalogSnapshot first = due();
        assertEquals(List.of(EXISTS, VERSION, LOAD), session.queries, "information_schema first, then the version");
        assertEquals(1, first.version());
        assertEquals("anthropic.claude-3-haiku-20240307-v1:0", first.function("CLAUDE3_HAIKU").modelId());
        assertEquals(List.of(first), installed);

        now += 999_000_000L;
        assertSame(first, due());
        assertEquals(3, session.queries.size(), "no query within the interval");
        now += 2_000_000L;
        assertSame(first, due());
        assertEquals(List.of(EXISTS, VERSION, LOAD, VERSION), session.queries, "same version: no reload");

        session.rows(VERSION, List.of("2", "e1"));
        session.rows(LOAD);
        assertSame(first, due(), "not due yet");
        now += 1_000_000_001L;
        CatalogSnapshot second = due();
        assertTrue(second.isEmpty());
        assertEquals(List.of(first, second), installed);
    }

    @Test
    void anotherEpochWithTheSameCounterIsAnotherCatalog() {
        session.rows(VERSION, List.of("1", "e1"));
        session.rows(LOAD, List.of("function", "a", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        due();
        session.rows(VERSION, List.of("1", "e2"));
        session.rows(LOAD, List.of("function", "b", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        CatalogSnapshot other = catalog.refresh(session).join();
        assertEquals(List.of("b"), List.copyOf(other.functionNames()));
    }

    @Test
    void sessionsThatMayNotReadTheCatalogKeepTheViewAndEveryoneChecksUntilOneCan() {
        session.fail(VERSION, 1142, "SELECT command denied to user 'u'@'%' for table `ragproxy`.`catalog_version`");
        assertSame(CatalogSnapshot.EMPTY, due());
        assertSame(CatalogSnapshot.EMPTY, due());
        assertEquals(List.of(EXISTS, VERSION, VERSION), session.queries, "not known yet: every session start checks");
        assertEquals(List.of(), installed);

        session.fail(VERSION, 1049, "Unknown database 'ragproxy'");
        CatalogSnapshot none = due();
        assertTrue(none.isEmpty());
        assertEquals(0, none.version());
        assertEquals(4, session.queries.size());
        due();
        assertEquals(4, session.queries.size(), "known now: rate limited");
    }

    @Test
    void withoutTheCatalogTableTheVersionQueryIsNotSentSoItsErrorCannotReachShowWarnings() {
        session.rows(EXISTS, List.of("0"));
        CatalogSnapshot none = due();
        assertTrue(none.isEmpty());
        assertEquals(List.of(EXISTS), session.queries);
        now += 1_000_000_001L;
        session.rows(EXISTS, List.of("1"));
        session.rows(VERSION, List.of("1", "e1"));
        session.rows(LOAD, List.of("function", "a", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        assertEquals(List.of("a"), List.copyOf(due().functionNames()), "created meanwhile: read once it exists");
        assertEquals(List.of(EXISTS, EXISTS, VERSION, LOAD), session.queries);
    }

    @Test
    void aBadRowIsSkippedNotTheCatalog() {
        session.rows(VERSION, List.of("4", "e"));
        session.rows(LOAD, List.of("function", "good", HAIKU_DEFINITION, "root@%", "t"),
                List.of("function", "bad", "{not json", "root@%", "t"),
                List.of("embedding", "db.t.v", "{\"schema\":\"db\",\"table\":\"t\",\"column\":\"v\",\"model\":\"m\","
                        + "\"source\":\"(SELECT password FROM secrets)\"}", "root@%", "t"));
        CatalogSnapshot s = due();
        assertEquals(List.of("good"), List.copyOf(s.functionNames()));
        assertEquals(List.of(), s.rules(), "a rule whose source is not the row's own text is not used");
    }
}
