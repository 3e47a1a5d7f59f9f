package io.ragproxy.server.scan;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.text.SqlMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small MySQL lexer for the statements JSqlParser does not read (the proxy's own {@code SHOW RAG …}, {@code SET
 * rag_…}, {@code EXPLAIN RAG …}; Aurora's {@code CREATE FUNCTION … ALIAS}, MindsDB's {@code CREATE MODEL}, TiDB's
 * auto-embedding column): words, quoted identifiers, strings (MySQL's escapes
 * resolved, unless the session's {@link SqlMode} says {@code NO_BACKSLASH_ESCAPES}; under {@code ANSI_QUOTES}
 * {@code "…"} is a quoted identifier), numbers and one-character symbols, each with its offsets and its 1-based line and column, so that
 * errors can name the exact position. Comments are skipped; executable comments ({@code /*! … *}{@code /}) are code.
 */
public final class SqlLexer {

    /** What a token is. */
    public enum Type { WORD, QUOTED_IDENT, STRING, NUMBER, SYMBOL, END }

    /**
     * One token.
     *
     * @param text a word or number as written, a string's value (escapes resolved), a quoted identifier without its
     *     quotes, a symbol's character; empty for END
     * @param start offset of the first character in the statement
     * @param end offset after the last character
     */
    public record Token(Type type, String text, int start, int end, int line, int column) {
        /** Whether this is the (unquoted) keyword {@code word}, ignoring case. */
        public boolean is(String word) {
            return type == Type.WORD && text.equalsIgnoreCase(word);
        }

        public boolean isSymbol(char c) {
            return type == Type.SYMBOL && text.charAt(0) == c;
        }

        /** Whether this can name an object: a word or a quoted identifier. */
        public boolean isName() {
            return type == Type.WORD || type == Type.QUOTED_IDENT;
        }

        /** How the token reads in a message. */
        public String describe() {
            return switch (type) {
                case END -> "the end of the statement";
                case STRING -> "a string";
                case QUOTED_IDENT -> "`" + text + "`";
                default -> text;
            };
        }

        public String upper() {
            return text.toUpperCase(Locale.ROOT);
        }
    }

    private SqlLexer() {}

    /**
     * The statement's first keyword, upper case, after white space and comments ({@code INSERT}, {@code CREATE}, …);
     * empty when it does not start with a word. Reads only that far.
     */
    public static String firstWord(String sql) {
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#' || (c == '-' && sql.startsWith("-- ", i))) {
                int nl = sql.indexOf('\n', i);
                i = nl < 0 ? n : nl + 1;
            } else if (sql.startsWith("/*!", i) || sql.startsWith("/*M!", i)) {
                i += sql.startsWith("/*!", i) ? 3 : 4;
                while (i < n && Character.isDigit(sql.charAt(i))) {
                    i++;
                }
            } else if (sql.startsWith("/*", i)) {
                int close = sql.indexOf("*/", i + 2);
                i = close < 0 ? n : close + 2;
            } else {
                int start = i;
                while (i < n && isWordChar(sql.charAt(i))) {
                    i++;
                }
                return sql.substring(start, i).toUpperCase(Locale.ROOT);
            }
        }
        return "";
    }

    /** The tokens of {@code sql} read under the default sql_mode, ending with one END token. */
    public static List<Token> tokenize(String sql) {
        return tokenize(sql, SqlMode.DEFAULT);
    }

    /** The tokens of {@code sql} read as the backend reads them under {@code mode}, ending with one END token. */
    public static List<Token> tokenize(String sql, SqlMode mode) {
        boolean backslashEscapes = !mode.noBackslashEscapes();
        List<Token> out = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        int line = 1;
        int lineStart = 0;
        boolean executable = false;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\n') {
                i++;
                line++;
                lineStart = i;
                continue;
            }
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            int start = i;
            int tokenLine = line;
            int column = start - lineStart + 1;
            if (c == '#' || (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-'
                    && (i + 2 == n || Character.isWhitespace(sql.charAt(i + 2))))) {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
                continue;
            }
            if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                if (i + 2 < n && (sql.charAt(i + 2) == '!' || (sql.charAt(i + 2) == 'M' && i + 3 < n
                        && sql.charAt(i + 3) == '!'))) {
                    i += sql.charAt(i + 2) == '!' ? 3 : 4;
                    while (i < n && Character.isDigit(sql.charAt(i))) {
                        i++;
                    }
                    executable = true;
                    continue;
                }
                int close = sql.indexOf("*/", i + 2);
                int stop = close < 0 ? n : close + 2;
                for (int k = i; k < stop; k++) {
                    if (sql.charAt(k) == '\n') {
                        line++;
                        lineStart = k + 1;
                    }
                }
                i = stop;
                continue;
            }
            if (executable && c == '*' && i + 1 < n && sql.charAt(i + 1) == '/') {
                executable = false;
                i += 2;
                continue;
            }
            if (c == '\'' || c == '"' || c == '`') {
                boolean identifier = c == '`' || (c == '"' && mode.ansiQuotes());
                StringBuilder b = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char d = sql.charAt(i);
                    if (d == c && i + 1 < n && sql.charAt(i + 1) == c) {
                        b.append(c);
                        i += 2;
                    } else if (d == c) {
                        i++;
                        closed = true;
                        break;
                    } else if (d == '\\' && !identifier && backslashEscapes && i + 1 < n) {
                        b.append(unescape(sql.charAt(i + 1)));
                        i += 2;
                    } else {
                        if (d == '\n') {
                            line++;
                            lineStart = i + 1;
                        }
                        b.append(d);
                        i++;
                    }
                }
                if (!closed) {
                    throw error(tokenLine, column, (identifier ? "unterminated quoted identifier" : "unterminated string")
                            + " starting here");
                }
                out.add(new Token(identifier ? Type.QUOTED_IDENT : Type.STRING, b.toString(), start, i, tokenLine,
                        column));
                continue;
            }
            if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))
                    && !previousIsName(out, start))) {
                while (i < n && (Character.isDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
                    i++;
                }
                if (i < n && (sql.charAt(i) == 'e' || sql.charAt(i) == 'E')) {
                    int j = i + 1;
                    if (j < n && (sql.charAt(j) == '+' || sql.charAt(j) == '-')) {
                        j++;
                    }
                    if (j < n && Character.isDigit(sql.charAt(j))) {
                        i = j;
                        while (i < n && Character.isDigit(sql.charAt(i))) {
                            i++;
                        }
                    }
                }
                // 1abc is an identifier in MySQL; a number followed by letters is read as a word.
                if (i < n && isWordChar(sql.charAt(i))) {
                    while (i < n && isWordChar(sql.charAt(i))) {
                        i++;
                    }
                    out.add(new Token(Type.WORD, sql.substring(start, i), start, i, line, column));
                } else {
                    out.add(new Token(Type.NUMBER, sql.substring(start, i), start, i, line, column));
                }
                continue;
            }
            if (isWordChar(c)) {
                while (i < n && isWordChar(sql.charAt(i))) {
                    i++;
                }
                out.add(new Token(Type.WORD, sql.substring(start, i), start, i, line, column));
                continue;
            }
            out.add(new Token(Type.SYMBOL, String.valueOf(c), start, i + 1, line, column));
            i++;
        }
        out.add(new Token(Type.END, "", n, n, line, n - lineStart + 1));
        return out;
    }

    private static boolean previousIsName(List<Token> out, int start) {
        if (out.isEmpty()) {
            return false;
        }
        Token last = out.get(out.size() - 1);
        return last.end() == start && last.isName();
    }

    public static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$' || c >= 0x80;
    }

    private static char unescape(char c) {
        return switch (c) {
            case '0' -> '\0';
            case 'b' -> '\b';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'Z' -> '\u001A';
            default -> c;
        };
    }

    /** A parse error at a position, as the client sees it: {@code line 1, column 42: …}. */
    public static ProxyException error(int line, int column, String message) {
        return new ProxyException(ProxyError.PARSE_ERROR, "line " + line + ", column " + column + ": " + message);
    }

    public static ProxyException error(Token at, String message) {
        return error(at.line(), at.column(), message);
    }
}
