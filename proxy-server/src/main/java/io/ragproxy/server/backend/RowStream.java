package io.ragproxy.server.backend;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Receives the result set of a query the proxy runs on a session's backend connection <em>as it arrives</em>
 * ({@link io.ragproxy.server.command.StatementSession#queryStream}), instead of the whole answer at once: memory
 * stays bounded by what the receiver keeps, not by the result's size.
 *
 * <p>Every method is called on the session's event loop, in this order: {@link #start} once, then either
 * {@link #columns} once, {@link #row} per row and {@link #end}, or {@link #failed} at any point after
 * {@code start}. Nothing follows {@code end} or {@code failed}. Buffers are borrowed: they are valid during the
 * call only, and the session releases them; copy what you keep.
 */
public interface RowStream {

    /** Called first: how to pause and resume reading the backend while the rows cannot be taken. */
    void start(Reads reads);

    /** The column definitions' payloads (no frame header), in column order. */
    void columns(List<ByteBuf> definitions);

    /**
     * One row's payload in the text protocol (each value a length-encoded string or 0xFB for NULL). A row of
     * 16 MiB or more arrives here whole, its frames joined. Rows keep coming for a moment after
     * {@link Reads#pause()}: those already read from the socket are delivered.
     */
    void row(ByteBuf payload);

    /**
     * The result set ended.
     *
     * @param warnings the warning count of the backend's final EOF or OK packet
     * @param status its server status flags
     */
    void end(int warnings, int status);

    /**
     * The backend answered ERR (a {@link BackendException}), or the connection closed or could not run the query (a
     * {@link io.ragproxy.server.command.ProxyException}).
     */
    void failed(Throwable error);

    /** Flow control over the backend connection's reads. Event loop only. */
    interface Reads {
        /** Stops reading the backend until {@link #resume()}. */
        void pause();

        /** Reads the backend again (as far as the client's own back-pressure allows). */
        void resume();
    }
}
