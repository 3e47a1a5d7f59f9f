package io.ragproxy.server.pipeline;

import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.plan.AiFunction;
import io.ragproxy.server.scan.FunctionNames;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.scan.StatementScanner;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * The pipeline of a proxy without AI functions: flagged statements get ERR {@link ProxyError#FEATURE_NOT_AVAILABLE}
 * and are never forwarded with the AI call left in.
 */
public final class UnavailablePipeline implements StatementPipeline {
    /** Flags the AI functions of DESIGN.md §4 even though this pipeline cannot run them. */
    private final StatementScanner scanner = new StatementScanner(FunctionNames.of(AiFunction.names()));

    @Override
    public StatementScanner scanner(StatementSession session) {
        return scanner;
    }

    @Override
    public RagSettings initialSettings() {
        return RagSettings.defaults(InvocationSettings.DEFAULT);
    }

    @Override
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan) {
        String what = scan.kind() == ScanResult.Kind.FUNCTION_CALL
                ? "the AI function " + scan.name().toUpperCase(Locale.ROOT) + "()"
                : "the proxy statement " + scan.proxyStatementKind().phrase();
        return CompletableFuture.failedFuture(new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE,
                what + " is not available in this ragproxy build; the statement was not sent to the backend"));
    }
}
