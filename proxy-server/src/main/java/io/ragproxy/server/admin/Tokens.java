package io.ragproxy.server.admin;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.text.SqlMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tokens of a proxy statement ({@code SHOW RAG …}, {@code SET rag_… = …}), read by {@link SqlLexer}: words,
 * quoted strings, numbers and punctuation, with comments and white space dropped, as a cursor whose errors name
 * the exact position.
 */
final class Tokens {
    /** A token and where it starts in the statement (0-based character index). */
    record Token(String text, boolean quoted, int position) {
        boolean is(String word) {
            return !quoted && text.equalsIgnoreCase(word);
        }

        String upper() {
            return text.toUpperCase(Locale.ROOT);
        }
    }

    private final String sql;
    private final List<Token> tokens;
    private int next;

    private Tokens(String sql, List<Token> tokens) {
        this.sql = sql;
        this.tokens = tokens;
    }

    /** The tokens of {@code sql} read under the default sql_mode. */
    static Tokens of(String sql) {
        return of(sql, SqlMode.DEFAULT);
    }

    /** The tokens of {@code sql} read as the backend reads them under {@code mode}. */
    static Tokens of(String sql, SqlMode mode) {
        List<SqlLexer.Token> lexed = SqlLexer.tokenize(sql, mode);
        List<Token> out = new ArrayList<>();
        for (int k = 0; k < lexed.size() && lexed.get(k).type() != SqlLexer.Type.END; ) {
            SqlLexer.Token t = lexed.get(k);
            if (!joins(t)) {
                out.add(new Token(t.text(), t.type() == SqlLexer.Type.STRING, t.start()));
                k++;
                continue;
            }
            // Setting values are words of more than SQL's word characters (@@session.rag_x, -5,
            // us.amazon.nova-micro-v1:0): adjacent word pieces make one token, but ':=' stays an operator.
            int end = k + 1;
            while (end < lexed.size() && joins(lexed.get(end)) && lexed.get(end).start() == lexed.get(end - 1).end()
                    && !assignment(lexed, end)) {
                end++;
            }
            out.add(new Token(sql.substring(t.start(), lexed.get(end - 1).end()), false, t.start()));
            k = end;
        }
        // A trailing ';' ends the statement.
        while (!out.isEmpty() && out.get(out.size() - 1).is(";")) {
            out.remove(out.size() - 1);
        }
        return new Tokens(sql, out);
    }

    private static boolean joins(SqlLexer.Token t) {
        return t.type() == SqlLexer.Type.WORD || t.type() == SqlLexer.Type.NUMBER
                || (t.type() == SqlLexer.Type.SYMBOL && "@$.-:".indexOf(t.text().charAt(0)) >= 0);
    }

    /** Whether token {@code k} is the ':' of an adjacent ':='. */
    private static boolean assignment(List<SqlLexer.Token> lexed, int k) {
        SqlLexer.Token t = lexed.get(k);
        return t.isSymbol(':') && k + 1 < lexed.size() && lexed.get(k + 1).isSymbol('=')
                && lexed.get(k + 1).start() == t.end();
    }

    boolean atEnd() {
        return next >= tokens.size();
    }

    Token peek() {
        return atEnd() ? null : tokens.get(next);
    }

    Token take() {
        if (atEnd()) {
            throw error("the statement ends too early");
        }
        return tokens.get(next++);
    }

    /** Takes the next token if it is {@code word}. */
    boolean accept(String word) {
        if (!atEnd() && tokens.get(next).is(word)) {
            next++;
            return true;
        }
        return false;
    }

    void expect(String word) {
        if (!accept(word)) {
            throw error("expected " + word);
        }
    }

    /** The rest of the statement's text from the next token on. */
    String rest() {
        return atEnd() ? "" : sql.substring(tokens.get(next).position()).trim();
    }

    ProxyException error(String what) {
        int position = atEnd() ? sql.length() : tokens.get(next).position();
        return new ProxyException(ProxyError.PARSE_ERROR, what + " at position " + (position + 1) + " of: " + sql.trim());
    }
}
