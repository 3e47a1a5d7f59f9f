package io.ragproxy.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.buffer.ByteBufAllocator;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.backend.RowStream;
import io.ragproxy.server.backend.RowStreamReader;
import io.ragproxy.server.backend.TextResultCollector;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * The proxy's own queries on the client's backend connection (the pipeline's {@code query} and {@code queryStream}):
 * one at a time, only while no relayed response is open, each read to its end by a {@link TextResultCollector} or a
 * {@link RowStreamReader} instead of going to the client. Event loop only (callers on other threads hop onto it).
 */
final class BackendQueries {
    private final ProxyConnection connection;
    private final Channel client;

    /** The query in progress whose result is collected whole; null when none. */
    private TextResultCollector collector;
    private CompletableFuture<QueryResult> collected;
    /** The proxy's own streamed query (a streamed SELECT), while its response is read. */
    private RowStreamReader streaming;
    /** Whether that stream asked to stop reading the backend (its batches are full). */
    private boolean streamPaused;
    /** The query in progress may relay a LOCAL INFILE request: its first response frame is not read yet. */
    private boolean infileRequestAllowed;
    /** The backend's status flags after the last of the proxy's queries. */
    private int serverStatus = ServerStatus.AUTOCOMMIT;

    BackendQueries(ProxyConnection connection, Channel client) {
        this.connection = connection;
        this.client = client;
    }

    /** Whether a query of the proxy's own owns the backend's responses now. */
    boolean inProgress() {
        return streaming != null || collector != null;
    }

    /** Whether the streamed query asked to stop reading the backend. */
    boolean paused() {
        return streamPaused;
    }

    int serverStatus() {
        return serverStatus;
    }

    /** A backend frame while {@link #inProgress()}: part of the proxy's own query's response. */
    void fromBackend(ByteBuf frame) {
        if (streaming != null) {
            streamFrame(frame);
            return;
        }
        if (infileRequestAllowed) {
            infileRequestAllowed = false;
            if (Packets.firstByte(frame) == 0xFB) {
                // LOAD DATA LOCAL: the client names no file to the proxy; it answers the backend's request.
                connection.local().infileRequested(frame);
                return;
            }
        }
        collect(frame);
    }

    CompletableFuture<QueryResult> query(String sql, boolean relayInfile) {
        if (!client.eventLoop().inEventLoop()) {
            CompletableFuture<QueryResult> hop = new CompletableFuture<>();
            client.eventLoop().execute(() -> query(sql, relayInfile).whenComplete((r, e) -> {
                if (e != null) {
                    hop.completeExceptionally(e);
                } else {
                    hop.complete(r);
                }
            }));
            return hop;
        }
        if (!connection.inCommandPhase() || connection.backendGone()) {
            return CompletableFuture.failedFuture(new ProxyException(ProxyError.INTERNAL, "the connection is closed"));
        }
        if (inProgress() || !connection.commands().backendIdle()) {
            return CompletableFuture.failedFuture(new IllegalStateException("the backend connection is busy"));
        }
        collector = new TextResultCollector(connection.deprecateEof());
        collected = new CompletableFuture<>();
        infileRequestAllowed = relayInfile;
        CompletableFuture<QueryResult> result = collected;
        connection.backend().writeAndFlush(queryFrame(connection.backend().alloc(), connection.statementBytes(sql)));
        return result;
    }

    void queryStream(String sql, RowStream rows) {
        if (!client.eventLoop().inEventLoop()) {
            client.eventLoop().execute(() -> queryStream(sql, rows));
            return;
        }
        if (!connection.inCommandPhase()) {
            rows.failed(new ProxyException(ProxyError.INTERNAL, "the connection is closed"));
            return;
        }
        if (inProgress() || !connection.commands().backendIdle()) {
            rows.failed(new IllegalStateException("the backend connection is busy"));
            return;
        }
        streaming = new RowStreamReader(connection.deprecateEof(), rows);
        rows.start(streamReads);
        connection.backend().writeAndFlush(queryFrame(connection.backend().alloc(), connection.statementBytes(sql)));
    }

    /** A COM_QUERY frame (sequence id 0) carrying {@code sql} in UTF-8. */
    static ByteBuf queryFrame(ByteBufAllocator alloc, String sql) {
        return queryFrame(alloc, sql.getBytes(StandardCharsets.UTF_8));
    }

    /** A COM_QUERY frame (sequence id 0) carrying {@code text}. */
    static ByteBuf queryFrame(ByteBufAllocator alloc, byte[] text) {
        ByteBuf payload = alloc.buffer(1 + text.length);
        payload.writeByte(Commands.COM_QUERY).writeBytes(text);
        return Packets.frame(alloc, 0, payload);
    }

    /** The running stream's hold on the backend's reads. */
    private final RowStream.Reads streamReads = new RowStream.Reads() {
        @Override
        public void pause() {
            streamPaused = true;
            connection.updateReads();
        }

        @Override
        public void resume() {
            streamPaused = false;
            connection.updateReads();
        }
    };

    private void collect(ByteBuf frame) {
        try {
            if (!collector.accept(frame)) {
                return;
            }
        } catch (RuntimeException e) {
            collector.discard();
            collector = null;
            CompletableFuture<QueryResult> f = collected;
            collected = null;
            f.completeExceptionally(new ProxyException(ProxyError.INTERNAL,
                    "ragproxy could not read the backend's answer to its own query: " + ProxyConnection.describe(e), e));
            connection.closeBoth("unreadable backend response");
            return;
        } finally {
            frame.release();
        }
        TextResultCollector done = collector;
        CompletableFuture<QueryResult> f = collected;
        collector = null;
        collected = null;
        serverStatus = done.status();
        if (done.error() != null) {
            f.completeExceptionally(done.error());
        } else {
            f.complete(done.result());
        }
    }

    private void streamFrame(ByteBuf frame) {
        RowStreamReader reader = streaming;
        boolean done;
        try {
            done = reader.accept(frame);
        } catch (RuntimeException e) {
            streaming = null;
            streamPaused = false;
            reader.abort(new ProxyException(ProxyError.INTERNAL,
                    "ragproxy could not read the backend's answer to its own query: " + ProxyConnection.describe(e), e));
            connection.closeBoth("unreadable backend response");
            return;
        } finally {
            frame.release();
        }
        if (done) {
            // Idle again before the stream hears of the end: it may start the next query right away.
            streaming = null;
            streamPaused = false;
            serverStatus = reader.status();
            connection.updateReads();
            reader.finish();
        }
    }

    /** The connection closed: the stream in progress, if any, fails. */
    void abortStream() {
        if (streaming != null) {
            RowStreamReader reader = streaming;
            streaming = null;
            reader.abort(new ProxyException(ProxyError.INTERNAL, "the connection closed"));
        }
    }

    /** Fails the collected query in progress, if any: its connection is gone. */
    void failCollected() {
        infileRequestAllowed = false;
        connection.local().infileEnded();
        if (collector != null) {
            TextResultCollector c = collector;
            CompletableFuture<QueryResult> f = collected;
            collector = null;
            collected = null;
            c.discard();
            f.completeExceptionally(new ProxyException(ProxyError.BACKEND_LOST, "Lost connection to the backend"
                    + " during a query of ragproxy's own"));
        }
    }

    /** The statement that may have asked for a LOCAL INFILE relay ended: no request is expected any more. */
    void statementEnded() {
        infileRequestAllowed = false;
    }
}
