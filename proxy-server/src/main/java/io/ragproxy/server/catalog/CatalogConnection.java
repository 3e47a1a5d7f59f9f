package io.ragproxy.server.catalog;

import io.ragproxy.server.backend.QueryResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The connection the proxy keeps its catalog (schema {@code ragproxy}) through: an account of the proxy's own, so
 * users need no grant on that schema and cannot change it behind the proxy's back. Futures may complete on any
 * thread; callers that touch a client session hop back to its event loop.
 */
@FunctionalInterface
public interface CatalogConnection {

    /**
     * Runs one statement; fails with a {@link io.ragproxy.server.backend.BackendException} when the backend refuses
     * it, or a {@link io.ragproxy.server.command.ProxyException} {@code CATALOG_UNAVAILABLE} when it cannot be
     * reached.
     */
    CompletableFuture<QueryResult> query(String sql);

    /**
     * Runs {@code statements} in one transaction (committed when all succeed, rolled back otherwise), with no other
     * statement of this connection in between.
     *
     * @return each statement's result, in order
     */
    default CompletableFuture<List<QueryResult>> transaction(List<String> statements) {
        List<QueryResult> results = new ArrayList<>();
        CompletableFuture<QueryResult> chain = query("START TRANSACTION");
        for (String sql : statements) {
            chain = chain.thenCompose(r -> query(sql)).thenApply(r -> {
                results.add(r);
                return r;
            });
        }
        return chain.thenCompose(r -> query("COMMIT")).thenApply(r -> results)
                .exceptionallyCompose(e -> query("ROLLBACK").handle((r, ignored) -> null)
                        .thenCompose(v -> CompletableFuture.failedFuture(e)));
    }

    /** The account this connection logs in as, for messages ({@code user}). */
    default String account() {
        return "the catalog account";
    }
}
