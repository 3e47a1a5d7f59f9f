package io.ragproxy.server.catalog;

/** Small helpers for writing SQL text in the rewrites. */
final class Sql {
    private Sql() {}

    /**
     * A string literal for {@code text} that the parser and the backend read alike under every sql_mode: quotes
     * doubled, and text with a backslash or NUL (whose spelling depends on NO_BACKSLASH_ESCAPES) as
     * {@code CONVERT(X'…' USING utf8mb4)}, evaluated by the backend like any constant argument. Null gives
     * {@code NULL}.
     */
    static String quote(String text) {
        if (text == null) {
            return "NULL";
        }
        if (text.indexOf('\\') >= 0 || text.indexOf('\0') >= 0) {
            return CatalogStore.literal(text);
        }
        return "'" + text.replace("'", "''") + "'";
    }

    /**
     * A string literal's inside as the parser reads it with backslash escapes on (the server default): quotes
     * doubled, backslashes escaped; for a {@code StringValue} whose value the proxy reads itself.
     */
    static String escaped(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0") + "'";
    }

    /** A backquoted identifier. */
    static String ident(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    /** {@code schema.table} with both parts backquoted (the schema only when known). */
    static String table(String schema, String table) {
        return (schema == null ? "" : ident(schema) + ".") + ident(table);
    }

    /** A name without the backquotes or double quotes JSqlParser keeps around it. */
    static String unquote(String name) {
        if (name != null && name.length() >= 2) {
            char q = name.charAt(0);
            if ((q == '`' || q == '"') && name.charAt(name.length() - 1) == q) {
                return name.substring(1, name.length() - 1).replace(String.valueOf(q) + q, String.valueOf(q));
            }
        }
        return name;
    }
}
