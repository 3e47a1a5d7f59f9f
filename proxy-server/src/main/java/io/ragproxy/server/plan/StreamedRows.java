package io.ragproxy.server.plan;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.server.backend.RowStream;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.ReplyStream;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.wire.Packets;
import io.ragproxy.server.wire.ResultSetWriter;
import io.ragproxy.server.text.ClientCharset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One run of a streamed SELECT ({@link StreamedPlanner}): reads the backend's rows as they arrive, fills in the
 * streamed columns batch by batch and writes the rows to the client in the backend's order.
 *
 * <ul>
 *   <li>Rows are gathered into batches of {@code rag_batch_size} (at most {@value #MAX_BATCH_ROWS}); each batch's texts go to the model invoker in one
 *       request per streamed column ({@link LiteralPlanner#results}), which de-duplicates, caches, batches and
 *       bounds the calls' concurrency.</li>
 *   <li>At most {@value #MAX_BATCHES_IN_FLIGHT} batches are with the model at once; when another is full, the
 *       backend's reads pause until the oldest is written. With the client's own back-pressure (the backend is not
 *       read while the client cannot take writes) the rows in hand stay within about three batches plus one socket
 *       read, whatever the result's size.</li>
 *   <li>The backend's column definitions go out as they came (re-sequenced), so clients see the same types; a
 *       streamed column is a LONGTEXT utf8mb4 named by its alias, or by the call as written.</li>
 *   <li>NULL or empty text gives NULL without a call. With {@code rag_on_error = 'null'} a failed input gives NULL
 *       and one warning (an input that failed is not asked again within the statement); with {@code 'error'} the
 *       client gets the model's error in place of the next row, after the rows already sent.</li>
 * </ul>
 *
 * <p>Everything but the model calls runs on the session's event loop; model completions hop there.
 */
final class StreamedRows implements RowStream {
    /** Batches with the model at once; beyond it the backend's reads pause. */
    static final int MAX_BATCHES_IN_FLIGHT = 2;
    /** Most rows per batch whatever rag_batch_size says: the batches in hand are the plan's memory. */
    static final int MAX_BATCH_ROWS = 1024;
    /** Failed inputs remembered (not asked again, not warned twice) per statement. */
    private static final int MAX_REMEMBERED_FAILURES = 4096;

    private final StatementSession session;
    private final ReplyStream out;
    private final LiteralPlanner literals;
    private final List<StreamedPlanner.StreamedColumn> streamed;
    private final RagSettings settings;
    /** Bounds the model calls of all batches in flight together ({@code rag_concurrency} is per statement). */
    private final AsyncLimiter statementLimiter;
    private final int batchSize;
    private final ResultSetWriter writer;
    private final ByteBufAllocator alloc;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final ArrayDeque<Batch> inFlight = new ArrayDeque<>();
    private final Set<String> failedInputs = ConcurrentHashMap.newKeySet();
    private final ModelWarnings warnings;

    private Reads reads;
    private int[] streamedIndex;
    /** The character set of each column's values, from its definition. */
    private ClientCharset[] charsets;
    private Batch filling = new Batch();
    private boolean paused;
    private boolean ended;
    private int endWarnings;
    private int endStatus;
    private Throwable failure;
    private long rowsSent;

    StreamedRows(StatementSession session, ReplyStream out, LiteralPlanner literals,
            List<StreamedPlanner.StreamedColumn> streamed, RagSettings settings) {
        this.session = session;
        this.out = out;
        this.literals = literals;
        this.streamed = streamed;
        this.settings = settings;
        this.statementLimiter = LiteralPlanner.statementLimiter(session, settings);
        this.batchSize = Math.max(1, Math.min(MAX_BATCH_ROWS, settings.invocation().batchSize()));
        this.writer = session.resultSetWriter();
        this.alloc = session.alloc();
        this.warnings = (text, code, message) -> {
            if (failedInputs.size() < MAX_REMEMBERED_FAILURES && !failedInputs.add(text)) {
                return; // already warned (two batches in flight can both meet it)
            }
            session.warn(code, message);
        };
    }

    /** Sends {@code sql} to the backend; completes when the last packet was written, or fails (ERR next). */
    CompletableFuture<Void> run(String sql) {
        session.cancellation().whenComplete((v, e) -> onLoop(() -> fail(new ProxyException(
                ProxyError.QUERY_INTERRUPTED, "the streamed SELECT was interrupted after " + rowsSent + " rows"))));
        session.queryStream(sql, this);
        return done;
    }

    // ---- RowStream: on the event loop ----------------------------------------------------------------------

    @Override
    public void start(Reads reads) {
        this.reads = reads;
    }

    @Override
    public void columns(List<ByteBuf> definitions) {
        if (failure != null) {
            return;
        }
        streamedIndex = new int[definitions.size()];
        charsets = new ClientCharset[definitions.size()];
        for (int c = 0; c < definitions.size(); c++) {
            charsets[c] = ClientCharset.ofCollation(Packets.columnCollationId(definitions.get(c)));
        }
        Arrays.fill(streamedIndex, -1);
        int found = 0;
        for (int c = 0; c < definitions.size(); c++) {
            String name = columnName(definitions.get(c));
            for (int s = 0; s < streamed.size(); s++) {
                if (streamed.get(s).marker().equals(name)) {
                    streamedIndex[c] = s;
                    found++;
                }
            }
        }
        if (found != streamed.size()) {
            fail(new ProxyException(ProxyError.INTERNAL, "the backend's result lacks the columns ragproxy asked for"
                    + " the streamed calls; nothing was sent"));
            return;
        }
        out.packet(writer.columnCount(alloc, definitions.size()));
        for (int c = 0; c < definitions.size(); c++) {
            int s = streamedIndex[c];
            out.packet(s >= 0 ? writer.longTextColumn(alloc, streamed.get(s).label())
                    : definitions.get(c).retainedDuplicate()); // the backend's own definition, so types stay right
        }
        ByteBuf eof = writer.endOfColumns(alloc, session.serverStatus());
        if (eof != null) {
            out.packet(eof);
        }
        out.flush();
    }

    @Override
    public void row(ByteBuf payload) {
        if (failure != null) {
            return; // reading the rest of the response to its end, so the connection is idle again
        }
        filling.rows.add(PendingRow.of(payload, streamedIndex, streamed.size(), charsets));
        if (filling.rows.size() >= batchSize) {
            dispatchIfRoom();
        }
        flow();
    }

    @Override
    public void end(int warnings, int status) {
        ended = true;
        endWarnings = warnings;
        endStatus = status;
        if (failure == null && streamedIndex == null) {
            failure = new ProxyException(ProxyError.INTERNAL, "the backend returned no result set for the streamed"
                    + " SELECT; nothing was sent");
        }
        if (failure != null) {
            done.completeExceptionally(failure);
            return;
        }
        writeReady();
    }

    @Override
    public void failed(Throwable error) {
        ended = true;
        fail(error);
    }

    // ---- batches -------------------------------------------------------------------------------------------

    private void dispatchIfRoom() {
        if (inFlight.size() >= MAX_BATCHES_IN_FLIGHT || filling.rows.isEmpty()) {
            return;
        }
        Batch batch = filling;
        filling = new Batch();
        inFlight.add(batch);
        List<CompletableFuture<List<String>>> perColumn = new ArrayList<>(streamed.size());
        for (int s = 0; s < streamed.size(); s++) {
            List<String> texts = new ArrayList<>(batch.rows.size());
            for (PendingRow row : batch.rows) {
                String text = row.texts[s];
                texts.add(text != null && failedInputs.contains(text) ? null : text);
            }
            perColumn.add(literals.results(streamed.get(s).input(), texts, settings, warnings,
                    session.cancellation(), statementLimiter));
        }
        CompletableFuture.allOf(perColumn.toArray(CompletableFuture[]::new)).whenComplete((v, error) -> {
            List<List<String>> results = error == null ? perColumn.stream().map(CompletableFuture::join).toList() : null;
            // Always a separate task: a batch answered from the cache completes inside dispatch.
            session.eventLoop().execute(() -> batchDone(batch, results, error));
        });
    }

    private void batchDone(Batch batch, List<List<String>> results, Throwable error) {
        if (failure != null) {
            return;
        }
        if (error != null) {
            fail(modelError(error));
            return;
        }
        batch.results = results;
        writeReady();
    }

    /** Writes the finished batches at the head, in order; dispatches what waits; ends the reply when all is out. */
    private void writeReady() {
        boolean wrote = false;
        while (!inFlight.isEmpty() && inFlight.peekFirst().results != null) {
            Batch batch = inFlight.pollFirst();
            for (int r = 0; r < batch.rows.size(); r++) {
                out.packet(encode(batch.rows.get(r), batch.results, r));
                rowsSent++;
            }
            wrote = true;
        }
        if (filling.rows.size() >= batchSize || (ended && !filling.rows.isEmpty())) {
            dispatchIfRoom();
        }
        if (ended && inFlight.isEmpty() && filling.rows.isEmpty()) {
            out.last(writer.endOfRows(alloc, endStatus, endWarnings));
            done.complete(null);
            return;
        }
        if (wrote) {
            out.flush();
            session.progress(rowsSent, -1); // SHOW RAG PROCESSLIST counts the rows sent so far
        }
        flow();
    }

    /** Pauses the backend while two batches are with the model and a third is full; resumes otherwise. */
    private void flow() {
        boolean full = failure == null && !ended && inFlight.size() >= MAX_BATCHES_IN_FLIGHT
                && filling.rows.size() >= batchSize;
        if (full != paused && reads != null) {
            paused = full;
            if (full) {
                reads.pause();
            } else {
                reads.resume();
            }
        }
    }

    /**
     * Stops: drops the rows in hand, reads the backend's response to its end (its rows are discarded), then fails the
     * reply with {@code error}. Model calls already made finish into the cache.
     */
    private void fail(Throwable error) {
        if (done.isDone()) {
            return;
        }
        if (failure == null) {
            failure = error;
            inFlight.clear();
            filling = new Batch();
            flow();
        }
        if (ended) {
            done.completeExceptionally(failure);
        }
    }

    private ProxyException modelError(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        ProxyException e = cause instanceof ProxyException pe ? pe
                : ModelErrors.toProxy(streamed.get(0).function(), streamed.get(0).input().modelId(), cause);
        if (rowsSent == 0) {
            return e;
        }
        String message = e.getMessage().replaceFirst("; nothing was written$", "") + "; the first " + rowsSent
                + " rows were sent before the error";
        return new ProxyException(e.code(), e.sqlState(), message, e);
    }

    private void onLoop(Runnable task) {
        if (session.eventLoop().inEventLoop()) {
            task.run();
        } else {
            session.eventLoop().execute(task);
        }
    }

    /** The row with the streamed columns' results in place of their texts. */
    private ByteBuf encode(PendingRow row, List<List<String>> results, int index) {
        ByteBuf p = alloc.buffer(row.bytes.length + 64);
        for (int c = 0; c < streamedIndex.length; c++) {
            int s = streamedIndex[c];
            if (s < 0) {
                p.writeBytes(row.bytes, row.bounds[c], row.bounds[c + 1] - row.bounds[c]);
                continue;
            }
            String value = results.get(s).get(index);
            if (value == null) {
                p.writeByte(0xFB);
            } else {
                Packets.writeLengthEncodedString(p, writer.encode(value));
            }
        }
        return p;
    }

    /** The name (label) of a column definition payload: after catalog, schema, table and org_table. */
    private static String columnName(ByteBuf definition) {
        int i = definition.readerIndex();
        for (int skip = 0; skip < 4; skip++) {
            long len = Packets.getLengthEncodedInt(definition, i);
            i += Packets.lengthEncodedIntSize(definition, i) + (int) Math.max(0, len);
        }
        long len = Packets.getLengthEncodedInt(definition, i);
        i += Packets.lengthEncodedIntSize(definition, i);
        return definition.toString(i, (int) len, StandardCharsets.UTF_8);
    }

    /** Rows waiting for their model results; results arrive as one list per streamed column. */
    private static final class Batch {
        final List<PendingRow> rows = new ArrayList<>();
        List<List<String>> results;
    }

    /**
     * A row copied out of the backend's buffer: its payload bytes, where each value starts (its length prefix
     * included; the last entry is the end), and the streamed columns' texts.
     */
    private record PendingRow(byte[] bytes, int[] bounds, String[] texts) {
        static PendingRow of(ByteBuf payload, int[] streamedIndex, int streamedCount, ClientCharset[] charsets) {
            int base = payload.readerIndex();
            int end = payload.writerIndex();
            int[] bounds = new int[streamedIndex.length + 1];
            String[] texts = new String[streamedCount];
            int i = base;
            for (int c = 0; c < streamedIndex.length; c++) {
                bounds[c] = i - base;
                if (i >= end) {
                    throw new IllegalStateException("a row from the backend has fewer values than columns");
                }
                if (payload.getUnsignedByte(i) == 0xFB) {
                    i++;
                    continue;
                }
                int size = Packets.lengthEncodedIntSize(payload, i);
                int length = (int) Packets.getLengthEncodedInt(payload, i);
                if (streamedIndex[c] >= 0) {
                    texts[streamedIndex[c]] = ""; // decoded below, in the column's character set
                }
                i += size + length;
            }
            bounds[streamedIndex.length] = i - base;
            byte[] bytes = new byte[i - base];
            payload.getBytes(base, bytes);
            for (int c = 0; c < streamedIndex.length; c++) {
                int s = streamedIndex[c];
                if (s >= 0 && texts[s] != null) {
                    int size = Packets.lengthEncodedIntSize(payload, base + bounds[c]);
                    int length = bounds[c + 1] - bounds[c] - size;
                    texts[s] = charsets[c].decodeValue(bytes, bounds[c] + size, length);
                }
            }
            return new PendingRow(bytes, bounds, texts);
        }
    }
}
