package io.ragproxy.server.command;

import java.util.concurrent.CompletableFuture;

/**
 * Runs a statement of the proxy's own through the statement pipeline (catalog rewrite, plan, execute) on a
 * session, without a reply to the client: for a statement one plan runs as a step of another, such as the vector
 * refresh that follows a {@code LOAD DATA} into a table with auto-embedding columns.
 */
@FunctionalInterface
public interface StatementRunner {

    /**
     * Runs {@code sql} on {@code session}'s backend connection, as the pipeline would run it for the client.
     *
     * @return completes when it ran; fails with its error (a {@link ProxyException}, or the backend's)
     */
    CompletableFuture<Void> run(StatementSession session, String sql);
}
