package io.ragproxy.server.catalog;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.text.SqlMode;
import java.util.List;

/** Reads tokens for the recursive-descent parsers; every expectation that fails names the exact position. */
final class TokenCursor {
    private final List<Token> tokens;
    private int next;

    /** The tokens of {@code sql} as the backend reads them under {@code mode}. */
    TokenCursor(String sql, SqlMode mode) {
        this.tokens = SqlLexer.tokenize(sql, mode);
    }

    Token peek() {
        return tokens.get(next);
    }

    Token peek(int ahead) {
        return tokens.get(Math.min(next + ahead, tokens.size() - 1));
    }

    Token take() {
        Token t = tokens.get(next);
        if (t.type() != Type.END) {
            next++;
        }
        return t;
    }

    /** The token before the next one (for messages), or the first token. */
    Token previous() {
        return tokens.get(Math.max(0, next - 1));
    }

    boolean accept(String word) {
        if (peek().is(word)) {
            next++;
            return true;
        }
        return false;
    }

    boolean acceptSymbol(char c) {
        if (peek().isSymbol(c)) {
            next++;
            return true;
        }
        return false;
    }

    /** Takes keyword {@code word}, or fails with {@code expected WORD after <after>}. */
    Token expect(String word, String after) {
        if (!peek().is(word)) {
            throw expected(word, after);
        }
        return take();
    }

    Token expectSymbol(char c, String after) {
        if (!peek().isSymbol(c)) {
            throw expected("'" + c + "'", after);
        }
        return take();
    }

    /** Takes a name (a word or a quoted identifier). */
    Token expectName(String what, String after) {
        if (!peek().isName()) {
            throw expected(what, after);
        }
        return take();
    }

    /** Takes a string literal. */
    Token expectString(String what, String after) {
        if (peek().type() != Type.STRING) {
            throw expected(what + " as a quoted string", after);
        }
        return take();
    }

    /** Accepts an optional {@code ;} and then requires the end of the statement. */
    void expectEnd(String after) {
        acceptSymbol(';');
        if (peek().type() != Type.END) {
            throw SqlLexer.error(peek(), "unexpected " + peek().describe() + " after " + after);
        }
    }

    ProxyException expected(String what, String after) {
        return SqlLexer.error(peek(), "expected " + what + " after " + after + ", found " + peek().describe());
    }

    ProxyException error(Token at, String message) {
        return SqlLexer.error(at, message);
    }
}
