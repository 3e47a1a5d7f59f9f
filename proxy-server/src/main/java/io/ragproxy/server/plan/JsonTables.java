package io.ragproxy.server.plan;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Lets JSqlParser read MariaDB's and MySQL's {@code JSON_TABLE(expr, path COLUMNS (…)) alias}, which its grammar
 * lacks: before the parse, everything after the first argument ({@code path COLUMNS (…)}) is set aside and a
 * string placeholder stands for it, so the parser reads an ordinary table function whose first argument (where
 * {@code CHUNK_TEXT(…)} sits) is planned like any other expression; {@link #restore} puts the text back into the SQL
 * the backend gets.
 */
final class JsonTables {
    private static final String NAME = "JSON_TABLE";

    /** The statement as the parser reads it. */
    private final String parsed;
    /** Placeholder literal (quotes included) → the text it stands for. */
    private final Map<String, String> hidden;

    private JsonTables(String parsed, Map<String, String> hidden) {
        this.parsed = parsed;
        this.hidden = hidden;
    }

    /** {@code sql} with the tails of its JSON_TABLE calls set aside (unchanged when it has none). */
    static JsonTables hide(String sql) {
        Map<String, String> hidden = new LinkedHashMap<>();
        if (!sql.toUpperCase(Locale.ROOT).contains(NAME)) {
            return new JsonTables(sql, hidden);
        }
        String token = "ragproxy_json_table_" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + "_";
        StringBuilder out = new StringBuilder(sql.length());
        int copied = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            int skip = skipQuotedOrComment(sql, i);
            if (skip > i) {
                i = skip;
                continue;
            }
            if (sql.regionMatches(true, i, NAME, 0, NAME.length()) && (i == 0 || !identifierChar(sql.charAt(i - 1)))) {
                int open = i + NAME.length();
                while (open < n && Character.isWhitespace(sql.charAt(open))) {
                    open++;
                }
                int[] comma = open < n && sql.charAt(open) == '(' ? arguments(sql, open) : null;
                if (comma != null) {
                    String placeholder = "'" + token + hidden.size() + "'";
                    hidden.put(placeholder, sql.substring(comma[0] + 1, comma[1]).strip());
                    out.append(sql, copied, comma[0] + 1).append(' ').append(placeholder);
                    copied = comma[1];
                    i = comma[1];
                    continue;
                }
            }
            i++;
        }
        out.append(sql, copied, n);
        return new JsonTables(out.toString(), hidden);
    }

    /** The statement as the parser reads it. */
    String parsed() {
        return parsed;
    }

    /** {@code sql} (rendered from the parsed statement) with the set-aside text back in place. */
    /** Whether nothing was hidden from the parser (the statement has no JSON_TABLE). */
    boolean hidesNothing() {
        return hidden.isEmpty();
    }

    String restore(String sql) {
        for (Map.Entry<String, String> e : hidden.entrySet()) {
            sql = sql.replace(e.getKey(), e.getValue());
        }
        return sql;
    }

    /**
     * For the call whose '(' is at {@code open}: the position of its first top-level comma and of its closing
     * parenthesis, or null when it has no second argument or does not close.
     */
    private static int[] arguments(String sql, int open) {
        int depth = 0;
        int comma = -1;
        int i = open;
        while (i < sql.length()) {
            int skip = skipQuotedOrComment(sql, i);
            if (skip > i) {
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth == 0) {
                    return comma < 0 ? null : new int[] {comma, i};
                }
            } else if (c == ',' && depth == 1 && comma < 0) {
                comma = i;
            }
            i++;
        }
        return null;
    }

    /** The position after the string, quoted identifier or comment starting at {@code i}, or {@code i}. */
    private static int skipQuotedOrComment(String sql, int i) {
        char c = sql.charAt(i);
        int n = sql.length();
        if (c == '\'' || c == '"' || c == '`') {
            int j = i + 1;
            while (j < n) {
                char d = sql.charAt(j);
                if (d == '\\' && c != '`') {
                    j += 2;
                } else if (d == c) {
                    if (j + 1 < n && sql.charAt(j + 1) == c) {
                        j += 2;
                    } else {
                        return j + 1;
                    }
                } else {
                    j++;
                }
            }
            return n;
        }
        if (c == '#' || (c == '-' && sql.startsWith("-- ", i))) {
            int end = sql.indexOf('\n', i);
            return end < 0 ? n : end + 1;
        }
        if (c == '/' && sql.startsWith("/*", i) && !sql.startsWith("/*!", i)) {
            int end = sql.indexOf("*/", i + 2);
            return end < 0 ? n : end + 2;
        }
        return i;
    }

    private static boolean identifierChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }
}
