package io.ragproxy.server.pipeline;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.local.LocalModels;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.server.admin.AdminStatements;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.plan.AiFunction;
import io.ragproxy.server.plan.AnswerPlanner;
import io.ragproxy.server.plan.BackfillPlanner;
import io.ragproxy.server.plan.LiteralPlanner;
import io.ragproxy.server.plan.MaterializedPlanner;
import io.ragproxy.server.plan.StatementAnalysis;
import io.ragproxy.server.plan.StreamedPlanner;
import io.ragproxy.server.wire.Packets;
import io.ragproxy.server.scan.FunctionNames;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.scan.StatementScanner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The statement pipeline with the AI functions: proxy statements go to {@link AdminStatements}; statements with
 * AI calls are parsed, planned (ANSWER, backfill, streamed, materialized or literal: the first plan that applies)
 * and run; on a MariaDB backend,
 * statements written with TiDB's vector spellings are translated even without an AI call.
 */
public final class RagPipeline implements StatementPipeline, AutoCloseable {
    private final ModelInvoker invoker;
    private final String configuredDialect;
    private final ExecutorService parserExecutor;
    private final LiteralPlanner planner;
    private final BackfillPlanner backfill;
    private final AnswerPlanner answers;
    private final StreamedPlanner streamed;
    private final MaterializedPlanner materialized;
    private final AdminStatements admin;
    private final RagSettings initialSettings;
    private final StatementScanner tidbScanner;
    private final StatementScanner mariadbScanner;

    /**
     * @param invoker the model invocation policy (owned by the caller)
     * @param configuredDialect {@code auto}, {@code tidb} or {@code mariadb}
     */
    public RagPipeline(ModelInvoker invoker, String configuredDialect) {
        this.invoker = invoker;
        this.configuredDialect = configuredDialect;
        this.parserExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ragproxy-sql-parser");
            t.setDaemon(true);
            return t;
        });
        this.planner = new LiteralPlanner(invoker, parserExecutor);
        this.backfill = new BackfillPlanner(planner);
        this.answers = new AnswerPlanner(planner);
        this.streamed = new StreamedPlanner(planner);
        this.materialized = new MaterializedPlanner(planner);
        this.initialSettings = RagSettings.defaults(invoker.defaults());
        this.admin = new AdminStatements(invoker, planner, backfill, streamed, materialized, initialSettings);
        this.tidbScanner = new StatementScanner(FunctionNames.of(AiFunction.names()));
        List<String> withTranslations = new ArrayList<>(AiFunction.names());
        withTranslations.addAll(Dialect.MARIADB.translatedFunctionNames());
        this.mariadbScanner = new StatementScanner(FunctionNames.of(withTranslations));
    }

    /** A pipeline with models from {@code config}'s {@code [models]} tables and the local models built in. */
    public static RagPipeline create(ProxyConfig config) {
        ModelsConfig models = ModelsConfig.fromJson(config.ai());
        ModelRegistry registry = new ModelRegistry(models, new LocalModels());
        return new RagPipeline(ModelInvoker.create(registry), config.dialect());
    }

    /** The invocation policy, for counters and tests. */
    public ModelInvoker invoker() {
        return invoker;
    }

    @Override
    public StatementScanner scanner(StatementSession session) {
        return dialect(session) == Dialect.MARIADB ? mariadbScanner : tidbScanner;
    }

    @Override
    public RagSettings initialSettings() {
        return initialSettings;
    }

    @Override
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan) {
        Dialect dialect = dialect(session);
        if (scan.kind() == ScanResult.Kind.PROXY_STATEMENT) {
            return admin.execute(session, sql, scan, dialect);
        }
        if (scan.multiStatement()) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "send a statement that calls an AI function"
                    + " (or uses TiDB vector functions on MariaDB) on its own, not in a multi-statement string");
        }
        StatementAnalysis analysis = planner.parse(sql);
        if (AnswerPlanner.applies(analysis)) {
            return answers.run(session, analysis, dialect, session.settings()).thenApply(a -> PipelineResult.reply(
                    session.resultSetWriter().write(session.alloc(), a.columns(), a.rows(), session.serverStatus())));
        }
        if (BackfillPlanner.applies(analysis)) {
            return backfill.run(session, analysis, dialect, session.settings()).thenApply(r -> PipelineResult.reply(
                    Packets.ok(session.alloc(), 1, r.changed(), 0, session.serverStatus(), 0,
                            "Rows matched: " + r.matched() + "  Changed: " + r.changed() + "  Warnings: 0",
                            session.sessionTrack())));
        }
        if (StreamedPlanner.applies(analysis)) {
            return streamed.run(session, analysis, dialect, session.settings(), this::checked);
        }
        if (MaterializedPlanner.applies(analysis)) {
            return materialized.plan(session, analysis, dialect, session.settings(), false)
                    .thenApply(plan -> PipelineResult.forward(checked(plan.backendSql()), plan.cleanup()));
        }
        return planner.plan(session, analysis, dialect, session.settings(), false)
                .thenApply(plan -> PipelineResult.forward(checked(plan.backendSql())));
    }

    /** The last line of defence: a statement still calling an AI function never reaches the backend. */
    private String checked(String backendSql) {
        byte[] bytes = backendSql.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ScanResult left = tidbScanner.scan(bytes, 0, bytes.length);
        if (left.kind() == ScanResult.Kind.FUNCTION_CALL) {
            throw new ProxyException(ProxyError.INTERNAL, "ragproxy could not rewrite the " + left.name()
                    + "() call in this statement; it was not sent to the backend");
        }
        return backendSql;
    }

    private Dialect dialect(StatementSession session) {
        return Dialect.of(configuredDialect, session.backendVersion());
    }

    @Override
    public void close() {
        parserExecutor.shutdownNow();
        invoker.close();
        invoker.registry().close();
    }
}
