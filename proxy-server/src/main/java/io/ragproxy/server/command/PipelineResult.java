package io.ragproxy.server.command;

import io.netty.buffer.ByteBuf;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link StatementPipeline} decided for a flagged statement: the complete reply, composed by the proxy; a
 * plain SQL statement for the backend whose response the client then gets as-is; or a reply the proxy writes over
 * time (a streamed SELECT).
 */
public sealed interface PipelineResult {

    /** The proxy answers: {@code frames} are the whole response, sequence ids from 1. */
    record Reply(ByteBuf frames) implements PipelineResult {
        public Reply {
            Objects.requireNonNull(frames, "frames");
        }
    }

    /**
     * The backend answers {@code sql}, which holds no AI call any more; its response is relayed unchanged. Then the
     * connection runs {@code afterwards} (dropping the plan's temporary tables) before the client's next command;
     * their results and errors are not shown.
     */
    record Forward(String sql, java.util.List<String> afterwards) implements PipelineResult {
        public Forward {
            Objects.requireNonNull(sql, "sql");
            afterwards = java.util.List.copyOf(afterwards);
        }

        public Forward(String sql) {
            this(sql, java.util.List.of());
        }
    }

    /**
     * The proxy answers packet by packet as it goes: the session calls {@code reply} on its event loop with the
     * client's side of the connection, and holds the client's next commands until the returned future completes.
     * If it fails, the client gets an ERR packet next (in place of the next row, if rows were sent).
     */
    record Streamed(StreamedReply reply) implements PipelineResult {
        public Streamed {
            Objects.requireNonNull(reply, "reply");
        }
    }

    /** Writes a streamed reply. */
    @FunctionalInterface
    interface StreamedReply {
        /**
         * Starts writing to {@code out} (called on the session's event loop).
         *
         * @return completes once the last packet was written with {@link ReplyStream#last}, or fails
         */
        CompletableFuture<Void> start(ReplyStream out);
    }

    static PipelineResult streamed(StreamedReply reply) {
        return new Streamed(reply);
    }

    static PipelineResult reply(ByteBuf frames) {
        return new Reply(frames);
    }

    static PipelineResult forward(String sql) {
        return new Forward(sql);
    }

    static PipelineResult forward(String sql, java.util.List<String> afterwards) {
        return new Forward(sql, afterwards);
    }
}
