package io.ragproxy.server.session;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.text.SqlMode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** When the tracker knows the session's sql_mode, and when it must read it again. */
class SessionTextTrackerTest {

    private final List<String> queries = new ArrayList<>();

    /** A tracker that has read a session in NO_BACKSLASH_ESCAPES. */
    private SessionTextTracker refreshed() {
        SessionTextTracker tracker = new SessionTextTracker();
        refresh(tracker);
        assertEquals(new SqlMode(true, false), tracker.scanMode());
        return tracker;
    }

    private void refresh(SessionTextTracker tracker) {
        QueryResult row = new QueryResult(List.of(new QueryResult.ResultSet(
                List.of("@@character_set_client", "@@character_set_results", "@@sql_mode"),
                List.of(List.of("utf8mb4", "utf8mb4", "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES")))), 0, 0, 0, null);
        tracker.refresh(sql -> {
            queries.add(sql);
            return CompletableFuture.completedFuture(row);
        }).join();
        // Up to date now: the next refresh asks nothing.
        tracker.refresh(sql -> {
            throw new AssertionError("refreshed twice");
        }).join();
        assertEquals(SessionTextTracker.QUERY, queries.get(queries.size() - 1));
    }

    private static ByteBuf bytes(String sql) {
        return Unpooled.wrappedBuffer(sql.getBytes(UTF_8));
    }

    private static void statement(SessionTextTracker tracker, String sql) {
        ByteBuf b = bytes(sql);
        tracker.statement(b, 0, b.readableBytes());
    }

    private static void prepared(SessionTextTracker tracker, String sql) {
        ByteBuf b = bytes(sql);
        tracker.prepared(b, 0, b.readableBytes());
    }

    @Test
    void theModeIsUnknownUntilTheFirstRead() {
        assertNull(new SessionTextTracker().scanMode());
    }

    @Test
    void setStatementForMarksTheModeUnknown() {
        SessionTextTracker tracker = refreshed();
        statement(tracker, "SET STATEMENT sql_mode = 'ANSI_QUOTES' FOR SELECT \"a\\\", GENERATE('x')");
        assertNull(tracker.scanMode());
    }

    @Test
    void plainStatementsKeepTheMode() {
        SessionTextTracker tracker = refreshed();
        statement(tracker, "SELECT 'C:\\', 1");
        statement(tracker, "PREPARE s FROM 'SELECT 1'");
        assertEquals(new SqlMode(true, false), tracker.scanMode());
    }

    @Test
    void executingAPreparedSetNamesMarksTheModeUnknown() {
        SessionTextTracker tracker = refreshed();
        prepared(tracker, "SET NAMES latin1");
        assertEquals(new SqlMode(true, false), tracker.scanMode()); // preparing changes nothing yet
        tracker.executed();
        assertNull(tracker.scanMode());
    }

    @Test
    void executingPreparedPlainStatementsKeepsTheMode() {
        SessionTextTracker tracker = refreshed();
        prepared(tracker, "SELECT ? FROM t");
        prepared(tracker, "INSERT INTO t VALUES (?)");
        tracker.executed();
        assertEquals(new SqlMode(true, false), tracker.scanMode());
    }

    @Test
    void aSessionResetForgetsThePreparedStatements() {
        SessionTextTracker tracker = refreshed();
        prepared(tracker, "SET sql_mode = ?");
        tracker.sessionReset();
        assertNull(tracker.scanMode());
        refresh(tracker);
        tracker.executed();
        assertEquals(new SqlMode(true, false), tracker.scanMode());
    }
}
