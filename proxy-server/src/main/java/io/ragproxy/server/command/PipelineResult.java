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
