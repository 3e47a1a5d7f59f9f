package io.ragproxy.server.config;

import java.time.Duration;

/**
 * The limits that keep one session from stalling or starving the others (docs/security-limits.md): how long the
 * proxy may spend parsing one statement, how large a statement it rewrites may be, how long a login may take, and
 * how many threads plan statements. Immutable.
 *
 * @param parseTimeout {@code proxy.parse_timeout_ms}: the parse of one statement is stopped after this long
 * @param maxAiStatementBytes {@code proxy.max_ai_statement_bytes}: a statement the proxy must rewrite (an AI call)
 *     longer than this is refused as its first frame arrives; other statements are relayed at any size
 * @param loginTimeout {@code proxy.login_timeout_s}: a connection that has not finished its login by then is closed
 * @param plannerThreads {@code proxy.planner_threads}: threads that parse and plan statements; 0 means the number
 *     of cores
 * @param planCacheSize {@code proxy.plan_cache_size}: how many parsed statement shapes (literal-plan templates) the
 *     proxy keeps; 0 turns the plan cache off (every statement is parsed)
 */
public record SessionLimits(Duration parseTimeout, long maxAiStatementBytes, Duration loginTimeout,
        int plannerThreads, int planCacheSize) {

    /** The largest login packet (handshake response, auth data) a client may send: 64 kB. */
    public static final int MAX_LOGIN_PACKET_BYTES = 64 * 1024;

    /** The defaults: 2 s parses, 16 MiB AI statements, 10 s logins, a planner thread per core, 1,000 plans. */
    public static final SessionLimits DEFAULT = new SessionLimits(Duration.ofMillis(2000), 16L * 1024 * 1024,
            Duration.ofSeconds(10), 0, 1000);

    public SessionLimits {
        if (parseTimeout.isNegative() || parseTimeout.isZero()) {
            throw new IllegalArgumentException("proxy.parse_timeout_ms must be at least 1, got " + parseTimeout.toMillis());
        }
        if (maxAiStatementBytes < 1) {
            throw new IllegalArgumentException("proxy.max_ai_statement_bytes must be at least 1, got "
                    + maxAiStatementBytes);
        }
        if (loginTimeout.isNegative() || loginTimeout.isZero()) {
            throw new IllegalArgumentException("proxy.login_timeout_s must be at least 1, got "
                    + loginTimeout.toSeconds());
        }
        if (plannerThreads < 0) {
            throw new IllegalArgumentException("proxy.planner_threads must be 0 (one per core) or more, got "
                    + plannerThreads);
        }
        if (planCacheSize < 0) {
            throw new IllegalArgumentException("proxy.plan_cache_size must be 0 (no plan cache) or more, got "
                    + planCacheSize);
        }
    }

    /** The planner threads to start: {@link #plannerThreads()}, or the number of cores when it is 0. */
    public int plannerThreadCount() {
        return plannerThreads > 0 ? plannerThreads : Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    public SessionLimits withParseTimeout(Duration d) {
        return new SessionLimits(d, maxAiStatementBytes, loginTimeout, plannerThreads, planCacheSize);
    }

    public SessionLimits withMaxAiStatementBytes(long bytes) {
        return new SessionLimits(parseTimeout, bytes, loginTimeout, plannerThreads, planCacheSize);
    }

    public SessionLimits withLoginTimeout(Duration d) {
        return new SessionLimits(parseTimeout, maxAiStatementBytes, d, plannerThreads, planCacheSize);
    }

    public SessionLimits withPlannerThreads(int n) {
        return new SessionLimits(parseTimeout, maxAiStatementBytes, loginTimeout, n, planCacheSize);
    }

    public SessionLimits withPlanCacheSize(int n) {
        return new SessionLimits(parseTimeout, maxAiStatementBytes, loginTimeout, plannerThreads, n);
    }
}
