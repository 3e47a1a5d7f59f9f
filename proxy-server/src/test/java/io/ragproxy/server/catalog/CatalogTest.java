package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.wire.ResultSetWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CatalogTest {
    static final String VERSION = "SELECT version, epoch FROM ragproxy.catalog_version WHERE id = 1";
    static final String LOAD = "SELECT 'function', name, definition, owner, created FROM ragproxy.functions UNION ALL"
            + " SELECT 'model', name, definition, owner, created FROM ragproxy.models UNION ALL SELECT 'ml_engine', name,"
            + " definition, owner, created FROM ragproxy.ml_engines UNION ALL SELECT 'embedding', name, definition,"
            + " owner, created FROM ragproxy.embedding_rules";
    static final String HAIKU_DEFINITION = "{\"schema\":\"db\",\"parameter\":\"b\",\"parameter_type\":\"TEXT\","
            + "\"returns\":\"TEXT\",\"model_id\":\"anthropic.claude-3-haiku-20240307-v1:0\"}";

    long now;
    Session session;
    List<CatalogSnapshot> installed;
    Catalog catalog;

    @BeforeEach
    void setUp() {
        now = 1_000_000_000L;
        session = new Session();
        installed = new ArrayList<>();
        catalog = new Catalog(() -> now, Duration.ofSeconds(1), installed::add);
    }

    CatalogSnapshot due() {
        return catalog.refreshIfDue(session).join();
    }

    @Test
    void versionIsCheckedAtMostOncePerIntervalAndObjectsReadOnlyWhenItChanges() {
        session.rows(VERSION, List.of("1", "e1"));
        session.rows(LOAD, List.of("function", "claude3_haiku", HAIKU_DEFINITION, "root@%", "2025-01-01 00:00:00"));
        CatalogSnapshot first = due();
        assertEquals(List.of(VERSION, LOAD), session.queries);
        assertEquals(1, first.version());
        assertEquals("anthropic.claude-3-haiku-20240307-v1:0", first.function("CLAUDE3_HAIKU").modelId());
        assertEquals(List.of(first), installed);

        now += 999_000_000L;
        assertSame(first, due());
        assertEquals(2, session.queries.size(), "no query within the interval");
        now += 2_000_000L;
        assertSame(first, due());
        assertEquals(List.of(VERSION, LOAD, VERSION), session.queries, "same version: no reload");

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
        assertEquals(List.of(VERSION, VERSION), session.queries, "not known yet: every session start checks");
        assertEquals(List.of(), installed);

        session.fail(VERSION, 1049, "Unknown database 'ragproxy'");
        CatalogSnapshot none = due();
        assertTrue(none.isEmpty());
        assertEquals(0, none.version());
        assertEquals(3, session.queries.size());
        due();
        assertEquals(3, session.queries.size(), "known now: rate limited");
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

    /** A session answering from a map; any other query fails as the backend would with a syntax error. */
    static final class Session implements StatementSession {
        final List<String> queries = new ArrayList<>();
        final Map<String, CompletableFuture<QueryResult>> answers = new HashMap<>();

        @SafeVarargs
        final void rows(String sql, List<String>... rows) {
            List<String> columns = new ArrayList<>();
            for (int i = 0; i < (rows.length == 0 ? 1 : rows[0].size()); i++) {
                columns.add("c" + i);
            }
            answers.put(sql, CompletableFuture.completedFuture(new QueryResult(List.of(new QueryResult.ResultSet(columns,
                    copy(rows))), 0, 0, 0, "")));
        }

        void fail(String sql, int code, String message) {
            answers.put(sql, CompletableFuture.failedFuture(new BackendException(code, "42000", message)));
        }

        @Override
        public void queryStream(String sql, io.ragproxy.server.backend.RowStream rows) {
            throw new UnsupportedOperationException("the catalog never streams");
        }

        @Override
        public CompletableFuture<QueryResult> query(String sql) {
            queries.add(sql);
            return answers.getOrDefault(sql, CompletableFuture.failedFuture(new BackendException(1064, "42000", sql)));
        }

        @Override
        public String user() {
            return "tester";
        }

        @Override
        public String backendVersion() {
            return "5.5.5-11.8.6-MariaDB";
        }

        @Override
        public boolean deprecateEof() {
            return true;
        }

        @Override
        public ResultSetWriter resultSetWriter() {
            return new ResultSetWriter(true, false);
        }

        @Override
        public boolean sessionTrack() {
            return false;
        }

        @Override
        public int serverStatus() {
            return 2;
        }

        @Override
        public RagSettings settings() {
            return null;
        }

        @Override
        public void settings(RagSettings settings) {}

        @Override
        public EventLoop eventLoop() {
            return null;
        }

        @Override
        public ByteBufAllocator alloc() {
            return ByteBufAllocator.DEFAULT;
        }

        @Override
        public void warn(int code, String message) {}

        @Override
        public CompletableFuture<Void> cancellation() {
            return new CompletableFuture<>();
        }
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
