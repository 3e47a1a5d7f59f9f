package io.ragproxy.server.session;

import io.ragproxy.server.command.RunningStatement;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The live client connections of one server, by their backend and the connection id their client saw in the
 * handshake (the backend's thread id, which the proxy passes through, so {@code CONNECTION_ID()} and {@code KILL} use
 * it): how a {@code KILL QUERY <id>} the backend accepted on one connection reaches the AI statement another
 * connection runs.
 *
 * <p>Ids are the backends': two MariaDB or MySQL servers hand out the same ids, so an id means a connection on the
 * issuer's own backend. TiDB servers of one cluster hand out cluster-wide ids (global kill), so a KILL accepted by a
 * TiDB backend reaches the connection with that id on whichever backend it is.
 *
 * <p>Owned by the server and shared by its connections, which run on different event loops: thread-safe.
 */
public final class ConnectionRegistry {
    /** A connection's place: its backend's address and the id that backend gave it. */
    private record Key(String backend, long id) {}

    private final ConcurrentHashMap<Key, ProxyConnection> live = new ConcurrentHashMap<>();

    /** Records an authenticated connection; a later connection with the same key replaces it. */
    void register(ProxyConnection connection) {
        live.put(key(connection), connection);
    }

    /** Forgets a closed connection, unless its key now belongs to another one. */
    void unregister(ProxyConnection connection) {
        live.remove(key(connection), connection);
    }

    private static Key key(ProxyConnection c) {
        return new Key(c.backendAddress(), c.connectionId());
    }

    /**
     * Stops the AI statement that connection {@code target} runs now, if any: the backend has just accepted a
     * {@code KILL} of it from connection {@code issuer}. Returns at once; the target stops on its own event loop.
     *
     * @param connection true for {@code KILL [CONNECTION]}, false for {@code KILL QUERY}
     * @param clusterWideIds whether the issuer's backend hands out cluster-wide ids (TiDB)
     */
    void killed(long target, boolean connection, ProxyConnection issuer, boolean clusterWideIds) {
        ProxyConnection c = find(issuer.backendAddress(), target, clusterWideIds);
        if (c == null && target > 0xFFFFFFFFL) {
            // TiDB with 64-bit connection ids (enable-32bits-connection-id = false) puts only the id's low 32 bits in
            // the handshake, while CONNECTION_ID() and KILL use the whole id (read in TiDB's source, not run here).
            c = find(issuer.backendAddress(), target & 0xFFFFFFFFL, clusterWideIds);
        }
        if (c != null) {
            c.interruptRunning((connection ? "KILL CONNECTION" : "KILL QUERY") + " from connection "
                    + issuer.connectionId());
        }
    }

    private ProxyConnection find(String backend, long id, boolean anyBackend) {
        ProxyConnection c = live.get(new Key(backend, id));
        if (c == null && anyBackend) {
            List<ProxyConnection> found = live.entrySet().stream().filter(e -> e.getKey().id() == id)
                    .map(java.util.Map.Entry::getValue).toList();
            c = found.size() == 1 ? found.get(0) : null;
        }
        return c;
    }

    /**
     * The backend of the connection with {@code id} when it is not {@code issuerBackend} and no connection of this
     * proxy has that id there: where a {@code KILL <id>} the issuer sends would reach a connection it does not mean.
     * Null when the id is on the issuer's backend, unknown to this proxy, or held on several other backends.
     */
    String elsewhere(String issuerBackend, long id) {
        if (live.containsKey(new Key(issuerBackend, id))) {
            return null;
        }
        List<String> others = live.keySet().stream().filter(k -> k.id() == id).map(Key::backend).toList();
        return others.size() == 1 ? others.get(0) : null;
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
