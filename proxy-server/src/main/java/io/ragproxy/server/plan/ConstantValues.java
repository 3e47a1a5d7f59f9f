package io.ragproxy.server.plan;

import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.schema.Column;

/**
 * Values of literal expressions, computed without asking the backend; anything more (user variables, functions
 * of literals) is evaluated by the backend with one {@code SELECT}, so its semantics are exactly the backend's.
 */
public final class ConstantValues {
    /** Marks "not a plain literal" (as opposed to SQL NULL, which is null). */
    public static final Object NOT_LITERAL = new Object();

    private ConstantValues() {}

    /** The literal's value as text, null for SQL NULL, or {@link #NOT_LITERAL}. */
    public static Object literal(Expression e) {
        if (e instanceof NullValue) {
            return null;
        }
        if (e instanceof StringValue s) {
            return unescape(s.getValue());
        }
        if (e instanceof LongValue || e instanceof DoubleValue) {
            return e.toString();
        }
        if (e instanceof SignedExpression se && (se.getExpression() instanceof LongValue
                || se.getExpression() instanceof DoubleValue)) {
            return se.getSign() == '-' ? "-" + se.getExpression() : se.getExpression().toString();
        }
        if (e instanceof Column c && isDoubleQuotedString(c)) {
            String n = c.getColumnName();
            return unescape(n.substring(1, n.length() - 1).replace("\"\"", "\""));
        }
        return NOT_LITERAL;
    }

    /** MySQL reads {@code "text"} as a string (unless ANSI_QUOTES); JSqlParser parses it as a quoted column. */
    static boolean isDoubleQuotedString(Column c) {
        String n = c.getColumnName();
        return c.getTable() == null && n != null && n.length() >= 2 && n.startsWith("\"") && n.endsWith("\"");
    }

    /** Resolves MySQL's escapes in a single-quoted literal's body as JSqlParser keeps it. */
    static String unescape(String body) {
        StringBuilder b = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\'' && i + 1 < body.length() && body.charAt(i + 1) == '\'') {
                b.append('\'');
                i++;
            } else if (c == '\\' && i + 1 < body.length()) {
                char n = body.charAt(++i);
                switch (n) {
                    case '0' -> b.append('\0');
                    case 'b' -> b.append('\b');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'Z' -> b.append('\u001A');
                    case '%', '_' -> b.append('\\').append(n); // kept, as MySQL does outside LIKE
                    default -> b.append(n);
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A name without the backquotes, double or single quotes JSqlParser keeps around it (and its doubled quotes undone). */
    static String unquoteIdentifier(String name) {
        if (name.length() >= 2) {
            char q = name.charAt(0);
            if ((q == '`' || q == '"' || q == '\'') && name.charAt(name.length() - 1) == q) {
                return name.substring(1, name.length() - 1).replace(String.valueOf(q) + q, String.valueOf(q));
            }
        }
        return name;
    }

    /**
     * A SQL string literal for {@code text} that reads the same under every sql_mode and character set: plain ASCII
     * in quotes (single quotes doubled), and text with anything else (a backslash or NUL, whose meaning depends on
     * NO_BACKSLASH_ESCAPES, or characters above ASCII, whose bytes depend on character_set_client) as a utf8mb4 hex
     * literal.
     */
    static String quote(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c == '\0' || c >= 0x80) {
                return "_utf8mb4 X'" + java.util.HexFormat.of().formatHex(
                        text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "'";
            }
        }
        return "'" + text.replace("'", "''") + "'";
    }

    /**
     * The values of constant expressions, as text (null for SQL NULL): literals read here, the rest with one
     * {@code SELECT} on the session's connection so they mean exactly what the backend says. Null entries of
     * {@code expressions} are skipped; the map is keyed by identity.
     */
    public static java.util.concurrent.CompletableFuture<java.util.Map<Expression, String>> evaluate(
            io.ragproxy.server.command.StatementSession session, java.util.List<Expression> expressions) {
        return evaluate(session, expressions, java.util.Map.of());
    }

    /**
     * {@link #evaluate(io.ragproxy.server.command.StatementSession, java.util.List)}, taking the values of the
     * expressions in {@code known} (by identity) from it: a shared template's literals are another statement's,
     * its instance's values are these.
     */
    public static java.util.concurrent.CompletableFuture<java.util.Map<Expression, String>> evaluate(
            io.ragproxy.server.command.StatementSession session, java.util.List<Expression> expressions,
            java.util.Map<Expression, String> known) {
        java.util.Map<Expression, String> values = new java.util.IdentityHashMap<>();
        java.util.List<Expression> toAsk = new java.util.ArrayList<>();
        for (Expression e : expressions) {
            if (e == null) {
                continue;
            }
            if (known.containsKey(e)) {
                values.put(e, known.get(e));
                continue;
            }
            Object literal = literal(e);
            if (literal == NOT_LITERAL) {
                toAsk.add(e);
            } else {
                values.put(e, (String) literal);
            }
        }
        if (toAsk.isEmpty()) {
            return java.util.concurrent.CompletableFuture.completedFuture(values);
        }
        StringBuilder select = new StringBuilder("SELECT ");
        for (int i = 0; i < toAsk.size(); i++) {
            select.append(i == 0 ? "" : ", ").append(toAsk.get(i));
        }
        return session.query(select.toString()).thenApply(result -> {
            java.util.List<String> row = result.first().rows().get(0);
            for (int i = 0; i < toAsk.size(); i++) {
                values.put(toAsk.get(i), row.get(i));
            }
            return values;
        });
    }
}
