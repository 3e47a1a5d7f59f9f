package io.ragproxy.server.command;

import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.scan.StatementScanner;
import java.util.concurrent.CompletableFuture;

/**
 * The pipeline of a proxy without AI functions: flagged statements get ERR {@link ProxyError#FEATURE_NOT_AVAILABLE}
 * and are never forwarded with the AI call left in.
 */
final class UnavailablePipeline implements StatementPipeline {
    /** The AI functions of DESIGN.md §4, flagged even when this build cannot run them. */
    static final java.util.List<String> BUILT_IN_NAMES = java.util.List.of("EMBED", "EMBED_TEXT", "GENERATE",
            "ANSWER", "VEC_EMBED_COSINE_DISTANCE", "VEC_EMBED_L2_DISTANCE");

    private final StatementScanner scanner;

    UnavailablePipeline(StatementScanner scanner) {
        this.scanner = scanner;
    }

    @Override
    public StatementScanner scanner(StatementSession session) {
        return scanner;
    }

    @Override
    public RagSettings initialSettings() {
        return RagSettings.defaults(io.ragproxy.catalog.invoke.InvocationSettings.DEFAULT);
    }

    @Override
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan) {
        String what = scan.kind() == ScanResult.Kind.FUNCTION_CALL
                ? "the AI function " + scan.name().toUpperCase(java.util.Locale.ROOT) + "()"
                : "the proxy statement " + scan.proxyStatementKind().phrase();
        return CompletableFuture.failedFuture(new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE,
                what + " is not available in this ragproxy build; the statement was not sent to the backend"));
    }
}
