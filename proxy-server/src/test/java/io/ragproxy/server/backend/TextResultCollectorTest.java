package io.ragproxy.server.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.testing.FrameBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextResultCollectorTest {
    static final int MORE = ServerStatus.MORE_RESULTS_EXISTS;

    /** Feeds frames; returns whether the last one completed the response, checking none before it did. */
    static boolean feed(TextResultCollector c, List<ByteBuf> frames) {
        boolean done = false;
        for (int i = 0; i < frames.size(); i++) {
            assertFalse(done, "completed before frame " + i);
            done = c.accept(frames.get(i));
            frames.get(i).release();
        }
        return done;
    }

    /** An OK packet as MariaDB sends it without CLIENT_SESSION_TRACK: the info is length-encoded all the same. */
    static ByteBuf ok(int seq, long affected, long insertId, int status, int warnings, String info) {
        return FrameBuilder.payload().u8(0).lenenc(affected).lenenc(insertId).u16(status).u16(warnings).lenencStr(info)
                .frame(seq);
    }

    static ByteBuf column(int seq, String name) {
        return FrameBuilder.payload().lenencStr("def").lenencStr("db").lenencStr("t").lenencStr("t").lenencStr(name)
                .lenencStr(name).u8(0x0C).u16(45).u32(1024).u8(0xFD).u16(0).u8(0).u16(0).frame(seq);
    }

    static ByteBuf row(int seq, String... values) {
        FrameBuilder b = FrameBuilder.payload();
        for (String v : values) {
            if (v == null) {
                b.u8(0xFB);
            } else {
                b.lenencStr(v);
            }
        }
        return b.frame(seq);
    }

    static ByteBuf eof(int seq, int warnings, int status) {
        return FrameBuilder.payload().u8(0xFE).u16(warnings).u16(status).frame(seq);
    }

    static ByteBuf okEof(int seq, int warnings, int status) {
        return FrameBuilder.payload().u8(0xFE).lenenc(0).lenenc(0).u16(status).u16(warnings).frame(seq);
    }

    /** A result set with columns a, b and the rows, in either EOF flavour; seq from 1. */
    static List<ByteBuf> resultSet(boolean deprecateEof, int status, List<String[]> rows) {
        List<ByteBuf> f = new ArrayList<>();
        int seq = 1;
        f.add(FrameBuilder.payload().lenenc(2).frame(seq++));
        f.add(column(seq++, "a"));
        f.add(column(seq++, "b"));
        if (!deprecateEof) {
            f.add(eof(seq++, 0, status));
        }
        for (String[] r : rows) {
            f.add(row(seq++, r));
        }
        f.add(deprecateEof ? okEof(seq, 1, status) : eof(seq, 1, status));
        return f;
    }

    @Test
    void okPacket() {
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, List.of(ok(1, 3, 300, ServerStatus.AUTOCOMMIT, 2, "Rows matched: 3"))));
        assertNull(c.error());
        QueryResult r = c.result();
        assertEquals(3, r.affectedRows());
        assertEquals(300, r.lastInsertId());
        assertEquals(2, r.warnings());
        assertEquals("Rows matched: 3", r.info());
        assertTrue(r.resultSets().isEmpty());
        assertEquals(ServerStatus.AUTOCOMMIT, c.status());
    }

    @Test
    void bigLenencCounters() {
        TextResultCollector c = new TextResultCollector(false);
        assertTrue(feed(c, List.of(ok(1, 70000, 1L << 40, 0, 0, ""))));
        assertEquals(70000, c.result().affectedRows());
        assertEquals(1L << 40, c.result().lastInsertId());
    }

    @Test
    void errWithSqlState() {
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, List.of(FrameBuilder.payload().u8(0xFF).u16(1146).str("#42S02").str("Table 'x.t' doesn't exist 表")
                .frame(1))));
        assertEquals(1146, c.error().code());
        assertEquals("42S02", c.error().sqlState());
        assertEquals("Table 'x.t' doesn't exist 表", c.error().getMessage());
    }

    @Test
    void progressReportsAreSkipped() {
        // MariaDB's progress report (0xFF, code 0xFFFF, stage, max stage, progress, stage name) during a long LOAD DATA.
        TextResultCollector c = new TextResultCollector(true);
        ByteBuf progress = FrameBuilder.payload().u8(0xFF).u16(0xFFFF).u8(1).u8(2).u8(2).u8(0).u8(0).u8(0)
                .lenencStr("End bulk insert").frame(4);
        assertTrue(feed(c, List.of(progress, ok(5, 2, 0, ServerStatus.AUTOCOMMIT, 0, "Records: 2"))));
        assertNull(c.error());
        assertEquals(2, c.result().affectedRows());
    }

    @Test
    void sessionTrackInfoIsLengthEncoded() {
        TextResultCollector c = new TextResultCollector(true);
        ByteBuf ok = FrameBuilder.payload().u8(0).lenenc(2).lenenc(0).u16(ServerStatus.AUTOCOMMIT | 0x4000).u16(0)
                .lenencStr("Records: 2  Deleted: 0  Skipped: 0  Warnings: 0").lenencStr("\u0000\u0001x").frame(1);
        assertTrue(feed(c, List.of(ok)));
        assertEquals("Records: 2  Deleted: 0  Skipped: 0  Warnings: 0", c.result().info());
    }

    @Test
    void errWithoutSqlState() {
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, List.of(FrameBuilder.payload().u8(0xFF).u16(1040).str("Too many").frame(1))));
        assertEquals("HY000", c.error().sqlState());
        assertEquals("Too many", c.error().getMessage());
    }

    @Test
    void resultSetWithNullsBothFlavours() {
        for (boolean deprecateEof : new boolean[] {true, false}) {
            TextResultCollector c = new TextResultCollector(deprecateEof);
            assertTrue(feed(c, resultSet(deprecateEof, ServerStatus.AUTOCOMMIT,
                    List.<String[]>of(new String[] {"1", null}, new String[] {null, ""}, new String[] {"中文 🚀", "x"}))));
            assertNull(c.error());
            QueryResult.ResultSet rs = c.result().first();
            assertEquals(List.of("a", "b"), rs.columns());
            assertEquals(List.of(Arrays.asList("1", null), Arrays.asList(null, ""), List.of("中文 🚀", "x")), rs.rows());
            assertEquals(1, c.result().warnings(), "warnings of the terminator (deprecateEof=" + deprecateEof + ")");
            assertEquals(ServerStatus.AUTOCOMMIT, c.status());
        }
    }

    @Test
    void emptyResultSet() {
        TextResultCollector c = new TextResultCollector(false);
        assertTrue(feed(c, resultSet(false, 0, List.of())));
        assertEquals(0, c.result().first().rows().size());
    }

    @Test
    void errorMidRows() {
        List<ByteBuf> f = new ArrayList<>(resultSet(true, 0, List.<String[]>of(new String[] {"1", "2"})));
        f.remove(f.size() - 1).release();
        f.add(FrameBuilder.payload().u8(0xFF).u16(1317).str("#70100").str("Query execution was interrupted").frame(5));
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, f));
        assertEquals(1317, c.error().code());
        assertEquals("70100", c.error().sqlState());
    }

    @Test
    void multiResults() {
        for (boolean deprecateEof : new boolean[] {true, false}) {
            List<ByteBuf> f = new ArrayList<>(resultSet(deprecateEof, MORE | ServerStatus.AUTOCOMMIT,
                    List.<String[]>of(new String[] {"1", "x"})));
            f.addAll(resultSet(deprecateEof, MORE, List.<String[]>of(new String[] {"2", "y"}, new String[] {"3", "z"})));
            f.add(ok(1, 0, 0, ServerStatus.AUTOCOMMIT, 0, ""));
            TextResultCollector c = new TextResultCollector(deprecateEof);
            assertTrue(feed(c, f));
            assertEquals(2, c.result().resultSets().size());
            assertEquals(List.of(List.of("1", "x")), c.result().resultSets().get(0).rows());
            assertEquals(2, c.result().resultSets().get(1).rows().size());
            assertEquals(ServerStatus.AUTOCOMMIT, c.status(), "MORE_RESULTS_EXISTS is masked");
        }
    }

    @Test
    void okThenMoreResults() {
        List<ByteBuf> f = new ArrayList<>();
        f.add(ok(1, 1, 0, MORE, 0, ""));
        f.addAll(resultSet(true, 0, List.<String[]>of(new String[] {"1", "2"})));
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, f));
        assertEquals(1, c.result().resultSets().size());
    }

    @Test
    void rowOf16MiBSplitAcrossFrames() {
        String big = "x".repeat(FrameBuilder.MAX + 100);
        byte[] payload = FrameBuilder.payload().lenencStr(big).lenencStr("tail").bytes();
        List<ByteBuf> f = new ArrayList<>();
        f.add(FrameBuilder.payload().lenenc(2).frame(1));
        f.add(column(2, "a"));
        f.add(column(3, "b"));
        List<ByteBuf> parts = FrameBuilder.split(4, payload);
        assertEquals(2, parts.size());
        f.addAll(parts);
        f.add(row(6, "small", null));
        f.add(okEof(7, 0, 0));
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, f));
        List<List<String>> rows = c.result().first().rows();
        assertEquals(2, rows.size());
        assertEquals(big.length(), rows.get(0).get(0).length());
        assertEquals("tail", rows.get(0).get(1));
        assertEquals(Arrays.asList("small", null), rows.get(1));
    }

    @Test
    void rowOfExactly16MiBMinus1EndsWithEmptyFrame() {
        int valueLength = FrameBuilder.MAX - 4 - 1; // lenenc header 0xFD + 3 bytes, and a NULL
        byte[] payload = FrameBuilder.payload().lenencStr("y".repeat(valueLength)).u8(0xFB).bytes();
        assertEquals(FrameBuilder.MAX, payload.length);
        List<ByteBuf> f = new ArrayList<>();
        f.add(FrameBuilder.payload().lenenc(2).frame(1));
        f.add(column(2, "a"));
        f.add(column(3, "b"));
        List<ByteBuf> parts = FrameBuilder.split(4, payload);
        assertEquals(2, parts.size());
        f.addAll(parts);
        f.add(okEof(6, 0, 0));
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, f));
        assertEquals(valueLength, c.result().first().rows().get(0).get(0).length());
        assertNull(c.result().first().rows().get(0).get(1));
    }

    @Test
    void localInfileRefused() {
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, List.of(FrameBuilder.payload().u8(0xFB).str("/etc/passwd").frame(1))));
        assertEquals(7000, c.error().code());
    }

    @Test
    void acceptAfterDoneIsIgnored() {
        TextResultCollector c = new TextResultCollector(true);
        assertTrue(feed(c, List.of(ok(1, 1, 0, 0, 0, ""))));
        ByteBuf extra = ok(2, 9, 0, 0, 0, "");
        assertTrue(c.accept(extra));
        extra.release();
        assertEquals(1, c.result().affectedRows());
    }
}
