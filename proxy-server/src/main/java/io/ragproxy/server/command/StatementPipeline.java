package io.ragproxy.server.command;

import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.scan.StatementScanner;
import java.util.concurrent.CompletableFuture;

/**
 * What the proxy does with a COM_QUERY the scan flagged (an AI function call or a proxy statement): the parse,
 * plan and execute steps of DESIGN.md §3. Everything the scan does not flag never reaches a pipeline.
 *
 * <p>Implementations must not block: they run on a connection's event loop and return a future.
 */
public interface StatementPipeline {

    /**
     * The scanner for {@code session}: the current catalog's names, plus the vector spellings the session's
     * backend dialect needs translated.
     */
    StatementScanner scanner(StatementSession session);

    /**
     * The {@code rag_} settings a new session starts with, its model calls counted in counters of its own (a fresh
     * {@link io.ragproxy.catalog.invoke.CounterSet} per call).
     */
    RagSettings initialSettings();

    /**
     * Called once a session is authenticated, before its first command: the pipeline may run its own queries on the
     * session (the catalog's version check) and the client's commands wait until the returned future completes.
     * It must not fail; the default does nothing.
     */
    default CompletableFuture<Void> sessionStarted(StatementSession session) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Executes a flagged statement. The connection's backend is idle (every earlier response complete) and the
     * client's later commands are held back until the returned future completes.
     *
     * @param session the client's session: its backend link and settings
     * @param sql the statement text (the COM_QUERY payload after the command byte), decoded
     * @param scan what the scan found
     * @return the reply, or the plain statement to forward; a failed future becomes an ERR packet (a
     *     {@link ProxyException} gives its number, SQLSTATE and message)
     */
    CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan);

    /**
     * Checks, at COM_STMT_PREPARE, what a flagged statement's text fixes before its parameters are known, so that the
     * prepare fails with the error its execute would give: that it parses, and that the models and options its AI
     * calls name as literals exist and are valid. Parameters are unknown here: what depends on them is checked at
     * execute. When the text fixes its result's columns, they are described too, for the prepare's answer. Runs off
     * the event loop; the default checks nothing and describes no column.
     *
     * @param session the client's session
     * @param sql the prepared text, decoded
     * @param bind the text with each placeholder replaced by the given literal
     * @return the column definition payloads the execute's result will have (empty when none or not known before
     *     execute); fails with the {@link ProxyException} the execute would give
     */
    default CompletableFuture<java.util.List<byte[]>> checkPrepared(StatementSession session, String sql,
            java.util.function.Function<String, String> bind) {
        return CompletableFuture.completedFuture(java.util.List.of());
    }
}
