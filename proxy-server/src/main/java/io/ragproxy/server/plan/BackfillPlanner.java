package io.ragproxy.server.plan;

import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.protocol.ServerStatus;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * The <em>backfill</em> plan of DESIGN.md §3, for {@code UPDATE t SET v = EMBED(c) [, …] [WHERE …]}: keyset pages by
 * the table's primary key, each page's model calls concurrent (and cached), each page written with one UPDATE while
 * the next page's model calls run.
 *
 * <p>In autocommit mode every page commits on its own, so a 100k-row backfill never holds a 100k-row transaction
 * (TiDB limits transaction size), and re-running the statement after a failure or a KILL QUERY resumes where it
 * stopped when its WHERE selects unfinished rows ({@code WHERE v IS NULL}). Inside a transaction the pages run under a savepoint
 * and a failure rolls all of them back, so the UPDATE is atomic there.
 */
public final class BackfillPlanner {
    /** Rows per page: one SELECT, one batch of model calls, one UPDATE. */
    static final int PAGE_ROWS = 500;
    private static final String SAVEPOINT = "ragproxy_backfill";
    private static final Pattern ROWS_MATCHED = Pattern.compile("Rows matched: (\\d+)");

    private final LiteralPlanner literals;

    public BackfillPlanner(LiteralPlanner literals) {
        this.literals = literals;
    }

    /**
     * Whether the backfill plan takes {@code analysis}: a single-table UPDATE without ORDER BY or LIMIT whose AI
     * calls are all whole SET values of EMBED, EMBED_TEXT or GENERATE, at least one over columns, with literal
     * model and options arguments, and none in the WHERE clause.
     */
    public static boolean applies(StatementAnalysis analysis) {
        if (!(analysis.statement() instanceof Update u) || analysis.calls().isEmpty()) {
            return false;
        }
        if ((u.getJoins() != null && !u.getJoins().isEmpty()) || (u.getStartJoins() != null && !u.getStartJoins().isEmpty())
                || u.getFromItem() != null || u.getOrderByElements() != null || u.getLimit() != null
                || u.getReturningClause() != null) {
            return false;
        }
        Map<Function, Boolean> setValues = new IdentityHashMap<>();
        java.util.Set<String> assigned = new java.util.HashSet<>();
        for (UpdateSet set : u.getUpdateSets()) {
            for (int i = 0; i < set.getValues().size(); i++) {
                if (set.getValues().get(i) instanceof Function f && AiFunction.named(f.getName()) != null) {
                    // The page query reads stored values; MySQL's SET reads earlier assignments' new values.
                    for (Column c : FunctionCollector.collect(f, Column.class)) {
                        if (assigned.contains(ConstantValues.unquoteIdentifier(c.getColumnName()).toLowerCase(java.util.Locale.ROOT))) {
                            return false;
                        }
                    }
                    setValues.put(f, true);
                }
                if (i < set.getColumns().size()) {
                    assigned.add(ConstantValues.unquoteIdentifier(set.getColumns().get(i).getColumnName())
                            .toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
        boolean overColumns = false;
        for (AiCall call : analysis.calls()) {
            AiFunction f = call.function();
            if (!setValues.containsKey(call.node())
                    || (f != AiFunction.EMBED && f != AiFunction.EMBED_TEXT && f != AiFunction.GENERATE)) {
                return false;
            }
            for (Expression e : java.util.Arrays.asList(call.model(), call.options())) {
                if (e != null && ConstantValues.literal(e) == ConstantValues.NOT_LITERAL) {
                    return false;
                }
            }
            overColumns |= StatementAnalysis.firstColumn(call.text()) != null;
        }
        return overColumns;
    }

    /**
     * EXPLAIN RAG's row for a backfill: plan, distinct model inputs (counted by the backend), models, and the page
     * query and update. Reads the primary key and the count; calls no model and writes nothing.
     */
    public CompletableFuture<List<String>> explain(StatementSession session, StatementAnalysis analysis,
            RagSettings settings) {
        Update u = (Update) analysis.statement();
        List<BackfillCall> calls = resolve(analysis, settings);
        String models = String.join(", ", calls.stream().map(c -> c.input().modelId()).distinct().toList());
        return primaryKey(session, u.getTable()).thenCompose(pk -> session.query(countQuery(u, analysis))
                .thenApply(r -> java.util.Arrays.asList("backfill", r.first().rows().get(0).get(0), models,
                        describe(analysis, pk))));
    }

    private String describe(StatementAnalysis analysis, String primaryKey) {
        Update u = (Update) analysis.statement();
        return pageQuery(u, analysis, primaryKey, "<last key>") + "; UPDATE " + u.getTable() + " SET … = CASE "
                + primaryKey + " WHEN … END WHERE " + primaryKey + " IN (…)" + (u.getWhere() == null ? ""
                : " AND (" + u.getWhere() + ")") + " AND <the row's texts are those read>  -- pages of " + PAGE_ROWS + " rows, each committed in autocommit"
                + " mode; a page's model calls run while the page before it is written";
    }

    /**
     * Runs the backfill; completes with the OK packet's counters. When the session's {@link
     * StatementSession#cancellation()} completes (KILL QUERY, the client went away) it stops before the next page's
     * write, cancels the model calls still outstanding and fails with 1317, saying how many rows were committed
     * (inside a transaction: rolled back to the savepoint, as for a failure).
     */
    public CompletableFuture<BackfillResult> run(StatementSession session, StatementAnalysis analysis, Dialect dialect,
            RagSettings settings) {
        Update u = (Update) analysis.statement();
        Progress progress = new Progress();
        CompletableFuture<Void> cancellation = session.cancellation();
        // Completes when the run stops early, killed or failed: every model call it still waits for is cancelled.
        CompletableFuture<Void> stop = new CompletableFuture<>();
        cancellation.thenRun(() -> stop.complete(null));
        return primaryKey(session, u.getTable())
                .thenCompose(pk -> guard(session, u, analysis, settings).thenCompose(count -> {
                    boolean atomic = (session.serverStatus() & ServerStatus.IN_TRANS) != 0
                            || (session.serverStatus() & ServerStatus.AUTOCOMMIT) == 0;
                    progress.atomic = atomic;
                    Pages pages = new Pages(session, u, analysis, pk, resolve(analysis, settings), dialect, settings,
                            progress, cancellation, stop);
                    CompletableFuture<Void> start = atomic
                            ? session.query("SAVEPOINT " + SAVEPOINT).thenApply(r -> {
                                progress.savepointSet = true;
                                return null;
                            })
                            : CompletableFuture.completedFuture(null);
                    return start.thenCompose(v -> pages.fetch(null)).thenCompose(first -> pages.write(first,
                                    pages.fetchAfter(first)))
                            .thenCompose(v -> atomic ? session.query("RELEASE SAVEPOINT " + SAVEPOINT).thenApply(r -> null)
                                    : CompletableFuture.completedFuture(null));
                }))
                .handle((v, error) -> {
                    if (error == null) {
                        return CompletableFuture.completedFuture(new BackfillResult(progress.matched, progress.changed));
                    }
                    stop.complete(null);
                    return failed(session, progress, error, cancellation.isDone());
                })
                .thenCompose(f -> f);
    }

    /**
     * The error of a backfill that stopped: the cause (the backend's own error, say a 1317 when KILL QUERY hit a page
     * query; a model failure; or 1317 for a cancellation) and what became of the pages already written.
     */
    private CompletableFuture<BackfillResult> failed(StatementSession session, Progress progress, Throwable error,
            boolean cancelled) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        boolean lost = session.backendLost();
        ProxyException pe = lost ? new ProxyException(ProxyError.BACKEND_LOST, "Lost connection to the backend during"
                        + " the backfill")
                : cancelled ? new ProxyException(ProxyError.QUERY_INTERRUPTED, "Query execution was interrupted")
                : cause instanceof ProxyException p ? p
                : new ProxyException(ProxyError.INTERNAL, "the backfill failed: " + cause.getMessage(), cause);
        if (lost && (!progress.started || (progress.changed == 0 && progress.writing == 0))) {
            return CompletableFuture.failedFuture(new ProxyException(ProxyError.BACKEND_LOST, "Lost connection to the"
                    + " backend during the backfill, before it wrote anything; reconnect and run the statement again"));
        }
        if (lost && progress.atomic) {
            // The backend rolls back the transaction of a connection that ends: no savepoint to return to.
            return CompletableFuture.failedFuture(new ProxyException(ProxyError.BACKEND_LOST, "Lost connection to the"
                    + " backend during the backfill; it ran inside a transaction, which the backend rolled back with"
                    + " the connection (its " + progress.changed + " changed rows included); reconnect and run it again"));
        }
        if (!progress.started) {
            // failed before writing anything
            return CompletableFuture.failedFuture(cancelled ? new ProxyException(ProxyError.QUERY_INTERRUPTED,
                    "Query execution was interrupted before the backfill wrote anything") : pe);
        }
        String what = progress.atomic
                ? " The UPDATE ran inside a transaction: its " + progress.changed + " changed rows were rolled back."
                : " " + progress.changed + " rows were already written and committed" + (progress.writing == 0 ? ""
                        : " (and perhaps the " + progress.writing + " rows of the page being written when the connection"
                        + " ended)") + "; " + (lost ? "reconnect and " : "") + "run the statement again to continue (its WHERE should select only unfinished"
                        + " rows, e.g. WHERE v IS NULL).";
        ProxyException reported = new ProxyException(pe.code(), pe.sqlState(), pe.getMessage() + ";" + what, pe);
        if (!progress.atomic || !progress.savepointSet) {
            return CompletableFuture.failedFuture(reported);
        }
        return session.query("ROLLBACK TO SAVEPOINT " + SAVEPOINT)
                .handle((r, e) -> {
                    throw new java.util.concurrent.CompletionException(reported);
                });
    }

    /** The table's single-column primary key, from information_schema. */
    private static CompletableFuture<String> primaryKey(StatementSession session, Table table) {
        String schema = table.getSchemaName() == null ? "DATABASE()"
                : ConstantValues.quote(ConstantValues.unquoteIdentifier(table.getSchemaName()));
        String sql = "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = " + schema
                + " AND TABLE_NAME = " + ConstantValues.quote(ConstantValues.unquoteIdentifier(table.getName()))
                + " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION";
        return session.query(sql).thenApply(r -> {
            List<List<String>> rows = r.first().rows();
            if (rows.size() != 1) {
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "UPDATE … SET col = EMBED(column) pages"
                        + " through the table by its primary key, and " + table + (rows.isEmpty()
                        ? " has none" : " has a composite one") + "; add a single-column primary key, or update in"
                        + " chunks with constant arguments");
            }
            return "`" + rows.get(0).get(0).replace("`", "``") + "`";
        });
    }

    /** The cost guard: the distinct texts the statement needs, counted by the backend before any model call. */
    private static CompletableFuture<Long> guard(StatementSession session, Update u, StatementAnalysis analysis,
            RagSettings settings) {
        return session.query(countQuery(u, analysis)).thenApply(r -> {
            String v = r.first().rows().get(0).get(0);
            long count = v == null ? 0 : Long.parseLong(v);
            String rows = r.first().rows().get(0).get(1);
            session.progress(0, rows == null ? 0 : Long.parseLong(rows));
            if (count > settings.maxCalls()) {
                throw new ProxyException(ProxyError.TOO_MANY_CALLS, "the statement needs " + count
                        + " distinct model inputs, more than rag_max_calls = " + settings.maxCalls()
                        + "; raise it with SET rag_max_calls = " + count + " if that is intended");
            }
            return count;
        });
    }

    private static String countQuery(Update u, StatementAnalysis analysis) {
        StringBuilder sql = new StringBuilder("SELECT ");
        List<AiCall> calls = analysis.calls();
        for (int i = 0; i < calls.size(); i++) {
            sql.append(i == 0 ? "" : " + ").append("COUNT(DISTINCT ").append(calls.get(i).text()).append(')');
        }
        sql.append(", COUNT(*)"); // the rows to update, for progress reports
        sql.append(" FROM ").append(u.getTable());
        if (u.getWhere() != null) {
            sql.append(" WHERE ").append(u.getWhere());
        }
        return sql.toString();
    }

    /** A SET column whose value is an AI call, with its model and options resolved. */
    private record BackfillCall(UpdateSet set, int index, AiCall call, LiteralPlanner.ModelInput input) {}

    private List<BackfillCall> resolve(StatementAnalysis analysis, RagSettings settings) {
        Update u = (Update) analysis.statement();
        List<BackfillCall> out = new ArrayList<>();
        for (AiCall call : analysis.calls()) {
            String model = call.model() == null ? null : (String) ConstantValues.literal(call.model());
            String options = call.options() == null ? null : (String) ConstantValues.literal(call.options());
            for (UpdateSet set : u.getUpdateSets()) {
                for (int i = 0; i < set.getValues().size(); i++) {
                    if (set.getValues().get(i) == call.node()) {
                        out.add(new BackfillCall(set, i, call, literals.resolve(call, null, model, options, settings, true)));
                    }
                }
            }
        }
        return out;
    }

    private static String pageQuery(Update u, StatementAnalysis analysis, String pk, String after) {
        StringBuilder sql = new StringBuilder("SELECT ").append(pk);
        for (AiCall call : analysis.calls()) {
            sql.append(", ").append(call.text());
        }
        sql.append(" FROM ").append(u.getTable());
        List<String> conditions = new ArrayList<>();
        if (u.getWhere() != null) {
            conditions.add("(" + u.getWhere() + ")");
        }
        if (after != null) {
            conditions.add(pk + " > " + after);
        }
        if (!conditions.isEmpty()) {
            sql.append(" WHERE ").append(String.join(" AND ", conditions));
        }
        return sql.append(" ORDER BY ").append(pk).append(" LIMIT ").append(PAGE_ROWS).toString();
    }

    /** A page: its rows ({@code pk, text…}) and, per AI call, its model results in row order (already started). */
    private record Page(List<List<String>> rows, List<CompletableFuture<List<String>>> values) {
        static final Page NONE = new Page(List.of(), List.of());
    }

    /**
     * One run's pages, overlapped so that the model never waits on a page boundary: page k+1 is read and its model
     * calls are queued (behind page k's, under the statement's one {@code rag_concurrency} limiter) as soon as
     * page k's calls are, and page k is written once its results are in, while page k+1's calls run; then page k+2
     * is read. Without the overlap every page ends with a tail where fewer calls than the limit are in flight (at
     * concurrency 64 and 150 ms per call that cost a fifth of the throughput). The backend connection still runs one
     * query at a time, and the pages' keys are disjoint, so reading k+1 before writing k reads the same rows as after
     * it. A failure anywhere stops before any further write; the model calls of both pages are then cancelled.
     */
    private final class Pages {
        private final StatementSession session;
        private final Update u;
        private final StatementAnalysis analysis;
        private final String pk;
        private final List<BackfillCall> calls;
        private final Dialect dialect;
        private final RagSettings settings;
        private final Progress progress;
        private final CompletableFuture<Void> cancellation;
        private final CompletableFuture<Void> stop;
        private final AsyncLimiter statementLimiter;

        Pages(StatementSession session, Update u, StatementAnalysis analysis, String pk, List<BackfillCall> calls,
                Dialect dialect, RagSettings settings, Progress progress, CompletableFuture<Void> cancellation,
                CompletableFuture<Void> stop) {
            this.session = session;
            this.u = u;
            this.analysis = analysis;
            this.pk = pk;
            this.calls = calls;
            this.dialect = dialect;
            this.settings = settings;
            this.progress = progress;
            this.cancellation = cancellation;
            this.stop = stop;
            this.statementLimiter = LiteralPlanner.statementLimiter(session, settings);
        }

        /** Reads the page after key {@code after} (null: the first page) and starts its model calls. */
        CompletableFuture<Page> fetch(String after) {
            stopIfCancelled();
            progress.started = true;
            return session.query(pageQuery(u, analysis, pk, after)).thenApply(result -> {
                List<List<String>> rows = result.first().rows();
                if (rows.isEmpty()) {
                    return Page.NONE;
                }
                List<CompletableFuture<List<String>>> values = new ArrayList<>();
                for (int c = 0; c < calls.size(); c++) {
                    int column = c + 1;
                    List<String> texts = rows.stream().map(row -> row.get(column)).toList();
                    values.add(literals.results(calls.get(c).input(), texts, settings,
                            (text, code, message) -> session.warn(code, message), stop, statementLimiter));
                }
                return new Page(rows, values);
            });
        }

        /** The page after {@code page} (reading it starts its model calls), or none when {@code page} was the last. */
        CompletableFuture<Page> fetchAfter(Page page) {
            List<List<String>> rows = page.rows();
            return rows.size() < PAGE_ROWS ? CompletableFuture.completedFuture(Page.NONE)
                    : fetch(ConstantValues.quote(rows.get(rows.size() - 1).get(0)));
        }

        /**
         * Writes {@code page} once its model results are in and {@code next} (already read, its calls queued) has
         * been read, then reads the page after {@code next} and goes on with {@code next}.
         */
        CompletableFuture<Void> write(Page page, CompletableFuture<Page> next) {
            if (page.rows().isEmpty()) {
                return next.thenApply(none -> null);
            }
            List<List<String>> rows = page.rows();
            return next.thenCompose(following -> CompletableFuture.allOf(page.values().toArray(CompletableFuture[]::new))
                    .thenCompose(v -> {
                        stopIfCancelled(); // killed: no further write
                        progress.writing = rows.size();
                        return session.query(pageUpdate(u, pk, rows, calls, page.values(), dialect))
                                .whenComplete((written, e) -> {
                                    // The backend's error means the page was not written; with no answer at all
                                    // (the connection ended under it) nobody knows, and the error says so.
                                    if (e == null || unwrap(e) instanceof BackendException) {
                                        progress.writing = 0;
                                    }
                                })
                                .thenCompose(written -> {
                                    count(progress, written, rows.size(), session);
                                    // A page whose calls already failed stops the run: read no further page.
                                    boolean failed = following.values().stream()
                                            .anyMatch(CompletableFuture::isCompletedExceptionally);
                                    return write(following, failed ? CompletableFuture.completedFuture(Page.NONE)
                                            : fetchAfter(following));
                                });
                    }));
        }

        private void stopIfCancelled() {
            if (cancellation.isDone()) {
                throw new ProxyException(ProxyError.QUERY_INTERRUPTED, "Query execution was interrupted");
            }
        }
    }

    private static String pageUpdate(Update u, String pk, List<List<String>> rows, List<BackfillCall> calls,
            List<CompletableFuture<List<String>>> values, Dialect dialect) {
        Map<Expression, String> replaced = new IdentityHashMap<>();
        for (int c = 0; c < calls.size(); c++) {
            List<String> results = values.get(c).join();
            boolean vector = calls.get(c).input().embedOptions() != null;
            StringBuilder cases = new StringBuilder("CASE ").append(pk);
            for (int r = 0; r < rows.size(); r++) {
                String result = results.get(r);
                String literal = result == null ? "NULL" : vector ? dialect.vectorLiteralOfText(result) : ConstantValues.quote(result);
                cases.append(" WHEN ").append(ConstantValues.quote(rows.get(r).get(0))).append(" THEN ").append(literal);
            }
            replaced.put(calls.get(c).call().node(), cases.append(" END").toString());
        }
        StringBuilder sql = new StringBuilder("UPDATE ").append(u.getTable()).append(" SET ");
        boolean first = true;
        for (UpdateSet set : u.getUpdateSets()) {
            for (int i = 0; i < set.getColumns().size(); i++) {
                Column column = set.getColumns().get(i);
                Expression value = set.getValues().get(i);
                sql.append(first ? "" : ", ").append(column).append(" = ")
                        .append(replaced.containsKey(value) ? replaced.get(value) : value.toString());
                first = false;
            }
        }
        sql.append(" WHERE ").append(pk).append(" IN (");
        for (int r = 0; r < rows.size(); r++) {
            sql.append(r == 0 ? "" : ", ").append(ConstantValues.quote(rows.get(r).get(0)));
        }
        sql.append(')');
        if (u.getWhere() != null) {
            sql.append(" AND (").append(u.getWhere()).append(')');
        }
        // Only rows whose texts are still the ones the results were made from: a text changed since the page was
        // read keeps its old values (a refresh finds it stale and makes it again) rather than getting a vector of
        // its old text beside a source hash of its new one.
        sql.append(" AND CASE ").append(pk);
        for (List<String> row : rows) {
            sql.append(" WHEN ").append(ConstantValues.quote(row.get(0))).append(" THEN ");
            for (int c = 0; c < calls.size(); c++) {
                String text = row.get(c + 1);
                String argument = calls.get(c).call().text().toString();
                sql.append(c == 0 ? "" : " AND ").append(text == null ? "(" + argument + ") IS NULL"
                        : "SHA2(CONVERT((" + argument + ") USING utf8mb4), 256) = '" + MaterializedPlanner.sha256(text)
                                + "'");
            }
        }
        return sql.append(" END").toString();
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private static void count(Progress progress, QueryResult written, int pageRows, StatementSession session) {
        progress.changed += written.affectedRows();
        Matcher m = ROWS_MATCHED.matcher(written.info());
        progress.matched += m.find() ? Long.parseLong(m.group(1)) : written.affectedRows();
        progress.done += pageRows;
        session.progress(progress.done, -1);
    }

    /** Counters of a running backfill (touched on one thread at a time, in the future chain's order). */
    private static final class Progress {
        volatile long matched;
        volatile long changed;
        /** Rows of the pages written so far (whether or not the UPDATE changed them). */
        volatile long done;
        volatile boolean atomic;
        volatile boolean savepointSet;
        volatile boolean started;
        /** Rows of the page UPDATE sent and not answered yet (its outcome unknown if the connection ends). */
        volatile int writing;
    }

    /**
     * @param matched rows the page UPDATEs matched
     * @param changed rows they changed
     */
    public record BackfillResult(long matched, long changed) {}
}
