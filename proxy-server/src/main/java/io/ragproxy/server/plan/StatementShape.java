package io.ragproxy.server.plan;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.text.SqlMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A statement with its literals abstracted: its <em>shape</em>, the text with every string and number literal token
 * replaced by a marker of its kind, and the literal tokens themselves, verbatim and in order (the <em>slots</em>).
 * {@code … cat = 'a' … EMBED('q1') … LIMIT 3} and {@code … cat = 'b' … EMBED('q2') … LIMIT 5} have one shape.
 *
 * <p>What is a slot: a string token ({@code '…'}, and {@code "…"} unless ANSI_QUOTES) without its introducer or
 * prefix, and an unsigned number token ({@code 3}, {@code 1.5e3}). What stays in the shape: introducers
 * ({@code _utf8mb4}), the prefixes of {@code X'…'}, {@code B'…'} and {@code N'…'} (words to the lexer), hexadecimal
 * numbers ({@code 0x1F}, a word too), signs ({@code -1} is a sign and a slot), {@code NULL}, {@code TRUE}, and
 * everything else. So {@code X'41'} and {@code 'A'} have different shapes, as do {@code -1} and {@code 1}.
 *
 * <p>{@link #repeats()} tells which slots hold the same text: a template made from a statement with two equal
 * literals fills only statements in which they are equal too ({@link ShapeTemplate}). Statements with an ODBC
 * escape ({@code {d '2020-01-01'}}, whose literal the parser rewrites) or that do not lex (an unterminated string)
 * have no shape. Immutable.
 */
public final class StatementShape {
    /** Marks a string slot in the shape's text. */
    private static final char STRING_SLOT = '\u0001';
    /** Marks a number slot in the shape's text. */
    private static final char NUMBER_SLOT = '\u0002';
    /** Escapes a marker character that occurs in the statement itself (in a comment, say). */
    private static final char ESCAPE = '\u0003';
    private static final int[] NONE = new int[0];

    private final String sql;
    private final String text;
    private final int[] starts;
    private final int[] ends;

    private StatementShape(String sql, String text, int[] starts, int[] ends) {
        this.sql = sql;
        this.text = text;
        this.starts = starts;
        this.ends = ends;
    }

    /**
     * The shape of {@code sql} (a statement in its neutral spelling, {@link NeutralSql}) as the backend reads it
     * under {@code mode}: one pass of the lexer. Null when the statement has none (see above).
     */
    public static StatementShape of(String sql, SqlMode mode) {
        List<Token> tokens;
        try {
            tokens = SqlLexer.tokenize(sql, mode);
        } catch (ProxyException e) {
            return null;
        }
        int count = 0;
        for (Token t : tokens) {
            if (t.type() == SqlLexer.Type.STRING || t.type() == SqlLexer.Type.NUMBER) {
                count++;
            } else if (t.isSymbol('{')) {
                return null;
            }
        }
        int[] starts = new int[count];
        int[] ends = new int[count];
        StringBuilder text = new StringBuilder(sql.length() + 16);
        int copied = 0;
        int slot = 0;
        for (Token t : tokens) {
            boolean string = t.type() == SqlLexer.Type.STRING;
            if (string || t.type() == SqlLexer.Type.NUMBER) {
                appendEscaped(text, sql, copied, t.start());
                text.append(string ? STRING_SLOT : NUMBER_SLOT);
                starts[slot] = t.start();
                ends[slot] = t.end();
                slot++;
                copied = t.end();
            }
        }
        appendEscaped(text, sql, copied, sql.length());
        return new StatementShape(sql, text.toString(), starts, ends);
    }

    private static void appendEscaped(StringBuilder out, String sql, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = sql.charAt(i);
            if (c <= ESCAPE && c >= STRING_SLOT) {
                out.append(ESCAPE);
            }
            out.append(c);
        }
    }

    /**
     * The slots that repeat an earlier one, as pairs {@code slot, earlier slot} (flattened: {@code [s0, e0, s1, e1,
     * …]}, each slot paired with the first slot of its text); empty when all differ, the common case.
     */
    int[] repeats() {
        if (starts.length < 2) {
            return NONE;
        }
        Map<String, Integer> first = new HashMap<>();
        int[] pairs = NONE;
        int n = 0;
        for (int i = 0; i < starts.length; i++) {
            Integer earlier = first.putIfAbsent(literal(i), i);
            if (earlier != null) {
                if (n == pairs.length) {
                    pairs = java.util.Arrays.copyOf(pairs, Math.max(4, n * 2));
                }
                pairs[n++] = i;
                pairs[n++] = earlier;
            }
        }
        return n == pairs.length ? pairs : java.util.Arrays.copyOf(pairs, n);
    }

    /** Whether every pair of slots in {@code pairs} ({@link #repeats()} of another statement) holds equal text here. */
    boolean repeatsAlike(int[] pairs) {
        for (int p = 0; p < pairs.length; p += 2) {
            int i = pairs[p];
            int j = pairs[p + 1];
            if (ends[i] - starts[i] != ends[j] - starts[j]
                    || !sql.regionMatches(starts[i], sql, starts[j], ends[i] - starts[i])) {
                return false;
            }
        }
        return true;
    }

    /** The statement whose shape this is. */
    public String sql() {
        return sql;
    }

    /**
     * The shape's text: the statement with each slot replaced by a marker of its kind; what a template is looked up
     * by, with the session's and catalog's parts of the key.
     */
    public String text() {
        return text;
    }

    /** The number of slots. */
    public int size() {
        return starts.length;
    }

    /** Slot {@code i}'s token as written ({@code 'it''s'}, {@code 42}). */
    public String literal(int i) {
        return sql.substring(starts[i], ends[i]);
    }

    /** Whether slot {@code i} is a string token (not a number). */
    public boolean isString(int i) {
        char q = sql.charAt(starts[i]);
        return q == '\'' || q == '"';
    }

    /**
     * The value of string slot {@code i}, as {@link ConstantValues#literal} reads the parser's node of it: quotes
     * removed, doubled quotes and MySQL's escapes resolved.
     */
    public String stringValue(int i) {
        String token = literal(i);
        char q = token.charAt(0);
        String body = token.substring(1, token.length() - 1);
        return ConstantValues.unescape(q == '"' ? body.replace("\"\"", "\"") : body);
    }

    @Override
    public String toString() {
        return text;
    }
}
