package io.ragproxy.server.scan;

import java.util.Objects;

/**
 * What {@link StatementScanner} found in one COM_QUERY: nothing ({@link #PLAIN}, relay the bytes unchanged), a
 * call of a catalog function, a statement the proxy handles itself, or a {@code KILL} of a connection, which is
 * relayed unchanged and, once the backend accepts it, also stops the target's running AI statement.
 *
 * <p>Instances are immutable. The no-hit result is the shared constant {@link #PLAIN}, so the common path
 * allocates nothing; compare kinds with {@link #kind()} rather than relying on identity.
 *
 * <p>Offsets are byte indices in the coordinates the scanner was called with: an index into the {@code byte[]},
 * or a {@code ByteBuf} index (not relative to the {@code offset}/{@code index} argument).
 */
public final class ScanResult {

    /** The decision a scan reaches. */
    public enum Kind {
        /** No catalog function call and no proxy statement: relay unchanged. */
        PLAIN,
        /** An unquoted, unqualified catalog function name followed by {@code (} somewhere in the input. */
        FUNCTION_CALL,
        /** A proxy statement at the start of one of the statements in the input; see {@link ProxyStatementKind}. */
        PROXY_STATEMENT,
        /**
         * The input is one statement, {@code KILL [HARD | SOFT] [TIDB] [CONNECTION | QUERY] <id>} with an integer
         * literal id: relay it unchanged and, when the backend answers OK, stop connection {@link #killTarget()}'s
         * running AI statement too. Other KILL forms ({@code KILL QUERY ID}, {@code KILL USER}, an expression) and
         * a KILL among several statements are {@link #PLAIN}: only the backend acts on them.
         */
        KILL
    }

    /** The result for input that needs no pipeline; shared so that the no-hit path allocates nothing. */
    public static final ScanResult PLAIN = new ScanResult(Kind.PLAIN, null, null, -1, false, -1);

    private final Kind kind;
    private final ProxyStatementKind proxyStatementKind;
    private final String name;
    private final int offset;
    private final boolean multiStatement;
    private final long killTarget;

    private ScanResult(Kind kind, ProxyStatementKind proxyStatementKind, String name, int offset,
            boolean multiStatement, long killTarget) {
        this.kind = kind;
        this.proxyStatementKind = proxyStatementKind;
        this.name = name;
        this.offset = offset;
        this.multiStatement = multiStatement;
        this.killTarget = killTarget;
    }

    /**
     * Returns a {@link Kind#FUNCTION_CALL} result.
     *
     * @param name the catalog function name that was called, lower case
     * @param offset the byte index of the first byte of the name
     * @param multiStatement whether the input holds more than one statement
     */
    public static ScanResult functionCall(String name, int offset, boolean multiStatement) {
        Objects.requireNonNull(name, "name");
        if (offset < 0) {
            throw new IllegalArgumentException("offset < 0: " + offset);
        }
        return new ScanResult(Kind.FUNCTION_CALL, null, name, offset, multiStatement, -1);
    }

    /**
     * Returns a {@link Kind#PROXY_STATEMENT} result whose {@link #name()} is {@link ProxyStatementKind#phrase()}.
     *
     * @param statementKind which proxy statement
     * @param offset the byte index of the statement's first keyword
     * @param multiStatement whether the input holds more than one statement
     */
    public static ScanResult proxyStatement(ProxyStatementKind statementKind, int offset, boolean multiStatement) {
        Objects.requireNonNull(statementKind, "statementKind");
        if (offset < 0) {
            throw new IllegalArgumentException("offset < 0: " + offset);
        }
        return new ScanResult(Kind.PROXY_STATEMENT, statementKind, statementKind.phrase(), offset, multiStatement, -1);
    }

    /**
     * Returns a {@link Kind#KILL} result whose {@link #name()} is {@code "kill connection"} or {@code "kill query"}.
     *
     * @param target the connection id the statement names (the backend's thread id)
     * @param connection true for {@code KILL [CONNECTION]}, false for {@code KILL QUERY}
     * @param offset the byte index of the {@code KILL} keyword
     */
    public static ScanResult kill(long target, boolean connection, int offset) {
        if (target < 0 || offset < 0) {
            throw new IllegalArgumentException("target " + target + ", offset " + offset);
        }
        return new ScanResult(Kind.KILL, null, connection ? "kill connection" : "kill query", offset, false, target);
    }

    /** Returns what was found. */
    public Kind kind() {
        return kind;
    }

    /** Returns {@code true} if the statement can be relayed unchanged, i.e. {@code kind() == PLAIN}. */
    public boolean isPlain() {
        return kind == Kind.PLAIN;
    }

    /** Returns the connection id a {@link Kind#KILL} names, or {@code -1} for other kinds. */
    public long killTarget() {
        return killTarget;
    }

    /** Returns whether a {@link Kind#KILL} ends the whole connection ({@code KILL [CONNECTION]}), not just its query. */
    public boolean killsConnection() {
        return kind == Kind.KILL && "kill connection".equals(name);
    }

    /** Returns which proxy statement was found, or {@code null} unless {@link #kind()} is {@code PROXY_STATEMENT}. */
    public ProxyStatementKind proxyStatementKind() {
        return proxyStatementKind;
    }

    /**
     * Returns the lower-case name that hit: the catalog function name for {@code FUNCTION_CALL}, the
     * {@link ProxyStatementKind#phrase()} for {@code PROXY_STATEMENT}, {@code "kill query"} or
     * {@code "kill connection"} for {@code KILL}, or {@code null} for {@code PLAIN}.
     */
    public String name() {
        return name;
    }

    /**
     * Returns the byte index of the hit: the first byte of the function name for {@code FUNCTION_CALL}, of the
     * statement's first keyword for {@code PROXY_STATEMENT} and {@code KILL}; {@code -1} for {@code PLAIN}.
     */
    public int offset() {
        return offset;
    }

    /**
     * Returns whether a top-level {@code ;} is followed by more code (not just whitespace and comments), so the
     * pipeline must split the input; always {@code false} for {@code PLAIN}, which is relayed as a whole.
     */
    public boolean multiStatement() {
        return multiStatement;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScanResult other
                && kind == other.kind
                && proxyStatementKind == other.proxyStatementKind
                && Objects.equals(name, other.name)
                && offset == other.offset
                && multiStatement == other.multiStatement
                && killTarget == other.killTarget;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, proxyStatementKind, name, offset, multiStatement, killTarget);
    }

    @Override
    public String toString() {
        if (kind == Kind.PLAIN) {
            return "ScanResult[PLAIN]";
        }
        return "ScanResult[" + kind + (proxyStatementKind == null ? "" : " " + proxyStatementKind)
                + " name=" + name + (kind == Kind.KILL ? " target=" + killTarget : "") + " offset=" + offset
                + (multiStatement ? " multiStatement" : "") + "]";
    }
}
