package io.ragproxy.server.access;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy's statements about model access, parsed from their text:
 * <pre>
 * GRANT RAG MODEL 'titan-v2', 'llama3-2-3b' TO 'app'@'%'
 * REVOKE RAG MODEL 'llama3-2-3b' FROM 'app'@'%'
 * SHOW RAG GRANTS [FOR 'app'@'%']
 * </pre>
 * Model names are strings or identifiers (aliases and ids are resolved later, against the registry); an account is
 * {@code 'user'@'host'}, {@code user@host} or {@code 'user'} (host {@code %}), as in MySQL's own GRANT.
 */
public sealed interface ModelAccessStatement {

    /** {@code GRANT RAG MODEL … TO account}. */
    record Grant(List<String> models, Account account) implements ModelAccessStatement {
        public Grant {
            models = List.copyOf(models);
        }
    }

    /** {@code REVOKE RAG MODEL … FROM account}. */
    record Revoke(List<String> models, Account account) implements ModelAccessStatement {
        public Revoke {
            models = List.copyOf(models);
        }
    }

    /** {@code SHOW RAG GRANTS [FOR account]}; {@code account} null: every account's grants. */
    record ShowGrants(Account account) implements ModelAccessStatement {
    }

    /**
     * Parses one statement.
     *
     * @throws io.ragproxy.server.command.ProxyException PARSE_ERROR (7002) naming the line, column and what was
     *     expected
     */
    static ModelAccessStatement parse(String sql) {
        Cursor c = new Cursor(SqlLexer.tokenize(sql));
        ModelAccessStatement s;
        if (c.accept("GRANT")) {
            c.expect("RAG");
            c.expect("MODEL");
            List<String> models = c.models();
            c.expect("TO");
            s = new Grant(models, c.account());
        } else if (c.accept("REVOKE")) {
            c.expect("RAG");
            c.expect("MODEL");
            List<String> models = c.models();
            c.expect("FROM");
            s = new Revoke(models, c.account());
        } else if (c.accept("SHOW")) {
            c.expect("RAG");
            c.expect("GRANTS");
            s = new ShowGrants(c.accept("FOR") ? c.account() : null);
        } else {
            throw SqlLexer.error(c.peek(), "expected GRANT, REVOKE or SHOW, found " + c.peek().describe());
        }
        c.accept(';');
        if (c.peek().type() != Type.END) {
            throw SqlLexer.error(c.peek(), "expected the end of the statement, found " + c.peek().describe());
        }
        return s;
    }
}

/** Reads the tokens of a {@link ModelAccessStatement} left to right. */
final class Cursor {
    private final List<Token> tokens;
    private int i;

    Cursor(List<Token> tokens) {
        this.tokens = tokens;
    }

    Token peek() {
        return tokens.get(Math.min(i, tokens.size() - 1));
    }

    boolean accept(String word) {
        if (peek().is(word)) {
            i++;
            return true;
        }
        return false;
    }

    boolean accept(char symbol) {
        if (peek().isSymbol(symbol)) {
            i++;
            return true;
        }
        return false;
    }

    void expect(String word) {
        if (!accept(word)) {
            throw SqlLexer.error(peek(), "expected " + word + ", found " + peek().describe());
        }
    }

    List<String> models() {
        List<String> out = new ArrayList<>();
        do {
            Token t = peek();
            if (t.type() != Type.STRING && !t.isName() || t.text().isEmpty()) {
                throw SqlLexer.error(t, "expected a model name such as 'titan-v2', found " + t.describe());
            }
            out.add(t.text());
            i++;
        } while (accept(','));
        return out;
    }

    /** {@code 'user'@'host'}, {@code user@host}, {@code 'user'}; MySQL's lexer may read {@code @'host'} or {@code @host} as one token. */
    Account account() {
        Token u = peek();
        if (u.type() != Type.STRING && !u.isName()) {
            throw SqlLexer.error(u, "expected an account such as 'app'@'%', found " + u.describe());
        }
        i++;
        if (!accept('@')) {
            Token glued = peek();
            if (glued.type() == Type.WORD && glued.text().startsWith("@") && glued.text().length() > 1) {
                i++;
                return new Account(u.text(), glued.text().substring(1));
            }
            return new Account(u.text(), "%");
        }
        Token h = peek();
        if (h.type() != Type.STRING && !h.isName() && !h.isSymbol('%')) {
            throw SqlLexer.error(h, "expected a host such as '%' after @, found " + h.describe());
        }
        i++;
        return new Account(u.text(), h.text());
    }
}
