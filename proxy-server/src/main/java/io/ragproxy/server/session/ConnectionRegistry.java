package io.ragproxy.server.session;

import io.ragproxy.server.command.RunningStatement;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The live client connections of one server, by the connection id their client saw in the handshake (the
 * backend's thread id, which the proxy passes through, so {@code CONNECTION_ID()} and {@code KILL} use it): how a
 * {@code KILL QUERY <id>} the backend accepted on one connection reaches the AI statement another connection runs.
 *
 * <p>Owned by the server and shared by its connections, which run on different event loops: thread-safe.
 */
public final class ConnectionRegistry {
    private final ConcurrentHashMap<Long, ProxyConnection> live = new ConcurrentHashMap<>();

    /** Records an authenticated connection; a later connection with the same id replaces it (ids are the backend's). */
    void register(long connectionId, ProxyConnection connection) {
        live.put(connectionId, connection);
    }

    /** Forgets a closed connection, unless its id now belongs to another one. */
    void unregister(long connectionId, ProxyConnection connection) {
        live.remove(connectionId, connection);
    }

    /**
     * Stops the AI statement that connection {@code target} runs now, if any: the backend has just accepted a
     * {@code KILL} of it from connection {@code issuer}. Returns at once; the target stops on its own event loop.
     *
     * @param connection true for {@code KILL [CONNECTION]}, false for {@code KILL QUERY}
     */
    void killed(long target, boolean connection, long issuer) {
        ProxyConnection c = live.get(target);
        if (c == null && target > 0xFFFFFFFFL) {
            // TiDB with 64-bit connection ids (enable-32bits-connection-id = false) puts only the id's low 32 bits in
            // the handshake, while CONNECTION_ID() and KILL use the whole id (read in TiDB's source, not run here).
            c = live.get(target & 0xFFFFFFFFL);
        }
        if (c != null) {
            c.interruptRunning((connection ? "KILL CONNECTION" : "KILL QUERY") + " from connection " + issuer);
        }
    }

    /**
     * Starts a drain: from now on every connection answers a new command with error 7060 and closes; what runs now
     * runs on. Returns at once.
     */
    public void drainAll() {
        live.values().forEach(ProxyConnection::drain);
    }

    /** How many connections run a statement now (a relayed response open, or a statement of the proxy's own). */
    public int busy() {
        int n = 0;
        for (ProxyConnection c : List.copyOf(live.values())) {
            try {
                if (c.busy().get(1, TimeUnit.SECONDS)) {
                    n++;
                }
            } catch (ExecutionException | TimeoutException e) {
                n++; // its event loop is stuck or gone: count it, the deadline decides
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return n + 1;
            }
        }
        return n;
    }

    /** Stops every running pipeline statement, as a KILL QUERY would (a backfill reports its committed rows). */
    public void interruptAll(String by) {
        live.values().forEach(c -> c.interruptRunning(by));
    }

    /** The AI statements the connections run now (SHOW RAG PROCESSLIST), in no order. Any thread. */
    public List<RunningStatement> running() {
        List<RunningStatement> out = new java.util.ArrayList<>();
        for (ProxyConnection c : live.values()) {
            RunningStatement s = c.runningStatement();
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** The number of authenticated connections. */
    public int size() {
        return live.size();
    }
}
