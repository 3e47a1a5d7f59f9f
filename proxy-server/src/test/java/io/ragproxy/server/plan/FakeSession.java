package io.ragproxy.server.plan;

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
 */
public final class FakeSession implements StatementSession {
    public final List<String> queries = Collections.synchronizedList(new ArrayList<>());
    public final Map<String, QueryResult> answers = new HashMap<>();
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
    public boolean sessionTrack() {
        return false;
    }

    @Override
    public int serverStatus() {
        return 2;
    }

    @Override
    public CompletableFuture<QueryResult> query(String sql) {
        queries.add(sql);
        QueryResult r = answers.get(sql);
        if (r == null) {
            return CompletableFuture.failedFuture(new BackendException(1064, "42000", "fake backend: no answer for " + sql));
        }
        return CompletableFuture.completedFuture(r);
    }

    @Override
    public RagSettings settings() {
        return settings;
    }

    @Override
    public void settings(RagSettings settings) {
        this.settings = settings;
    }

    @Override
    public EventLoop eventLoop() {
        return null;
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
