package io.ragproxy.server.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.TextResultCollector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultSetWriterTest {
    static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    static final List<String> COLUMNS = List.of("Name", "Wert ü", "列");
    static final List<List<String>> ROWS = List.of(
            Arrays.asList("a", null, ""),
            Arrays.asList("中文", "🚀", "x".repeat(300)),
            Arrays.asList(null, null, null));

    /** Splits the writer's output into frames, checking sequence ids run from 1. */
    static List<ByteBuf> frames(ByteBuf out) {
        List<ByteBuf> frames = new ArrayList<>();
        int seq = 1;
        while (out.isReadable()) {
            int len = out.getUnsignedMediumLE(out.readerIndex());
            ByteBuf f = out.readSlice(4 + len);
            assertEquals(seq++ & 0xFF, Packets.sequenceId(f));
            frames.add(f);
        }
        return frames;
    }

    static QueryResult roundTrip(boolean deprecateEof, boolean extended, List<String> columns, List<List<String>> rows,
            int expectedFrames) {
        ByteBuf out = new ResultSetWriter(deprecateEof, extended).write(ALLOC, columns, rows, 0x0002);
        try {
            List<ByteBuf> frames = frames(out);
            if (expectedFrames > 0) {
                assertEquals(expectedFrames, frames.size());
            }
            TextResultCollector c = new TextResultCollector(deprecateEof);
            for (int i = 0; i < frames.size(); i++) {
                boolean done = c.accept(frames.get(i));
                assertEquals(i == frames.size() - 1, done, "done at frame " + i);
            }
            assertNull(c.error());
            assertEquals(0x0002, c.status());
            return c.result();
        } finally {
            out.release();
        }
    }

    @Test
    void roundTripsEveryFlavour() {
        for (boolean deprecateEof : new boolean[] {true, false}) {
            for (boolean extended : new boolean[] {true, false}) {
                int frames = 1 + COLUMNS.size() + (deprecateEof ? 0 : 1) + ROWS.size() + 1;
                QueryResult r = roundTrip(deprecateEof, extended, COLUMNS, ROWS, frames);
                assertEquals(1, r.resultSets().size());
                assertEquals(COLUMNS, r.first().columns());
                assertEquals(ROWS, r.first().rows());
            }
        }
    }

    @Test
    void emptyResult() {
        QueryResult r = roundTrip(false, false, List.of("only"), List.of(), 4);
        assertEquals(List.of("only"), r.first().columns());
        assertTrue(r.first().rows().isEmpty());
    }

    @Test
    void columnDefinitionLayout() {
        for (boolean extended : new boolean[] {true, false}) {
            ByteBuf out = new ResultSetWriter(true, extended).write(ALLOC, List.of("col"), List.of(), 0);
            List<ByteBuf> frames = frames(out);
            ByteBuf def = frames.get(1);
            int i = Packets.payloadIndex(def);
            int end = i + Packets.payloadLength(def);
            assertEquals(3, def.getUnsignedByte(i));
            assertEquals("def", def.toString(i + 1, 3, StandardCharsets.US_ASCII));
            i += 4;
            for (int k = 0; k < 3; k++) { // schema, table, org_table: empty
                assertEquals(0, def.getUnsignedByte(i++));
            }
            for (int k = 0; k < 2; k++) { // name, org_name
                assertEquals(3, def.getUnsignedByte(i++));
                assertEquals("col", def.toString(i, 3, StandardCharsets.UTF_8));
                i += 3;
            }
            if (extended) {
                assertEquals(0, def.getUnsignedByte(i++), "empty lenenc extended type info right after org_name");
            }
            assertEquals(0x0C, def.getUnsignedByte(i++), "length of fixed fields");
            assertEquals(45, def.getUnsignedShortLE(i)); // utf8mb4_general_ci
            assertEquals(65535 * 4, def.getIntLE(i + 2));
            assertEquals(0xFD, def.getUnsignedByte(i + 6)); // VAR_STRING
            assertEquals(0, def.getUnsignedShortLE(i + 7)); // flags
            assertEquals(0x1F, def.getUnsignedByte(i + 9)); // decimals
            assertEquals(0, def.getUnsignedShortLE(i + 10)); // filler
            assertEquals(end, i + 12);
            out.release();
        }
    }

    @Test
    void terminators() {
        ByteBuf out = new ResultSetWriter(false, false).write(ALLOC, List.of("a"), List.of(List.of("1")), 0x0003);
        List<ByteBuf> f = frames(out);
        assertEquals(5, f.size());
        ByteBuf eof1 = f.get(2);
        assertEquals(5, Packets.payloadLength(eof1));
        assertEquals(0xFE, Packets.firstByte(eof1));
        assertEquals(0x0003, eof1.getUnsignedShortLE(Packets.payloadIndex(eof1) + 3));
        ByteBuf last = f.get(4);
        assertEquals(0xFE, Packets.firstByte(last));
        assertEquals(5, Packets.payloadLength(last));
        out.release();

        out = new ResultSetWriter(true, false).write(ALLOC, List.of("a"), List.of(List.of("1")), 0x0003);
        f = frames(out);
        assertEquals(4, f.size());
        ByteBuf ok = f.get(3);
        assertEquals(0xFE, Packets.firstByte(ok), "OK packet with the EOF header");
        assertEquals(7, Packets.payloadLength(ok));
        assertEquals(0x0003, ok.getUnsignedShortLE(Packets.payloadIndex(ok) + 3));
        out.release();
    }

    @Test
    void hugeRowSplitsAndSequenceContinues() {
        String big = "z".repeat(Packets.MAX_FRAME_PAYLOAD + 10);
        List<List<String>> rows = List.of(List.of(big), List.of("after"));
        // count, 1 def, row (2 frames), row, terminator
        QueryResult r = roundTrip(true, false, List.of("v"), rows, 6);
        assertEquals(big, r.first().rows().get(0).get(0));
        assertEquals("after", r.first().rows().get(1).get(0));
    }

    @Test
    void manyRowsWrapSequenceIds() {
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            rows.add(List.of(Integer.toString(i)));
        }
        QueryResult r = roundTrip(false, true, List.of("n"), rows, 1 + 1 + 1 + 300 + 1);
        assertEquals(300, r.first().rows().size());
        assertEquals("299", r.first().rows().get(299).get(0));
    }

    @Test
    void rowWidthMismatchRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ResultSetWriter(true, false)
                .write(ALLOC, List.of("a", "b"), List.of(List.of("only one")), 0));
    }
}
