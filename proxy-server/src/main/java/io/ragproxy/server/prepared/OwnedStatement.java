package io.ragproxy.server.prepared;

/**
 * A prepared statement the proxy owns: its id, its text and placeholders, the parameter types of its last execute,
 * and the long data sent for its parameters since then. Confined to the connection's event loop.
 */
public final class OwnedStatement {
    private final long id;
    private final StatementText text;
    private int[] types;
    private byte[][] longData;
    private io.ragproxy.server.wire.RowCursor cursor;

    OwnedStatement(long id, StatementText text) {
        this.id = id;
        this.text = text;
    }

    public long id() {
        return id;
    }

    public StatementText text() {
        return text;
    }

    public int parameterCount() {
        return text.parameterCount();
    }

    /** The parameter types of the last execute, or null before the first. */
    public int[] types() {
        return types;
    }

    public void types(int[] types) {
        this.types = types;
    }

    /** Per parameter, the long data sent since the last execute or reset (null entries: none); null when none. */
    public byte[][] longData() {
        return longData;
    }

    /**
     * Appends a COM_STMT_SEND_LONG_DATA chunk to parameter {@code parameter}'s data.
     *
     * @return false when the statement has no such parameter (the server ignores the chunk and fails the execute)
     */
    public boolean appendLongData(int parameter, byte[] chunk) {
        if (parameter < 0 || parameter >= parameterCount()) {
            return false;
        }
        if (longData == null) {
            longData = new byte[parameterCount()][];
        }
        byte[] old = longData[parameter];
        if (old == null) {
            longData[parameter] = chunk;
        } else {
            byte[] joined = java.util.Arrays.copyOf(old, old.length + chunk.length);
            System.arraycopy(chunk, 0, joined, old.length, chunk.length);
            longData[parameter] = joined;
        }
        return true;
    }

    /** The cursor of the last execute that asked for one, or null; it may be closed. */
    public io.ragproxy.server.wire.RowCursor cursor() {
        return cursor;
    }

    /** Replaces the statement's cursor (null: none), closing the one it had. */
    public void cursor(io.ragproxy.server.wire.RowCursor next) {
        if (cursor != null) {
            cursor.close();
        }
        cursor = next;
    }

    /** After an execute or COM_STMT_RESET: long data is sent anew for the next execute. */
    public void clearLongData() {
        longData = null;
    }
}
