package io.ragproxy.server.prepared;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.SqlLexer;
import java.util.List;

/**
 * A prepared statement's text and where its {@code ?} placeholders are (outside strings, comments and quoted
 * identifiers), so that values can be bound into it as SQL literals. Immutable.
 */
public final class StatementText {
    private final String sql;
    private final int[] placeholders;
    /** The span of the one {@code VALUES (…)} row of an INSERT or REPLACE, or -1 when it has none. */
    private final int rowStart;
    private final int rowEnd;

    private StatementText(String sql, int[] placeholders, int rowStart, int rowEnd) {
        this.sql = sql;
        this.placeholders = placeholders;
        this.rowStart = rowStart;
        this.rowEnd = rowEnd;
    }

    /**
     * Reads {@code sql}'s placeholders.
     *
     * @throws ProxyException (7002) when a string or quoted identifier is not terminated
     */
    public static StatementText of(String sql) {
        List<SqlLexer.Token> tokens;
        try {
            tokens = SqlLexer.tokenize(sql);
        } catch (ProxyException e) {
            throw new ProxyException(ProxyError.PARSE_ERROR, "the statement cannot be prepared: " + e.getMessage());
        }
        int[] marks = tokens.stream().filter(t -> t.isSymbol('?')).mapToInt(SqlLexer.Token::start).toArray();
        int rowStart = -1;
        int rowEnd = -1;
        String first = tokens.get(0).upper();
        if (first.equals("INSERT") || first.equals("REPLACE")) {
            int depth = 0;
            for (int i = 0; i < tokens.size() - 1; i++) {
                SqlLexer.Token t = tokens.get(i);
                if (t.isSymbol('(')) {
                    depth++;
                } else if (t.isSymbol(')')) {
                    depth--;
                } else if (depth == 0 && (t.is("VALUES") || t.is("VALUE")) && tokens.get(i + 1).isSymbol('(')) {
                    int close = closing(tokens, i + 1);
                    boolean oneRow = close > 0 && !tokens.get(close + 1).isSymbol(',');
                    if (oneRow) {
                        rowStart = tokens.get(i + 1).start();
                        rowEnd = tokens.get(close).end();
                    }
                    break;
                }
            }
        }
        return new StatementText(sql, marks, rowStart, rowEnd);
    }

    private static int closing(List<SqlLexer.Token> tokens, int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            if (tokens.get(i).isSymbol('(')) {
                depth++;
            } else if (tokens.get(i).isSymbol(')') && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    public String sql() {
        return sql;
    }

    /** The number of {@code ?} placeholders. */
    public int parameterCount() {
        return placeholders.length;
    }

    /** The text with each placeholder replaced by the literal of the same index. */
    public String bind(List<String> literals) {
        checkCount(literals);
        return bind(0, sql.length(), literals);
    }

    /**
     * Whether the statement is an INSERT or REPLACE with one {@code VALUES (…)} row holding every placeholder, so that
     * several rows of values make one multi-row statement ({@link #bindRows}).
     */
    public boolean hasOneValuesRow() {
        if (rowStart < 0) {
            return false;
        }
        for (int p : placeholders) {
            if (p < rowStart || p >= rowEnd) {
                return false;
            }
        }
        return true;
    }

    /** The multi-row statement: the {@code VALUES} row repeated once per element of {@code rows}, each bound. */
    public String bindRows(List<List<String>> rows) {
        if (!hasOneValuesRow()) {
            throw new IllegalStateException("not an INSERT with one VALUES row holding every placeholder");
        }
        StringBuilder out = new StringBuilder(sql.length() + rows.size() * (rowEnd - rowStart + 16));
        out.append(sql, 0, rowStart);
        for (int r = 0; r < rows.size(); r++) {
            checkCount(rows.get(r));
            out.append(r == 0 ? "" : ", ").append(bind(rowStart, rowEnd, rows.get(r)));
        }
        return out.append(sql, rowEnd, sql.length()).toString();
    }

    private String bind(int from, int to, List<String> literals) {
        StringBuilder out = new StringBuilder(to - from + literals.size() * 8);
        int at = from;
        for (int i = 0; i < placeholders.length; i++) {
            int p = placeholders[i];
            if (p < from || p >= to) {
                continue;
            }
            out.append(sql, at, p).append(literals.get(i));
            at = p + 1;
        }
        return out.append(sql, at, to).toString();
    }

    private void checkCount(List<String> literals) {
        if (literals.size() != placeholders.length) {
            throw new IllegalArgumentException(literals.size() + " values for " + placeholders.length + " placeholders");
        }
    }
}
