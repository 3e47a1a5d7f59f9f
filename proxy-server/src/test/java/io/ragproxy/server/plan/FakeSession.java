package io.ragproxy.server.plan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.wire.ResultSetWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Test support: a {@link StatementSession} whose backend is a map of canned answers. Every query is recorded.
 * {@code SELECT a, b} queries not in the map fail with a BackendException (so unexpected backend use shows).
 * Tests that simulate a table subclass it and override {@link #query}.
 */
public class FakeSession implements StatementSession {
    public final List<String> queries = Collections.synchronizedList(new ArrayList<>());
    public final Map<String, QueryResult> answers = new HashMap<>();
    /** Queries the backend refuses, with the error it sends. */
    public final Map<String, BackendException> failures = new HashMap<>();
    /** Server status flags the session reports (autocommit unless a test says otherwise). */
    public volatile int status = 2;
    private final String backendVersion;
    private final boolean deprecateEof;
    private RagSettings settings;

    public FakeSession(String backendVersion, boolean deprecateEof, RagSettings settings) {
        this.backendVersion = backendVersion;
        this.deprecateEof = deprecateEof;
        this.settings = settings;
    }

    /** Answers {@code sql} with one row of {@code values} (null is SQL NULL). */
    public FakeSession answer(String sql, String... values) {
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            columns.add("c" + i);
        }
        answers.put(sql, new QueryResult(List.of(new QueryResult.ResultSet(columns,
                List.of(Arrays.asList(values)))), 0, 0, 0, ""));
        return this;
    }

    /** Answers {@code sql} with these rows, columns named c0, c1, … (null is SQL NULL). */
    @SafeVarargs
    public final FakeSession rows(String sql, List<String>... rows) {
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < (rows.length == 0 ? 1 : rows[0].size()); i++) {
            columns.add("c" + i);
        }
        answers.put(sql, new QueryResult(List.of(new QueryResult.ResultSet(columns, Arrays.asList(rows))), 0, 0, 0, ""));
        return this;
    }

    /** Makes the backend refuse {@code sql} with error {@code code}. */
    public FakeSession fail(String sql, int code, String message) {
        failures.put(sql, new BackendException(code, "42000", message));
        return this;
    }

    /** Answers {@code sql} with one column and these rows (null is SQL NULL). */
    public FakeSession answerRows(String sql, String... column) {
        List<List<String>> rows = new ArrayList<>();
        for (String v : column) {
            rows.add(Collections.singletonList(v));
        }
        answers.put(sql, new QueryResult(List.of(new QueryResult.ResultSet(List.of("k"), rows)), 0, 0, 0, ""));
        return this;
    }

    @Override
    public String user() {
        return "tester";
    }

    @Override
    public String backendVersion() {
        return backendVersion;
    }

    @Override
    public boolean deprecateEof() {
        return deprecateEof;
    }

    @Override
    public ResultSetWriter resultSetWriter() {
        return new ResultSetWriter(deprecateEof, false);
    }

    @Override
    public io.ragproxy.server.text.SessionText sessionText() {
        return io.ragproxy.server.text.SessionText.DEFAULT;
    }

    @Override
    public boolean sessionTrack() {
        return false;
    }

    @Override
    public int serverStatus() {
        return status;
    }

    /** The fake has no client: the same as {@link #query}. */
    @Override
    public CompletableFuture<QueryResult> queryRelayingLocalInfile(String sql) {
        return query(sql);
    }

    @Override
    public CompletableFuture<QueryResult> query(String sql) {
        queries.add(sql);
        if (failures.containsKey(sql)) {
            return CompletableFuture.failedFuture(failures.get(sql));
        }
        QueryResult r = answers.containsKey(sql) ? answers.get(sql) : otherAnswers.apply(sql);
        if (r == null) {
            return CompletableFuture.failedFuture(new BackendException(1064, "42000", "fake backend: no answer for " + sql));
        }
        return CompletableFuture.completedFuture(r);
    }

    /** The result set {@link #queryStream} streams for a SQL text (null: none); {@link #streamQueries} records the SQL. */
    public volatile java.util.function.Function<String, QueryResult.ResultSet> streams = sql -> null;
    /** Answers {@link #query} for SQL not in {@link #answers} (null: none). */
    public volatile java.util.function.Function<String, QueryResult> otherAnswers = sql -> null;
    public final List<String> streamQueries = Collections.synchronizedList(new ArrayList<>());
    /** Set when the stream under test asked to pause reads; rows are then held back until it resumes. */
    public volatile boolean streamPaused;
    /** How many rows were handed to the stream while it had not yet asked to pause, at most. */
    public volatile int rowsDelivered;

    /**
     * Streams a canned result set (columns named as given, every value text) on {@link #loop}, honouring pause and
     * resume: while paused, the remaining rows wait.
     */
    @Override
    public void queryStream(String sql, io.ragproxy.server.backend.RowStream rows) {
        streamQueries.add(sql);
        loop.execute(() -> {
            QueryResult.ResultSet result = streams.apply(sql);
            if (result == null) {
                rows.start(new io.ragproxy.server.backend.RowStream.Reads() {
                    @Override
                    public void pause() { }

                    @Override
                    public void resume() { }
                });
                rows.failed(new BackendException(1064, "42000", "fake backend: no stream for " + sql));
                return;
            }
            int[] next = {0};
            boolean[] ended = {false};
            Runnable[] pump = new Runnable[1];
            pump[0] = () -> {
                while (!ended[0] && next[0] < result.rows().size() && !streamPaused) {
                    ByteBuf row = io.netty.buffer.Unpooled.buffer();
                    for (String v : result.rows().get(next[0]++)) {
                        if (v == null) {
                            row.writeByte(0xFB);
                        } else {
                            io.ragproxy.server.wire.Packets.writeLengthEncodedString(row,
                                    v.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                        }
                    }
                    rowsDelivered++;
                    rows.row(row);
                    row.release();
                }
                if (!ended[0] && next[0] == result.rows().size()) {
                    ended[0] = true;
                    rows.end(0, 2);
                }
            };
            rows.start(new io.ragproxy.server.backend.RowStream.Reads() {
                @Override
                public void pause() {
                    streamPaused = true;
                }

                @Override
                public void resume() {
                    streamPaused = false;
                    loop.execute(pump[0]);
                }
            });
            List<ByteBuf> definitions = new ArrayList<>();
            for (String c : result.columns()) {
                definitions.add(columnDefinition(c));
            }
            rows.columns(definitions);
            definitions.forEach(ByteBuf::release);
            pump[0].run();
        });
    }

    /** A VAR_STRING column definition payload named {@code name}. */
    public static ByteBuf columnDefinition(String name) {
        ByteBuf p = io.netty.buffer.Unpooled.buffer();
        byte[] n = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        io.ragproxy.server.wire.Packets.writeLengthEncodedString(p, "def".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        p.writeByte(0).writeByte(0).writeByte(0);
        io.ragproxy.server.wire.Packets.writeLengthEncodedString(p, n);
        io.ragproxy.server.wire.Packets.writeLengthEncodedString(p, n);
        p.writeByte(0x0C).writeShortLE(45).writeIntLE(1024).writeByte(0xFD).writeShortLE(0).writeByte(0).writeShortLE(0);
        return p;
    }

    @Override
    public RagSettings settings() {
        return settings;
    }

    @Override
    public void settings(RagSettings settings) {
        this.settings = settings;
    }

    /** The event loop plans run their callbacks on; tests of streamed plans set one. */
    public EventLoop loop;

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public ByteBufAllocator alloc() {
        return UnpooledByteBufAllocator.DEFAULT;
    }

    /** Warnings the plan added, as "code message". */
    public final List<String> warnings = Collections.synchronizedList(new ArrayList<>());
    /** Complete it to cancel the running statement. */
    public final CompletableFuture<Void> cancellation = new CompletableFuture<>();

    @Override
    public void warn(int code, String message) {
        warnings.add(code + " " + message);
    }

    @Override
    public CompletableFuture<Void> cancellation() {
        return cancellation;
    }
}
