package io.ragproxy.server.command;

import io.netty.buffer.ByteBuf;

/**
 * The client's side of a streamed reply ({@link PipelineResult.Streamed}): packets go out framed with the next
 * sequence ids. Event loop only. Writes are queued; the session's back-pressure stops reading the backend while
 * the client does not keep up, so what is queued stays bounded by what the writer has in hand.
 */
public interface ReplyStream {

    /** Frames {@code payload} (consumed and released) as the reply's next packet and queues it. */
    void packet(ByteBuf payload);

    /**
     * Frames the reply's final OK or EOF packet (consumed), adds the proxy warnings the statement raised to its
     * warning count, and flushes. Nothing may follow.
     */
    void last(ByteBuf payload);

    /** Sends what is queued. */
    void flush();
}
