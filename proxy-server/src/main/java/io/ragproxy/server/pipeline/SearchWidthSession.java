package io.ragproxy.server.pipeline;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.RowStream;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.RunningStatement;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.wire.ResultSetWriter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A session whose statements that read a knowledge base's vector index run, on MariaDB, with {@code mhnsw_ef_search}
 * raised to the search's width: {@code SET STATEMENT mhnsw_ef_search = … FOR <statement>}, for this statement only.
 * The default of 20 candidates misses the right chunk too often for a knowledge base (see
 * {@code KnowledgeBaseQuery.SEARCH_WIDTH_FLOOR}). A session value the user set (one that differs from the global
 * value) is kept as it is; otherwise the width is the larger of the global value and the search's. Every query the
 * plan runs (the materialized plan's reads of the arguments, the ANSWER plan's read of the rows) and the statement
 * it forwards get the prefix; the other methods delegate.
 */
final class SearchWidthSession implements StatementSession {
    private final StatementSession session;
    private final String prefix;

    /** @param width the candidates the search should weigh, 1 to MariaDB's largest {@code mhnsw_ef_search} */
    SearchWidthSession(StatementSession session, int width) {
        this.session = Objects.requireNonNull(session, "session");
        this.prefix = prefix(width);
    }

    /** The {@code SET STATEMENT … FOR} that runs a statement with a search width of {@code width}. */
    static String prefix(int width) {
        return "SET STATEMENT mhnsw_ef_search = IF(@@session.mhnsw_ef_search <> @@global.mhnsw_ef_search,"
                + " @@session.mhnsw_ef_search, GREATEST(@@global.mhnsw_ef_search, " + width + ")) FOR ";
    }

    /** {@code sql} with the prefix, when it is a statement that can read a table (SET STATEMENT takes no other). */
    String widened(String sql) {
        String head = sql.stripLeading();
        String word = head.substring(0, Math.min(head.length(), 8)).toUpperCase(Locale.ROOT);
        boolean reads = head.startsWith("(") || word.startsWith("SELECT") || word.startsWith("WITH")
                || word.startsWith("INSERT") || word.startsWith("REPLACE") || word.startsWith("UPDATE")
                || word.startsWith("DELETE");
        return reads ? prefix + head : sql;
    }

    /** {@code result} with its forwarded statement widened. */
    PipelineResult widened(PipelineResult result) {
        return result instanceof PipelineResult.Forward f ? new PipelineResult.Forward(widened(f.sql()), f.afterwards())
                : result;
    }

    @Override
    public CompletableFuture<QueryResult> query(String sql) {
        return session.query(widened(sql));
    }

    @Override
    public CompletableFuture<QueryResult> queryRelayingLocalInfile(String sql) {
        return session.queryRelayingLocalInfile(sql);
    }

    @Override
    public void queryStream(String sql, RowStream rows) {
        session.queryStream(widened(sql), rows);
    }

    @Override
    public String user() {
        return session.user();
    }

    @Override
    public String backendVersion() {
        return session.backendVersion();
    }

    @Override
    public boolean deprecateEof() {
        return session.deprecateEof();
    }

    @Override
    public ResultSetWriter resultSetWriter() {
        return session.resultSetWriter();
    }

    @Override
    public SessionText sessionText() {
        return session.sessionText();
    }

    @Override
    public boolean sessionTrack() {
        return session.sessionTrack();
    }

    @Override
    public int serverStatus() {
        return session.serverStatus();
    }

    @Override
    public String currentUser() {
        return session.currentUser();
    }

    @Override
    public void currentUser(String account) {
        session.currentUser(account);
    }

    @Override
    public RagSettings settings() {
        return session.settings();
    }

    @Override
    public void settings(RagSettings settings) {
        session.settings(settings);
    }

    @Override
    public EventLoop eventLoop() {
        return session.eventLoop();
    }

    @Override
    public ByteBufAllocator alloc() {
        return session.alloc();
    }

    @Override
    public void warn(int code, String message) {
        session.warn(code, message);
    }

    @Override
    public CompletableFuture<Void> cancellation() {
        return session.cancellation();
    }

    @Override
    public void progress(long rowsDone, long rowsExpected) {
        session.progress(rowsDone, rowsExpected);
    }

    @Override
    public void plan(String kind) {
        session.plan(kind);
    }

    @Override
    public String plan() {
        return session.plan();
    }

    @Override
    public long connectionId() {
        return session.connectionId();
    }

    @Override
    public String clientAddress() {
        return session.clientAddress();
    }

    @Override
    public AsyncLimiter statementLimiter(int width) {
        return session.statementLimiter(width);
    }

    @Override
    public List<RunningStatement> runningStatements() {
        return session.runningStatements();
    }

    @Override
    public boolean backendLost() {
        return session.backendLost();
    }
}
