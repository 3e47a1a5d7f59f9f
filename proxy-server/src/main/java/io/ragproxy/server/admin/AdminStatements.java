package io.ragproxy.server.admin;

import io.netty.buffer.ByteBuf;
import io.ragproxy.catalog.invoke.CounterSet;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.registry.ModelPolicy;
import io.ragproxy.catalog.registry.ModelDescription;
import io.ragproxy.server.access.ModelAccessStatements;
import io.ragproxy.server.budget.BudgetStatements;
import io.ragproxy.server.budget.Estimate;
import io.ragproxy.server.catalog.AccountPrivileges;
import io.ragproxy.server.catalog.CatalogRewriter;
import io.ragproxy.server.catalog.CatalogSnapshot;
import io.ragproxy.server.catalog.CatalogStatements;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.RunningStatement;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.plan.AiFunction;
import io.ragproxy.server.plan.AnswerPlanner;
import io.ragproxy.server.plan.BackfillPlanner;
import io.ragproxy.server.plan.MaterializedPlanner;
import io.ragproxy.server.plan.LiteralPlanner;
import io.ragproxy.server.plan.StatementAnalysis;
import io.ragproxy.server.plan.StreamedPlanner;
import io.ragproxy.server.scan.ProxyStatementKind;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.wire.Packets;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The proxy statements the proxy answers itself:
 * {@code SHOW RAG MODELS|STATUS|FUNCTIONS|SETTINGS|PENDING|PROCESSLIST|GRANTS},
 * {@code SHOW GLOBAL RAG STATUS} (the proxy's counters, for accounts with {@code PROCESS}),
 * {@code GRANT/REVOKE RAG MODEL} (run by {@link ModelAccessStatements}),
 * {@code SET RAG BUDGET}, {@code SHOW RAG BUDGETS|USAGE} (run by {@link BudgetStatements}),
 * {@code SET rag_name = value [, …]}, {@code EXPLAIN RAG statement}, and the catalog's DDL (Aurora's
 * {@code CREATE FUNCTION … ALIAS}, {@code DROP FUNCTION}, MindsDB's {@code CREATE/DROP MODEL|ML_ENGINE}), which
 * {@link CatalogStatements} runs.
 */
public final class AdminStatements {
    private final ModelInvoker invoker;
    private final LiteralPlanner planner;
    private final BackfillPlanner backfill;
    private final StreamedPlanner streamed;
    private final MaterializedPlanner materialized;
    private final AnswerPlanner answers;
    private final RagSettings defaults;
    private final CatalogStatements catalog;
    private final CatalogRewriter rewriter;
    /** GRANT/REVOKE RAG MODEL and SHOW RAG GRANTS; null without a catalog. */
    private final ModelAccessStatements modelAccess;
    /** SET RAG BUDGET, SHOW RAG BUDGETS and SHOW RAG USAGE; null without a catalog. */
    private final BudgetStatements budgets;

    /** Proxy statements without a catalog: DROP FUNCTION is always the backend's, the other DDL is refused. */
    public AdminStatements(ModelInvoker invoker, LiteralPlanner planner, BackfillPlanner backfill,
            StreamedPlanner streamed, MaterializedPlanner materialized, RagSettings defaults) {
        this(invoker, planner, backfill, streamed, materialized, defaults, null, null);
    }

    public AdminStatements(ModelInvoker invoker, LiteralPlanner planner, BackfillPlanner backfill,
            StreamedPlanner streamed, MaterializedPlanner materialized, RagSettings defaults,
            CatalogStatements catalog, CatalogRewriter rewriter) {
        this(invoker, planner, backfill, streamed, materialized, defaults, catalog, rewriter, null);
    }

    /** @param modelAccess runs GRANT/REVOKE RAG MODEL and SHOW RAG GRANTS (null: refused as not available) */
    public AdminStatements(ModelInvoker invoker, LiteralPlanner planner, BackfillPlanner backfill,
            StreamedPlanner streamed, MaterializedPlanner materialized, RagSettings defaults,
            CatalogStatements catalog, CatalogRewriter rewriter, ModelAccessStatements modelAccess) {
        this(invoker, planner, backfill, streamed, materialized, defaults, catalog, rewriter, modelAccess, null);
    }

    /** @param budgets runs SET RAG BUDGET, SHOW RAG BUDGETS and SHOW RAG USAGE (null: refused as not available) */
    public AdminStatements(ModelInvoker invoker, LiteralPlanner planner, BackfillPlanner backfill,
            StreamedPlanner streamed, MaterializedPlanner materialized, RagSettings defaults,
            CatalogStatements catalog, CatalogRewriter rewriter, ModelAccessStatements modelAccess,
            BudgetStatements budgets) {
        this.budgets = budgets;
        this.modelAccess = modelAccess;
        this.materialized = materialized;
        this.answers = new AnswerPlanner(planner);
        this.invoker = invoker;
        this.planner = planner;
        this.backfill = backfill;
        this.streamed = streamed;
        this.defaults = defaults;
        this.catalog = catalog;
        this.rewriter = rewriter;
    }

    /** Runs a statement the scan classified as a proxy statement. */
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan,
            Dialect dialect) {
        return switch (scan.proxyStatementKind()) {
            case SHOW_RAG -> show(session, sql);
            case SET_RAG -> CompletableFuture.completedFuture(set(session,
                    Tokens.of(sql, session.sessionText().sqlMode())));
            case EXPLAIN_RAG -> explain(session, sql, dialect);
            case GRANT_RAG_MODEL, REVOKE_RAG_MODEL -> modelAccess(session, sql);
            case CREATE_KNOWLEDGE_BASE, DROP_KNOWLEDGE_BASE, DESCRIBE_KNOWLEDGE_BASE, SHOW_KNOWLEDGE_BASES -> {
                if (catalog == null) {
                    throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "knowledge bases need the ragproxy"
                            + " catalog, which this ragproxy build does not keep");
                }
                yield catalog.knowledgeBases().execute(session, sql, dialect);
            }
            case SET_RAG_BUDGET -> budgets(session, sql);
            case CREATE_FUNCTION_ALIAS, DROP_FUNCTION, CREATE_MODEL, DROP_MODEL, CREATE_ML_ENGINE, DROP_ML_ENGINE -> {
                if (catalog != null) {
                    yield catalog.execute(session, sql);
                }
                if (scan.proxyStatementKind() == ProxyStatementKind.DROP_FUNCTION) {
                    yield CompletableFuture.completedFuture(PipelineResult.forward(sql)); // the backend's function
                }
                yield CompletableFuture.failedFuture(new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE,
                        scan.proxyStatementKind().phrase().toUpperCase() + " is not available in this ragproxy build"));
            }
        };
    }

    private CompletableFuture<PipelineResult> modelAccess(StatementSession session, String sql) {
        if (modelAccess == null) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "model access (GRANT RAG MODEL) needs the"
                    + " ragproxy catalog, which this ragproxy build does not keep");
        }
        return modelAccess.execute(session, sql);
    }

    private CompletableFuture<PipelineResult> budgets(StatementSession session, String sql) {
        if (budgets == null) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "budgets and usage (SET RAG BUDGET, SHOW RAG"
                    + " USAGE) need the ragproxy catalog, which this ragproxy build does not keep");
        }
        return budgets.execute(session, sql);
    }

    private CompletableFuture<PipelineResult> show(StatementSession session, String sql) {
        Tokens t = Tokens.of(sql, session.sessionText().sqlMode());
        t.expect("SHOW");
        boolean global = t.accept("GLOBAL");
        boolean scoped = global || t.accept("SESSION");
        t.expect("RAG");
        Tokens.Token what = t.take();
        if (what.is("GRANTS")) {
            return modelAccess(session, sql);
        }
        if (what.is("BUDGETS") || what.is("USAGE")) {
            return budgets(session, sql);
        }
        if (!t.atEnd()) {
            throw t.error("unexpected text after SHOW RAG " + what.upper());
        }
        if (scoped && !what.upper().equals("STATUS")) {
            throw new ProxyException(ProxyError.PARSE_ERROR, "GLOBAL and SESSION apply to SHOW RAG STATUS only; write"
                    + " SHOW RAG " + what.upper());
        }
        if (global) {
            return AccountPrivileges.of(session).thenApply(account -> {
                if (!account.hasGlobal(STATUS_PRIVILEGE)) {
                    throw new ProxyException(ProxyError.STATUS_ACCESS_DENIED, "SHOW GLOBAL RAG STATUS shows every"
                            + " session's model calls and needs the " + STATUS_PRIVILEGE + " privilege, which "
                            + account.user() + " lacks; use SHOW RAG STATUS for this session's counters, or ask an"
                            + " administrator for GRANT " + STATUS_PRIVILEGE + " ON *.*");
                }
                return table(session, List.of("Variable_name", "Value"), globalStatus());
            });
        }
        CatalogSnapshot snapshot = catalog == null ? CatalogSnapshot.EMPTY : catalog.catalog().snapshot();
        return switch (what.upper()) {
            case "MODELS" -> done(table(session, List.of("Name", "Kind", "Provider", "Model_id", "Dimensions",
                    "Aliases", "Default", "Input_usd_per_1k", "Output_usd_per_1k", "Query_usd_per_1k"), models()));
            case "STATUS" -> done(table(session, List.of("Variable_name", "Value"), sessionStatus(session)));
            case "FUNCTIONS" -> privileges(session).thenApply(account -> table(session, List.of("Name", "Kind",
                    "Returns", "Signature", "Definition", "Owner", "Created"), functions(snapshot, account)));
            case "SETTINGS" -> done(table(session, List.of("Variable_name", "Value"), rows(session.settings().asMap())));
            case "PENDING" -> catalog == null ? done(table(session, PENDING, List.of()))
                    : privileges(session).thenCompose(account -> catalog.pending(session, snapshot, account))
                            .thenApply(rows -> table(session, PENDING, rows));
            case "PROCESSLIST" -> processlist(session);
            default -> throw new ProxyException(ProxyError.PARSE_ERROR, "SHOW RAG takes MODELS, STATUS, FUNCTIONS,"
                    + " SETTINGS, PENDING, PROCESSLIST, GRANTS, BUDGETS or USAGE, not " + what.text());
        };
    }

    static final List<String> PROCESSLIST = List.of("Id", "User", "Plan", "Rows_done", "Rows_expected", "Model_calls",
            "Elapsed_s", "Estimated_left_s", "Info");

    /**
     * This proxy's running AI statements, by connection id: the session's user's own, or everyone's for an account
     * with the global PROCESS privilege (as SHOW PROCESSLIST), which is read through the session only when another
     * user's statement runs.
     */
    private CompletableFuture<PipelineResult> processlist(StatementSession session) {
        List<RunningStatement> running = new ArrayList<>(session.runningStatements());
        running.sort(java.util.Comparator.comparingLong(RunningStatement::connectionId));
        boolean othersRun = running.stream().anyMatch(s -> !s.user().equals(session.user()));
        CompletableFuture<Boolean> seesAll = othersRun
                ? AccountPrivileges.of(session).thenApply(a -> a.hasGlobal("PROCESS"))
                : CompletableFuture.completedFuture(false);
        return seesAll.thenApply(all -> {
            List<List<String>> rows = new ArrayList<>();
            for (RunningStatement s : running) {
                if (all || s.user().equals(session.user())) {
                    java.time.Duration left = s.estimatedLeft();
                    rows.add(Arrays.asList(Long.toString(s.connectionId()), s.user(), s.plan(),
                            Long.toString(s.rowsDone()), s.rowsExpected() < 0 ? null : Long.toString(s.rowsExpected()),
                            Long.toString(s.modelCalls()), seconds(s.elapsed()), left == null ? null : seconds(left),
                            s.info()));
                }
            }
            return table(session, PROCESSLIST, rows);
        });
    }

    /** Seconds with one decimal, as a number a user can sort and compare. */
    private static String seconds(java.time.Duration d) {
        return BigDecimal.valueOf(d.toMillis(), 3).setScale(1, java.math.RoundingMode.HALF_UP).toPlainString();
    }

    /** The session account's privileges; none are read without a catalog (nothing to filter). */
    private CompletableFuture<AccountPrivileges> privileges(StatementSession session) {
        return catalog == null || catalog.catalog().snapshot().isEmpty()
                ? CompletableFuture.completedFuture(AccountPrivileges.parse("", List.of()))
                : AccountPrivileges.of(session);
    }

    /** The privilege SHOW GLOBAL RAG STATUS needs, as SHOW PROCESSLIST needs it to show other accounts' threads. */
    private static final String STATUS_PRIVILEGE = "PROCESS";

    private static final List<String> PENDING = List.of("Table", "Column", "Model", "Rows_missing", "Rows_stale",
            "Refresh");

    private static CompletableFuture<PipelineResult> done(PipelineResult result) {
        return CompletableFuture.completedFuture(result);
    }

    private List<List<String>> models() {
        List<List<String>> rows = new ArrayList<>();
        for (ModelDescription d : invoker.registry().describe()) {
            rows.add(Arrays.asList(d.name(), d.kind(), d.provider(), d.modelId(),
                    d.dimensions() == null ? null : d.dimensions().toString(), String.join(", ", d.aliases()),
                    d.isDefault() ? "YES" : "", usd(d.price().inputPer1k()), usd(d.price().outputPer1k()),
                    d.kind().equals("reranking") ? usd(d.price().per1kQueries()) : null));
        }
        return rows;
    }

    /** A price as plain decimal text ({@code 0.00002}, {@code 0}), as configured in {@code [models.prices]}. */
    private static String usd(double perThousand) {
        return java.math.BigDecimal.valueOf(perThousand).stripTrailingZeros().toPlainString();
    }

    /** The proxy's counters over every session, the cache's size, then per model. */
    private List<List<String>> globalStatus() {
        return status(invoker.snapshot(), invoker.snapshotByModel());
    }

    /**
     * The session's own counters, then per model: what its statements' model inputs cost. The cache's size is left
     * out, as it moves with other sessions' calls.
     */
    private static List<List<String>> sessionStatus(StatementSession session) {
        CounterSet counters = session.settings().caller().counters();
        if (counters == null) {
            counters = new CounterSet(); // a pipeline without models: nothing was counted
        }
        return status(counters.total().snapshot(), counters.snapshotByModel());
    }

    private static List<List<String>> status(Map<String, Number> total, Map<String, Map<String, Number>> byModel) {
        List<List<String>> rows = rows(total);
        for (Map.Entry<String, Map<String, Number>> model : byModel.entrySet()) {
            for (Map.Entry<String, Number> e : model.getValue().entrySet()) {
                rows.add(List.of(e.getKey() + "@" + model.getKey(), text(e.getValue())));
            }
        }
        return rows;
    }

    /** The built-in AI functions, then the catalog's objects the account may see. */
    private static List<List<String>> functions(CatalogSnapshot snapshot, AccountPrivileges account) {
        List<List<String>> rows = new ArrayList<>();
        for (AiFunction f : AiFunction.values()) {
            String returns = switch (f) {
                case EMBED, EMBED_TEXT -> "vector";
                case VEC_EMBED_COSINE_DISTANCE, VEC_EMBED_L2_DISTANCE, RERANK_SCORE -> "double";
                case GENERATE, ANSWER, INVOKE_MODEL -> "text";
                case CHUNK_TEXT -> "json";
            };
            rows.add(Arrays.asList(f.name(), f == AiFunction.ANSWER ? "built-in aggregate"
                    : f.local() ? "built-in, computed by the proxy" : "built-in", returns,
                    f.signature(), "", "", ""));
        }
        rows.addAll(CatalogStatements.functionRows(snapshot, account));
        return rows;
    }

    private static List<List<String>> rows(Map<String, ?> values) {
        List<List<String>> rows = new ArrayList<>();
        values.forEach((k, v) -> rows.add(List.of(k, text(v))));
        return rows;
    }

    /** Numbers as SHOW STATUS writes them: plain decimals, never scientific notation. */
    private static String text(Object value) {
        return value instanceof BigDecimal d ? d.toPlainString() : String.valueOf(value);
    }

    private PipelineResult set(StatementSession session, Tokens t) {
        t.expect("SET");
        RagSettings settings = session.settings();
        do {
            Tokens.Token name = t.take();
            String n = name.text();
            if (name.is("SESSION") || name.is("LOCAL")) {
                n = t.take().text();
            } else if (name.is("GLOBAL") || name.is("PERSIST")) {
                throw new ProxyException(ProxyError.BAD_SETTING, "rag_ settings are per session; set defaults in"
                        + " ragproxy.toml instead of SET " + name.upper());
            }
            if (n.startsWith("@@")) {
                n = n.substring(2);
                if (n.regionMatches(true, 0, "session.", 0, 8) || n.regionMatches(true, 0, "local.", 0, 6)) {
                    n = n.substring(n.indexOf('.') + 1);
                } else if (n.regionMatches(true, 0, "global.", 0, 7) || n.regionMatches(true, 0, "persist.", 0, 8)) {
                    throw new ProxyException(ProxyError.BAD_SETTING, "rag_ settings are per session; set defaults in"
                            + " ragproxy.toml instead of SET @@" + n);
                }
            }
            if (!n.regionMatches(true, 0, "rag_", 0, 4)) {
                throw new ProxyException(ProxyError.BAD_SETTING, "set rag_ settings in a SET statement of their own"
                        + " (found " + n + ")");
            }
            if (!t.accept("=") && !(t.accept(":") && t.accept("="))) {
                throw t.error("expected = after " + n);
            }
            Tokens.Token value = t.take();
            settings = settings.with(n, value.text(), defaults);
            ModelPolicy policy = invoker.registry().config().policy();
            settings.requireWithin(policy.maxCallsCeiling(), policy.concurrencyCeiling());
        } while (t.accept(","));
        if (!t.atEnd()) {
            throw t.error("unexpected text");
        }
        session.settings(settings);
        return PipelineResult.reply(Packets.ok(session.alloc(), 1, 0, 0, session.serverStatus(), 0, null,
                session.sessionTrack()));
    }

    private CompletableFuture<PipelineResult> explain(StatementSession session, String sql, Dialect dialect) {
        Tokens t = Tokens.of(sql, session.sessionText().sqlMode());
        t.expect("EXPLAIN");
        t.expect("RAG");
        String inner = t.rest();
        if (inner.endsWith(";")) {
            inner = inner.substring(0, inner.length() - 1).trim();
        }
        if (inner.isEmpty()) {
            throw t.error("EXPLAIN RAG needs a statement");
        }
        inner = planner.neutral(inner, session.sessionText()); // read as the session's sql_mode reads it
        StatementAnalysis parsed = planner.parse(inner);
        CompletableFuture<String> rewritten = rewriter == null ? CompletableFuture.completedFuture(null)
                : rewriter.rewrite(session, inner, parsed, catalog.catalog().snapshot(), dialect, w -> { });
        return rewritten.thenCompose(sql2 -> explain(session, sql2 == null ? parsed : planner.parse(sql2), dialect));
    }

    private CompletableFuture<PipelineResult> explain(StatementSession session, StatementAnalysis analysis,
            Dialect dialect) {
        return explainRow(session, analysis, dialect).thenApply(row -> explained(session, row));
    }

    /** EXPLAIN RAG's row without its cost: plan, model inputs, models, backend SQL. No model is called. */
    private CompletableFuture<List<String>> explainRow(StatementSession session, StatementAnalysis analysis,
            Dialect dialect) {
        if (AnswerPlanner.applies(analysis)) {
            return answers.explain(session, analysis, dialect, session.settings());
        }
        if (BackfillPlanner.applies(analysis)) {
            return backfill.explain(session, analysis, session.settings());
        }
        if (StreamedPlanner.applies(analysis)) {
            return streamed.explain(session, analysis, dialect, session.settings());
        }
        if (MaterializedPlanner.applies(analysis)) {
            return materialized.plan(session, analysis, dialect, session.settings(), true)
                    .thenApply(plan -> List.of("materialized", Long.toString(plan.modelInputs()),
                            String.join(", ", plan.models()), plan.backendSql()));
        }
        return planner.plan(session, analysis, dialect, session.settings(), true).thenApply(plan -> {
            String kind = plan.modelInputs() == 0 && plan.models().isEmpty() ? "passthrough" : "literal";
            return List.of(kind, Integer.toString(plan.modelInputs()), String.join(", ", plan.models()),
                    plan.backendSql());
        });
    }

    /**
     * What {@code analysis} is expected to cost, as EXPLAIN RAG reports it, for the budget check before it runs: no
     * model is called (the rows a backfill or streamed plan reads are counted on the backend).
     */
    public CompletableFuture<Estimate> estimate(StatementSession session, StatementAnalysis analysis,
            Dialect dialect) {
        return explainRow(session, analysis, dialect).thenApply(row -> {
            long inputs = inputs(row.get(1));
            List<String> models = new ArrayList<>();
            long tokensPerInput = 0;
            for (String model : row.get(2).split(",\\s*")) {
                if (!model.isBlank()) {
                    models.add(model.trim());
                    tokensPerInput = Math.max(tokensPerInput, ESTIMATED_TOKENS_PER_INPUT
                            + (embeds(model.trim()) ? 0 : ESTIMATED_TOKENS_PER_INPUT));
                }
            }
            return inputs < 0 ? new Estimate(-1, models, null, -1)
                    : new Estimate(inputs, models, cost(inputs, row.get(2)), inputs * tokensPerInput);
        });
    }

    /** Whether {@code modelId} is an embedding model (its answer costs no output tokens). */
    private boolean embeds(String modelId) {
        try {
            invoker.registry().embeddingModel(modelId);
            return true;
        } catch (io.ragproxy.catalog.registry.UnknownModelException e) {
            return false;
        }
    }

    /** Tokens assumed per model input (and per answer of a text model) for EXPLAIN RAG's cost estimate. */
    static final int ESTIMATED_TOKENS_PER_INPUT = 256;

    /** The model inputs EXPLAIN RAG counted ({@code 12}, {@code 3 + 40}); -1 when it shows "?" (not known). */
    private static long inputs(String inputs) {
        if (inputs.contains("?")) {
            return -1;
        }
        long count = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+").matcher(inputs);
        while (m.find()) {
            count += Long.parseLong(m.group());
        }
        return count;
    }

    /**
     * The inputs times the dearest named model's price for {@value #ESTIMATED_TOKENS_PER_INPUT} tokens in (and as
     * many out), since the texts are not read to count their tokens. A reranker's input is a request (the plans
     * count a RERANK_SCORE's requests), billed as one query per 100 documents: one query each here, the price of a
     * request of up to 100 candidates.
     */
    private BigDecimal cost(long count, String models) {
        double perInput = 0;
        for (String model : models.split(",\\s*")) {
            if (!model.isBlank()) {
                io.ragproxy.catalog.registry.ModelPrice price = invoker.registry().price(model.trim());
                perInput = Math.max(perInput, Math.max(price.cost(ESTIMATED_TOKENS_PER_INPUT,
                        ESTIMATED_TOKENS_PER_INPUT), price.queryCost(1)));
            }
        }
        return BigDecimal.valueOf(count * perInput).setScale(6, java.math.RoundingMode.HALF_UP);
    }

    /** EXPLAIN RAG's one row, with {@code Estimated_cost_usd} ("?" when the count is not known). */
    private PipelineResult explained(StatementSession session, List<String> row) {
        long count = inputs(row.get(1));
        String cost = count < 0 ? "?" : cost(count, row.get(2)).toPlainString();
        List<String> out = new java.util.ArrayList<>(row.subList(0, 4));
        out.add(cost);
        return table(session, List.of("Plan", "Model_inputs", "Models", "Backend_sql", "Estimated_cost_usd"),
                List.of(out));
    }

    private static PipelineResult table(StatementSession session, List<String> columns, List<List<String>> rows) {
        ByteBuf frames = session.resultSetWriter().write(session.alloc(), columns, rows, session.serverStatus());
        return PipelineResult.reply(frames);
    }
}
