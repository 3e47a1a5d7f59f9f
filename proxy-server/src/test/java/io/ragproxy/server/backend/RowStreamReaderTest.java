package io.ragproxy.server.backend;

import static io.ragproxy.server.testing.FrameBuilder.columnCount;
import static io.ragproxy.server.testing.FrameBuilder.columnDef;
import static io.ragproxy.server.testing.FrameBuilder.eof;
import static io.ragproxy.server.testing.FrameBuilder.err;
import static io.ragproxy.server.testing.FrameBuilder.okEof;
import static io.ragproxy.server.testing.FrameBuilder.textRow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.testing.FrameBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RowStreamReaderTest {

    /** Records what the reader hands over, copying the borrowed buffers' bytes. */
    static final class Recorder implements RowStream {
        final List<String> events = new ArrayList<>();
        final List<Integer> rowSizes = new ArrayList<>();
        Throwable error;
        RuntimeException throwOnRow;

        @Override
        public void start(Reads reads) {
            events.add("start");
        }

        @Override
        public void columns(List<ByteBuf> definitions) {
            events.add("columns " + definitions.size());
        }

        @Override
        public void row(ByteBuf payload) {
            if (throwOnRow != null) {
                throw throwOnRow;
            }
            rowSizes.add(payload.readableBytes());
            events.add("row " + (payload.readableBytes() < 100 ? decode(payload) : payload.readableBytes() + " bytes"));
        }

        @Override
        public void end(int warnings, int status) {
            events.add("end " + warnings + " " + status);
        }

        @Override
        public void failed(Throwable e) {
            error = e;
            events.add("failed");
        }

        private static String decode(ByteBuf p) {
            List<String> values = new ArrayList<>();
            int i = p.readerIndex();
            while (i < p.writerIndex()) {
                if (p.getUnsignedByte(i) == 0xFB) {
                    values.add(null);
                    i++;
                    continue;
                }
                int len = p.getUnsignedByte(i);
                values.add(p.toString(i + 1, len, StandardCharsets.UTF_8));
                i += 1 + len;
            }
            return values.toString();
        }
    }

    /** Feeds frames until the reader says the response is complete; then finishes it. */
    static boolean feed(RowStreamReader reader, ByteBuf... frames) {
        boolean done = false;
        for (ByteBuf f : frames) {
            assertFalse(done, "frames after the end");
            done = reader.accept(f);
            f.release();
        }
        if (done) {
            reader.finish();
        }
        return done;
    }

    @Test
    void resultSetWithEofPackets() {
        Recorder r = new Recorder();
        RowStreamReader reader = new RowStreamReader(false, r);
        assertTrue(feed(reader, columnCount(1, 2), columnDef(2, "id"), columnDef(3, "s"), eof(4, 2),
                textRow(5, "1", "a"), textRow(6, "2", null),
                FrameBuilder.payload().u8(0xFE).u16(3).u16(ServerStatus.AUTOCOMMIT).frame(7)));
        assertEquals(List.of("columns 2", "row [1, a]", "row [2, null]", "end 3 2"), r.events);
    }

    @Test
    void resultSetWithDeprecateEofAndProgressReports() {
        Recorder r = new Recorder();
        RowStreamReader reader = new RowStreamReader(true, r);
        assertTrue(feed(reader, columnCount(1, 1), FrameBuilder.progress(2, 1, 1, 500, "x"), columnDef(2, "id"),
                textRow(3, "1"), FrameBuilder.progress(4, 1, 1, 900, "x"), okEof(5, ServerStatus.IN_TRANS)));
        assertEquals(List.of("columns 1", "row [1]", "end 0 1"), r.events);
        assertEquals(ServerStatus.IN_TRANS, reader.status());
    }

    @Test
    void errorInPlaceOfRows() {
        Recorder r = new Recorder();
        RowStreamReader reader = new RowStreamReader(true, r);
        assertTrue(feed(reader, columnCount(1, 1), columnDef(2, "id"), textRow(3, "1"),
                err(4, 1317, "70100", "Query execution was interrupted")));
        assertEquals(List.of("columns 1", "row [1]", "failed"), r.events);
        BackendException e = assertInstanceOf(BackendException.class, r.error);
        assertEquals(1317, e.code());
        assertEquals("70100", e.sqlState());
    }

    @Test
    void errorInsteadOfAResultSet() {
        Recorder r = new Recorder();
        assertTrue(feed(new RowStreamReader(false, r), err(1, 1146, "42S02", "Table 'x.t' doesn't exist")));
        assertEquals(List.of("failed"), r.events);
        assertEquals(1146, ((BackendException) r.error).code());
    }

    @Test
    void rowOf16MiBOrMoreArrivesWhole() {
        Recorder r = new Recorder();
        RowStreamReader reader = new RowStreamReader(true, r);
        byte[] value = new byte[FrameBuilder.MAX + 10];
        java.util.Arrays.fill(value, (byte) 'x');
        byte[] payload = FrameBuilder.payload().u8(0xFD).u24(value.length).raw(value).bytes();
        List<ByteBuf> parts = FrameBuilder.split(3, payload);
        List<ByteBuf> all = new ArrayList<>(List.of(columnCount(1, 1), columnDef(2, "big")));
        all.addAll(parts);
        all.add(okEof(3 + parts.size(), 2));
        assertTrue(feed(reader, all.toArray(ByteBuf[]::new)));
        assertEquals(List.of(payload.length), r.rowSizes);
        assertEquals("end 0 2", r.events.get(r.events.size() - 1));
    }

    @Test
    void laterResultSetsAreDropped() {
        Recorder r = new Recorder();
        RowStreamReader reader = new RowStreamReader(true, r);
        int more = ServerStatus.AUTOCOMMIT | ServerStatus.MORE_RESULTS_EXISTS;
        assertTrue(feed(reader, columnCount(1, 1), columnDef(2, "a"), textRow(3, "1"), okEof(4, more),
                columnCount(5, 1), columnDef(6, "b"), textRow(7, "2"), okEof(8, more), FrameBuilder.ok(9, 2)));
        assertEquals(List.of("columns 1", "row [1]", "end 0 2"), r.events);
    }

    @Test
    void aReceiverThatThrowsHearsOnceTheResponseIsRead() {
        Recorder r = new Recorder();
        r.throwOnRow = new IllegalStateException("boom");
        RowStreamReader reader = new RowStreamReader(true, r);
        assertFalse(feed(reader, columnCount(1, 1), columnDef(2, "a"), textRow(3, "1"), textRow(4, "2")));
        assertEquals(List.of("columns 1"), r.events, "no failure before the end: the connection is still busy");
        assertTrue(feed(reader, okEof(5, 2)));
        assertEquals(List.of("columns 1", "failed"), r.events);
        assertEquals("boom", r.error.getMessage());
    }

    @Test
    void abortReleasesHeldDefinitions() {
        Recorder r = new Recorder();
        RowStreamReader reader = new RowStreamReader(true, r);
        ByteBuf def = columnDef(2, "a");
        ByteBuf count = columnCount(1, 2);
        reader.accept(count);
        reader.accept(def);
        assertEquals(2, def.refCnt(), "held until the last definition arrives");
        def.release();
        reader.abort(new IllegalStateException("closed"));
        assertEquals(0, def.refCnt());
        assertEquals(List.of("failed"), r.events);
    }
}
