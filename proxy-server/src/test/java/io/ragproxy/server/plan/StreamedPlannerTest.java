package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.invoke.ResultCache;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.ReplyStream;
import io.ragproxy.server.dialect.Dialect;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The streamed plan against a fake backend that streams canned rows (honouring pause and resume) and a text model
 * the test controls: which calls complete, which fail.
 */
class StreamedPlannerTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;
    static final Pattern MARKER = Pattern.compile("AS (ragproxy_stream_[0-9a-f]+_\\d+)");

    /** Answers "gen:" + prompt; holds answers back while {@link #gate} is incomplete; fails prompts containing "bad". */
    static final class Model implements TextModel {
        final List<String> prompts = Collections.synchronizedList(new ArrayList<>());
        volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

        @Override
        public String id() {
            return FakeModels.TEXT_ID;
        }

        @Override
        public CompletableFuture<Generation> generate(String prompt, GenerateOptions options) {
            prompts.add(prompt);
            return gate.thenApply(v -> {
                if (prompt.contains("bad")) {
                    throw new ModelException(ModelException.Kind.CLIENT_ERROR, FakeModels.TEXT_ID, "input rejected");
                }
                return new Generation("gen:" + prompt);
            });
        }
    }

    /** The client side: every packet's payload, in order. */
    static final class Client implements ReplyStream {
        final List<byte[]> packets = Collections.synchronizedList(new ArrayList<>());
        volatile boolean last;

        @Override
        public void packet(ByteBuf payload) {
            packets.add(ByteBufUtil.getBytes(payload));
            payload.release();
        }

        @Override
        public void last(ByteBuf payload) {
            packet(payload);
            last = true;
        }

        @Override
        public void flush() {
        }

        /** The rows sent (after column count, definitions and, without DEPRECATE_EOF, the EOF). */
        List<List<String>> rows(int columns) {
            List<List<String>> out = new ArrayList<>();
            for (int i = 1 + columns; i < packets.size(); i++) {
                byte[] p = packets.get(i);
                if ((p[0] & 0xFF) == 0xFE && p.length < 9) {
                    continue; // a terminator
                }
                out.add(values(p, columns));
            }
            return out;
        }

        static List<String> values(byte[] p, int columns) {
            ByteBuf b = Unpooled.wrappedBuffer(p);
            List<String> values = new ArrayList<>();
            for (int c = 0; c < columns; c++) {
                if (b.getUnsignedByte(b.readerIndex()) == 0xFB) {
                    b.skipBytes(1);
                    values.add(null);
                    continue;
                }
                long len = io.ragproxy.server.wire.Packets.getLengthEncodedInt(b, b.readerIndex());
                b.skipBytes(io.ragproxy.server.wire.Packets.lengthEncodedIntSize(b, b.readerIndex()));
                values.add(b.readCharSequence((int) len, StandardCharsets.UTF_8).toString());
            }
            return values;
        }

        /** The name of the column definition at {@code index} (0-based). */
        String columnName(int index) {
            ByteBuf b = Unpooled.wrappedBuffer(packets.get(1 + index));
            for (int skip = 0; skip < 4; skip++) {
                long len = io.ragproxy.server.wire.Packets.getLengthEncodedInt(b, b.readerIndex());
                b.skipBytes(io.ragproxy.server.wire.Packets.lengthEncodedIntSize(b, b.readerIndex()) + (int) len);
            }
            long len = io.ragproxy.server.wire.Packets.getLengthEncodedInt(b, b.readerIndex());
            b.skipBytes(io.ragproxy.server.wire.Packets.lengthEncodedIntSize(b, b.readerIndex()));
            return b.readCharSequence((int) len, StandardCharsets.UTF_8).toString();
        }

        /** The type byte of the column definition at {@code index}. */
        int columnType(int index) {
            byte[] p = packets.get(1 + index);
            return p[p.length - 6] & 0xFF;
        }
    }

    DefaultEventLoop loop;
    Model model;
    ModelInvoker invoker;
    LiteralPlanner literals;
    StreamedPlanner planner;
    RagSettings settings;
    FakeSession session;


    @BeforeEach
    void setUp() {
        loop = new DefaultEventLoop();
        model = new Model();
        FakeModels.Embedder embedder = new FakeModels.Embedder(FakeModels.EMBED_ID);
        ModelRegistry registry = new ModelRegistry(ModelsConfig.DEFAULT.withDefaults(embedder.id(), model.id()), null);
        registry.register(embedder);
        registry.register(model);
        invoker = new ModelInvoker(registry, new ResultCache(1 << 20), FakeModels.settings());
        literals = new LiteralPlanner(invoker, PARSER);
        planner = new StreamedPlanner(literals);
        RagSettings defaults = RagSettings.defaults(FakeModels.settings());
        settings = defaults.with("rag_batch_size", "2", defaults);
        session = new FakeSession(LiteralPlannerTest.MARIADB, true, settings);
        session.loop = loop;
    }

    @AfterEach
    void tearDown() {
        invoker.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    boolean applies(String sql) {
        return StreamedPlanner.applies(literals.parse(sql));
    }

    @Test
    void appliesToTextCallsOverColumnsThatAreWholeSelectItems() {
        assertTrue(applies("SELECT id, GENERATE(CONCAT('Summarize: ', body)) AS s FROM docs WHERE id > 3 ORDER BY id"));
        assertTrue(applies("SELECT GENERATE(body, 'fake-text', '{\"max_tokens\": 5}') FROM docs"));
        assertTrue(applies("SELECT *, GENERATE(body, @model) FROM docs"));
        assertTrue(applies("SELECT GENERATE(body) FROM docs ORDER BY VEC_COSINE_DISTANCE(v, EMBED('q')) LIMIT 3"),
                "constant calls elsewhere are the literal plan's part of it");
        assertFalse(applies("SELECT GENERATE('hello')"), "constant arguments: the literal plan");
        assertFalse(applies("SELECT UPPER(GENERATE(body)) FROM docs"), "not a whole item");
        assertFalse(applies("SELECT id FROM docs WHERE GENERATE(body) = 'x'"));
        assertFalse(applies("SELECT GENERATE(body), id FROM docs ORDER BY GENERATE(title)"));
        assertFalse(applies("SELECT EMBED(body) FROM docs"), "embeddings over columns: the materialized plan");
        assertFalse(applies("SELECT GENERATE(body, model_name) FROM docs"), "the model must be constant");
        assertFalse(applies("SELECT GENERATE(body) FROM a UNION SELECT GENERATE(body) FROM b"));
        assertFalse(applies("SELECT GENERATE(body) FROM docs INTO @x"));
        assertFalse(applies("UPDATE docs SET s = GENERATE(body)"));
    }

    /** A backend answering the streamed statement with {@code rows} of (id, text), and the count query with 5. */
    void backend(List<List<String>> rows) {
        session.streams = sql -> {
            Matcher m = MARKER.matcher(sql);
            if (!m.find()) {
                return null;
            }
            return new QueryResult.ResultSet(List.of("id", m.group(1)), rows);
        };
    }

    CompletableFuture<Void> start(String sql) throws Exception {
        return start(sql, settings);
    }

    Client client = new Client();

    CompletableFuture<Void> start(String sql, RagSettings s) throws Exception {
        PipelineResult result = planner.run(session, literals.parse(sql), Dialect.MARIADB, s, UnaryOperator.identity())
                .get(10, TimeUnit.SECONDS);
        PipelineResult.Streamed streamed = assertInstanceOf(PipelineResult.Streamed.class, result);
        return CompletableFuture.supplyAsync(() -> streamed.reply().start(client), loop).thenCompose(f -> f);
    }

    static List<String> row(String... values) {
        return Arrays.asList(values);
    }

    @Test
    void rowsKeepTheirOrderAndNullOrEmptyTextsGiveNullWithoutACall() throws Exception {
        backend(List.of(row("1", "a"), row("2", null), row("3", ""), row("4", "a"), row("5", "b")));
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(2) : null;
        start("SELECT id, GENERATE(body) AS s FROM docs ORDER BY id").get(10, TimeUnit.SECONDS);
        assertEquals(List.of(row("1", "gen:a"), row("2", null), row("3", null), row("4", "gen:a"), row("5", "gen:b")),
                client.rows(2));
        assertEquals(List.of("a", "b"), model.prompts, "each distinct text once (the cache answers repeats)");
        assertTrue(client.last);
        assertEquals("id", client.columnName(0), "the backend's own definition");
        assertEquals("s", client.columnName(1));
        assertEquals(0xFC, client.columnType(1), "a streamed column is LONGTEXT");
        assertEquals(1, session.streamQueries.size());
        String backendSql = session.streamQueries.get(0);
        assertTrue(backendSql.matches("SELECT id, body AS ragproxy_stream_[0-9a-f]+_0 FROM docs ORDER BY id"), backendSql);
    }

    @Test
    void anUnaliasedCallIsLabelledAsWritten() throws Exception {
        backend(List.of(row("1", "x")));
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(1) : null;
        start("SELECT id, GENERATE(CONCAT('Q: ', body)) FROM docs").get(10, TimeUnit.SECONDS);
        assertEquals("GENERATE(CONCAT('Q: ', body))", client.columnName(1));
        assertEquals(List.of(row("1", "gen:x")), client.rows(2));
    }

    static QueryResult count(long n) {
        return new QueryResult(List.of(new QueryResult.ResultSet(List.of("n"), List.of(List.of(Long.toString(n))))),
                0, 0, 0, "");
    }

    @Test
    void atMostTwoBatchesWithTheModelThenTheBackendPauses() throws Exception {
        List<List<String>> rows = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            rows.add(row(Integer.toString(i), "text " + i));
        }
        backend(rows);
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(40) : null;
        CompletableFuture<Void> gate = new CompletableFuture<>();
        model.gate = gate;
        CompletableFuture<Void> done = start("SELECT id, GENERATE(body) AS s FROM docs");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!session.streamPaused && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(session.streamPaused, "the stream paused the backend");
        Thread.sleep(100); // nothing more may arrive while paused
        // Two batches of 2 with the model, a third full: 6 rows read of 40.
        assertEquals(6, session.rowsDelivered, "rows read from the backend while the model answers nothing");
        assertEquals(4, model.prompts.size(), "calls of the two batches in flight");
        assertEquals(0, client.rows(2).size(), "no row before its batch is answered");
        gate.complete(null);
        model.gate = gate;
        done.get(10, TimeUnit.SECONDS);
        List<List<String>> expected = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            expected.add(row(Integer.toString(i), "gen:text " + i));
        }
        assertEquals(expected, client.rows(2));
    }

    @Test
    void onErrorNullGivesNullAndOneWarningPerFailedInput() throws Exception {
        // Batches of 2: the third batch starts only once the first is written, its failure known by then.
        backend(List.of(row("1", "bad one"), row("2", "fine"), row("3", "fine too"), row("4", "bad two"),
                row("5", "bad one")));
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(3) : null;
        RagSettings nullOnError = settings.with("rag_on_error", "null", settings);
        start("SELECT id, GENERATE(body) AS s FROM docs", nullOnError).get(10, TimeUnit.SECONDS);
        assertEquals(List.of(row("1", null), row("2", "gen:fine"), row("3", "gen:fine too"), row("4", null),
                row("5", null)), client.rows(2));
        assertEquals(2, session.warnings.size(), "one warning per failed distinct input: " + session.warnings);
        // Two batches are with the model at once, so their warnings may come in either order.
        String badOne = session.warnings.stream().filter(w -> w.contains("'bad one'")).findFirst().orElseThrow(
                () -> new AssertionError("no warning for 'bad one': " + session.warnings));
        assertTrue(badOne.startsWith("7104 ") && badOne.contains(FakeModels.TEXT_ID), badOne);
        assertTrue(session.warnings.stream().anyMatch(w -> w.contains("'bad two'")), session.warnings.toString());
        assertEquals(2, model.prompts.stream().filter("bad one"::equals).count(),
                "the batch's call and its retry; not asked again in a later batch: " + model.prompts);
    }

    @Test
    void aModelErrorEndsTheReplyAfterTheRowsSent() throws Exception {
        backend(List.of(row("1", "x"), row("2", "y"), row("3", "bad"), row("4", "z")));
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(4) : null;
        CompletableFuture<Void> done = start("SELECT id, GENERATE(body) AS s FROM docs");
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> done.get(10, TimeUnit.SECONDS));
        ProxyException pe = assertInstanceOf(ProxyException.class, e.getCause());
        assertEquals(7104, pe.code());
        assertFalse(client.last, "no terminator: the session writes the ERR in its place");
        List<List<String>> sent = client.rows(2);
        assertTrue(sent.isEmpty() || sent.equals(List.of(row("1", "gen:x"), row("2", "gen:y"))), sent.toString());
        assertTrue(pe.getMessage().contains(sent.isEmpty() ? FakeModels.TEXT_ID : "the first 2 rows were sent"),
                pe.getMessage());
    }

    @Test
    void costGuardRefusesBeforeAnyCall() throws Exception {
        backend(List.of(row("1", "a")));
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(5) : null;
        RagSettings three = settings.with("rag_max_calls", "3", settings);
        try {
            planner.run(session, literals.parse("SELECT id, GENERATE(body) FROM docs"), Dialect.MARIADB, three,
                    UnaryOperator.identity()).get(10, TimeUnit.SECONDS);
            fail("expected error 7013");
        } catch (ExecutionException e) {
            ProxyException pe = assertInstanceOf(ProxyException.class, e.getCause());
            assertEquals(7013, pe.code());
            assertTrue(pe.getMessage().contains("5 distinct model inputs") && pe.getMessage().contains("rag_max_calls"),
                    pe.getMessage());
        }
        assertTrue(model.prompts.isEmpty());
        assertTrue(session.streamQueries.isEmpty(), "nothing streamed");
        String count = session.queries.get(session.queries.size() - 1);
        assertTrue(count.matches("SELECT COUNT\\(DISTINCT NULLIF\\(CAST\\(q.`ragproxy_stream_[0-9a-f]+_0` AS CHAR\\),"
                + " ''\\)\\) FROM \\(SELECT id, body AS ragproxy_stream_[0-9a-f]+_0 FROM docs\\) q"), count);
    }

    @Test
    void aLimitWithinTheBudgetNeedsNoCount() throws Exception {
        backend(List.of(row("1", "a"), row("2", "b")));
        RagSettings three = settings.with("rag_max_calls", "3", settings);
        start("SELECT id, GENERATE(body) AS s FROM docs ORDER BY id LIMIT 3", three).get(10, TimeUnit.SECONDS);
        assertEquals(List.of(row("1", "gen:a"), row("2", "gen:b")), client.rows(2));
        assertTrue(session.queries.isEmpty(), "no count query: " + session.queries);
    }

    @Test
    void explainShowsTheCountAndCallsNoModel() throws Exception {
        session.otherAnswers = sql -> sql.startsWith("SELECT COUNT(DISTINCT") ? count(1234) : null;
        List<String> row = planner.explain(session, literals.parse("SELECT id, GENERATE(body) AS s FROM docs"),
                Dialect.MARIADB, settings).get(10, TimeUnit.SECONDS);
        assertEquals("streamed", row.get(0));
        assertEquals("1234", row.get(1));
        assertEquals(FakeModels.TEXT_ID, row.get(2));
        assertNotNull(row.get(3));
        assertTrue(row.get(3).startsWith("SELECT id, body AS ragproxy_stream_"), row.get(3));
        assertTrue(model.prompts.isEmpty());
        assertTrue(session.streamQueries.isEmpty());
    }
}
