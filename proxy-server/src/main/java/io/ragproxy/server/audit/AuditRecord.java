package io.ragproxy.server.audit;

import java.time.Instant;
import java.util.List;

/**
 * What the audit log says about one AI statement. Immutable.
 *
 * @param time         when the statement ended
 * @param account      the session's {@code CURRENT_USER()}
 * @param client       the client's address
 * @param connectionId the connection id the client was given
 * @param digest       the statement with its literals replaced by {@code ?} ({@link StatementDigest})
 * @param text         the statement as sent; written only with {@code [audit] include_text}
 * @param plan         the plan it got ({@code literal}, {@code streamed}, …); null when it failed before one
 * @param models       the model ids it called or found in the cache
 * @param requests     model requests sent (every attempt)
 * @param inputTokens  input tokens the models reported
 * @param outputTokens output tokens the models reported
 * @param costUsd      the estimated cost in US dollars
 * @param cacheHits    inputs answered by the cache
 * @param errorCode    0 when it succeeded, else the error code the client got
 */
public record AuditRecord(Instant time, String account, String client, long connectionId, String digest, String text,
        String plan, List<String> models, long requests, long inputTokens, long outputTokens, double costUsd,
        long cacheHits, int errorCode) {

    public AuditRecord {
        models = List.copyOf(models);
    }
}
