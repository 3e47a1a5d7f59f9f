package io.ragproxy.server.balance;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configured backend: its address, its health as the checks see it, and how many client connections it holds.
 *
 * <p>Health follows TiProxy's rule: up after the first good check, out after {@value #FAILURES_TO_FAIL} failed checks
 * in a row, back after {@value #SUCCESSES_TO_RECOVER} good checks in a row. Before its first check a backend counts as
 * usable, so connections that arrive in the first moments after start are not refused. Changes are logged.
 *
 * <p>Thread-safe: checks report on the health checker's thread, connections count themselves on their event loops.
 */
public final class BackendServer {
    private static final Logger log = LoggerFactory.getLogger(BackendServer.class);
    static final int FAILURES_TO_FAIL = 3;
    static final int SUCCESSES_TO_RECOVER = 2;

    private final String host;
    private final int port;
    private final AtomicInteger connections = new AtomicInteger();
    private volatile boolean up;
    private volatile boolean checked;
    private int failures;
    private int successes;
    private String lastProblem = "not checked yet";

    public BackendServer(String host, int port) {
        this.host = host;
        this.port = port;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** {@code host:port}. */
    public String address() {
        return host + ":" + port;
    }

    /** Whether the last checks say the backend is healthy (false before its first check). */
    public boolean up() {
        return up;
    }

    /** Whether at least one check has finished. */
    public boolean checked() {
        return checked;
    }

    /** Whether a new client connection may go here: up, or not checked yet. */
    boolean usable() {
        return up || !checked;
    }

    /** Client connections this backend holds now. */
    public int connections() {
        return connections.get();
    }

    /** Why the last failed check failed ("" after a good one). */
    public synchronized String lastProblem() {
        return lastProblem;
    }

    void acquire() {
        connections.incrementAndGet();
    }

    /** A connection counted against this backend ended (or went to another backend). */
    public void release() {
        connections.decrementAndGet();
    }

    /**
     * Records a check's result.
     *
     * @param problem null when the backend greeted, else what went wrong
     */
    synchronized void checked(String problem) {
        boolean first = !checked;
        checked = true;
        if (problem == null) {
            failures = 0;
            successes++;
            lastProblem = "";
            if (!up && (first || successes >= SUCCESSES_TO_RECOVER)) {
                up = true;
                log.info("backend {} is up", address());
            }
        } else {
            successes = 0;
            failures++;
            lastProblem = problem;
            if (first) {
                log.warn("backend {} is down: {}", address(), problem);
            } else if (up && failures >= FAILURES_TO_FAIL) {
                up = false;
                log.warn("backend {} is down after {} failed health checks: {}", address(), failures, problem);
            }
        }
    }

    @Override
    public String toString() {
        return address();
    }
}
