package io.ragproxy.server.command;

import io.netty.buffer.ByteBuf;
import java.util.Objects;

/**
 * What a {@link StatementPipeline} decided for a flagged statement: either the complete reply, composed by the
 * proxy, or a plain SQL statement for the backend whose response the client then gets as-is.
 */
public sealed interface PipelineResult {

    /** The proxy answers: {@code frames} are the whole response, sequence ids from 1. */
    record Reply(ByteBuf frames) implements PipelineResult {
        public Reply {
            Objects.requireNonNull(frames, "frames");
        }
    }

    /** The backend answers {@code sql}, which holds no AI call any more; its response is relayed unchanged. */
    record Forward(String sql) implements PipelineResult {
        public Forward {
            Objects.requireNonNull(sql, "sql");
        }
    }

    static PipelineResult reply(ByteBuf frames) {
        return new Reply(frames);
    }

    static PipelineResult forward(String sql) {
        return new Forward(sql);
    }
}
