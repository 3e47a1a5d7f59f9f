package io.ragproxy.server.plan;

import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * The <em>streamed</em> plan of DESIGN.md §3, for a {@code SELECT} whose text-valued AI calls over columns are whole
 * items of its select list:
 * <pre>{@code SELECT id, GENERATE(CONCAT('Summarize: ', body)) AS s FROM docs WHERE … ORDER BY id}</pre>
 * The backend computes each call's text argument in the call's place (under a marker label); the proxy reads the
 * rows <em>as they arrive</em> ({@link StatementSession#queryStream}), fills in the model's results batch by batch
 * ({@link StreamedRows}) and streams the rows to the client in the backend's order. Memory is bounded by the batches
 * in hand, not by the result's size.
 *
 * <p>Taken when: the statement is a plain {@code SELECT} (no UNION, no {@code INTO}); every AI call whose arguments
 * read columns is a whole select-list item of a text-valued function ({@code GENERATE}; embeddings over columns
 * are left to the materialized plan, which lets the backend type them); its model and options arguments are
 * constants. The statement's other AI calls, those with constant arguments (in {@code WHERE}, {@code ORDER BY},
 * other select items, or inside a streamed call's text), are substituted by the {@link LiteralPlanner} first.
 *
 * <p><b>Cost guard.</b> {@code rag_max_calls} counts distinct model inputs and is checked before the first model call
 * over rows. The number of rows is not known up front, so the backend counts:
 * {@code SELECT COUNT(DISTINCT NULLIF(CAST(m AS CHAR), '')) FROM (<the streamed statement>) q}, the same statement the
 * rows will come from, NULL and empty texts left out (they need no call). The count costs a second pass over the
 * rows, so it is skipped when the statement's own {@code LIMIT n} proves the bound: {@code n} rows times the
 * streamed calls, plus the constant inputs, within {@code rag_max_calls}. Constant AI calls are made before the
 * count (the backend needs their results to select the rows; they are within the limit on their own). A table
 * that grows between the count and the read is not re-checked.
 *
 * <p>{@code EXPLAIN RAG} shows the plan, the distinct count (from the same backend count; without a model call, so a
 * statement that also has constant AI calls shows the count bound by its LIMIT, or {@code ?}), the models and the
 * streamed statement.
 */
public final class StreamedPlanner {
    /** MySQL's "Duplicate column name": a derived table's columns need distinct names. */
    private static final int ER_DUP_FIELDNAME = 1060;

    private final LiteralPlanner literals;

    public StreamedPlanner(LiteralPlanner literals) {
        this.literals = literals;
    }

    /** Whether this plan takes {@code analysis} (see the class comment). */
    public static boolean applies(StatementAnalysis analysis) {
        if (!(analysis.statement() instanceof PlainSelect select) || !analysis.suffix().isEmpty()
                || select.getIntoTables() != null) {
            return false;
        }
        Set<Function> items = Collections.newSetFromMap(new IdentityHashMap<>());
        for (SelectItem<?> item : select.getSelectItems()) {
            if (item.getExpression() instanceof Function f) {
                items.add(f);
            }
        }
        boolean any = false;
        for (AiCall call : analysis.calls()) {
            if (!readsColumns(call)) {
                continue; // constant: the literal plan's
            }
            if (!items.contains(call.node()) || !streams(call.function())
                    || !isConstant(call.model()) || !isConstant(call.options())) {
                return false;
            }
            any = true;
        }
        return any;
    }

    /**
     * Text-valued functions, whose results the proxy can send as LONGTEXT without the backend typing them
     * (RERANK_SCORE is a number, and wants all of a query's texts together: the materialized plan's).
     */
    private static boolean streams(AiFunction f) {
        return !f.embeds() && f != AiFunction.ANSWER && !f.reranks();
    }

    private static boolean readsColumns(AiCall call) {
        return call.modelInputs().stream().anyMatch(e -> StatementAnalysis.firstColumn(e) != null);
    }

    private static boolean isConstant(Expression e) {
        return e == null || StatementAnalysis.firstColumn(e) == null;
    }

    /**
     * Plans and runs the statement: constant calls, the cost guard, then a reply that streams the rows. Fails (ERR
     * before any row) for unknown models, bad options or too many inputs.
     *
     * @param check the pipeline's last check that no AI call is left in SQL bound for the backend
     */
    public CompletableFuture<PipelineResult> run(StatementSession session, StatementAnalysis analysis, Dialect dialect,
            RagSettings settings, UnaryOperator<String> check) {
        return prepare(session, analysis, settings).thenCompose(prepared ->
                literals.plan(session, prepared.sql(), dialect, settings, false).thenCompose(plan -> {
                    String backendSql = check.apply(plan.backendSql());
                    return guard(session, prepared, plan.modelInputs(), backendSql, settings).thenApply(counted ->
                            PipelineResult.streamed(out -> new StreamedRows(session, out, literals, prepared.columns(),
                                    settings).run(backendSql)));
                }));
    }

    /** EXPLAIN RAG's row: plan, distinct model inputs, models, the streamed statement. Calls no model. */
    public CompletableFuture<List<String>> explain(StatementSession session, StatementAnalysis analysis,
            Dialect dialect, RagSettings settings) {
        return prepare(session, analysis, settings).thenCompose(prepared ->
                literals.plan(session, prepared.sql(), dialect, settings, true).thenCompose(plan -> {
                    Set<String> models = new LinkedHashSet<>();
                    prepared.columns().forEach(c -> models.add(c.input().modelId()));
                    models.addAll(plan.models());
                    int constant = plan.modelInputs();
                    CompletableFuture<String> inputs;
                    if (constant == 0) {
                        inputs = count(session, plan.backendSql(), prepared.columns()).thenApply(String::valueOf);
                    } else {
                        // The count needs the constant calls' results, which EXPLAIN does not ask for.
                        Long limit = prepared.rowLimit();
                        inputs = CompletableFuture.completedFuture(constant + " + " + (limit == null ? "?"
                                : "at most " + limit * prepared.columns().size()));
                    }
                    return inputs.thenApply(n -> List.of("streamed", n, String.join(", ", models),
                            describe(plan.backendSql(), prepared, settings)));
                }));
    }

    private static String describe(String backendSql, Prepared prepared, RagSettings settings) {
        StringBuilder b = new StringBuilder(backendSql).append("  -- rows streamed as they arrive; the proxy fills in ");
        for (int i = 0; i < prepared.columns().size(); i++) {
            StreamedColumn c = prepared.columns().get(i);
            b.append(i == 0 ? "" : ", ").append(c.function()).append('(').append(c.marker()).append(") AS `")
                    .append(c.label().replace("`", "``")).append('`');
        }
        return b.append(" in batches of ").append(settings.invocation().batchSize()).append(" rows").toString();
    }

    /** A streamed call's column: its marker label in the backend's result, the client's label, model and options. */
    record StreamedColumn(String marker, String label, AiFunction function, LiteralPlanner.ModelInput input) {}

    /**
     * The statement rewritten for the backend (streamed calls replaced by their texts under marker labels; constant
     * AI calls still in), its streamed columns, and its literal LIMIT row count (null when none).
     */
    private record Prepared(String sql, List<StreamedColumn> columns, Long rowLimit) {}

    private CompletableFuture<Prepared> prepare(StatementSession session, StatementAnalysis analysis,
            RagSettings settings) {
        PlainSelect select = (PlainSelect) analysis.statement();
        Map<Function, AiCall> streamedCalls = new IdentityHashMap<>();
        for (AiCall call : analysis.calls()) {
            if (readsColumns(call)) {
                streamedCalls.put(call.node(), call);
            }
        }
        List<Integer> positions = new ArrayList<>();
        List<AiCall> calls = new ArrayList<>();
        List<SelectItem<?>> items = select.getSelectItems();
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).getExpression() instanceof Function f && streamedCalls.containsKey(f)) {
                positions.add(i);
                calls.add(streamedCalls.get(f));
            }
        }
        List<Expression> constants = new ArrayList<>();
        for (AiCall call : calls) {
            constants.add(call.model());
            constants.add(call.options());
        }
        CompletableFuture<Map<Expression, String>> evaluated = ConstantValues.evaluate(session, constants);
        Long rowLimit = rowLimit(select);
        return evaluated.thenApply(values -> {
            // Random per statement: a user's own column cannot be mistaken for a streamed one.
            String prefix = "ragproxy_stream_" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + "_";
            List<StreamedColumn> columns = new ArrayList<>();
            for (int c = 0; c < calls.size(); c++) {
                AiCall call = calls.get(c);
                SelectItem<?> item = items.get(positions.get(c));
                String label = item.getAlias() != null ? ConstantValues.unquoteIdentifier(item.getAlias().getName())
                        : expressionLabel(item.getExpression());
                LiteralPlanner.ModelInput input = literals.resolve(call, null,
                        call.model() == null ? null : values.get(call.model()),
                        call.options() == null ? null : values.get(call.options()), settings, false);
                String marker = prefix + c;
                SelectItem<?> text = SelectItem.from(call.text());
                text.setAlias(new Alias(marker, true));
                items.set(positions.get(c), text);
                columns.add(new StreamedColumn(marker, label, call.function(), input));
            }
            return new Prepared(analysis.restoreHidden(select.toString()), List.copyOf(columns), rowLimit);
        });
    }

    /** MySQL labels an unaliased column with its expression as written; JSqlParser's printing is the closest we have. */
    private static String expressionLabel(Expression e) {
        String label = e.toString();
        return label.length() > 256 ? label.substring(0, 256) : label;
    }

    private static Long rowLimit(PlainSelect select) {
        Limit limit = select.getLimit();
        if (limit == null || !(limit.getRowCount() instanceof LongValue n)) {
            return null;
        }
        return n.getValue();
    }

    /** The cost guard (see the class comment); completes with the count, or -1 when the LIMIT made it needless. */
    private static CompletableFuture<Long> guard(StatementSession session, Prepared prepared, int constantInputs,
            String backendSql, RagSettings settings) {
        int max = settings.maxCalls();
        Long limit = prepared.rowLimit();
        // CHUNK_TEXT calls no model: its columns cost nothing against rag_max_calls.
        List<StreamedColumn> called = prepared.columns().stream().filter(c -> !c.function().local()).toList();
        if (called.isEmpty() || (limit != null && constantInputs + limit * called.size() <= max)) {
            return CompletableFuture.completedFuture(-1L);
        }
        return count(session, backendSql, called).thenApply(streamed -> {
            long total = streamed + constantInputs;
            if (total > max) {
                String function = called.get(0).function().name();
                throw new ProxyException(ProxyError.TOO_MANY_CALLS, "the statement needs " + total
                        + " distinct model inputs (" + streamed + " " + function + "() inputs over its rows, counted by"
                        + " the backend" + (constantInputs > 0 ? ", and " + constantInputs + " constant ones" : "")
                        + "), more than rag_max_calls = " + max + "; raise it with SET rag_max_calls = " + total
                        + " if that is intended, or select fewer rows; no model was called for the rows");
            }
            return streamed;
        });
    }

    /** The backend's count of distinct non-empty texts the streamed calls will see. */
    private static CompletableFuture<Long> count(StatementSession session, String backendSql,
            List<StreamedColumn> columns) {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : " + ").append("COUNT(DISTINCT NULLIF(CAST(q.`").append(columns.get(i).marker())
                    .append("` AS CHAR), ''))");
        }
        sql.append(" FROM (").append(backendSql).append(") q");
        return session.query(sql.toString()).handle((r, error) -> {
            if (error != null) {
                Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                if (cause instanceof BackendException be && be.code() == ER_DUP_FIELDNAME) {
                    throw new ProxyException(be.code(), be.sqlState(), "ragproxy counts the distinct model inputs of"
                            + " a streamed SELECT with SELECT COUNT(DISTINCT …) FROM (your statement) q, and the backend"
                            + " refused it: " + be.getMessage() + "; give every select-list column a distinct name, or"
                            + " add LIMIT n with n within rag_max_calls", be);
                }
                throw cause instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(cause);
            }
            String v = r.first().rows().get(0).get(0);
            return v == null ? 0L : Long.parseLong(v);
        });
    }
}
