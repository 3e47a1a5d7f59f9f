package io.ragproxy.server.catalog;

import io.ragproxy.server.backend.QueryResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntPredicate;

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
        return transaction(statements, i -> false);
    }

    /**
     * Runs {@code statements} in one transaction like {@link #transaction(List)}, and rolls it back, failing with
     * {@link NothingChanged}, when a statement whose index {@code guarded} accepts affects no row: a conditional
     * write ({@code UPDATE … WHERE owner = …}) whose condition no longer held.
     */
    default CompletableFuture<List<QueryResult>> transaction(List<String> statements, IntPredicate guarded) {
        List<QueryResult> results = new ArrayList<>();
        CompletableFuture<QueryResult> chain = query("START TRANSACTION");
        for (int i = 0; i < statements.size(); i++) {
            String sql = statements.get(i);
            int index = i;
            chain = chain.thenCompose(r -> query(sql)).thenApply(r -> {
                if (guarded.test(index) && r.affectedRows() == 0) {
                    throw new NothingChanged(index);
                }
                results.add(r);
                return r;
            });
        }
        return chain.thenCompose(r -> query("COMMIT")).thenApply(r -> results)
                .exceptionallyCompose(e -> query("ROLLBACK").handle((r, ignored) -> null)
                        .thenCompose(v -> CompletableFuture.failedFuture(e)));
    }

    /** A guarded statement of a transaction affected no row; the transaction was rolled back. */
    final class NothingChanged extends RuntimeException {
        private final int index;

        public NothingChanged(int index) {
            super("statement " + index + " of the transaction changed no row", null, false, false);
            this.index = index;
        }

        /** The statement's index in the transaction. */
        public int index() {
            return index;
        }
    }

    /** The account this connection logs in as, for messages ({@code user}). */
    default String account() {
        return "the catalog account";
    }
}
