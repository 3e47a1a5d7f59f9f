package io.ragproxy.server.plan;

import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * The <em>materialized</em> plan of DESIGN.md §3, for AI calls over columns anywhere: nested in select-list
 * expressions, in WHERE, GROUP BY, HAVING and ORDER BY, in UPDATE … SET and DELETE, in INSERT … SELECT and
 * CREATE TABLE … AS SELECT, in derived tables and joins, and calls nested in other calls' arguments.
 *
 * <p>For each call the backend first lists the distinct argument values the statement can reach: {@code SELECT
 * DISTINCT} of the argument over the call's own query block (its FROM and joins, and the WHERE conditions that do
 * not themselves wait for AI results, so the list is a superset of what the statement reads). The proxy calls the
 * model once per distinct value (concurrently, batched, cached), then hands the backend the original statement
 * with each call replaced by a lookup of its result keyed by {@code SHA2(CONVERT(argument USING utf8mb4), 256)}:
 * inline {@code CASE} constants when there are few, else a session temporary table ({@code ragproxy_results_N},
 * dropped when the statement's response has been relayed). Filters, sorts, joins, grouping and backend functions
 * over AI results are therefore the backend's, and the statement itself is still one statement: as atomic as any
 * other on the backend.
 *
 * <p>Calls whose arguments wait for other calls (nested calls; a call in a derived table that an outer call reads)
 * are resolved in rounds. The cost guard counts each round's distinct values before its model calls (a reranker's
 * texts for one query by the requests they take, a batch each); the rows gathered are bounded by {@code rag_max_calls}.
 * Model and options arguments (RERANK_SCORE's query) must be constants: {@code ORDER BY RERANK_SCORE('q', content)
 * DESC LIMIT 5} scores every candidate row's content first, then the backend sorts and limits.
 */
public final class MaterializedPlanner {
    /** At most this many results are written inline as CASE constants; more go to a temporary table. */
    static final int INLINE_MAX_VALUES = 32;
    /** At most this many characters of results are written inline. */
    static final int INLINE_MAX_CHARS = 64 * 1024;
    private static final int INSERT_CHUNK_CHARS = 1 << 20;
    private static final String RESULTS_TABLE = "ragproxy_results_";
    private static final Set<String> AGGREGATES = Set.of("COUNT", "SUM", "AVG", "MIN", "MAX", "GROUP_CONCAT",
            "JSON_ARRAYAGG", "JSON_OBJECTAGG", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP",
            "VAR_SAMP", "BIT_AND", "BIT_OR", "BIT_XOR");

    private final LiteralPlanner literals;

    public MaterializedPlanner(LiteralPlanner literals) {
        this.literals = literals;
    }

    /**
     * Whether this plan takes {@code analysis}: some AI call reads columns or sits in another call's arguments,
     * and no call is ANSWER (which has its own plan, or its own error).
     */
    public static boolean applies(StatementAnalysis analysis) {
        boolean any = false;
        Set<Function> nodes = Collections.newSetFromMap(new IdentityHashMap<>());
        analysis.calls().forEach(c -> nodes.add(c.node()));
        for (AiCall call : analysis.calls()) {
            if (call.function() == AiFunction.ANSWER) {
                return false;
            }
            if (StatementAnalysis.firstColumn(call.text()) != null) {
                any = true;
            }
            for (Function inner : FunctionCollector.collect(call.text())) {
                any |= inner != call.node() && nodes.contains(inner);
            }
        }
        return any;
    }

    /**
     * A planned statement.
     *
     * @param backendSql the statement the backend runs (for a dry run, with results elided)
     * @param cleanup statements to run after the backend's response to {@code backendSql} (dropping temporary
     *        tables); empty for a dry run
     * @param modelInputs distinct model inputs (for a dry run, counted by the backend; calls over other calls'
     *        results count their rows, an upper bound)
     * @param models the model ids called
     */
    public record MaterializedPlan(String backendSql, List<String> cleanup, long modelInputs, List<String> models) {
        public MaterializedPlan {
            cleanup = List.copyOf(cleanup);
            models = List.copyOf(models);
        }
    }

    /**
     * Plans {@code analysis} (which the plan then owns and mutates): gathers the distinct arguments, calls the
     * models, and fills the temporary tables the returned statement reads. A dry run (EXPLAIN RAG) only counts.
     */
    public CompletableFuture<MaterializedPlan> plan(StatementSession session, StatementAnalysis analysis,
            Dialect dialect, RagSettings settings, boolean dryRun) {
        return new Run(session, analysis, dialect, settings, dryRun).start();
    }

    /** One statement's planning state; used from one future chain at a time. */
    private final class Run {
        private final StatementSession session;
        private final StatementAnalysis analysis;
        private final Dialect dialect;
        private final RagSettings settings;
        /** Bounds the model calls of all of the statement's calls and rounds together. */
        private final AsyncLimiter statementLimiter;
        private final boolean dryRun;
        private final Map<Function, Object> scopes = new IdentityHashMap<>();
        private final Set<AiCall> overColumns = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Set<AiCall> overCalls = Collections.newSetFromMap(new IdentityHashMap<>());
        private final SqlRenderer renderer;
        private final List<AiCall> pending;
        /** Replacements to expand into further SQL (for a dry run, NULL stand-ins). */
        private final Map<AiCall, String> resolved = Collections.synchronizedMap(new IdentityHashMap<>());
        /** What the client sees in a dry run's Backend_sql. */
        private final Map<AiCall, String> shown = Collections.synchronizedMap(new IdentityHashMap<>());
        private final Map<AiCall, LiteralPlanner.ModelInput> inputs = new IdentityHashMap<>();
        private final List<String> cleanup = new ArrayList<>();
        private final Set<String> models = new LinkedHashSet<>();
        private long modelInputs;

        Run(StatementSession session, StatementAnalysis analysis, Dialect dialect, RagSettings settings,
                boolean dryRun) {
            this.session = session;
            this.analysis = analysis;
            this.dialect = dialect;
            this.settings = settings;
            this.statementLimiter = LiteralPlanner.statementLimiter(session, settings);
            this.dryRun = dryRun;
            // Scopes and dependencies are read before the renderer empties the calls' argument lists.
            Set<Function> nodes = Collections.newSetFromMap(new IdentityHashMap<>());
            analysis.calls().forEach(c -> nodes.add(c.node()));
            Deque<Object> stack = new ArrayDeque<>();
            FunctionCollector.visit(analysis.statement(), new FunctionCollector.TreeVisitor() {
                @Override
                public void enter(Object node) {
                    if (node instanceof Function f && nodes.contains(f)) {
                        scopes.put(f, stack.peek());
                    }
                    if (isScope(node)) {
                        stack.push(node);
                    }
                }

                @Override
                public void exit(Object node) {
                    if (isScope(node)) {
                        stack.pop();
                    }
                }
            });
            for (AiCall call : analysis.calls()) {
                if (StatementAnalysis.firstColumn(call.text()) != null) {
                    overColumns.add(call);
                }
                for (Function inner : FunctionCollector.collect(call.text())) {
                    if (inner != call.node() && nodes.contains(inner)) {
                        overCalls.add(call);
                    }
                }
            }
            this.renderer = new SqlRenderer(analysis, dialect);
            this.pending = new ArrayList<>(analysis.calls());
        }

        CompletableFuture<MaterializedPlan> start() {
            return resolveInputs().thenCompose(v -> round()).thenApply(v -> new MaterializedPlan(
                    dryRun ? renderer.render(shown) : renderer.render(resolved), cleanup, modelInputs,
                    List.copyOf(models)));
        }

        /** Resolves every call's model and options; constant expressions other than literals ask the backend. */
        private CompletableFuture<Void> resolveInputs() {
            List<Expression> constants = new ArrayList<>();
            for (AiCall call : analysis.calls()) {
                for (Expression e : java.util.Arrays.asList(call.model(), call.options())) {
                    if (e != null && StatementAnalysis.firstColumn(e) != null) {
                        throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, call.function() + "()'s model and"
                                + (call.function().reranks() ? " query" : " options") + " must be constants (literals or"
                                + " @variables), not columns (" + e + ")");
                    }
                    constants.add(e);
                }
            }
            return ConstantValues.evaluate(session, constants).thenAccept(values -> {
                for (AiCall call : analysis.calls()) {
                    String model = call.model() == null ? null : values.get(call.model());
                    String options = call.options() == null ? null : values.get(call.options());
                    LiteralPlanner.ModelInput input = literals.resolve(call, null, model, options, settings,
                            analysis.stored(call) || isCreateTableAsSelect());
                    inputs.put(call, input);
                    models.add(input.modelId());
                }
            });
        }

        private boolean isCreateTableAsSelect() {
            return analysis.statement() instanceof CreateTable;
        }

        /** Resolves every call whose arguments no longer wait for another call, then the next round. */
        private CompletableFuture<Void> round() {
            if (pending.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            List<Gather> ready = new ArrayList<>();
            for (AiCall call : pending) {
                Gather g = gather(call);
                if (g != null) {
                    ready.add(g);
                }
            }
            if (ready.isEmpty()) {
                AiCall stuck = pending.get(0);
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "ragproxy cannot find the rows " + stuck
                        .function() + "() reads without first knowing its own results (an AI call in a JOIN's ON, in"
                        + " GROUP BY next to an aggregate argument, or in a query block with no FROM); move the call"
                        + " into a derived table, e.g. SELECT … FROM (SELECT …, " + stuck.function() + "(…) AS r FROM"
                        + " t) d WHERE …");
            }
            ready.forEach(g -> pending.remove(g.call()));
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (Gather g : ready) {
                chain = chain.thenCompose(v -> fetch(g));
            }
            return chain.thenCompose(v -> dryRun ? elide(ready) : invoke(ready)).thenCompose(v -> round());
        }

        /** The gathering query for {@code call}, or null while its SQL still waits for other calls' results. */
        private Gather gather(AiCall call) {
            String text = renderer.expand(textSql(call), resolved);
            if (!renderer.resolved(text)) {
                return null;
            }
            Object literal = overCalls.contains(call) ? ConstantValues.NOT_LITERAL : ConstantValues.literal(call.text());
            if (literal != ConstantValues.NOT_LITERAL) {
                List<String> texts = new ArrayList<>();
                texts.add((String) literal);
                return new Gather(call, text, null, null, true, texts);
            }
            String distinct = "CAST(CONVERT(" + text + " USING utf8mb4) AS BINARY)";
            if (!overColumns.contains(call)) {
                return new Gather(call, text, "SELECT " + distinct, null, true, new ArrayList<>());
            }
            Object scope = scopes.get(call.node());
            Set<String> ownTables = new java.util.HashSet<>();
            String from = from(scope, call, ownTables);
            if (from == null) {
                return null;
            }
            String where = where(scope, ownTables);
            String groupBy = "";
            if (scope instanceof PlainSelect select && select.getGroupBy() != null && hasAggregate(call.text())) {
                groupBy = " " + renderer.expand(select.getGroupBy().toString(), resolved);
                if (!renderer.resolved(groupBy)) {
                    return null;
                }
            }
            String body = " FROM " + from + where + groupBy;
            return new Gather(call, text, "SELECT DISTINCT " + distinct + " AS k" + body,
                    "SELECT COUNT(k) FROM (SELECT DISTINCT " + distinct + " AS k" + body + ") q WHERE k <> ''", false,
                    new ArrayList<>());
        }

        /** Runs {@code g}'s query: the distinct values (bounded by what the cost guard allows), or their count. */
        private CompletableFuture<Void> fetch(Gather g) {
            // CHUNK_TEXT calls no model: its values are listed whole and cost nothing against rag_max_calls.
            boolean local = g.call().function().local();
            LiteralPlanner.ModelInput input = inputs.get(g.call());
            if (g.query() == null) { // a literal argument
                modelInputs += local ? 0 : literals.requests(input, g.texts().stream().filter(t -> t != null && !t.isEmpty()).count());
                return CompletableFuture.completedFuture(null);
            }
            if (dryRun && !g.constant() && local) {
                return CompletableFuture.completedFuture(null);
            }
            if (dryRun && !g.constant()) {
                String count = overCalls.contains(g.call())
                        ? "SELECT COUNT(*) FROM (" + g.query().replaceFirst("^SELECT DISTINCT ", "SELECT ") + ") q"
                        : g.countQuery();
                return ask(g, count).thenAccept(r -> {
                    String v = r.first().rows().get(0).get(0);
                    modelInputs += v == null ? 0 : literals.requests(input, Long.parseLong(v));
                });
            }
            long budget = Math.max(0, settings.maxCalls() - modelInputs);
            String sql = g.constant() || local ? g.query()
                    : g.query() + " LIMIT " + (literals.textsWithin(input, budget) + 3); // + NULL and ''
            return ask(g, sql).thenCompose(r -> {
                for (List<String> row : r.first().rows()) {
                    String v = row.get(0);
                    if (g.constant() || (v != null && !v.isEmpty())) {
                        g.texts().add(v);
                    }
                }
                if (local) {
                    return CompletableFuture.completedFuture(null);
                }
                long distinct = literals.requests(input, g.texts().stream().filter(t -> t != null && !t.isEmpty()).count());
                if (modelInputs + distinct <= settings.maxCalls()) {
                    modelInputs += distinct;
                    return CompletableFuture.completedFuture(null);
                }
                return ask(g, g.countQuery()).thenAccept(c -> {
                    long total = modelInputs + literals.requests(input, Long.parseLong(c.first().rows().get(0).get(0)));
                    throw new ProxyException(ProxyError.TOO_MANY_CALLS, "the statement needs " + total
                            + " distinct model inputs, more than rag_max_calls = " + settings.maxCalls()
                            + "; raise it with SET rag_max_calls = " + total + " if that is intended");
                });
            });
        }

        private CompletableFuture<io.ragproxy.server.backend.QueryResult> ask(Gather g, String sql) {
            return session.query(sql).exceptionally(error -> {
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                if (cause instanceof BackendException be) {
                    String hint = be.code() == 1054 || be.code() == 1109 ? " (an AI call's argument may name a select-list alias or a"
                            + " column of an outer query; write the expression itself, and keep correlated"
                            + " columns out of AI calls)" : "";
                    throw new ProxyException(be.code(), be.sqlState(), be.getMessage() + hint + "; ragproxy got this"
                            + " while listing the arguments of " + g.call().function() + "() with: "
                            + abbreviated(sql), be);
                }
                throw cause instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(cause);
            });
        }

        /** Calls the models for the round's values and stores each call's replacement. */
        private CompletableFuture<Void> invoke(List<Gather> ready) {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (Gather g : ready) {
                List<String> texts = g.texts();
                all.add(literals.results(inputs.get(g.call()), texts, settings,
                        (text, code, message) -> session.warn(code, message), session.cancellation(), statementLimiter)
                        .thenAccept(results -> resolved.put(g.call(), replacement(g, texts, results))));
            }
            // Temporary tables are written one query at a time, after the model calls.
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenCompose(v -> writeTables());
        }

        private final List<TableWrite> tablesToWrite = new ArrayList<>();

        /**
         * Writes the round's temporary tables. Where the session may not create one (no default database, or no
         * CREATE TEMPORARY TABLES privilege on it: a read-only account), the call's results are written inline
         * instead, which works for any account at a cost that grows with rows × results.
         */
        private CompletableFuture<Void> writeTables() {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            List<TableWrite> writes;
            synchronized (tablesToWrite) {
                writes = new ArrayList<>(tablesToWrite);
                tablesToWrite.clear();
            }
            for (TableWrite write : writes) {
                chain = chain.thenCompose(v -> write.statements().isEmpty() ? CompletableFuture.<Void>completedFuture(null)
                        : session.query(write.statements().get(0)).thenApply(r -> (Void) null)
                                .thenCompose(x -> rest(write.statements()))
                                .exceptionally(error -> {
                                    Throwable cause = error instanceof java.util.concurrent.CompletionException
                                            && error.getCause() != null ? error.getCause() : error;
                                    if (!(cause instanceof BackendException be) || !NO_TEMPORARY_TABLE.contains(be.code())) {
                                        throw error instanceof RuntimeException re ? re
                                                : new java.util.concurrent.CompletionException(error);
                                    }
                                    resolved.put(write.call(), write.inline());
                                    synchronized (cleanup) {
                                        cleanup.remove(write.drop());
                                    }
                                    return null;
                                }));
            }
            return chain;
        }

        private CompletableFuture<Void> rest(List<String> statements) {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (String sql : statements.subList(1, statements.size())) {
                chain = chain.thenCompose(v -> session.query(sql)).thenApply(r -> null);
            }
            return chain;
        }

        /** The SQL that stands for {@code g}'s call: a literal for constant arguments, else a lookup by hash. */
        private String replacement(Gather g, List<String> texts, List<String> results) {
            AiCall call = g.call();
            boolean embeds = call.function().embeds();
            if (g.constant()) {
                String value = results.isEmpty() ? null : results.get(0);
                String text = value == null ? "NULL" : ConstantValues.quote(value);
                return embeds ? LiteralPlanner.embeddingOfText(call, value, dialect)
                        : call.function().reranks() ? LiteralPlanner.scoreSql(text) : text;
            }
            Map<String, String> byHash = new LinkedHashMap<>();
            long chars = 0;
            for (int i = 0; i < texts.size(); i++) {
                String r = results.get(i);
                if (r != null) {
                    byHash.put(sha256(texts.get(i)), r);
                    chars += r.length() + 70;
                }
            }
            // The statement's own argument (in an UPDATE the backend itself reads earlier SET columns' new values).
            String key = "SHA2(CONVERT(" + call.text() + " USING utf8mb4), 256)";
            if (byHash.isEmpty()) {
                return value(call, "NULL");
            }
            StringBuilder inline = new StringBuilder("CASE ").append(key);
            byHash.forEach((h, r) -> inline.append(" WHEN '").append(h).append("' THEN ").append(ConstantValues.quote(r)));
            String cases = inline.append(" END").toString();
            if (byHash.size() <= INLINE_MAX_VALUES && chars <= INLINE_MAX_CHARS) {
                return value(call, cases);
            }
            String table = RESULTS_TABLE + analysis.calls().indexOf(call);
            String drop = "DROP TEMPORARY TABLE IF EXISTS " + table;
            synchronized (tablesToWrite) {
                tablesToWrite.add(new TableWrite(call, tableStatements(table, byHash), drop, value(call, cases)));
            }
            synchronized (cleanup) {
                cleanup.add(drop);
            }
            return value(call, "(SELECT r FROM " + table + " WHERE h = " + key + ")");
        }

        /** What stands for {@code call} given the SQL of its result (text, or a vector's text). */
        private String value(AiCall call, String lookup) {
            if (call.function().reranks()) {
                return LiteralPlanner.scoreSql(lookup);
            }
            boolean embeds = call.function().embeds();
            String value = embeds ? dialect.vectorFromText(lookup) : lookup;
            if (embeds && call.function().vectorArg() < 0 && dialect == Dialect.MARIADB && isCreateTableAsSelect()) {
                // MariaDB ≥ 11.8.9 types VEC_FromText(<expression>) as VECTOR(<a bound from the text's length>), so a
                // CREATE TABLE … AS SELECT column would refuse the real vectors; bytes make a VARBINARY column instead
                // (declare the column, CREATE TABLE t (v VECTOR(n)) SELECT …, for a VECTOR one).
                value = "CAST(" + value + " AS BINARY)";
            }
            return LiteralPlanner.embeddingOrDistance(call, value, dialect);
        }

        /** EXPLAIN RAG: no model call; the backend SQL shows what each call becomes, results elided. */
        private CompletableFuture<Void> elide(List<Gather> ready) {
            for (Gather g : ready) {
                AiCall call = g.call();
                String from = inputs.get(call).modelId();
                String what = call.function().embeds() ? "vector" : call.function().reranks() ? "score" : "text";
                String stand = g.constant() ? "'…" + what + " from " + from + "…'"
                        : "CASE SHA2(CONVERT(" + call.text() + " USING utf8mb4), 256) WHEN … THEN '…" + what + " from "
                                + from + "…' END";
                if (call.function().embeds()) {
                    stand = LiteralPlanner.embeddingOrDistance(call, dialect.vectorFromText(stand), dialect);
                } else if (call.function().reranks()) {
                    stand = LiteralPlanner.scoreSql(stand);
                }
                shown.put(call, stand);
                resolved.put(call, call.function().embeds() ? LiteralPlanner.embeddingOrDistance(call, "NULL", dialect)
                        : call.function().reranks() ? LiteralPlanner.scoreSql("NULL") : "NULL");
            }
            return CompletableFuture.completedFuture(null);
        }

        /**
         * The call's text argument as SQL. In an UPDATE, columns assigned earlier in the SET list stand for their
         * new values (MySQL assigns left to right), so {@code SET body = 'x', v = EMBED(body)} embeds 'x'.
         */
        private String textSql(AiCall call) {
            if (!(scopes.get(call.node()) instanceof Update u)) {
                return call.text().toString();
            }
            Map<String, Expression> assigned = new LinkedHashMap<>();
            outer:
            for (UpdateSet set : u.getUpdateSets()) {
                for (int i = 0; i < set.getColumns().size(); i++) {
                    Expression value = i < set.getValues().size() ? set.getValues().get(i) : null;
                    if (value != null && FunctionCollector.collect(value).contains(call.node())) {
                        break outer;
                    }
                    assigned.put(normalized(set.getColumns().get(i).getColumnName()), value);
                }
            }
            List<Column> columns = FunctionCollector.collect(call.text(), Column.class);
            List<Runnable> restore = new ArrayList<>();
            for (Column c : columns) {
                Expression value = assigned.get(normalized(c.getColumnName()));
                if (value != null && !ConstantValues.isDoubleQuotedString(c)) {
                    String name = c.getColumnName();
                    Table table = c.getTable();
                    c.setColumnName("(" + value + ")");
                    c.setTable(null);
                    restore.add(() -> {
                        c.setColumnName(name);
                        c.setTable(table);
                    });
                }
            }
            try {
                return call.text().toString();
            } finally {
                restore.forEach(Runnable::run);
            }
        }

        /**
         * The FROM clause (with joins) of the call's query block, or null while it waits for other calls. A joined
         * table function whose argument is the call itself ({@code JSON_TABLE(CHUNK_TEXT(d.body), …) j}) is left
         * out, and its alias added to {@code ownTables}: the arguments come from the tables before it.
         */
        private String from(Object scope, AiCall call, Set<String> ownTables) {
            StringBuilder b = new StringBuilder();
            List<Join> joins;
            if (scope instanceof PlainSelect select && select.getFromItem() != null) {
                b.append(select.getFromItem());
                joins = select.getJoins();
            } else if (scope instanceof Update u) {
                b.append(u.getTable());
                joins = u.getStartJoins() != null ? u.getStartJoins() : u.getJoins();
            } else if (scope instanceof Delete d && d.getTable() != null) {
                b.append(d.getTable());
                joins = d.getJoins();
            } else {
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, call.function() + "() reads columns ("
                        + StatementAnalysis.firstColumn(call.text()) + ") where ragproxy cannot list their values"
                        + " (INSERT … VALUES, ON DUPLICATE KEY UPDATE, or a query block without FROM); use INSERT …"
                        + " SELECT or UPDATE … SET, or constant arguments");
            }
            if (joins != null) {
                for (Join join : joins) {
                    if (join.getFromItem() instanceof net.sf.jsqlparser.statement.select.TableFunction tf
                            && FunctionCollector.collect(tf).contains(call.node())) {
                        if (tf.getAlias() != null) {
                            ownTables.add(normalized(tf.getAlias().getName()));
                        }
                        continue;
                    }
                    String sql = renderer.expand(join.toString(), resolved);
                    if (!renderer.resolved(sql) && join.getOnExpressions() != null && !join.getOnExpressions().isEmpty()) {
                        // A join condition waiting for AI results: join every row (a superset) to list arguments.
                        List<Expression> on = new ArrayList<>(join.getOnExpressions());
                        join.setOnExpressions(List.of(new LongValue(1)));
                        try {
                            sql = renderer.expand(join.toString(), resolved);
                        } finally {
                            join.setOnExpressions(on);
                        }
                    }
                    b.append(join.isSimple() ? ", " : " ").append(sql);
                }
            }
            String from = renderer.expand(b.toString(), resolved);
            return renderer.resolved(from) ? from : null;
        }

        /**
         * The WHERE clause of the call's query block without the conditions that wait for AI results or read the
         * table functions {@link #from} left out ({@code ownTables}).
         */
        private String where(Object scope, Set<String> ownTables) {
            Expression where = scope instanceof PlainSelect s ? s.getWhere()
                    : scope instanceof Update u ? u.getWhere() : scope instanceof Delete d ? d.getWhere() : null;
            if (where == null) {
                return "";
            }
            List<String> kept = new ArrayList<>();
            for (Expression conjunct : conjuncts(where)) {
                if (!ownTables.isEmpty() && FunctionCollector.collect(conjunct, Column.class).stream().anyMatch(c ->
                        c.getTable() != null && c.getTable().getName() != null
                                && ownTables.contains(normalized(c.getTable().getName())))) {
                    continue;
                }
                String sql = renderer.expand(conjunct.toString(), resolved);
                if (renderer.resolved(sql)) {
                    kept.add("(" + sql + ")");
                }
            }
            return kept.isEmpty() ? "" : " WHERE " + String.join(" AND ", kept);
        }
    }

    /**
     * A temporary table of one call's results: the statements that create and fill it, the clean-up statement that
     * drops it, and the call's replacement with its results inline, for a session that may not create the table.
     */
    private record TableWrite(AiCall call, List<String> statements, String drop, String inline) {}

    /**
     * Backend errors that mean the session may not create a temporary table here: no database selected (1046),
     * access denied to the database (1044), CREATE TEMPORARY TABLES not granted (1142), read-only (1290, 1792).
     */
    private static final Set<Integer> NO_TEMPORARY_TABLE = Set.of(1044, 1046, 1142, 1290, 1792);

    /** A call's gathering query and the distinct texts it returned. */
    private record Gather(AiCall call, String text, String query, String countQuery, boolean constant,
            List<String> texts) {}

    private static boolean isScope(Object node) {
        return node instanceof PlainSelect || node instanceof Update || node instanceof Delete;
    }

    private static List<Expression> conjuncts(Expression e) {
        List<Expression> out = new ArrayList<>();
        if (e instanceof AndExpression and) {
            out.addAll(conjuncts(and.getLeftExpression()));
            out.addAll(conjuncts(and.getRightExpression()));
        } else {
            out.add(e);
        }
        return out;
    }

    private static boolean hasAggregate(Expression e) {
        for (Object node : FunctionCollector.collect(e, Object.class)) {
            if (node instanceof net.sf.jsqlparser.expression.MySQLGroupConcat
                    || node instanceof net.sf.jsqlparser.expression.JsonAggregateFunction
                    || (node instanceof Function f && f.getName() != null
                            && AGGREGATES.contains(f.getName().toUpperCase(Locale.ROOT)))) {
                return true;
            }
        }
        return false;
    }

    private static String normalized(String identifier) {
        return ConstantValues.unquoteIdentifier(identifier).toLowerCase(Locale.ROOT);
    }

    /** CREATE and fill a session temporary table of results keyed by the argument's SHA-256. */
    private static List<String> tableStatements(String table, Map<String, String> byHash) {
        List<String> out = new ArrayList<>();
        out.add("DROP TEMPORARY TABLE IF EXISTS " + table);
        out.add("CREATE TEMPORARY TABLE " + table + " (h BINARY(64) NOT NULL PRIMARY KEY,"
                + " r LONGTEXT CHARACTER SET utf8mb4)");
        StringBuilder insert = null;
        for (Map.Entry<String, String> e : byHash.entrySet()) {
            if (insert == null) {
                insert = new StringBuilder("INSERT INTO ").append(table).append(" (h, r) VALUES ");
            } else {
                insert.append(", ");
            }
            insert.append("('").append(e.getKey()).append("', ").append(ConstantValues.quote(e.getValue())).append(')');
            if (insert.length() > INSERT_CHUNK_CHARS) {
                out.add(insert.toString());
                insert = null;
            }
        }
        if (insert != null) {
            out.add(insert.toString());
        }
        return out;
    }

    /** Lower-case hex SHA-256 of the text's UTF-8 bytes, as the backend's {@code SHA2(…, 256)} writes it. */
    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static String abbreviated(String sql) {
        return sql.length() <= 300 ? sql : sql.substring(0, 300) + "…";
    }
}
