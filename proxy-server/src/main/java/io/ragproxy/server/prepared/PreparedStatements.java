package io.ragproxy.server.prepared;

import java.util.HashMap;
import java.util.Map;

/**
 * One connection's registry of the prepared statements the proxy owns, keyed by the ids it gave them (from
 * {@link #FIRST_ID}, far above the ids a backend gives, so a relayed statement's id never clashes), and which
 * statement was prepared last (MariaDB's statement id {@code 0xFFFFFFFF} names it). Statements the backend prepared
 * are not kept: their commands are relayed. Confined to the connection's event loop.
 */
public final class PreparedStatements {
    /** The first id the proxy gives; backends count from 1. */
    public static final long FIRST_ID = 0x7F000000L;

    /** What the connection prepared last. */
    public enum Last { NONE, RELAYED, OWNED, FAILED }

    private final Map<Long, OwnedStatement> owned = new HashMap<>();
    private long nextId = FIRST_ID;
    private Last last = Last.NONE;
    private OwnedStatement lastOwned;

    /** Whether {@code id} can name a statement of the proxy's (a cheap test before any lookup). */
    public static boolean inOwnedRange(long id) {
        return id >= FIRST_ID && id < 0xFFFFFFFFL;
    }

    /** Registers a statement the proxy prepares; it becomes the last prepared. */
    public OwnedStatement add(StatementText text) {
        long id = nextId;
        nextId = nextId == 0xFFFFFFFEL ? FIRST_ID : nextId + 1;
        OwnedStatement statement = new OwnedStatement(id, text);
        owned.put(id, statement);
        last = Last.OWNED;
        lastOwned = statement;
        return statement;
    }

    /** The backend prepared the last statement. */
    public void relayedPrepare() {
        last = Last.RELAYED;
        lastOwned = null;
    }

    /** The last prepare failed in the proxy (it answers ERR): MariaDB's "last prepared" id names nothing. */
    public void failedPrepare() {
        last = Last.FAILED;
        lastOwned = null;
    }

    public Last last() {
        return last;
    }

    /** The statement {@code id} names, resolving {@code 0xFFFFFFFF}; null when the proxy owns none of that id. */
    public OwnedStatement get(long id) {
        if (id == 0xFFFFFFFFL) {
            return lastOwned;
        }
        return inOwnedRange(id) ? owned.get(id) : null;
    }

    /**
     * A statement whose prepare failed after it was registered (its text does not parse, or names an unknown
     * model): it is removed, and if it was the last prepared, "the last prepared" names nothing.
     */
    public void forget(OwnedStatement statement) {
        owned.remove(statement.id(), statement);
        if (statement == lastOwned) {
            lastOwned = null;
            last = Last.FAILED;
        }
    }

    /** COM_STMT_CLOSE. */
    public void remove(long id) {
        OwnedStatement s = owned.remove(id);
        if (s != null) {
            s.cursor(null);
        }
        if (s != null && s == lastOwned) {
            lastOwned = null;
            last = Last.FAILED;
        }
    }

    /** COM_RESET_CONNECTION or COM_CHANGE_USER: the backend forgets its statements, the proxy its own. */
    public void clear() {
        owned.values().forEach(s -> s.cursor(null));
        owned.clear();
        last = Last.NONE;
        lastOwned = null;
    }

    public int size() {
        return owned.size();
    }
}
