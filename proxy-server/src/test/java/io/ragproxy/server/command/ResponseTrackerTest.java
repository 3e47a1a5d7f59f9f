package io.ragproxy.server.command;

import static io.ragproxy.server.testing.FrameBuilder.columnCount;
import static io.ragproxy.server.testing.FrameBuilder.columnDef;
import static io.ragproxy.server.testing.FrameBuilder.eof;
import static io.ragproxy.server.testing.FrameBuilder.err;
import static io.ragproxy.server.testing.FrameBuilder.ok;
import static io.ragproxy.server.testing.FrameBuilder.okEof;
import static io.ragproxy.server.testing.FrameBuilder.textRow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.testing.FrameBuilder;
import io.ragproxy.server.wire.Packets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResponseTrackerTest {
    private static final int MORE = ServerStatus.MORE_RESULTS_EXISTS;
    private static final int AUTOCOMMIT = ServerStatus.AUTOCOMMIT;
    private static final int CURSOR = ServerStatus.CURSOR_EXISTS;

    private ResponseTracker t;
    private boolean deprecateEof;

    private void init(boolean deprecate) {
        deprecateEof = deprecate;
        t = new ResponseTracker(deprecate);
        assertTrue(t.isIdle());
        assertFalse(t.isOpaque());
        assertFalse(t.expectsClientData());
    }

    /** The client sends a command (as ProxyConnection.relay does: onCommand, then onClientFrame). */
    private void command(int cmd) {
        t.onCommand(cmd);
        t.onClientFrame(FrameBuilder.command(cmd, "x"));
    }

    /** A backend frame that must not complete the response. */
    private void more(ByteBuf frame) {
        assertFalse(t.onBackendFrame(frame), "frame must not complete the response: " + FrameBuilder.hex(frame));
        assertFalse(t.isIdle());
    }

    /** A backend frame that completes the oldest pending response. */
    private void done(ByteBuf frame) {
        assertTrue(t.onBackendFrame(frame), "frame must complete the response: " + FrameBuilder.hex(frame));
    }

    private void doneAndIdle(ByteBuf frame) {
        done(frame);
        assertTrue(t.isIdle());
        assertFalse(t.expectsClientData());
    }

    /** The end of a result set in the negotiated style. */
    private ByteBuf terminator(int status) {
        return deprecateEof ? okEof(5, status) : eof(5, status);
    }

    /** Column count, definitions and (without DEPRECATE_EOF) the EOF after them. */
    private void metadata(int columns) {
        more(columnCount(1, columns));
        for (int i = 0; i < columns; i++) {
            more(columnDef(2 + i, "c" + i));
        }
        if (!deprecateEof) {
            more(eof(2 + columns, AUTOCOMMIT));
        }
    }

    // ---- COM_QUERY: OK, ERR, result sets ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void okResponse(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        assertFalse(t.isIdle());
        assertFalse(t.expectsClientData());
        doneAndIdle(ok(1, 3, 0, AUTOCOMMIT, 0));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void errResponse(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        doneAndIdle(err(1, 1064, "42000", "You have an error in your SQL syntax"));
    }

    @ParameterizedTest
    @CsvSource({"false,1,0", "false,3,5", "true,1,0", "true,3,5", "false,251,2", "true,300,1"})
    void resultSet(boolean deprecate, int columns, int rows) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(columns);
        for (int r = 0; r < rows; r++) {
            more(textRow(10 + r, "v" + r, "1"));
        }
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void terminatorWithLargeCountsStillReadsStatus(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(1);
        more(textRow(3, "a"));
        // an OK-style terminator with multi-byte length-encoded fields, more results pending
        ByteBuf first = deprecate
                ? FrameBuilder.payload().u8(0xFE).lenenc(70000).lenenc(300).u16(MORE).u16(0).frame(4)
                : eof(4, MORE);
        more(first);
        doneAndIdle(FrameBuilder.payload().u8(0).lenenc(1L << 32).lenenc(0xFFFFFF).u16(AUTOCOMMIT).u16(0).frame(5));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void rowStartingWithNullMarker(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(2);
        more(textRow(4, null, "x"));
        more(textRow(5, null, null));
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void binaryRowsStartWithZero(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_STMT_EXECUTE);
        metadata(2);
        more(FrameBuilder.payload().u8(0x00).u8(0).lenencStr("a").lenencStr("b").frame(4));
        more(FrameBuilder.payload().u8(0x00).u8(0x0C).frame(5)); // both NULL via the null bitmap
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void hugeRowSplitAcrossFramesIsNotATerminator(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(1);
        // a 16 MiB+ string column: 0xFE + 8-byte length, so the first frame starts with 0xFE and is full
        ByteBuf first = FrameBuilder.frameOfLength(3, Packets.MAX_FRAME_PAYLOAD, 0xFE, 0x61);
        more(first);
        // the continuation happens to look exactly like an EOF / OK(0xFE) terminator, and then like an ERR
        more(terminator(0));
        more(textRow(5, "after"));
        // a second huge row whose continuation is a full frame followed by a short one starting with 0xFF
        more(FrameBuilder.frameOfLength(6, Packets.MAX_FRAME_PAYLOAD, 0xFE, 0x62));
        more(FrameBuilder.frameOfLength(7, Packets.MAX_FRAME_PAYLOAD, 0xFE, 0x62));
        more(err(8, 1, "HY000", "looks like an error"));
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void rowOfExactlyMaxPayloadThenEmptyContinuation(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(1);
        more(FrameBuilder.frameOfLength(3, Packets.MAX_FRAME_PAYLOAD, 0xFD, 0x20));
        more(FrameBuilder.empty(4));
        more(textRow(5, "x"));
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    // ---- multi-results ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void twoResultSets(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(1);
        more(textRow(3, "1"));
        more(terminator(AUTOCOMMIT | MORE));
        metadata(2);
        more(textRow(7, "1", "2"));
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void multiStatementOkOkResultSet(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        more(ok(1, 1, 0, AUTOCOMMIT | MORE, 0));
        more(ok(2, 5, 7, AUTOCOMMIT | MORE, 1));
        metadata(1);
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void multiStatementStopsAtError(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        more(ok(1, 1, 0, AUTOCOMMIT | MORE, 0));
        doneAndIdle(err(2, 1146, "42S02", "Table 'x' doesn't exist"));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void callWithTwoResultSetsAndFinalOk(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY); // CALL p()
        metadata(1);
        more(textRow(3, "a"));
        more(terminator(AUTOCOMMIT | MORE));
        metadata(1);
        more(textRow(3, "b"));
        more(terminator(AUTOCOMMIT | MORE));
        doneAndIdle(ok(9, 0, 0, AUTOCOMMIT, 0)); // the CALL's own status
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void preparedCallEndsWithOkToo(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_STMT_EXECUTE);
        metadata(1);
        more(FrameBuilder.payload().u8(0).u8(0).lenencStr("a").frame(3));
        more(terminator(AUTOCOMMIT | MORE));
        doneAndIdle(ok(9, 0, 0, AUTOCOMMIT, 0));
    }

    // ---- LOAD DATA LOCAL INFILE ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void loadDataLocal(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        assertFalse(t.expectsClientData());
        more(FrameBuilder.payload().u8(0xFB).str("/tmp/data.csv").frame(1));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.payload().str("1,a\n2,b\n").frame(2));
        assertTrue(t.expectsClientData());
        assertFalse(t.isIdle());
        t.onClientFrame(FrameBuilder.payload().str("3,c\n").frame(3));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.empty(4));
        assertFalse(t.expectsClientData(), "the empty packet ends the upload");
        assertFalse(t.isIdle(), "the backend's OK is still due");
        doneAndIdle(FrameBuilder.payload().u8(0).lenenc(3).lenenc(0).u16(AUTOCOMMIT).u16(0)
                .lenencStr("Records: 3  Deleted: 0  Skipped: 0  Warnings: 0").frame(5));
    }

    @Test
    void loadDataLocalRefusedByClient() {
        init(false);
        command(Commands.COM_QUERY);
        more(FrameBuilder.payload().u8(0xFB).str("/etc/passwd").frame(1));
        t.onClientFrame(FrameBuilder.empty(2));
        assertFalse(t.expectsClientData());
        doneAndIdle(err(3, 2068, "HY000", "LOAD DATA LOCAL INFILE file request rejected"));
    }

    @Test
    void loadDataLocalUploadChunkOfExactlyMaxPayload() {
        init(true);
        command(Commands.COM_QUERY);
        more(FrameBuilder.payload().u8(0xFB).str("big.csv").frame(1));
        t.onClientFrame(FrameBuilder.frameOfLength(2, Packets.MAX_FRAME_PAYLOAD, '1', ','));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.empty(3)); // continuation of the full frame, not the end
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.empty(4)); // the end
        assertFalse(t.expectsClientData());
        doneAndIdle(ok(5, 1, 0, AUTOCOMMIT, 0));
    }

    @Test
    void loadDataLocalInMultiStatement() {
        init(true);
        command(Commands.COM_QUERY);
        more(FrameBuilder.payload().u8(0xFB).str("a.csv").frame(1));
        t.onClientFrame(FrameBuilder.empty(2));
        more(ok(3, 0, 0, AUTOCOMMIT | MORE, 0));
        metadata(1);
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    // ---- prepared statements ----

    @ParameterizedTest
    @CsvSource({
        "false,2,3", "true,2,3",
        "false,0,0", "true,0,0",
        "false,2,0", "true,2,0",
        "false,0,3", "true,0,3",
    })
    void prepare(boolean deprecate, int params, int columns) {
        init(deprecate);
        command(Commands.COM_STMT_PREPARE);
        int seq = 1;
        ByteBuf first = FrameBuilder.prepareOk(seq++, 1, columns, params);
        if (params == 0 && columns == 0) {
            doneAndIdle(first);
            return;
        }
        more(first);
        java.util.List<ByteBuf> rest = new java.util.ArrayList<>();
        for (int i = 0; i < params; i++) {
            rest.add(columnDef(seq++, "?"));
        }
        if (params > 0 && !deprecate) {
            rest.add(eof(seq++, AUTOCOMMIT));
        }
        for (int i = 0; i < columns; i++) {
            rest.add(columnDef(seq++, "c" + i));
        }
        if (columns > 0 && !deprecate) {
            rest.add(eof(seq++, AUTOCOMMIT));
        }
        for (int i = 0; i < rest.size() - 1; i++) {
            more(rest.get(i));
        }
        doneAndIdle(rest.get(rest.size() - 1));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void prepareError(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_STMT_PREPARE);
        doneAndIdle(err(1, 1064, "42000", "syntax"));
    }

    @Test
    void cursorExecuteThenFetch() {
        init(false);
        command(Commands.COM_STMT_EXECUTE);
        more(columnCount(1, 2));
        more(columnDef(2, "a"));
        more(columnDef(3, "b"));
        doneAndIdle(eof(4, AUTOCOMMIT | CURSOR));

        command(Commands.COM_STMT_FETCH);
        more(FrameBuilder.payload().u8(0).u8(0).u8(1).u8('x').u8(1).u8('y').frame(1));
        more(FrameBuilder.payload().u8(0).u8(0).u8(1).u8('z').u8(1).u8('w').frame(2));
        done(eof(3, AUTOCOMMIT | CURSOR));
        assertTrue(t.isIdle());

        command(Commands.COM_STMT_FETCH);
        more(FrameBuilder.payload().u8(0).u8(0).u8(1).u8('q').u8(1).u8('r').frame(1));
        doneAndIdle(eof(2, AUTOCOMMIT | CURSOR | ServerStatus.LAST_ROW_SENT));
    }

    @ParameterizedTest
    @ValueSource(strings = {"eof", "ok"})
    void cursorExecuteWithDeprecateEof(String style) {
        // with DEPRECATE_EOF the server still marks the end of the metadata when it opens a cursor;
        // whether as a classic EOF or an OK(0xFE), the CURSOR_EXISTS status ends the response
        init(true);
        command(Commands.COM_STMT_EXECUTE);
        more(columnCount(1, 1));
        more(columnDef(2, "a"));
        doneAndIdle(style.equals("eof") ? eof(3, AUTOCOMMIT | CURSOR) : okEof(3, AUTOCOMMIT | CURSOR));
        command(Commands.COM_STMT_FETCH);
        more(FrameBuilder.payload().u8(0).u8(0).u8(1).u8('x').frame(1));
        doneAndIdle(okEof(2, AUTOCOMMIT | CURSOR | ServerStatus.LAST_ROW_SENT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fetchError(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_STMT_FETCH);
        doneAndIdle(err(1, 1243, "HY000", "Unknown prepared statement handler"));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void executeWithoutResultSet(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_STMT_EXECUTE);
        doneAndIdle(ok(1, 1, 0, AUTOCOMMIT, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = {Commands.COM_STMT_CLOSE, Commands.COM_STMT_SEND_LONG_DATA, Commands.COM_QUIT})
    void commandsWithoutResponseLeaveTheTrackerIdle(int cmd) {
        init(false);
        command(cmd);
        assertTrue(t.isIdle());
        assertFalse(t.expectsClientData());
        assertFalse(t.isOpaque());
        // an unsolicited frame (e.g. an ERR before the backend closes) completes nothing
        assertFalse(t.onBackendFrame(err(0, 1927, "70100", "Connection was killed")));
        assertTrue(t.isIdle());
    }

    @Test
    void sendLongDataBetweenPrepareAndExecute() {
        init(true);
        command(Commands.COM_STMT_PREPARE);
        more(FrameBuilder.prepareOk(1, 7, 0, 1));
        doneAndIdle(columnDef(2, "?"));
        command(Commands.COM_STMT_SEND_LONG_DATA);
        command(Commands.COM_STMT_SEND_LONG_DATA);
        assertTrue(t.isIdle());
        command(Commands.COM_STMT_EXECUTE);
        doneAndIdle(ok(1, 1, 0, AUTOCOMMIT, 0));
        command(Commands.COM_STMT_CLOSE);
        assertTrue(t.isIdle());
    }

    // ---- other commands ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fieldList(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_FIELD_LIST);
        more(columnDef(1, "id"));
        more(columnDef(2, "name"));
        doneAndIdle(deprecate ? okEof(3, AUTOCOMMIT) : eof(3, AUTOCOMMIT));
    }

    @Test
    void fieldListError() {
        init(false);
        command(Commands.COM_FIELD_LIST);
        doneAndIdle(err(1, 1146, "42S02", "Table 'test.nope' doesn't exist"));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void statisticsIsOneStringPacket(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_STATISTICS);
        doneAndIdle(FrameBuilder.payload().str("Uptime: 3600  Threads: 1  Questions: 10  Slow queries: 0  Opens: 17"
                + "  Open tables: 10  Queries per second avg: 0.002").frame(1));
    }

    @ParameterizedTest
    @ValueSource(ints = {Commands.COM_PING, Commands.COM_INIT_DB, Commands.COM_RESET_CONNECTION,
        Commands.COM_STMT_RESET, Commands.COM_SET_OPTION, Commands.COM_PROCESS_KILL, Commands.COM_REFRESH,
        Commands.COM_DEBUG, Commands.COM_SLEEP, Commands.COM_CREATE_DB, Commands.COM_DROP_DB})
    void singlePacketCommands(int cmd) {
        init(false);
        command(cmd);
        assertFalse(t.isIdle());
        doneAndIdle(cmd == Commands.COM_SET_OPTION || cmd == Commands.COM_DEBUG ? eof(1, AUTOCOMMIT)
                : ok(1, AUTOCOMMIT));
    }

    @Test
    void processInfoIsAResultSet() {
        init(false);
        command(Commands.COM_PROCESS_INFO);
        metadata(2);
        more(textRow(5, "1", "root"));
        doneAndIdle(eof(6, AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void changeUserWithAuthSwitch(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_CHANGE_USER);
        assertTrue(t.expectsClientData(), "auth data may follow");
        more(FrameBuilder.payload().u8(0xFE).nulStr("mysql_native_password").fill(20, 'S').u8(0).frame(1));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.payload().fill(20, 0x11).frame(2));
        assertTrue(t.expectsClientData());
        doneAndIdle(ok(3, AUTOCOMMIT));
    }

    @Test
    void changeUserWithMoreDataThenOk() {
        init(true);
        command(Commands.COM_CHANGE_USER);
        more(FrameBuilder.payload().u8(0xFE).nulStr("caching_sha2_password").fill(20, 'S').u8(0).frame(1));
        t.onClientFrame(FrameBuilder.payload().fill(32, 0x11).frame(2));
        more(FrameBuilder.payload().u8(0x01).u8(0x03).frame(3)); // fast auth success
        assertTrue(t.expectsClientData());
        doneAndIdle(ok(4, AUTOCOMMIT));
    }

    @Test
    void changeUserDenied() {
        init(false);
        command(Commands.COM_CHANGE_USER);
        doneAndIdle(err(1, 1045, "28000", "Access denied for user 'x'@'localhost'"));
    }

    // ---- pipelining ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void threePipelinedQueries(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        command(Commands.COM_QUERY);
        command(Commands.COM_QUERY);
        assertFalse(t.isIdle());
        // 1: a result set
        metadata(1);
        more(textRow(3, "1"));
        done(terminator(AUTOCOMMIT));
        assertFalse(t.isIdle());
        // 2: OK
        done(ok(1, 1, 0, AUTOCOMMIT, 0));
        assertFalse(t.isIdle());
        // 3: a result set again (state must have been reset)
        metadata(2);
        more(textRow(4, "1", "2"));
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pipelinedCommandQueuedMidResponse(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY);
        metadata(1);
        more(textRow(3, "1"));
        command(Commands.COM_STMT_PREPARE); // arrives while rows stream
        more(textRow(4, "2"));
        done(terminator(AUTOCOMMIT));
        assertFalse(t.isIdle());
        more(FrameBuilder.prepareOk(1, 1, 1, 0));
        if (!deprecate) {
            more(columnDef(2, "a"));
            doneAndIdle(eof(3, AUTOCOMMIT));
        } else {
            doneAndIdle(columnDef(2, "a"));
        }
    }

    @Test
    void pipelinedAfterCursorExecuteThenFetch() {
        init(false);
        command(Commands.COM_STMT_EXECUTE);
        command(Commands.COM_STMT_FETCH);
        more(columnCount(1, 1));
        more(columnDef(2, "a"));
        done(eof(3, CURSOR));
        assertFalse(t.isIdle());
        more(FrameBuilder.payload().u8(0).u8(0).u8(1).u8('x').frame(1));
        doneAndIdle(eof(2, CURSOR | ServerStatus.LAST_ROW_SENT));
    }

    @Test
    void singleResponseWithContinuationFramesThenNextCommand() {
        init(false);
        command(Commands.COM_STATISTICS);
        command(Commands.COM_PING);
        done(FrameBuilder.frameOfLength(1, Packets.MAX_FRAME_PAYLOAD, 'U', 'x'));
        assertFalse(t.isIdle());
        assertFalse(t.onBackendFrame(ok(2, AUTOCOMMIT)), "a continuation frame must not be taken as the PING's OK");
        doneAndIdle(ok(1, AUTOCOMMIT));
    }

    // ---- MariaDB progress reports ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void progressPacketsDoNotEndAnOkResponse(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY); // ALTER TABLE ...
        more(FrameBuilder.progress(1, 1, 2, 50_000, "copy to tmp table"));
        more(FrameBuilder.progress(1, 2, 2, 99_000, "enabling keys"));
        doneAndIdle(ok(1, 0, 0, AUTOCOMMIT, 0));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void progressPacketsDoNotEndAResultSet(boolean deprecate) {
        init(deprecate);
        command(Commands.COM_QUERY); // OPTIMIZE TABLE t: metadata first, then work with progress, then rows
        metadata(4);
        more(FrameBuilder.progress(6, 1, 1, 10_000, "optimize"));
        more(textRow(6, "test.t", "optimize", "status", "OK"));
        doneAndIdle(terminator(AUTOCOMMIT));
    }

    @Test
    void progressThenRealErrorEnds() {
        init(false);
        command(Commands.COM_QUERY);
        more(FrameBuilder.progress(1, 1, 1, 1000, "x"));
        doneAndIdle(err(1, 1062, "23000", "Duplicate entry"));
    }

    // ---- client continuation frames ----

    @Test
    void clientCommandSpanningFrames() {
        init(false);
        t.onCommand(Commands.COM_QUERY);
        t.onClientFrame(FrameBuilder.frameOfLength(0, Packets.MAX_FRAME_PAYLOAD, Commands.COM_QUERY, ' '));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.frameOfLength(1, Packets.MAX_FRAME_PAYLOAD, ' ', ' '));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.payload().str("SELECT 1").frame(2));
        assertFalse(t.expectsClientData());
        doneAndIdle(ok(1, AUTOCOMMIT));
    }

    @Test
    void clientCommandOfExactlyMaxPayloadNeedsEmptyContinuation() {
        init(false);
        t.onCommand(Commands.COM_QUERY);
        t.onClientFrame(FrameBuilder.frameOfLength(0, Packets.MAX_FRAME_PAYLOAD, Commands.COM_QUERY, ' '));
        assertTrue(t.expectsClientData());
        t.onClientFrame(FrameBuilder.empty(1));
        assertFalse(t.expectsClientData());
    }

    // ---- opaque ----

    @ParameterizedTest
    @ValueSource(ints = {0x12 /* COM_BINLOG_DUMP */, 0x15 /* COM_REGISTER_SLAVE */, 0x1E /* BINLOG_DUMP_GTID */, 0x20,
        0x7F})
    void unknownCommandMakesTheTrackerOpaqueForever(int cmd) {
        init(false);
        command(cmd);
        assertTrue(t.isOpaque());
        assertFalse(t.isIdle());
        for (ByteBuf f : new ByteBuf[] {ok(1, AUTOCOMMIT), err(2, 1, "HY000", "x"), eof(3, 0), okEof(4, 0)}) {
            assertFalse(t.onBackendFrame(f));
            assertFalse(t.isIdle());
            assertTrue(t.isOpaque());
        }
        command(Commands.COM_PING);
        assertFalse(t.onBackendFrame(ok(1, AUTOCOMMIT)));
        assertFalse(t.isIdle());
        assertTrue(t.isOpaque());
    }

    @Test
    void unknownCommandPipelinedBehindAKnownOne() {
        init(false);
        command(Commands.COM_PING);
        command(0x12);
        assertTrue(t.isOpaque());
        done(ok(1, AUTOCOMMIT));
        assertFalse(t.isIdle());
        assertFalse(t.onBackendFrame(ok(1, AUTOCOMMIT)));
        assertFalse(t.isIdle());
        assertTrue(t.isOpaque());
    }

    @Test
    void unsolicitedFrameWhileIdleIsIgnored() {
        init(true);
        assertFalse(t.onBackendFrame(err(0, 4031, "HY000", "The client was disconnected by the server because of inactivity")));
        assertTrue(t.isIdle());
        command(Commands.COM_PING);
        doneAndIdle(ok(1, AUTOCOMMIT));
    }

    @Test
    void manyResponsesInARowKeepStateConsistent() {
        init(true);
        for (int i = 0; i < 50; i++) {
            command(Commands.COM_QUERY);
            metadata(1 + i % 3);
            for (int r = 0; r < i % 4; r++) {
                more(textRow(9, "r"));
            }
            doneAndIdle(terminator(AUTOCOMMIT));
        }
        assertEquals(true, t.isIdle());
    }
}
