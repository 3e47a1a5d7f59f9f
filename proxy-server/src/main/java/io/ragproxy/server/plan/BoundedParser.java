package io.ragproxy.server.plan;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.NestingCheck;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;

/**
 * Runs JSqlParser on the calling thread with a per-statement deadline, after {@link NestingCheck} has refused
 * statements nested too deeply. Unlike {@code CCJSqlParserUtil.parse(sql, executor, …)} it never waits on a future:
 * the caller's thread does the parsing (a planner thread, never an event loop), and a timer stops the parser at the
 * deadline through its {@code interrupted} flag.
 *
 * <p>The deadline is {@code timeout} for a statement up to {@value #FAST_PARSE_UNIT} characters; a longer one's fast
 * parse gets the timeout once per started {@value #FAST_PARSE_UNIT} characters, as its time grows with its length.
 *
 * <p>As JSqlParser's own entry point, it tries the fast parse first and the slow "complex" one only for statements
 * nested at most {@value #MAX_COMPLEX_DEPTH} deep; unlike it, never for statements whose parentheses do not
 * balance, which cannot parse however long the parser tries. Thread-safe; {@link #close()} stops the timer.
 */
public final class BoundedParser implements AutoCloseable {
    /** The deepest nesting JSqlParser's complex parse is tried for (JSqlParser's own bound). */
    public static final int MAX_COMPLEX_DEPTH = 10;
    /** Characters of statement text per timeout of the fast parse ({@link #fastParseBudget}). */
    public static final int FAST_PARSE_UNIT = 16 * 1024;

    private final Duration timeout;
    private final ScheduledExecutorService timer;

    /** @param timeout how long one statement's parse may take ({@code proxy.parse_timeout_ms}) */
    public BoundedParser(Duration timeout) {
        this.timeout = timeout;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ragproxy-parse-deadline");
            t.setDaemon(true);
            return t;
        });
    }

    /** The per-statement deadline. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * Parses one statement, reading backslash escapes in string literals as MySQL does by default.
     *
     * @throws ProxyException STATEMENT_TOO_DEEP or PARSE_ERROR before the parser runs (see {@link NestingCheck}),
     *     PARSE_TIMEOUT when the deadline passed
     * @throws JSQLParserException when the statement does not parse
     */
    public Statement parse(String sql) throws JSQLParserException {
        NestingCheck.Nesting nesting = NestingCheck.check(sql);
        long start = System.nanoTime();
        try {
            return attempt(sql, false, start + fastParseBudget(sql.length()));
        } catch (JSQLParserException simpleFailed) {
            if (nesting.depth() > MAX_COMPLEX_DEPTH || !nesting.balanced()) {
                throw simpleFailed;
            }
            return attempt(sql, true, start + timeout.toNanos());
        }
    }

    /**
     * The fast parse's time for a statement of {@code length} characters: the timeout per started
     * {@value #FAST_PARSE_UNIT} characters. The fast parse takes time in proportion to the text (JSqlParser reads a
     * 1,000-row multi-row INSERT of 50 KB in 0.3 to 1 s of CPU, a MariaDB bulk batch of an AI INSERT becomes one
     * such statement), whereas the statements the deadline is for are short ones whose complex parse explodes; that
     * one keeps the plain timeout.
     */
    long fastParseBudget(int length) {
        long units = Math.max(1, (length + FAST_PARSE_UNIT - 1L) / FAST_PARSE_UNIT);
        return timeout.toNanos() > Long.MAX_VALUE / units ? Long.MAX_VALUE / 2 : timeout.toNanos() * units;
    }

    private Statement attempt(String sql, boolean complex, long deadline) throws JSQLParserException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw timedOut();
        }
        CCJSqlParser parser = CCJSqlParserUtil.newParser(sql).withBackslashEscapeCharacter(true)
                .withAllowComplexParsing(complex);
        AtomicBoolean stopped = new AtomicBoolean();
        ScheduledFuture<?> stop = timer.schedule(() -> {
            stopped.set(true);
            parser.interrupted = true; // JSqlParser checks it as it goes, and fails
        }, left, TimeUnit.NANOSECONDS);
        try {
            return parser.Statement();
        } catch (Exception | Error e) {
            if (stopped.get()) {
                throw timedOut();
            }
            if (e instanceof Error error && !(e instanceof StackOverflowError) && !(e.getClass().getName()
                    .endsWith("TokenMgrError"))) {
                throw error;
            }
            throw new JSQLParserException(e);
        } finally {
            stop.cancel(false);
        }
    }

    private ProxyException timedOut() {
        return new ProxyException(ProxyError.PARSE_TIMEOUT, "ragproxy stopped parsing this statement after "
                + timeout.toMillis() + " ms (proxy.parse_timeout_ms); simplify it (fewer nested parentheses or"
                + " expressions) or split it up. The statement was not sent to the backend");
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
