package io.ragproxy.server.pipeline;

import io.netty.buffer.ByteBuf;
import io.ragproxy.catalog.invoke.Caller;
import io.ragproxy.catalog.invoke.CounterSet;
import io.ragproxy.catalog.invoke.InvocationListener;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.local.LocalModels;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.server.access.ModelAccess;
import io.ragproxy.server.access.ModelAccessCheck;
import io.ragproxy.server.access.ModelAccessStatements;
import io.ragproxy.server.access.Account;
import io.ragproxy.server.admin.AdminStatements;
import io.ragproxy.server.audit.AuditLog;
import io.ragproxy.server.audit.AuditRecord;
import io.ragproxy.server.audit.StatementDigest;
import io.ragproxy.server.budget.BudgetCheck;
import io.ragproxy.server.budget.BudgetStatements;
import io.ragproxy.server.budget.Spend;
import io.ragproxy.server.budget.StatementBudget;
import io.ragproxy.server.budget.UsageLedger;
import io.ragproxy.server.catalog.BuiltinNames;
import io.ragproxy.server.catalog.Catalog;
import io.ragproxy.server.catalog.CatalogConnection;
import io.ragproxy.server.catalog.JdbcCatalogConnection;
import io.ragproxy.server.catalog.CatalogRewriter;
import io.ragproxy.server.catalog.CatalogScanners;
import io.ragproxy.server.catalog.CatalogSnapshot;
import io.ragproxy.server.catalog.CatalogStatements;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.config.CacheScope;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.config.SessionLimits;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.plan.AiFunction;
import io.ragproxy.server.plan.AnswerPlanner;
import io.ragproxy.server.plan.BackfillPlanner;
import io.ragproxy.server.plan.BoundedParser;
import io.ragproxy.server.plan.LiteralPlanner;
import io.ragproxy.server.plan.LiteralTemplate;
import io.ragproxy.server.plan.MaterializedPlanner;
import io.ragproxy.server.plan.PlanCache;
import io.ragproxy.server.plan.StatementAnalysis;
import io.ragproxy.server.plan.StatementShape;
import io.ragproxy.server.plan.StreamedPlanner;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.text.SqlMode;
import io.ragproxy.server.wire.Packets;
import io.ragproxy.server.wire.ResultSetWriter;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.scan.StatementScanner;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The statement pipeline with the AI functions: proxy statements go to {@link AdminStatements}; statements with
 * AI calls are parsed, their catalog objects rewritten into built-in AI SQL ({@link CatalogRewriter}), planned
 * (ANSWER, backfill, streamed, materialized or literal: the first plan that applies) and run; on a MariaDB backend,
 * statements written with TiDB's vector spellings are translated even without an AI call. The pipeline owns the
 * proxy's {@link Catalog} view and rebuilds its scanners when the catalog changes.
 */
public final class RagPipeline implements StatementPipeline, AutoCloseable {
    private final ModelInvoker invoker;
    /** The configured dialect, or null for {@code auto} (from the backend's version). */
    private final Dialect fixedDialect;
    private final BoundedParser parser;
    /** Parses and plans statements off the event loops, one lane per account. */
    private final PlannerPool planners;
    private final LiteralPlanner planner;
    /** Literal plans' templates by statement text: a statement that repeats verbatim is parsed once. */
    private final PlanCache planCache;
    private final BackfillPlanner backfill;
    private final AnswerPlanner answers;
    private final StreamedPlanner streamed;
    private final MaterializedPlanner materialized;
    private final AdminStatements admin;
    private final RagSettings initialSettings;
    private final Catalog catalog;
    private final CatalogStatements catalogStatements;
    private final CatalogRewriter rewriter = new CatalogRewriter();
    /** The scanners of the current catalog; replaced (never mutated) when it changes. */
    private volatile CatalogScanners scanners;

    /** The catalog's own connection, closed with the pipeline. */
    private final CatalogConnection catalogConnection;
    /** Who shares cached model results: everyone, or each account. */
    private final CacheScope cacheScope;

    /** Who may call which model, checked before a statement's first model call. */
    private final ModelAccessCheck access;
    /** Usage per account and the budgets; null when not kept (a pipeline built without {@code [usage]}). */
    private final UsageLedger ledger;
    /** Whether a statement fits its account's budget, checked after {@link #access}; null with {@code ledger}. */
    private final BudgetCheck budgets;
    /** One line per AI statement; null when {@code [audit] enabled} is off. */
    private final AuditLog audit;

    /** A pipeline with the default {@link SessionLimits}. */
    public RagPipeline(ModelInvoker invoker, String configuredDialect, CatalogConnection catalogConnection) {
        this(invoker, configuredDialect, SessionLimits.DEFAULT, catalogConnection);
    }

    /**
     * @param invoker the model invocation policy (owned by the caller)
     * @param configuredDialect {@code auto}, {@code tidb} or {@code mariadb}
     * @param limits the parse deadline and the number of planner threads
     * @param catalogConnection the connection the catalog is kept through (owned by the pipeline from now on)
     */
    public RagPipeline(ModelInvoker invoker, String configuredDialect, SessionLimits limits,
            CatalogConnection catalogConnection) {
        this(invoker, configuredDialect, limits, catalogConnection, ModelAccess.Mode.ALLOW, CacheScope.GLOBAL);
    }

    /**
     * @param invoker the model invocation policy (owned by the caller)
     * @param configuredDialect {@code auto}, {@code tidb} or {@code mariadb}
     * @param limits the parse deadline and the number of planner threads
     * @param catalogConnection the connection the catalog is kept through (owned by the pipeline from now on)
     * @param accessMode {@code [access] default}: whether a model without a grant may be called
     * @param cacheScope who shares cached model results ({@code [cache] scope})
     */
    public RagPipeline(ModelInvoker invoker, String configuredDialect, SessionLimits limits,
            CatalogConnection catalogConnection, ModelAccess.Mode accessMode, CacheScope cacheScope) {
        this(invoker, configuredDialect, limits, catalogConnection, accessMode, cacheScope, null, null);
    }

    /**
     * @param invoker the model invocation policy (owned by the caller)
     * @param configuredDialect {@code auto}, {@code tidb} or {@code mariadb}
     * @param limits the parse deadline and the number of planner threads
     * @param catalogConnection the connection the catalog is kept through (owned by the pipeline from now on)
     * @param accessMode {@code [access] default}: whether a model without a grant may be called
     * @param cacheScope who shares cached model results ({@code [cache] scope})
     * @param usageFlushInterval how often usage is written to {@code ragproxy.usage} ({@code [usage]
     *     flush_interval_ms}); null: usage and budgets are not kept
     * @param audit where AI statements are recorded ({@code [audit]}; owned by the pipeline from now on); null: not
     */
    public RagPipeline(ModelInvoker invoker, String configuredDialect, SessionLimits limits,
            CatalogConnection catalogConnection, ModelAccess.Mode accessMode, CacheScope cacheScope,
            Duration usageFlushInterval, AuditLog audit) {
        this.audit = audit;
        this.ledger = usageFlushInterval == null ? null
                : new UsageLedger(catalogConnection, usageFlushInterval, java.time.Clock.systemUTC());
        this.budgets = ledger == null ? null : new BudgetCheck(ledger);
        this.access = new ModelAccessCheck(accessMode, invoker.registry());
        this.cacheScope = java.util.Objects.requireNonNull(cacheScope, "cacheScope");
        this.catalogConnection = catalogConnection;
        this.invoker = invoker;
        this.fixedDialect = configuredDialect.equalsIgnoreCase("auto") ? null : Dialect.of(configuredDialect, null);
        this.parser = new BoundedParser(limits.parseTimeout());
        this.planCache = new PlanCache(limits.planCacheSize());
        this.planners = new PlannerPool(limits.plannerThreadCount(), PlannerPool.DEFAULT_LANE_CAPACITY);
        this.planner = new LiteralPlanner(invoker, parser);
        this.backfill = new BackfillPlanner(planner);
        this.answers = new AnswerPlanner(planner);
        this.streamed = new StreamedPlanner(planner);
        this.materialized = new MaterializedPlanner(planner);
        this.initialSettings = RagSettings.defaults(invoker.defaults());
        this.scanners = CatalogScanners.of(CatalogSnapshot.EMPTY, AiFunction.names());
        this.catalog = new Catalog(catalogConnection, System::nanoTime, Duration.ofSeconds(1),
                snapshot -> scanners = CatalogScanners.of(snapshot, AiFunction.names()));
        this.catalogStatements = new CatalogStatements(catalog, invoker, this::runOwn, BuiltinNames.load());
        this.admin = new AdminStatements(invoker, planner, backfill, streamed, materialized, initialSettings,
                catalogStatements, rewriter, new ModelAccessStatements(catalog, invoker.registry()),
                ledger == null ? null : new BudgetStatements(ledger));
    }

    /**
     * A pipeline with models from {@code config}'s {@code [models]} tables and the local models built in, keeping its
     * catalog through the {@code [catalog]} account.
     */
    public static RagPipeline create(ProxyConfig config) {
        return create(config, InvocationListener.NONE);
    }

    /** Like {@link #create(ProxyConfig)}, telling {@code listener} about every model request. */
    public static RagPipeline create(ProxyConfig config, InvocationListener listener) {
        ModelsConfig models = ModelsConfig.fromJson(config.ai());
        ModelRegistry registry = new ModelRegistry(models, new LocalModels());
        registry.warmUp(); // in the background: the first statement's model call keeps its deadline
        JsonNode accessDefault = config.ai().path("access").path("default");
        ModelAccess.Mode accessMode = accessDefault.isTextual() ? ModelAccess.Mode.parse(accessDefault.asText())
                : ModelAccess.Mode.ALLOW;
        return new RagPipeline(ModelInvoker.create(registry, listener), config.dialect(), config.limits(),
                new JdbcCatalogConnection(
                config.backendHost(), config.backendPort(), config.catalogUser(), config.catalogPassword(),
                config.backendTls(), config.backendTlsVerify(), (int) Math.min(Integer.MAX_VALUE,
                        config.connectTimeout().toMillis())), accessMode, CacheScope.of(config.ai()),
                usageFlushInterval(config.ai()), auditLog(config.ai()));
    }

    /** The audit log {@code [audit]} asks for: null unless {@code enabled}. */
    static AuditLog auditLog(JsonNode ai) {
        JsonNode a = ai.path("audit");
        if (!a.path("enabled").asBoolean(false)) {
            return null;
        }
        return new AuditLog(a.path("path").asText("-"), a.path("include_text").asBoolean(false));
    }

    /** {@code [usage] flush_interval_ms}, 5000 by default. */
    static Duration usageFlushInterval(JsonNode ai) {
        JsonNode ms = ai.path("usage").path("flush_interval_ms");
        return Duration.ofMillis(ms.canConvertToLong() ? ms.asLong() : DEFAULT_USAGE_FLUSH_MS);
    }

    /** {@code [usage] flush_interval_ms} unless configured. */
    static final long DEFAULT_USAGE_FLUSH_MS = 5000;

    /** The usage ledger (null when usage is not kept), for tests. */
    public UsageLedger usageLedger() {
        return ledger;
    }

    /** The invocation policy, for counters and tests. */
    public ModelInvoker invoker() {
        return invoker;
    }

    /** The proxy's view of the catalog. */
    public Catalog catalog() {
        return catalog;
    }

    @Override
    public StatementScanner scanner(StatementSession session) {
        return scanners.forDialect(dialect(session));
    }

    @Override
    public CompletableFuture<Void> sessionStarted(StatementSession session) {
        return catalog.refreshIfDue(session).thenApply(snapshot -> null);
    }

    @Override
    public RagSettings initialSettings() {
        return initialSettings.withCaller(new Caller(new CounterSet(), ""));
    }

    @Override
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan) {
        if ((ledger == null && audit == null) || scan.kind() == ScanResult.Kind.PROXY_STATEMENT) {
            budgetWhileRunning(session, null);
            return executeStatement(session, sql, scan);
        }
        // The statement's usage is what the session's counters gained while it ran (one statement at a time).
        Map<String, Spend> before = spendByModel(session);
        return ModelAccessCheck.account(session).thenCompose(account -> {
            budgetWhileRunning(session, statementBudget(session, account));
            CompletableFuture<PipelineResult> result = executeStatement(session, sql, scan);
            return result.handle((r, e) -> {
                if (r instanceof PipelineResult.Streamed streamed) {
                    return PipelineResult.streamed(out -> streamed.reply().start(out).whenComplete((v, e2) ->
                            ended(session, account, sql, before, e2)));
                }
                ended(session, account, sql, before, e);
                if (e != null) {
                    throw e instanceof java.util.concurrent.CompletionException ce ? ce
                            : new java.util.concurrent.CompletionException(e);
                }
                return r;
            });
        });
    }

    /**
     * The budget check of each model call of a statement of {@code account} ({@link StatementBudget}): null, so no
     * check at all, when the account has no budget (or usage is not kept). Until the budgets were first read, every
     * statement gets one (it finds no budget on each call once they are read and none applies).
     */
    private StatementBudget statementBudget(StatementSession session, Account account) {
        CounterSet counters = session.settings().caller().counters();
        if (ledger == null || counters == null
                || (ledger.ready().isDone() && ledger.budgetOf(account) == null)) {
            return null;
        }
        return StatementBudget.since(ledger, account, counters);
    }

    /**
     * Makes {@code budget} the gate of the session's model calls from now on (null: none): set as each statement
     * starts, so the gate is always the running statement's and a statement without one pays nothing for it.
     */
    private static void budgetWhileRunning(StatementSession session, StatementBudget budget) {
        Caller caller = session.settings().caller();
        if (caller.gate() != budget) {
            session.settings(session.settings().withCaller(caller.withGate(budget)));
        }
    }

    /**
     * A statement of {@code account}'s session ended ({@code failure} null: it succeeded): adds what it spent since
     * {@code before} to the ledger and writes its audit record.
     */
    private void ended(StatementSession session, Account account, String sql, Map<String, Spend> before,
            Throwable failure) {
        Map<String, Spend> delta = new java.util.TreeMap<>();
        spendByModel(session).forEach((model, now) -> {
            Spend d = now.minus(before.getOrDefault(model, Spend.NONE));
            if (!d.isEmpty()) {
                delta.put(model, d);
            }
        });
        if (ledger != null) {
            ledger.record(account, delta);
        }
        String plan = session.plan();
        if (audit != null && (plan != null || failure != null || !delta.isEmpty())) {
            Spend total = delta.values().stream().reduce(Spend.NONE, Spend::plus);
            audit.write(new AuditRecord(java.time.Instant.now(), account.toString(), session.clientAddress(),
                    session.connectionId(), StatementDigest.of(sql), audit.includeText() ? sql : null, plan,
                    List.copyOf(delta.keySet()), total.requests(), total.inputTokens(), total.outputTokens(),
                    total.costUsd(), total.cacheHits(), failure == null ? 0 : errorCode(failure)));
        }
    }

    /** The error number a client gets for {@code failure}. */
    private static int errorCode(Throwable failure) {
        for (Throwable c = failure; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ProxyException pe) {
                return pe.code();
            }
        }
        return ProxyError.INTERNAL.code();
    }

    /** The session's counters by model id, as spends. */
    private static Map<String, Spend> spendByModel(StatementSession session) {
        CounterSet counters = session.settings().caller().counters();
        if (counters == null) {
            return Map.of();
        }
        Map<String, Spend> out = new HashMap<>();
        counters.byModel().forEach((model, c) -> out.put(model, new Spend(c.requests(), c.inputTokens(),
                c.outputTokens(), c.estimatedCostUsd(), c.cacheHits())));
        return out;
    }

    private CompletableFuture<PipelineResult> executeStatement(StatementSession session, String sql,
            ScanResult scan) {
        // Parsing and planning run in the account's planner lane, never on the event loop.
        return cachePartitionKnown(session).thenCompose(v -> catalog.refreshIfDue(session)).thenCompose(snapshot ->
                planners.supply(session.user(), () -> execute(session, sql, scan, snapshot)));
    }

    @Override
    public CompletableFuture<List<byte[]>> checkPrepared(StatementSession session, String sql,
            java.util.function.Function<String, String> bind) {
        String first = io.ragproxy.server.scan.SqlLexer.firstWord(sql);
        if (!PREPARE_CHECKED.contains(first)) {
            return CompletableFuture.completedFuture(List.of()); // proxy statements, catalog DDL: checked at execute
        }
        return planners.supply(session.user(), () -> {
            // NULL stands for a parameter almost anywhere; where it cannot (LIMIT ?), 0 can.
            String bound = planner.neutral(bind.apply("NULL"), session.sessionText());
            StatementAnalysis analysis;
            try {
                analysis = planner.parse(bound);
            } catch (ProxyException asNull) {
                try {
                    bound = planner.neutral(bind.apply("0"), session.sessionText());
                    analysis = planner.parse(bound);
                } catch (ProxyException asZero) {
                    throw asNull;
                }
            }
            planner.checkLiteralModels(analysis, session.settings());
            return describeColumns(session, bound);
        });
    }

    /**
     * The column definitions of {@code bound}'s result (a prepared SELECT with its parameters as literals), from
     * the backend's answer to its typed shape ({@link LiteralPlanner#typedShape}); empty when the text does not fix
     * them or the backend refuses the shape (the execute then reports what is wrong).
     */
    private CompletableFuture<List<byte[]>> describeColumns(StatementSession session, String bound) {
        String shape;
        try {
            StatementAnalysis analysis = planner.parse(bound); // the shape mutates its own parse
            shape = analysis.suffix().isEmpty()
                    ? planner.typedShape(analysis, session.settings(), dialect(session)) : null;
        } catch (RuntimeException e) {
            shape = null;
        }
        if (shape == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        return session.query(shape).handle((result, error) -> error != null || result.resultSets().isEmpty()
                ? List.<byte[]>of() : result.resultSets().get(0).definitions());
    }

    /** The statements a prepare checks ({@link #checkPrepared}): those the execute parses as they are. */
    private static final java.util.Set<String> PREPARE_CHECKED = java.util.Set.of("SELECT", "INSERT", "REPLACE",
            "UPDATE", "DELETE", "WITH");

    /**
     * With {@code [cache] scope = "account"}, makes sure the session's model calls are cached in its account's
     * partition: read once per session (and after COM_CHANGE_USER, which clears it) from {@code CURRENT_USER()}.
     */
    private CompletableFuture<Void> cachePartitionKnown(StatementSession session) {
        Caller caller = session.settings().caller();
        if (cacheScope == CacheScope.GLOBAL || !caller.cachePartition().isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String known = session.currentUser(); // remembered by the model access check, when it ran first
        CompletableFuture<String> account = known != null ? CompletableFuture.completedFuture(known)
                : session.query("SELECT CURRENT_USER()").thenApply(r -> {
                    String current = r.first().rows().get(0).get(0);
                    session.currentUser(current);
                    return current;
                });
        return account.thenAccept(a -> session.settings(session.settings().withCaller(
                session.settings().caller().inPartition(a))));
    }

    private CompletableFuture<PipelineResult> execute(StatementSession session, String clientSql, ScanResult scan,
            CatalogSnapshot snapshot) {
        Dialect dialect = dialect(session);
        if (scan.kind() == ScanResult.Kind.PROXY_STATEMENT) {
            return admin.execute(session, clientSql, scan, dialect);
        }
        if (scan.multiStatement()) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "send a statement that calls an AI function"
                    + " (or uses TiDB vector functions on MariaDB) on its own, not in a multi-statement string");
        }
        String sql = planner.neutral(clientSql, session.sessionText());
        CompletableFuture<PipelineResult> table = catalogStatements.tableStatement(session, sql, snapshot, dialect);
        if (table != null) {
            return table;
        }
        if (onlyNamesTable(sql, scan, snapshot)) {
            return CompletableFuture.completedFuture(PipelineResult.forward(sql));
        }
        CacheSlot cacheAs = cacheSlot(session, sql, dialect, snapshot);
        if (cacheAs != null && !budgetsChecked()) {
            LiteralTemplate cached = planCache.find(cacheAs.byShape(), cacheAs.byText(), cacheAs.shape());
            if (cached != null) {
                LiteralTemplate.Fill instance = cached.sharedByShape() ? cached.fill(cacheAs.shape())
                        : cached.asParsed();
                return plan(session, cached.analysis(), null, dialect, cached, instance, null);
            }
        }
        CacheSlot keepAs = cacheAs == null || planCache.missedBefore(cacheAs.byShape()) ? cacheAs
                : cacheAs.byTextOnly(); // a shape met for the first time: its template is not verified for it yet
        StatementAnalysis parsed = planner.parse(sql);
        int[] searchWidth = {0};
        return rewriter.rewrite(session, sql, parsed, snapshot, dialect, w -> searchWidth[0] = w).thenCompose(rewritten ->
                planners.supply(session.user(), () -> {
                    StatementAnalysis analysis = rewritten == null ? parsed : planner.parse(rewritten);
                    if (rewritten == null && analysis.calls().isEmpty() && analysis.vectorFunctions().isEmpty()) {
                        return CompletableFuture.completedFuture(PipelineResult.forward(sql)); // names a table only
                    }
                    if (dialect == Dialect.MARIADB && searchWidth[0] > 0) {
                        // A knowledge base search: its vector index weighs more candidates than MariaDB's default.
                        SearchWidthSession wide = new SearchWidthSession(session, searchWidth[0]);
                        return plan(wide, analysis, rewritten, dialect, null, null, null).thenApply(wide::widened);
                    }
                    return plan(session, analysis, rewritten == null ? sql : rewritten, dialect, null, null,
                            rewritten == null ? keepAs : null);
                }));
    }

    /**
     * Where a statement's template is looked for and kept: under its shape (the statement with its literals
     * abstracted) when the shape missed before and the template verifies against it, else under its text.
     *
     * @param shape the statement's shape, null when it has none
     */
    private record CacheSlot(PlanCache.Key byShape, PlanCache.Key byText, StatementShape shape, SqlMode mode) {
        /** This slot without the shape: the template is kept under the text, unverified for the shape. */
        CacheSlot byTextOnly() {
            return new CacheSlot(null, byText, null, mode);
        }
    }

    /**
     * {@code sql}'s cache slot: null when the plan cache is off or the statement is not kept, which is when it
     * names a catalog object (its rewrite may depend on the session's database) or is over 16 KB. Costs one pass of
     * the lexer over the statement.
     */
    private CacheSlot cacheSlot(StatementSession session, String sql, Dialect dialect, CatalogSnapshot snapshot) {
        if (!planCache.enabled() || sql.length() > PlanCache.MAXIMUM_STATEMENT_LENGTH || snapshot.mentionedIn(sql)) {
            return null;
        }
        SessionText text = session.sessionText();
        String partition = session.settings().caller().cachePartition();
        StatementShape shape = StatementShape.of(sql, text.sqlMode());
        return new CacheSlot(PlanCache.key(shape, dialect, text, snapshot.epoch(), snapshot.version(), partition),
                PlanCache.key(sql, dialect, text, snapshot.epoch(), snapshot.version(), partition), shape,
                text.sqlMode());
    }

    /** Whether statements are estimated against budgets (the estimate reads a tree of its own, not a template). */
    private boolean budgetsChecked() {
        return budgets != null && !(ledger.ready().isDone() && !ledger.anyBudget());
    }

    /** The plan cache (its counts for the metrics, its contents for tests). */
    public PlanCache planCache() {
        return planCache;
    }

    /** ANSWER's reply: the backend's column definitions for the columns it computed, LONGTEXT for the answers. */
    private static ByteBuf answerReply(StatementSession session, AnswerPlanner.Answers answers) {
        ResultSetWriter writer = session.resultSetWriter();
        if (answers.definitions().isEmpty()) {
            return writer.write(session.alloc(), answers.columns(), answers.rows(), session.serverStatus());
        }
        List<byte[]> definitions = new ArrayList<>();
        for (int i = 0; i < answers.columns().size(); i++) {
            byte[] backend = answers.definitions().get(i);
            definitions.add(backend != null ? backend : writer.longTextDefinition(answers.columns().get(i)));
        }
        return writer.writeDefined(session.alloc(), definitions, answers.rows(), session.serverStatus());
    }

    /**
     * Whether the scan flagged only the name of a table with auto-embedding columns (function calls win over table
     * names in a scan result), in a statement that cannot write it (ALTER, TRUNCATE, SHOW CREATE TABLE …): relayed as
     * written, without a parse.
     */
    private static boolean onlyNamesTable(String sql, ScanResult scan, CatalogSnapshot snapshot) {
        String name = scan.name();
        if (name == null || !snapshot.embeddingTableNames().contains(name) || snapshot.functionNames().contains(name)
                || snapshot.modelNames().contains(name)) {
            return false;
        }
        String first = CatalogRewriter.firstKeyword(sql);
        return !(first.equals("INSERT") || first.equals("REPLACE") || first.equals("UPDATE") || first.equals("WITH"));
    }

    /**
     * Plans and runs {@code analysis} once the session's account may call every model it names ({@link
     * ModelAccessCheck}) and its estimate fits the account's budget ({@link BudgetCheck}): a refusal comes before any
     * model call.
     *
     * @param text     the text {@code analysis} was parsed from: the estimate plans a parse of its own (planning
     *     rewrites the tree it is given, and the statement is planned again to run); null: the estimate reads
     *     {@code analysis} (a cached template's, which is only run when no budget is checked)
     * @param template the cached template of {@code analysis} (whose tree it prepared), or null
     * @param instance the statement's instance of {@code template} (its literals), or null without a template
     * @param cacheAs  where to keep the template of {@code analysis} if the literal plan applies, or null
     */
    private CompletableFuture<PipelineResult> plan(StatementSession session, StatementAnalysis analysis, String text,
            Dialect dialect, LiteralTemplate template, LiteralTemplate.Fill instance, CacheSlot cacheAs) {
        // A shared template's tree names the models of the statement it was made from; the instance names these.
        CompletableFuture<Void> allowed = access.check(session, catalog.snapshot(), analysis.calls(),
                session.settings(), instance == null ? Map.of() : instance.argumentValues());
        if (!analysis.calls().isEmpty() && budgetsChecked()) {
            // The estimate reads the backend (row counts) from the planner lane, as EXPLAIN RAG does.
            allowed = allowed.thenCompose(v -> ledger.ready()).thenCompose(v -> !ledger.anyBudget()
                    ? CompletableFuture.<Void>completedFuture(null)
                    : planners.supply(session.user(), () -> ModelAccessCheck.account(session).thenCompose(account ->
                            budgets.check(account, () -> admin.estimate(session,
                                    text == null ? analysis : planner.parse(text), dialect)))));
        }
        if (allowed.isDone() && !allowed.isCompletedExceptionally()) {
            return run(session, analysis, dialect, template, instance, cacheAs);
        }
        // The account was read from the backend: back to the account's planner lane, off the event loop.
        return allowed.thenCompose(v -> planners.supply(session.user(), () -> run(session, analysis, dialect,
                template, instance, cacheAs)));
    }

    private CompletableFuture<PipelineResult> run(StatementSession session, StatementAnalysis analysis,
            Dialect dialect, LiteralTemplate template, LiteralTemplate.Fill instance, CacheSlot cacheAs) {
        if (template != null) {
            session.plan("literal");
            return planner.plan(session, template, instance, session.settings(), false)
                    .thenApply(plan -> PipelineResult.forward(checked(plan.backendSql())));
        }
        if (AnswerPlanner.applies(analysis)) {
            session.plan("answer");
            return answers.run(session, analysis, dialect, session.settings()).thenApply(a -> PipelineResult.reply(
                    answerReply(session, a)));
        }
        if (BackfillPlanner.applies(analysis)) {
            session.plan("backfill");
            return backfill.run(session, analysis, dialect, session.settings()).thenApply(r -> PipelineResult.reply(
                    Packets.ok(session.alloc(), 1, r.changed(), 0, session.serverStatus(), 0,
                            "Rows matched: " + r.matched() + "  Changed: " + r.changed() + "  Warnings: 0",
                            session.sessionTrack())));
        }
        if (StreamedPlanner.applies(analysis)) {
            session.plan("streamed");
            return streamed.run(session, analysis, dialect, session.settings(), this::checked);
        }
        if (MaterializedPlanner.applies(analysis)) {
            session.plan("materialized");
            return materialized.plan(session, analysis, dialect, session.settings(), false)
                    .thenApply(plan -> PipelineResult.forward(checked(plan.backendSql()), plan.cleanup()));
        }
        session.plan("literal");
        LiteralTemplate prepared = cacheAs == null ? null
                : planner.template(analysis, dialect, cacheAs.shape(), cacheAs.mode());
        if (prepared == null) {
            return planner.plan(session, analysis, dialect, session.settings(), false)
                    .thenApply(plan -> PipelineResult.forward(checked(plan.backendSql())));
        }
        if (prepared.sharedByShape() && cacheAs.byShape() != null) {
            planCache.put(cacheAs.byShape(), prepared);
        } else if (cacheAs.byText() != null) {
            planCache.put(cacheAs.byText(), prepared);
        }
        return planner.plan(session, prepared, session.settings(), false)
                .thenApply(plan -> PipelineResult.forward(checked(plan.backendSql())));
    }

    /**
     * A statement of the proxy's own (the refresh after a LOAD DATA), rewritten and planned like a client's, its
     * outcome kept from the client: a composed reply is dropped, a forwarded statement runs on the session (then
     * the plan's clean-up, whatever happened).
     */
    private CompletableFuture<Void> runOwn(StatementSession session, String sql) {
        Dialect dialect = dialect(session);
        return catalog.refreshIfDue(session).thenCompose(snapshot -> planners.supply(session.user(), () -> {
            StatementAnalysis parsed = planner.parse(sql);
            return rewriter.rewrite(session, sql, parsed, snapshot, dialect, w -> { }).thenCompose(rewritten ->
                    planners.supply(session.user(), () -> plan(session, rewritten == null ? parsed
                            : planner.parse(rewritten), rewritten == null ? sql : rewritten, dialect, null, null, null)));
        })).thenCompose(result -> {
            if (result instanceof PipelineResult.Reply reply) {
                reply.frames().release();
                return CompletableFuture.completedFuture(null);
            }
            if (result instanceof PipelineResult.Forward forward) {
                CompletableFuture<Throwable> ran = session.query(forward.sql()).handle((r, e) -> e);
                for (String cleanup : forward.afterwards()) {
                    ran = ran.thenCompose(e -> session.query(cleanup).handle((r, ignored) -> e));
                }
                return ran.thenCompose(e -> e == null ? CompletableFuture.<Void>completedFuture(null)
                        : CompletableFuture.failedFuture(e));
            }
            throw new ProxyException(ProxyError.INTERNAL, "ragproxy cannot run a statement that streams rows as a"
                    + " step of another: " + sql);
        });
    }

    /**
     * The last line of defence: a statement still calling an AI function (built-in or the user's) never reaches
     * the backend.
     */
    private String checked(String backendSql) {
        byte[] bytes = backendSql.getBytes(StandardCharsets.UTF_8);
        ScanResult left = scanners.residue().scan(bytes, 0, bytes.length);
        if (left.kind() == ScanResult.Kind.FUNCTION_CALL) {
            throw new ProxyException(ProxyError.INTERNAL, "ragproxy could not rewrite the " + left.name()
                    + "() call in this statement; it was not sent to the backend");
        }
        return backendSql;
    }

    /** Called for every statement (the scanner lookup), so it allocates nothing. */
    private Dialect dialect(StatementSession session) {
        return fixedDialect != null ? fixedDialect : Dialect.of("auto", session.backendVersion());
    }

    @Override
    public void close() {
        if (ledger != null) {
            ledger.close(); // the usage still in memory, through the catalog connection closed below
        }
        if (audit != null) {
            audit.close();
        }
        planners.close();
        parser.close();
        if (catalogConnection instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // closing: nothing left to tell
            }
        }
        invoker.close();
        invoker.registry().close();
    }
}
