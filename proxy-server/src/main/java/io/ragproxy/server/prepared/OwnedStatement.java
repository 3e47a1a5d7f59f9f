package io.ragproxy.server.prepared;

/**
 * A prepared statement the proxy owns: its id, its text and placeholders, the parameter types of its last execute,
 * and the long data sent for its parameters since then. Confined to the connection's event loop.
 */
public final class OwnedStatement {
    private final long id;
    private final StatementText text;
    private int[] types;
    /** Appended to chunk by chunk (a copy per chunk would cost the square of the data's size). */
    private java.io.ByteArrayOutputStream[] longData;
    private long longDataBytes;
    private boolean longDataTooLarge;
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
        if (longData == null) {
            return null;
        }
        byte[][] out = new byte[longData.length][];
        for (int i = 0; i < longData.length; i++) {
            out[i] = longData[i] == null ? null : longData[i].toByteArray();
        }
        return out;
    }

    /**
     * Appends a COM_STMT_SEND_LONG_DATA chunk to parameter {@code parameter}'s data, unless the long data sent since
     * the last execute or reset would then exceed {@code maxBytes}: then all of it is dropped, and
     * {@link #longDataTooLarge()} says so until the next execute or reset (COM_STMT_SEND_LONG_DATA has no answer,
     * so the execute reports it, as MySQL does).
     *
     * @return false when the statement has no such parameter (the server ignores the chunk and fails the execute)
     */
    public boolean appendLongData(int parameter, byte[] chunk, long maxBytes) {
        if (parameter < 0 || parameter >= parameterCount()) {
            return false;
        }
        if (longDataTooLarge) {
            return true;
        }
        longDataBytes += chunk.length;
        if (longDataBytes > maxBytes) {
            longData = null;
            longDataTooLarge = true;
            return true;
        }
        if (longData == null) {
            longData = new java.io.ByteArrayOutputStream[parameterCount()];
        }
        if (longData[parameter] == null) {
            longData[parameter] = new java.io.ByteArrayOutputStream(chunk.length);
        }
        longData[parameter].write(chunk, 0, chunk.length);
        return true;
    }

    /** Whether the long data sent since the last execute or reset went over the limit and was dropped. */
    public boolean longDataTooLarge() {
        return longDataTooLarge;
    }

    /** The bytes of long data sent since the last execute or reset, dropped ones included. */
    public long longDataBytes() {
        return longDataBytes;
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
        longDataBytes = 0;
        longDataTooLarge = false;
    }
}
