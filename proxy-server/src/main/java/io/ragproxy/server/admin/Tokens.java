package io.ragproxy.server.admin;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tokens of a proxy statement ({@code SHOW RAG …}, {@code SET rag_… = …}): words, quoted strings, numbers
 * and punctuation, with comments and white space dropped. Small on purpose: these statements are a handful of
 * keywords, and their errors should name the exact position.
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

    static Tokens of(String sql) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#' || (c == '-' && sql.startsWith("-- ", i))) {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && sql.startsWith("/*", i)) {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '\'' || c == '"' || c == '`') {
                int start = i;
                StringBuilder b = new StringBuilder();
                i++;
                while (i < n) {
                    char d = sql.charAt(i);
                    if (d == c && i + 1 < n && sql.charAt(i + 1) == c) {
                        b.append(c);
                        i += 2;
                    } else if (d == c) {
                        i++;
                        break;
                    } else if (d == '\\' && c != '`' && i + 1 < n) {
                        b.append(sql.charAt(i + 1));
                        i += 2;
                    } else {
                        b.append(d);
                        i++;
                    }
                }
                out.add(new Token(b.toString(), c != '`', start));
            } else if (Character.isLetterOrDigit(c) || c == '_' || c == '@' || c == '$' || c == '.' || c == '-' || c == ':') {
                int start = i;
                while (i < n) {
                    char d = sql.charAt(i);
                    if (Character.isLetterOrDigit(d) || d == '_' || d == '@' || d == '$' || d == '.' || d == '-'
                            || d == ':') {
                        // ':=' is an operator, not part of a word
                        if (d == ':' && i + 1 < n && sql.charAt(i + 1) == '=') {
                            break;
                        }
                        i++;
                    } else {
                        break;
                    }
                }
                if (i == start) {
                    out.add(new Token(String.valueOf(c), false, start));
                    i++;
                } else {
                    out.add(new Token(sql.substring(start, i), false, start));
                }
            } else {
                out.add(new Token(String.valueOf(c), false, i));
                i++;
            }
        }
        // A trailing ';' ends the statement.
        while (!out.isEmpty() && out.get(out.size() - 1).is(";")) {
            out.remove(out.size() - 1);
        }
        return new Tokens(sql, out);
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
