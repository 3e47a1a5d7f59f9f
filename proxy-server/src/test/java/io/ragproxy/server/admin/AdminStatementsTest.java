package io.ragproxy.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.ragproxy.catalog.invoke.Caller;
import io.ragproxy.catalog.invoke.CounterSet;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.TextResultCollector;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.plan.FakeModels;
import io.ragproxy.server.plan.FakeSession;
import io.ragproxy.server.plan.BackfillPlanner;
import io.ragproxy.server.plan.LiteralPlanner;
import io.ragproxy.server.scan.ProxyStatementKind;
import io.ragproxy.server.scan.ScanResult;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AdminStatementsTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;

    FakeModels.Embedder embedder;
    FakeModels.Generator generator;
    ModelInvoker invoker;
    RagSettings defaults;
    AdminStatements admin;
    FakeSession session;


    @BeforeEach
    void setUp() {
        FakeModels.Rig rig = FakeModels.rig();
        embedder = rig.embedder();
        generator = rig.generator();
        invoker = rig.invoker();
        defaults = rig.settings();
        LiteralPlanner planner = new LiteralPlanner(invoker, PARSER);
        admin = new AdminStatements(invoker, planner, new BackfillPlanner(planner), new io.ragproxy.server.plan.StreamedPlanner(planner),
                new io.ragproxy.server.plan.MaterializedPlanner(planner), defaults);
        session = new FakeSession("5.5.5-11.8.6-MariaDB", true, defaults);
    }

    @AfterEach
    void tearDown() {
        invoker.close();
    }

    PipelineResult run(ProxyStatementKind kind, String sql) {
        try {
            return admin.execute(session, sql, ScanResult.proxyStatement(kind, 0, false), Dialect.MARIADB)
                    .get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Decodes a reply's frames with the collector the proxy uses for its own queries. */
    static TextResultCollector decode(PipelineResult r, boolean deprecateEof) {
        ByteBuf frames = assertInstanceOf(PipelineResult.Reply.class, r).frames();
        TextResultCollector c = new TextResultCollector(deprecateEof);
        boolean done = false;
        int seq = 1;
        while (frames.isReadable()) {
            int len = frames.getUnsignedMediumLE(frames.readerIndex());
            ByteBuf frame = frames.readSlice(4 + len);
            assertEquals(seq++ & 0xFF, frame.getUnsignedByte(frame.readerIndex() + 3), "sequence id");
            assertTrue(!done, "frames after the end of the response");
            done = c.accept(frame);
        }
        assertTrue(done, "response incomplete");
        frames.release();
        return c;
    }

    QueryResult.ResultSet table(String sql) {
        TextResultCollector c = decode(run(ProxyStatementKind.SHOW_RAG, sql), true);
        assertNull(c.error());
        assertEquals(1, c.result().resultSets().size());
        return c.result().first();
    }

    Map<String, String> settingsShown() {
        return table("SHOW RAG SETTINGS").rows().stream().collect(Collectors.toMap(r -> r.get(0), r -> r.get(1)));
    }

    void set(String sql) {
        TextResultCollector c = decode(run(ProxyStatementKind.SET_RAG, sql), true);
        assertNull(c.error());
        assertEquals(0, c.result().resultSets().size());
        assertEquals(2, c.status(), "server status of the session");
    }

    ProxyException failure(ProxyStatementKind kind, String sql) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> run(kind, sql));
        Throwable t = e instanceof CompletionException ? e.getCause() : e;
        return assertInstanceOf(ProxyException.class, t);
    }

    @Test
    void showModels() {
        QueryResult.ResultSet rs = table("SHOW RAG MODELS");
        assertEquals(List.of("Name", "Kind", "Provider", "Model_id", "Dimensions", "Aliases", "Default",
                "Input_usd_per_1k", "Output_usd_per_1k", "Query_usd_per_1k"), rs.columns());
        List<String> embed = rs.rows().stream().filter(r -> r.get(3).equals(FakeModels.EMBED_ID)).findFirst().orElseThrow();
        assertEquals(java.util.Arrays.asList("fake-embed", "embedding", "bedrock", "fake-embed", "3", "", "YES", "0", "0",
                null), embed);
        // Rerankers are priced per 1,000 queries; the default one (local, free) is marked.
        List<String> cohere = rs.rows().stream().filter(r -> r.get(3).equals("cohere.rerank-v3-5:0")).findFirst()
                .orElseThrow();
        assertEquals(List.of("cohere-rerank-3-5", "reranking", "", "2"), List.of(cohere.get(0), cohere.get(1),
                cohere.get(6), cohere.get(9)));
        List<String> local = rs.rows().stream().filter(r -> r.get(3).equals("local:minilm-cosine")).findFirst()
                .orElseThrow();
        assertEquals(List.of("reranking", "YES", "0"), List.of(local.get(1), local.get(6), local.get(9)));
        List<String> text = rs.rows().stream().filter(r -> r.get(3).equals(FakeModels.TEXT_ID)).findFirst().orElseThrow();
        assertNull(text.get(4), "a text model has no dimensions (SQL NULL)");
        assertEquals("YES", text.get(6));
        assertTrue(rs.rows().stream().anyMatch(r -> r.get(0).equals("titan-v2")
                && r.get(3).equals("amazon.titan-embed-text-v2:0") && r.get(4).equals("1024")), rs.rows().toString());
    }

    @Test
    void showStatusCountsTheSessionsCallsAndShowGlobalStatusEverySessions() throws Exception {
        RagSettings mine = defaults.withCaller(new Caller(new CounterSet(), ""));
        session.settings(mine);
        new LiteralPlanner(invoker, PARSER).plan(session, "SELECT EMBED('a'), EMBED('a'), EMBED('b')", Dialect.TIDB,
                mine, false).get(10, TimeUnit.SECONDS);
        // Another session's call: counted globally, not in this session's status.
        new LiteralPlanner(invoker, PARSER).plan(session, "SELECT EMBED('c')", Dialect.TIDB,
                defaults.withCaller(new Caller(new CounterSet(), "")), false).get(10, TimeUnit.SECONDS);
        QueryResult.ResultSet rs = table("show rag status;");
        assertEquals(List.of("Variable_name", "Value"), rs.columns());
        Map<String, String> m = rs.rows().stream().collect(Collectors.toMap(r -> r.get(0), r -> r.get(1)));
        assertEquals("1", m.get("Rag_ml_requests"), m.toString());
        assertEquals("1", m.get("Rag_ml_requests@fake-embed"), m.toString());
        assertEquals("1", m.get("Rag_ml_cache_hits"), m.toString());
        assertEquals("2", m.get("Rag_ml_cache_misses"), m.toString());
        assertNull(m.get("Rag_ml_cache_entries"), "the cache's size moves with other sessions' calls");
        assertEquals(m, table("SHOW SESSION RAG STATUS").rows().stream()
                .collect(Collectors.toMap(r -> r.get(0), r -> r.get(1))));

        session.answer("SELECT CURRENT_USER()", "root@localhost")
                .answerRows("SHOW GRANTS", "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION");
        Map<String, String> g = table("SHOW GLOBAL RAG STATUS").rows().stream()
                .collect(Collectors.toMap(r -> r.get(0), r -> r.get(1)));
        assertEquals("2", g.get("Rag_ml_requests"), g.toString());
        assertEquals("3", g.get("Rag_ml_cache_entries"), g.toString());
    }

    @Test
    void showGlobalStatusNeedsTheProcessPrivilege() {
        session.answer("SELECT CURRENT_USER()", "reader@%")
                .answerRows("SHOW GRANTS", "GRANT SELECT, CREATE ROUTINE ON *.* TO `reader`@`%`");
        ProxyException e = failure(ProxyStatementKind.SHOW_RAG, "SHOW GLOBAL RAG STATUS");
        assertEquals(7027, e.code());
        assertTrue(e.getMessage().contains("PROCESS") && e.getMessage().contains("reader@%"), e.getMessage());
        assertEquals(7002, failure(ProxyStatementKind.SHOW_RAG, "SHOW GLOBAL RAG MODELS").code());
        session.answerRows("SHOW GRANTS", "GRANT PROCESS ON *.* TO `reader`@`%`");
        assertTrue(table("SHOW GLOBAL RAG STATUS").rows().size() > 10);
    }

    /** BUG: the cost is shown with BigDecimal.toString(): "0E-8" for zero, "1E-8" for a tiny cost. */
    @Test
    void showStatusCostIsPlainDecimal() {
        Map<String, String> m = table("SHOW RAG STATUS").rows().stream()
                .collect(Collectors.toMap(r -> r.get(0), r -> r.get(1)));
        assertEquals("0.00000000", m.get("Rag_ml_estimated_cost_usd"));
    }

    @Test
    void showFunctions() {
        QueryResult.ResultSet rs = table("SHOW RAG FUNCTIONS");
        assertEquals(List.of("Name", "Kind", "Returns", "Signature", "Definition", "Owner", "Created"), rs.columns());
        assertEquals(9, rs.rows().size());
        assertEquals(List.of("EMBED", "built-in", "vector", "EMBED(text [, model [, options_json]])", "", "", ""),
                rs.rows().get(0));
        assertEquals(List.of("ANSWER", "built-in aggregate", "text",
                "ANSWER(question, context [, model [, options_json]])", "", "", ""), rs.rows().get(5));
        assertEquals(List.of("INVOKE_MODEL", "built-in", "text",
                "INVOKE_MODEL(model_id, body [, content_type [, accept [, options_json]]])", "", "", ""),
                rs.rows().get(6));
        assertEquals(List.of("CHUNK_TEXT", "built-in, computed by the proxy", "json", "CHUNK_TEXT(text [, options_json])",
                "", "", ""), rs.rows().get(7));
        assertEquals(List.of("RERANK_SCORE", "built-in", "double", "RERANK_SCORE(query, text [, model])", "", "", ""),
                rs.rows().get(8));
    }

    @Test
    void showSettingsWithoutDeprecateEof() {
        session = new FakeSession("5.5.5-11.8.6-MariaDB", false, defaults);
        TextResultCollector c = decode(run(ProxyStatementKind.SHOW_RAG, "SHOW RAG SETTINGS"), false);
        assertEquals(9, c.result().first().rows().size());
        assertEquals(List.of("rag_max_calls", "1000"), c.result().first().rows().get(7));
    }

    @Test
    void showErrors() {
        assertEquals(7002, failure(ProxyStatementKind.SHOW_RAG, "SHOW RAG NONSENSE").code());
        ProxyException e = failure(ProxyStatementKind.SHOW_RAG, "SHOW RAG MODELS LIKE 'x'");
        assertTrue(e.getMessage().contains("position 17"), e.getMessage());
        assertEquals(7002, failure(ProxyStatementKind.SHOW_RAG, "SHOW RAG").code());
    }

    @Test
    void setForms() {
        set("SET rag_max_calls = 5");
        assertEquals("5", settingsShown().get("rag_max_calls"));
        set("SET SESSION rag_on_error = 'null'");
        assertTrue(session.settings().nullOnError());
        set("SET @@session.rag_concurrency := 4");
        assertEquals(4, session.settings().invocation().maxConcurrency());
        set("set local rag_batch_size=7, @@rag_max_attempts = 2, rag_text_model = \"claude-3-haiku\";");
        assertEquals(7, session.settings().invocation().batchSize());
        assertEquals(2, session.settings().invocation().maxAttempts());
        assertEquals("claude-3-haiku", session.settings().textModel());
        set("SET @@local.rag_embedding_model = titan-v2");
        assertEquals("titan-v2", session.settings().embeddingModel());
        set("SET rag_max_calls = DEFAULT, rag_on_error = default, rag_embedding_model = DEFAULT");
        assertEquals(1000, session.settings().maxCalls());
        assertEquals("error", session.settings().onError());
        assertNull(session.settings().embeddingModel());
        assertEquals("claude-3-haiku", settingsShown().get("rag_text_model"));
    }

    @Test
    void setUnknownSetting() {
        ProxyException e = failure(ProxyStatementKind.SET_RAG, "SET rag_bogus = 1");
        assertEquals(7004, e.code());
        assertTrue(e.getMessage().contains(RagSettings.NAMES), e.getMessage());
    }

    @Test
    void setBadValue() {
        ProxyException e = failure(ProxyStatementKind.SET_RAG, "SET rag_max_calls = 'many'");
        assertEquals(7005, e.code());
        assertEquals(7005, failure(ProxyStatementKind.SET_RAG, "SET rag_on_error = 'maybe'").code());
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET GLOBAL rag_max_calls = 5", "SET PERSIST rag_max_calls = 5"})
    void globalRefused(String sql) {
        ProxyException e = failure(ProxyStatementKind.SET_RAG, sql);
        assertEquals(7005, e.code());
        assertTrue(e.getMessage().contains("per session"), e.getMessage());
    }

    /** BUG (message): @@global. is refused as a "non-rag variable" instead of with the per-session message. */
    @Test
    void globalSystemVariableSpellingRefusedAsGlobal() {
        ProxyException e = failure(ProxyStatementKind.SET_RAG, "SET @@global.rag_max_calls = 5");
        assertEquals(7005, e.code());
        assertTrue(e.getMessage().contains("per session"), e.getMessage());
    }

    @Test
    void mixingOtherVariablesRefused() {
        ProxyException e = failure(ProxyStatementKind.SET_RAG, "SET rag_max_calls = 5, autocommit = 0");
        assertEquals(7005, e.code());
        assertTrue(e.getMessage().contains("autocommit"), e.getMessage());
        assertEquals(7005, failure(ProxyStatementKind.SET_RAG, "SET @x = 1, rag_max_calls = 5").code());
        assertEquals(1000, session.settings().maxCalls(), "a refused SET changes nothing");
    }

    @Test
    void failedSetChangesNothing() {
        failure(ProxyStatementKind.SET_RAG, "SET rag_max_calls = 5, rag_bogus = 1");
        failure(ProxyStatementKind.SET_RAG, "SET rag_max_calls = 5, rag_concurrency = 0");
        failure(ProxyStatementKind.SET_RAG, "SET rag_max_calls = 5 + 1");
        assertEquals(1000, session.settings().maxCalls());
    }

    /** BUG (message): a SET without '=' is reported as "expected :". */
    @Test
    void missingEqualsSaysEquals() {
        ProxyException e = failure(ProxyStatementKind.SET_RAG, "SET rag_max_calls 5");
        assertEquals(7002, e.code());
        assertTrue(e.getMessage().contains("expected ="), e.getMessage());
    }

    @Test
    void explainRag() {
        TextResultCollector c = decode(run(ProxyStatementKind.EXPLAIN_RAG,
                "EXPLAIN RAG SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(v, EMBED('What is TiDB?')) LIMIT 3;"), true);
        QueryResult.ResultSet rs = c.result().first();
        assertEquals(List.of("Plan", "Model_inputs", "Models", "Backend_sql", "Estimated_cost_usd"), rs.columns());
        assertEquals(List.of(List.of("literal", "1", "fake-embed",
                "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[…3 floats from fake-embed…]')) LIMIT 3",
                "0.000000")),
                rs.rows());
        assertEquals(0, embedder.textsEmbedded(), "EXPLAIN calls no model");
    }

    @Test
    void explainPassthroughAndErrors() {
        QueryResult.ResultSet rs = decode(run(ProxyStatementKind.EXPLAIN_RAG, "explain rag select 1"), true)
                .result().first();
        assertEquals(List.of("passthrough", "0", "", "SELECT 1", "0.000000"), rs.rows().get(0));
        assertEquals(7002, failure(ProxyStatementKind.EXPLAIN_RAG, "EXPLAIN RAG").code());
        assertEquals(7010, failure(ProxyStatementKind.EXPLAIN_RAG, "EXPLAIN RAG SELECT EMBED()").code());
    }

    @Test
    void dropFunctionForwardedAndOthersRefused() {
        PipelineResult r = run(ProxyStatementKind.DROP_FUNCTION, "DROP FUNCTION f");
        assertEquals("DROP FUNCTION f", assertInstanceOf(PipelineResult.Forward.class, r).sql());
        ProxyException e = failure(ProxyStatementKind.CREATE_MODEL, "CREATE MODEL m");
        assertEquals(7001, e.code());
        assertTrue(e.getMessage().contains("CREATE MODEL"), e.getMessage());
    }

    @Test
    void sessionObjectIsKeptOnShow() {
        RagSettings before = session.settings();
        table("SHOW RAG SETTINGS");
        assertSame(before, session.settings());
    }

    // ---- SHOW RAG PROCESSLIST -------------------------------------------------------------------------------

    /** A session on a proxy where "tester" and "other" each run a backfill. */
    FakeSession withRunning(String... grants) {
        FakeSession s = new FakeSession("5.5.5-11.8.6-MariaDB", true, defaults) {
            @Override
            public List<io.ragproxy.server.command.RunningStatement> runningStatements() {
                return List.of(
                        new io.ragproxy.server.command.RunningStatement(9, "other", "backfill", "UPDATE b", 0, -1, 0,
                                java.time.Duration.ofMillis(300)),
                        new io.ragproxy.server.command.RunningStatement(7, "tester", "backfill", "UPDATE a", 250, 1000,
                                260, java.time.Duration.ofMillis(2500)));
            }
        };
        s.answer("SELECT CURRENT_USER()", "tester@%");
        s.rows("SHOW GRANTS", java.util.Arrays.stream(grants).map(g -> List.of(g)).toArray(List[]::new));
        return s;
    }

    @Test
    void processlistShowsTheAccountsOwnStatementsWithoutProcess() {
        session = withRunning("GRANT USAGE ON *.* TO `tester`@`%`", "GRANT ALL PRIVILEGES ON `db`.* TO `tester`@`%`");
        QueryResult.ResultSet t = table("SHOW RAG PROCESSLIST");
        assertEquals(AdminStatements.PROCESSLIST, t.columns());
        assertEquals(List.of(java.util.Arrays.asList("7", "tester", "backfill", "250", "1000", "260", "2.5", "7.5",
                "UPDATE a")), t.rows());
    }

    @Test
    void processlistShowsEveryonesStatementsWithProcess() {
        session = withRunning("GRANT PROCESS ON *.* TO `tester`@`%`");
        QueryResult.ResultSet t = table("SHOW RAG PROCESSLIST");
        assertEquals(List.of("7", "9"), t.rows().stream().map(r -> r.get(0)).toList());
        assertEquals(java.util.Arrays.asList("9", "other", "backfill", "0", null, "0", "0.3", null, "UPDATE b"),
                t.rows().get(1), "unknown rows expected and time left are NULL");
    }
}
