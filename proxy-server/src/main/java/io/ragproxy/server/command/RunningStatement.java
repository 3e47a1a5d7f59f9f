package io.ragproxy.server.command;

import java.time.Duration;

/**
 * One AI statement a connection of this proxy runs now, as {@code SHOW RAG PROCESSLIST} lists it: a snapshot taken
 * when asked, never updated. Immutable.
 *
 * @param connectionId the connection id its client saw ({@code CONNECTION_ID()}, the id {@code KILL} takes)
 * @param user the authenticated user name
 * @param plan the plan kind ({@code backfill}, {@code streamed}, {@code materialized}, {@code literal},
 *        {@code answer}); {@code planning} until one is chosen
 * @param info the statement's text, shortened to {@link #INFO_LENGTH} characters
 * @param rowsDone rows done so far (a backfill's committed rows); 0 for plans that do not report rows
 * @param rowsExpected rows the statement expects to do; -1 when it does not know
 * @param modelCalls model requests sent for it so far (cache hits and in-flight duplicates are not calls)
 * @param elapsed time since the proxy started the statement
 */
public record RunningStatement(long connectionId, String user, String plan, String info, long rowsDone,
        long rowsExpected, long modelCalls, Duration elapsed) {

    /** How much of a statement's text {@link #info} keeps, as SHOW PROCESSLIST's Info column shortens it. */
    public static final int INFO_LENGTH = 100;

    /**
     * The time still to go at the rate so far ({@code elapsed} per row done), or null while it cannot be told: no
     * row done yet, or no rows expected.
     */
    public Duration estimatedLeft() {
        if (rowsDone <= 0 || rowsExpected <= 0) {
            return null;
        }
        long left = Math.max(0, rowsExpected - rowsDone);
        return Duration.ofNanos((long) (elapsed.toNanos() * ((double) left / rowsDone)));
    }
}
