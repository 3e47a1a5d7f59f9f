package io.ragproxy.server.scan;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.List;

/**
 * Measures how deeply a statement's parentheses nest, reading it with {@link SqlLexer}'s tokens (so parentheses in
 * strings, quoted identifiers and comments do not count, as the backend reads them), and refuses a statement nested
 * deeper than {@link #MAX_DEPTH} before any parser sees it: JSqlParser's time grows steeply with nesting, and no
 * statement a person or a tool writes needs more. Stateless; linear in the statement's length.
 */
public final class NestingCheck {
    /** The deepest nesting of parentheses a statement the proxy parses may have. */
    public static final int MAX_DEPTH = 64;

    /**
     * How a statement nests.
     *
     * @param depth the deepest nesting of parentheses
     * @param balanced whether every parenthesis opened is closed, and none closed before it was opened
     */
    public record Nesting(int depth, boolean balanced) {}

    private NestingCheck() {}

    /**
     * Reads {@code sql}'s nesting.
     *
     * @throws ProxyException STATEMENT_TOO_DEEP when it nests deeper than {@link #MAX_DEPTH}; PARSE_ERROR when a
     *     string or quoted identifier is not terminated (from {@link SqlLexer})
     */
    public static Nesting check(String sql) {
        List<SqlLexer.Token> tokens = SqlLexer.tokenize(sql);
        int depth = 0;
        int deepest = 0;
        boolean balanced = true;
        for (SqlLexer.Token token : tokens) {
            if (token.isSymbol('(')) {
                depth++;
                if (depth > MAX_DEPTH) {
                    throw new ProxyException(ProxyError.STATEMENT_TOO_DEEP, "this statement nests parentheses more"
                            + " than " + MAX_DEPTH + " deep (line " + token.line() + ", column " + token.column()
                            + "); ragproxy does not parse statements nested that deeply. Write the inner parts as"
                            + " subqueries, derived tables or a WITH clause (the statement was not sent to the backend)");
                }
                deepest = Math.max(deepest, depth);
            } else if (token.isSymbol(')')) {
                if (depth == 0) {
                    balanced = false;
                } else {
                    depth--;
                }
            }
        }
        return new Nesting(deepest, balanced && depth == 0);
    }
}
