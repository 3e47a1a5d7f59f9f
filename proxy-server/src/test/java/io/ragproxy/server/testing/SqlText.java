package io.ragproxy.server.testing;

/** Helpers for comparing the SQL the proxy writes. */
public final class SqlText {
    private SqlText() {}

    /** The SQL without the column labels the renderer adds ({@code AS `…`}), for comparing the rest. */
    public static String unlabelled(String sql) {
        return sql.replaceAll(" AS `(?:[^`]|``)*`", "");
    }
}
