package io.ragproxy.server.balance;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The configured backends and the choice of one for a new client connection: the usable backend (healthy, or not
 * checked yet) with the fewest connections; among equals, the next one after the last choice, so that connections
 * opened one after another still spread. A connection stays on its backend for its whole life (its session state is
 * there).
 *
 * <p>Thread-safe. The pool owns its health checks; {@link #close()} stops them.
 */
public final class BackendPool implements AutoCloseable {
    private final List<BackendServer> servers;
    private final HealthChecker checker;
    private int next;

    private BackendPool(List<BackendServer> servers, HealthChecker checker) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("at least one backend is needed");
        }
        this.servers = List.copyOf(servers);
        this.checker = checker;
        if (checker != null) {
            checker.start(this.servers);
        }
    }

    /** A pool whose backends are checked every {@code interval}, each check given {@code timeout}. */
    public static BackendPool checked(List<BackendServer> servers, Duration interval, Duration timeout) {
        return new BackendPool(servers, new HealthChecker(interval, timeout));
    }

    /** A pool without health checks: every backend counts as usable (unit tests). */
    public static BackendPool unchecked(List<BackendServer> servers) {
        return new BackendPool(servers, null);
    }

    /** The backends, in configuration order; the first one holds the proxy's catalog. */
    public List<BackendServer> servers() {
        return servers;
    }

    /**
     * Chooses the backend for a new connection and counts the connection against it (give it back with
     * {@link BackendServer#release()}).
     *
     * @param tried backends this connection already failed to reach, left out
     * @return the chosen backend, or null when no backend outside {@code tried} is usable
     */
    public synchronized BackendServer acquire(Set<BackendServer> tried) {
        BackendServer best = null;
        int n = servers.size();
        for (int i = 0; i < n; i++) {
            BackendServer s = servers.get((next + i) % n);
            if (s.usable() && !tried.contains(s) && (best == null || s.connections() < best.connections())) {
                best = s;
            }
        }
        if (best != null) {
            best.acquire();
            next = (servers.indexOf(best) + 1) % n;
        }
        return best;
    }

    /** Whether at least one backend passed its health check. */
    public boolean anyUp() {
        return servers.stream().anyMatch(BackendServer::up);
    }

    /** Whether every backend has been checked at least once. */
    public boolean allChecked() {
        return servers.stream().allMatch(BackendServer::checked);
    }

    /** One line on every backend's health, for logs, errors and {@code /ready}. */
    public String describe() {
        return servers.stream().map(s -> s.address() + (!s.checked() ? " not checked yet" : s.up() ? " up"
                : " down (" + s.lastProblem() + ")")).collect(Collectors.joining(", "));
    }

    @Override
    public void close() {
        if (checker != null) {
            checker.close();
        }
    }
}
