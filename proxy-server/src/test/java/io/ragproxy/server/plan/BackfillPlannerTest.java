package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.invoke.ResultCache;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.Usage;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.protocol.ServerStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backfill plan's paging against a simulated table: the next page's model calls overlap the previous page's
 * write, a failure stops before any further write, and a cancelled statement stops, cancels its model calls and
 * says what it committed.
 */
class BackfillPlannerTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;
    static final String SQL = "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL";
    static final int ROWS = 1200; // pages of 500, 500 and 200

    GatedEmbedder embedder;
    ModelInvoker invoker;
    LiteralPlanner planner;
    BackfillPlanner backfill;
    RagSettings settings;
    TableSession session;

    @BeforeEach
    void setUp() {
        embedder = new GatedEmbedder();
        FakeModels.Generator generator = new FakeModels.Generator(FakeModels.TEXT_ID);
        ModelRegistry registry = new ModelRegistry(ModelsConfig.DEFAULT.withDefaults(embedder.id(), generator.id()), null);
        registry.register(embedder);
        registry.register(generator);
        invoker = new ModelInvoker(registry, new ResultCache(1 << 22), FakeModels.settings());
        planner = new LiteralPlanner(invoker, PARSER);
        backfill = new BackfillPlanner(planner);
        settings = new RagSettings(null, null, FakeModels.settings(), 10_000, "error");
        session = new TableSession(ROWS, settings);
    }

    @AfterEach
    void tearDown() {
        invoker.close();
    }

    CompletableFuture<BackfillPlanner.BackfillResult> start() {
        StatementAnalysis analysis = planner.parse(SQL);
        assertTrue(BackfillPlanner.applies(analysis));
        return backfill.run(session, analysis, Dialect.MARIADB, settings);
    }

    static ProxyException failure(CompletableFuture<?> run) throws Exception {
        try {
            run.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ProxyException pe) {
                return pe;
            }
            throw new AssertionError("not a ProxyException", e.getCause());
        }
        return fail("the backfill succeeded");
    }

    static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void theNextPagesModelCallsStartBeforeThePreviousPageIsWritten() throws Exception {
        // Page 1's last text answers only once a text of page 2 has been asked: the overlap, without a race.
        embedder.holdUntilAskedAfter = 500;
        BackfillPlanner.BackfillResult result = start().get(10, TimeUnit.SECONDS);
        assertEquals(ROWS, result.changed());
        assertEquals(ROWS, result.matched());
        assertEquals(List.of("select after -", "select after 500", "update 1..500", "select after 1000",
                "update 501..1000", "update 1001..1200"), session.pageQueries());
        // When page 1 was written, page 2's texts had already gone to the model.
        assertTrue(session.embeddedAtUpdate.get(0) > 500, "texts asked before the first write: "
                + session.embeddedAtUpdate.get(0));
        assertEquals(ROWS, embedder.texts.size(), "every text asked once");
        assertEquals(ROWS, session.written.size());
        for (int id = 1; id <= ROWS; id++) {
            assertEquals(vectorOf("row " + id), session.written.get(id), "row " + id);
        }
    }

    @Test
    void aPageIsWrittenOnlyToRowsWhoseTextIsStillTheOneItsVectorWasMadeFrom() throws Exception {
        session.changeTextBeforeUpdate = 7; // another session edits row 7 after page 1 was read
        BackfillPlanner.BackfillResult result = start().get(10, TimeUnit.SECONDS);
        assertEquals(ROWS - 1, result.changed());
        assertEquals(null, session.written.get(7), "row 7's new text has no vector of its old one");
        assertEquals(vectorOf("row 8"), session.written.get(8));
    }

    @Test
    void aFailureInTheOverlappedPageStopsAfterTheWriteInFlightAndCountsIt() throws Exception {
        embedder.failOn = "row 700";
        ProxyException e = failure(start());
        assertEquals(ProxyError.MODEL_FAILED.code(), e.code());
        assertTrue(e.getMessage().contains("500 rows were already written and committed"), e.getMessage());
        assertEquals(List.of("update 1..500"), session.pageQueries().stream().filter(q -> q.startsWith("update")).toList(),
                "page 1 was written, nothing after the failure");
        assertEquals(500, session.written.size());
    }

    @Test
    void theNextPageIsReadAndQueuedWhileThePagesCallsStillRun() throws Exception {
        embedder.openUpTo = 0; // no call answers
        CompletableFuture<BackfillPlanner.BackfillResult> run = start();
        // Page 2 is read (and its calls queued behind page 1's) with none of page 1's results in, so the model never
        // idles at a page boundary; nothing further is read or written until page 1 is complete.
        await(() -> session.pageQueries().contains("select after 500"), "page 2 is read");
        Thread.sleep(100);
        assertEquals(List.of("select after -", "select after 500"), session.pageQueries());
        assertTrue(embedder.texts.size() <= FakeModels.settings().maxConcurrency(),
                "no more calls in flight than rag_concurrency for the two pages together: " + embedder.texts.size());
        session.cancellation.complete(null);
        assertEquals(1317, failure(run).code());
    }

    @Test
    void aCancelledBackfillStopsBeforeTheNextWriteAndCancelsItsModelCalls() throws Exception {
        embedder.openUpTo = 500; // page 1 is answered, page 2's calls hang
        CompletableFuture<BackfillPlanner.BackfillResult> run = start();
        await(() -> session.pageQueries().contains("select after 1000") && !embedder.pending.isEmpty(),
                "page 1 is written, page 2's calls wait and page 3 is read");
        List<CompletableFuture<Embeddings>> hanging = List.copyOf(embedder.pending);
        int asked = embedder.texts.size();
        session.cancellation.complete(null);
        ProxyException e = failure(run);
        assertEquals(1317, e.code());
        assertEquals("70100", e.sqlState());
        assertTrue(e.getMessage().startsWith("Query execution was interrupted;"), e.getMessage());
        assertTrue(e.getMessage().contains("500 rows were already written and committed; run the statement again"),
                e.getMessage());
        await(() -> hanging.stream().allMatch(CompletableFuture::isCancelled), "the model calls are cancelled");
        Thread.sleep(100);
        assertEquals(asked, embedder.texts.size(), "no model call starts after the cancellation");
        assertEquals(List.of("select after -", "select after 500", "update 1..500", "select after 1000"),
                session.pageQueries());
        assertEquals(500, session.written.size());
    }

    @Test
    void aKillArrivingWhileTheNextPageIsReadStopsBeforeTheReadyPageIsWritten() throws Exception {
        session.cancelWhileReadingAfter = 500; // page 1's vectors are ready; the KILL comes during page 2's SELECT
        ProxyException e = failure(start());
        assertEquals(1317, e.code());
        assertTrue(e.getMessage().contains("0 rows were already written and committed"), e.getMessage());
        assertEquals(List.of("select after -", "select after 500"), session.pageQueries());
        assertTrue(session.written.isEmpty());
    }

    @Test
    void insideATransactionACancelledBackfillRollsBackToItsSavepoint() throws Exception {
        session.status = ServerStatus.AUTOCOMMIT | ServerStatus.IN_TRANS;
        embedder.openUpTo = 500;
        CompletableFuture<BackfillPlanner.BackfillResult> run = start();
        await(() -> session.pageQueries().contains("update 1..500") && !embedder.pending.isEmpty(),
                "page 1 is written and page 2's calls wait");
        session.cancellation.complete(null);
        ProxyException e = failure(run);
        assertEquals(1317, e.code());
        assertTrue(e.getMessage().contains("its 500 changed rows were rolled back"), e.getMessage());
        assertTrue(session.queries.contains("SAVEPOINT ragproxy_backfill"), session.queries.toString());
        assertEquals("ROLLBACK TO SAVEPOINT ragproxy_backfill", session.queries.get(session.queries.size() - 1));
    }

    @Test
    void aBackfillCancelledBeforeItsFirstPageWritesNothingAndCallsNoModel() throws Exception {
        session.cancellation.complete(null);
        ProxyException e = failure(start());
        assertEquals(1317, e.code());
        assertTrue(e.getMessage().contains("before the backfill wrote anything"), e.getMessage());
        assertTrue(session.pageQueries().isEmpty(), session.queries.toString());
        assertTrue(embedder.texts.isEmpty());
    }

    @Test
    void theBackendsOwnInterruptionOfAPageQueryReportsTheCommittedRows() throws Exception {
        session.interruptUpdateOf = 501; // KILL QUERY reached the backend while it wrote page 2
        ProxyException e = failure(start());
        assertEquals(1317, e.code());
        assertTrue(e.getMessage().startsWith("Query execution was interrupted;"), e.getMessage());
        assertTrue(e.getMessage().contains("500 rows were already written and committed"), e.getMessage());
        assertEquals(500, session.written.size());
    }

    @Test
    void aConnectionEndingUnderAPageWriteLeavesThatPageInDoubtAndSaysSo() throws Exception {
        session.loseUpdateOf = 501; // the connection ends before the backend answers page 2's UPDATE
        ProxyException e = failure(start());
        assertTrue(e.getMessage().contains("500 rows were already written and committed (and perhaps the 500 rows of"
                + " the page being written when the connection ended)"), e.getMessage());
    }

    static String vectorOf(String text) {
        return Dialect.MARIADB.vectorLiteralOfText(Dialect.vectorText(new float[] {text.length(), 1, 2}));
    }

    /** Embeds "row N" as [length, 1, 2]; texts past {@link #openUpTo} wait until cancelled. Batches of one. */
    static final class GatedEmbedder implements EmbeddingModel {
        final List<String> texts = Collections.synchronizedList(new ArrayList<>());
        final List<CompletableFuture<Embeddings>> pending = Collections.synchronizedList(new ArrayList<>());
        volatile int openUpTo = Integer.MAX_VALUE;
        volatile String failOn;
        /** When set, "row N" (N this number) answers only after a later row's text has been asked. */
        volatile int holdUntilAskedAfter = -1;
        final CompletableFuture<Void> laterRowAsked = new CompletableFuture<>();

        @Override
        public String id() {
            return FakeModels.EMBED_ID;
        }

        @Override
        public int dimensions(EmbedOptions options) {
            return 3;
        }

        @Override
        public int maxBatchSize() {
            return 1;
        }

        @Override
        public CompletableFuture<Embeddings> embed(List<String> batch, EmbedOptions opts) {
            String text = batch.get(0);
            texts.add(text);
            if (text.equals(failOn)) {
                return CompletableFuture.failedFuture(new ModelException(ModelException.Kind.SERVER_ERROR, id(), "boom"));
            }
            int row = Integer.parseInt(text.substring(4));
            if (holdUntilAskedAfter >= 0 && row > holdUntilAskedAfter) {
                laterRowAsked.complete(null);
            }
            if (row == holdUntilAskedAfter) {
                return laterRowAsked.thenApply(v -> new Embeddings(List.of(new float[] {text.length(), 1, 2}),
                        new Usage(1, 0)));
            }
            if (row > openUpTo) {
                CompletableFuture<Embeddings> wait = new CompletableFuture<>();
                pending.add(wait);
                return wait;
            }
            return CompletableFuture.completedFuture(new Embeddings(List.of(new float[] {text.length(), 1, 2}),
                    new Usage(1, 0)));
        }
    }

    /**
     * A session over a simulated table {@code docs (id, content)} of {@code rows} rows ("row N"): answers the primary
     * key and count queries, page SELECTs by key, and page UPDATEs (recording the values written).
     */
    final class TableSession extends FakeSession {
        private static final Pattern AFTER = Pattern.compile("`id` > '(\\d+)'");
        private static final Pattern WHEN = Pattern.compile("WHEN '(\\d+)' THEN (VEC_FromText\\('[^']*'\\))");
        final List<String> pages = Collections.synchronizedList(new ArrayList<>());
        final java.util.Map<Integer, String> written = new java.util.concurrent.ConcurrentHashMap<>();
        final List<Integer> embeddedAtUpdate = Collections.synchronizedList(new ArrayList<>());
        final int rows;
        volatile int interruptUpdateOf = -1;
        volatile int loseUpdateOf = -1;
        volatile int cancelWhileReadingAfter = -1;
        /** A row whose text another session changes between the page's read and its write. */
        volatile int changeTextBeforeUpdate = -1;
        private final Pattern unchanged = Pattern.compile("WHEN '(\\d+)' THEN SHA2\\(CONVERT\\(\\(content\\) USING"
                + " utf8mb4\\), 256\\) = '([0-9a-f]{64})'");
        TableSession(int rows, RagSettings settings) {
            super("5.5.5-11.8.6-MariaDB", true, settings);
            this.rows = rows;
            status = ServerStatus.AUTOCOMMIT;
        }

        List<String> pageQueries() {
            synchronized (pages) {
                return List.copyOf(pages);
            }
        }

        @Override
        public CompletableFuture<QueryResult> query(String sql) {
            queries.add(sql);
            if (sql.startsWith("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE")) {
                return resultOf(List.of(List.of("id")));
            }
            if (sql.startsWith("SELECT COUNT(DISTINCT content)")) {
                // distinct texts, and rows to update (for progress)
                return resultOf(List.of(List.of(Integer.toString(rows), Integer.toString(rows))));
            }
            if (sql.startsWith("SELECT `id`, content FROM docs")) {
                Matcher m = AFTER.matcher(sql);
                int after = m.find() ? Integer.parseInt(m.group(1)) : 0;
                pages.add("select after " + (after == 0 ? "-" : after));
                if (after == cancelWhileReadingAfter) {
                    cancellation.complete(null);
                }
                List<List<String>> out = new ArrayList<>();
                for (int id = after + 1; id <= Math.min(rows, after + BackfillPlanner.PAGE_ROWS); id++) {
                    out.add(List.of(Integer.toString(id), "row " + id));
                }
                return resultOf(out);
            }
            if (sql.startsWith("UPDATE docs SET embedding = CASE `id`")) {
                Matcher m = WHEN.matcher(sql);
                java.util.Map<Integer, String> values = new java.util.TreeMap<>();
                while (m.find()) {
                    values.put(Integer.parseInt(m.group(1)), m.group(2));
                }
                // The write's condition on each row's text, evaluated against the table's current texts.
                Matcher check = unchanged.matcher(sql);
                int inPage = values.size();
                int checked = 0;
                while (check.find()) {
                    int id = Integer.parseInt(check.group(1));
                    String now = id == changeTextBeforeUpdate ? "row " + id + ", edited" : "row " + id;
                    if (!MaterializedPlanner.sha256(now).equals(check.group(2))) {
                        values.remove(id);
                    }
                    checked++;
                }
                assertEquals(inPage, checked, "every row's text is checked");
                int first = ((java.util.TreeMap<Integer, String>) values).firstKey();
                if (first == loseUpdateOf) {
                    return CompletableFuture.failedFuture(new ProxyException(ProxyError.INTERNAL, "the connection closed"));
                }
                if (first == interruptUpdateOf) {
                    return CompletableFuture.failedFuture(new BackendException(1317, "70100",
                            "Query execution was interrupted"));
                }
                embeddedAtUpdate.add(embedder.texts.size());
                pages.add("update " + first + ".." + ((java.util.TreeMap<Integer, String>) values).lastKey());
                written.putAll(values);
                return CompletableFuture.completedFuture(new QueryResult(List.of(), values.size(), 0, 0,
                        "Rows matched: " + values.size() + "  Changed: " + values.size() + "  Warnings: 0"));
            }
            if (sql.contains("SAVEPOINT")) {
                return CompletableFuture.completedFuture(new QueryResult(List.of(), 0, 0, 0, ""));
            }
            return CompletableFuture.failedFuture(new BackendException(1064, "42000", "unexpected: " + sql));
        }

        private CompletableFuture<QueryResult> resultOf(List<List<String>> rows) {
            List<String> columns = rows.isEmpty() ? List.of("c0") : rows.get(0).stream().map(v -> "c").toList();
            return CompletableFuture.completedFuture(new QueryResult(List.of(new QueryResult.ResultSet(columns, rows)),
                    0, 0, 0, ""));
        }
    }
}
