package io.ragproxy.server.command;

import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.protocol.Commands;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The warnings the proxy itself raised while running one statement (a model call that failed and gave NULL under
 * {@code rag_on_error = 'null'}), and the statements that read them the way MySQL's warnings are read:
 * {@code SHOW WARNINGS [LIMIT [offset,] n]}, {@code SHOW COUNT(*) WARNINGS} and {@code SELECT @@warning_count}.
 * They come after the backend's own warnings of the same statement.
 *
 * <p>At most {@value #MAX_LISTED} are listed, the last of them saying how many more there were (MySQL's
 * {@code max_error_count} default); the count includes all of them, as {@code @@warning_count} does.
 *
 * <p>Adding is thread-safe (plans add warnings from model-call threads); the rest is read on the event loop.
 */
public final class ProxyWarnings {
    /** Most warnings listed; beyond it, the last row summarizes the rest. */
    public static final int MAX_LISTED = 64;

    private static final Pattern SHOW_WARNINGS = Pattern.compile(
            "(?is)\\s*show\\s+warnings(?:\\s+limit\\s+(\\d{1,9})(?:\\s*,\\s*(\\d{1,9}))?)?\\s*;?\\s*");
    private static final Pattern SHOW_COUNT = Pattern.compile(
            "(?is)\\s*show\\s+count\\s*\\(\\s*\\*\\s*\\)\\s+warnings\\s*;?\\s*");
    private static final Pattern SELECT_COUNT = Pattern.compile(
            "(?is)\\s*select\\s+(@@(?:session\\.)?warning_count)\\s*;?\\s*");
    /** Longer statements cannot be one of the above (with a sane amount of white space): not even looked at. */
    public static final int MAX_READER_LENGTH = 96;

    private final List<List<String>> listed = new ArrayList<>();
    private long total;
    /**
     * The backend's own warnings of the statement, read before the proxy ran statements of its own after it (which
     * reset the backend's diagnostics area); null while the backend still holds them.
     */
    private List<List<String>> backendRows;
    private long backendCount;

    /** Adds a warning (Level {@code Warning}). */
    public synchronized void add(int code, String message) {
        total++;
        if (listed.size() < MAX_LISTED) {
            listed.add(List.of("Warning", Integer.toString(code), message));
        }
    }

    /**
     * Keeps the backend's own warnings of the statement ({@code SHOW WARNINGS}' rows and the count its reply carried),
     * read before the proxy's clean-up reset the backend's diagnostics area: SHOW WARNINGS and {@code
     * @@warning_count} then answer from these.
     */
    public synchronized void backendWarnings(QueryResult shown, long count) {
        backendRows = backendRows(shown);
        backendCount = Math.max(count, backendRows.size());
    }

    /** How many warnings were raised, as a reply's 2-byte warning count carries it (at most 65535). */
    public synchronized int count() {
        return (int) Math.min(total, 0xFFFF);
    }

    /** Whether no warning was raised (by the proxy, or kept from the backend). */
    public synchronized boolean isEmpty() {
        return total == 0 && backendCount == 0;
    }

    /** SHOW WARNINGS' rows (Level, Code, Message): the first ones, and a last one counting those not listed. */
    public synchronized List<List<String>> rows() {
        if (total <= MAX_LISTED) {
            return List.copyOf(listed);
        }
        List<List<String>> out = new ArrayList<>(listed.subList(0, MAX_LISTED - 1));
        long more = total - (MAX_LISTED - 1);
        out.add(List.of("Warning", listed.get(MAX_LISTED - 1).get(1), "… and " + more + " more warnings like the ones"
                + " above (ragproxy lists " + (MAX_LISTED - 1) + ")"));
        return out;
    }

    /** What a warnings-reading statement asks for. */
    public enum Kind { LIST, COUNT }

    /**
     * A statement that reads the previous statement's warnings.
     *
     * @param kind the list or the count
     * @param label the count's column label ({@code @@warning_count} as written, or MySQL's label for SHOW COUNT)
     * @param offset rows of the list to skip (LIMIT offset, n)
     * @param limit most rows of the list to return
     */
    public record Read(Kind kind, String label, long offset, long limit) {}

    /**
     * The warnings-reading statement {@code sql} is, or null for any other statement (which clears the warnings).
     * Only called while proxy warnings are pending, so plain statements never pay for it.
     */
    public static Read reader(CharSequence sql) {
        if (sql.length() > MAX_READER_LENGTH) {
            return null;
        }
        Matcher m = SHOW_WARNINGS.matcher(sql);
        if (m.matches()) {
            if (m.group(2) != null) {
                return new Read(Kind.LIST, null, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
            }
            return new Read(Kind.LIST, null, 0, m.group(1) == null ? Long.MAX_VALUE : Long.parseLong(m.group(1)));
        }
        if (SHOW_COUNT.matcher(sql).matches()) {
            return new Read(Kind.COUNT, "@@session.warning_count", 0, 1);
        }
        m = SELECT_COUNT.matcher(sql);
        if (m.matches()) {
            return new Read(Kind.COUNT, m.group(1), 0, 1);
        }
        return null;
    }

    /**
     * Whether a command other than COM_QUERY starts a new statement and so clears the warnings (as MySQL's
     * diagnostics area is cleared): prepared-statement execution, USE, a user change. Pings, statistics and closing
     * a prepared statement leave them.
     */
    public static boolean clearedBy(int command) {
        return switch (command) {
            case Commands.COM_QUERY, Commands.COM_INIT_DB, Commands.COM_FIELD_LIST, Commands.COM_STMT_PREPARE,
                    Commands.COM_STMT_EXECUTE, Commands.COM_STMT_BULK_EXECUTE, Commands.COM_CHANGE_USER,
                    Commands.COM_RESET_CONNECTION, Commands.COM_PROCESS_INFO -> true;
            default -> false;
        };
    }

    /**
     * Answers {@code read}: the backend's own warnings (it still holds those of the previous statement, which the
     * proxy ran last), then these.
     */
    public CompletableFuture<PipelineResult> answer(StatementSession session, Read read) {
        List<List<String>> kept;
        long keptCount;
        synchronized (this) {
            kept = backendRows;
            keptCount = backendCount;
        }
        if (kept != null) {
            if (read.kind() == Kind.COUNT) {
                return CompletableFuture.completedFuture(reply(session, List.of(read.label()),
                        List.of(List.of(Long.toString(keptCount + count())))));
            }
            return CompletableFuture.completedFuture(list(session, read, kept));
        }
        if (read.kind() == Kind.COUNT) {
            return session.query("SELECT @@warning_count").thenApply(r -> {
                String theirs = r.first().rows().get(0).get(0);
                long n = (theirs == null ? 0 : Long.parseLong(theirs)) + count();
                return reply(session, List.of(read.label()), List.of(List.of(Long.toString(n))));
            });
        }
        return session.query("SHOW WARNINGS").thenApply(r -> list(session, read, backendRows(r)));
    }

    private PipelineResult list(StatementSession session, Read read, List<List<String>> backend) {
        List<List<String>> all = new ArrayList<>(backend);
        all.addAll(rows());
        int from = (int) Math.min(all.size(), read.offset());
        int to = (int) Math.min(all.size(), from + Math.min(read.limit(), Integer.MAX_VALUE));
        return reply(session, List.of("Level", "Code", "Message"), all.subList(from, to));
    }

    private static List<List<String>> backendRows(QueryResult r) {
        List<List<String>> out = new ArrayList<>();
        if (!r.resultSets().isEmpty()) {
            for (List<String> row : r.first().rows()) {
                out.add(Arrays.asList(row.get(0), row.get(1), row.get(2)));
            }
        }
        return out;
    }

    private static PipelineResult reply(StatementSession session, List<String> columns, List<List<String>> rows) {
        return PipelineResult.reply(session.resultSetWriter().write(session.alloc(), columns, rows,
                session.serverStatus()));
    }
}
