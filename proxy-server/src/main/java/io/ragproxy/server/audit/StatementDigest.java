package io.ragproxy.server.audit;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;

/**
 * A statement's digest, as MySQL's performance schema writes one: every string and number literal replaced by
 * {@code ?}, tokens separated by single spaces, comments dropped, so that statements differing only in their texts
 * read alike and no prompt text is kept.
 */
public final class StatementDigest {
    private StatementDigest() {}

    /** The digest of {@code sql}; a statement the lexer cannot read gives "?" (its text is not kept). */
    public static String of(String sql) {
        java.util.List<Token> tokens;
        try {
            tokens = SqlLexer.tokenize(sql);
        } catch (RuntimeException e) {
            return "?";
        }
        StringBuilder b = new StringBuilder();
        Token previous = null;
        for (Token t : tokens) {
            if (t.type() == Type.END) {
                break;
            }
            String text = switch (t.type()) {
                case STRING, NUMBER -> "?";
                case QUOTED_IDENT -> "`" + t.text().replace("`", "``") + "`";
                default -> t.text();
            };
            if (previous != null && spaced(previous, t)) {
                b.append(' ');
            }
            b.append(text);
            previous = t;
        }
        return b.toString();
    }

    /** Whether a space goes between two tokens: not before {@code , ) .} nor after {@code ( .}. */
    private static boolean spaced(Token before, Token t) {
        if (t.isSymbol(',') || t.isSymbol(')') || t.isSymbol('.') || t.isSymbol(';')) {
            return false;
        }
        if (before.isSymbol('(') || before.isSymbol('.')) {
            return false;
        }
        return !(t.isSymbol('(') && before.type() == Type.WORD);
    }
}
