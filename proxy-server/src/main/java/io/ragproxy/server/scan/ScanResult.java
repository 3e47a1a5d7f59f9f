package io.ragproxy.server.scan;

import java.util.Objects;

/**
 * What {@link StatementScanner} found in one COM_QUERY: nothing ({@link #PLAIN}, relay the bytes unchanged), a
 * call of a catalog function, or a statement the proxy handles itself.
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
        PROXY_STATEMENT
    }

    /** The result for input that needs no pipeline; shared so that the no-hit path allocates nothing. */
    public static final ScanResult PLAIN = new ScanResult(Kind.PLAIN, null, null, -1, false);

    private final Kind kind;
    private final ProxyStatementKind proxyStatementKind;
    private final String name;
    private final int offset;
    private final boolean multiStatement;

    private ScanResult(Kind kind, ProxyStatementKind proxyStatementKind, String name, int offset,
            boolean multiStatement) {
        this.kind = kind;
        this.proxyStatementKind = proxyStatementKind;
        this.name = name;
        this.offset = offset;
        this.multiStatement = multiStatement;
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
        return new ScanResult(Kind.FUNCTION_CALL, null, name, offset, multiStatement);
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
        return new ScanResult(Kind.PROXY_STATEMENT, statementKind, statementKind.phrase(), offset, multiStatement);
    }

    /** Returns what was found. */
    public Kind kind() {
        return kind;
    }

    /** Returns {@code true} if the statement can be relayed unchanged, i.e. {@code kind() == PLAIN}. */
    public boolean isPlain() {
        return kind == Kind.PLAIN;
    }

    /** Returns which proxy statement was found, or {@code null} unless {@link #kind()} is {@code PROXY_STATEMENT}. */
    public ProxyStatementKind proxyStatementKind() {
        return proxyStatementKind;
    }

    /**
     * Returns the lower-case name that hit: the catalog function name for {@code FUNCTION_CALL}, the
     * {@link ProxyStatementKind#phrase()} for {@code PROXY_STATEMENT}, or {@code null} for {@code PLAIN}.
     */
    public String name() {
        return name;
    }

    /**
     * Returns the byte index of the hit: the first byte of the function name for {@code FUNCTION_CALL}, of the
     * statement's first keyword for {@code PROXY_STATEMENT}; {@code -1} for {@code PLAIN}.
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
                && multiStatement == other.multiStatement;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, proxyStatementKind, name, offset, multiStatement);
    }

    @Override
    public String toString() {
        if (kind == Kind.PLAIN) {
            return "ScanResult[PLAIN]";
        }
        return "ScanResult[" + kind + (proxyStatementKind == null ? "" : " " + proxyStatementKind)
                + " name=" + name + " offset=" + offset + (multiStatement ? " multiStatement" : "") + "]";
    }
}
