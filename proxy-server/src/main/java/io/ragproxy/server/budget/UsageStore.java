package io.ragproxy.server.budget;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.catalog.CatalogConnection;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Tables {@code ragproxy.budgets} (one row per account: amount, unit, period, who set it, when) and
 * {@code ragproxy.usage} (one row per account, model and UTC day: requests, input and output tokens, estimated cost,
 * cache hits), read and written through the catalog's connection. Usage is written as additive upserts, so any number
 * of proxy instances add to the same rows. The schema and tables are created on the first write; before that, reads
 * find nothing.
 */
final class UsageStore {
    static final String SCHEMA = "ragproxy";
    static final String USAGE = "`" + SCHEMA + "`.`usage`";
    static final String BUDGETS = "`" + SCHEMA + "`.`budgets`";
    private static final int NO_DATABASE = 1049;
    private static final int NO_TABLE = 1146;

    private static final List<String> SET_UP = List.of(
            "CREATE DATABASE IF NOT EXISTS " + SCHEMA + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            "CREATE TABLE IF NOT EXISTS " + USAGE + " (user VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL,"
                    + " model VARCHAR(255) NOT NULL, day DATE NOT NULL, requests BIGINT NOT NULL DEFAULT 0,"
                    + " input_tokens BIGINT NOT NULL DEFAULT 0, output_tokens BIGINT NOT NULL DEFAULT 0,"
                    + " cost_usd DECIMAL(24,10) NOT NULL DEFAULT 0, cache_hits BIGINT NOT NULL DEFAULT 0,"
                    + " PRIMARY KEY (user, host, model, day)) COMMENT 'ragproxy: model usage per account, model and UTC day'",
            "CREATE TABLE IF NOT EXISTS " + BUDGETS + " (user VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL,"
                    + " amount DECIMAL(24,6) NOT NULL, unit VARCHAR(8) NOT NULL, period VARCHAR(8) NOT NULL,"
                    + " set_by VARCHAR(300) NOT NULL, set_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
                    + " PRIMARY KEY (user, host)) COMMENT 'ragproxy: SET RAG BUDGET'");

    /** One row of {@code ragproxy.budgets}. */
    record BudgetRow(Budget budget, String setBy, String setAt) {
    }

    /** One row of {@code ragproxy.usage} (or a sum of rows). */
    record UsageRow(Account account, String model, LocalDate day, Spend spend) {
    }

    /** The key of a usage row. */
    record Key(Account account, String model, LocalDate day) {
    }

    private final CatalogConnection connection;

    UsageStore(CatalogConnection connection) {
        this.connection = connection;
    }

    /** Adds {@code deltas} to their rows, creating the rows (and tables) that do not exist yet. */
    CompletableFuture<Void> add(Map<Key, Spend> deltas) {
        if (deltas.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(USAGE).append(" (user, host, model, day, requests,"
                + " input_tokens, output_tokens, cost_usd, cache_hits) VALUES ");
        boolean first = true;
        for (Map.Entry<Key, Spend> e : deltas.entrySet()) {
            Key k = e.getKey();
            Spend s = e.getValue();
            sql.append(first ? "" : ", ").append('(').append(literal(k.account().user())).append(", ")
                    .append(literal(k.account().host())).append(", ").append(literal(k.model())).append(", '")
                    .append(k.day()).append("', ").append(s.requests()).append(", ").append(s.inputTokens())
                    .append(", ").append(s.outputTokens()).append(", ")
                    .append(BigDecimal.valueOf(s.costUsd()).setScale(10, java.math.RoundingMode.HALF_UP).toPlainString())
                    .append(", ").append(s.cacheHits()).append(')');
            first = false;
        }
        sql.append(" ON DUPLICATE KEY UPDATE requests = requests + VALUES(requests), input_tokens = input_tokens"
                + " + VALUES(input_tokens), output_tokens = output_tokens + VALUES(output_tokens), cost_usd = cost_usd"
                + " + VALUES(cost_usd), cache_hits = cache_hits + VALUES(cache_hits)");
        String statement = sql.toString();
        return write(() -> connection.query(statement)).thenApply(r -> null);
    }

    /** Sets (or, with {@code budget} null, removes) the budget of {@code account}; completes with the rows changed. */
    CompletableFuture<Long> setBudget(Account account, Budget budget, String setBy) {
        String sql = budget == null
                ? "DELETE FROM " + BUDGETS + " WHERE user = " + literal(account.user()) + " AND host = "
                        + literal(account.host())
                : "INSERT INTO " + BUDGETS + " (user, host, amount, unit, period, set_by) VALUES ("
                        + literal(account.user()) + ", " + literal(account.host()) + ", "
                        + budget.limit().toPlainString() + ", '" + budget.unit() + "', '" + budget.period() + "', "
                        + literal(setBy) + ") ON DUPLICATE KEY UPDATE amount = VALUES(amount), unit = VALUES(unit),"
                        + " period = VALUES(period), set_by = VALUES(set_by), set_at = CURRENT_TIMESTAMP(6)";
        return write(() -> connection.query(sql)).thenApply(QueryResult::affectedRows);
    }

    /** Every budget, by account. */
    CompletableFuture<List<BudgetRow>> budgets() {
        return read("SELECT user, host, amount, unit, period, set_by, set_at FROM " + BUDGETS
                + " ORDER BY user, host").thenApply(rows -> {
                    List<BudgetRow> out = new ArrayList<>();
                    for (List<String> r : rows) {
                        out.add(new BudgetRow(new Budget(new Account(r.get(0), r.get(1)), new BigDecimal(r.get(2)),
                                Budget.Unit.parse(r.get(3)), Budget.Period.parse(r.get(4))), r.get(5), r.get(6)));
                    }
                    return out;
                });
    }

    /**
     * Usage rows from {@code since} on; with {@code user}, that user's only (and with {@code host}, that account's);
     * with {@code byModel} false, summed over the models of each account and day (model "").
     */
    CompletableFuture<List<UsageRow>> usage(LocalDate since, String user, String host, boolean byModel) {
        StringBuilder sql = new StringBuilder("SELECT user, host, ").append(byModel ? "model" : "''")
                .append(", day, SUM(requests), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd), SUM(cache_hits)"
                        + " FROM ").append(USAGE).append(" WHERE day >= '").append(since).append('\'');
        if (user != null) {
            sql.append(" AND user = ").append(literal(user));
        }
        if (host != null) {
            sql.append(" AND host = ").append(literal(host));
        }
        sql.append(" GROUP BY user, host").append(byModel ? ", model" : "").append(", day ORDER BY day, user, host")
                .append(byModel ? ", model" : "");
        return read(sql.toString()).thenApply(rows -> {
            List<UsageRow> out = new ArrayList<>();
            for (List<String> r : rows) {
                out.add(new UsageRow(new Account(r.get(0), r.get(1)), r.get(2), LocalDate.parse(r.get(3)),
                        new Spend(Long.parseLong(r.get(4)), Long.parseLong(r.get(5)), Long.parseLong(r.get(6)),
                                new BigDecimal(r.get(7)).doubleValue(), Long.parseLong(r.get(8)))));
            }
            return out;
        });
    }

    /** The rows of {@code sql}; none when the schema or table does not exist yet. */
    private CompletableFuture<List<List<String>>> read(String sql) {
        return connection.query(sql).thenApply(r -> r.first().rows()).exceptionallyCompose(e -> {
            BackendException be = backendError(e);
            return be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)
                    ? CompletableFuture.completedFuture(List.of()) : CompletableFuture.failedFuture(e);
        });
    }

    /** Runs a write; when the schema or a table is missing, creates them and runs it again. */
    private <T> CompletableFuture<T> write(Supplier<CompletableFuture<T>> write) {
        return write.get().exceptionallyCompose(e -> {
            BackendException be = backendError(e);
            if (be == null || (be.code() != NO_DATABASE && be.code() != NO_TABLE)) {
                return CompletableFuture.failedFuture(e);
            }
            CompletableFuture<QueryResult> setUp = CompletableFuture.completedFuture(null);
            for (String ddl : SET_UP) {
                setUp = setUp.thenCompose(r -> connection.query(ddl));
            }
            return setUp.thenCompose(r -> write.get());
        });
    }

    static BackendException backendError(Throwable e) {
        return BackendException.in(e);
    }

    /** A string literal read alike under every sql_mode: the UTF-8 bytes in hex. */
    static String literal(String text) {
        return "CONVERT(X'" + HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)) + "' USING utf8mb4)";
    }
}
