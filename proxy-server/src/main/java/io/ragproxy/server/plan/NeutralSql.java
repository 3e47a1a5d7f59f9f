package io.ragproxy.server.plan;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.text.ClientCharset;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.text.SqlMode;
import java.util.HexFormat;
import java.util.List;

/**
 * Rewrites a statement so that JSqlParser (which reads the server's default sql_mode) and the backend (which reads
 * the session's) see the same values, by spelling what the session's sql_mode and character set change in forms
 * that read alike everywhere:
 * <ul>
 *   <li>under {@code ANSI_QUOTES} a {@code "name"} is an identifier: written {@code `name`};
 *   <li>under {@code NO_BACKSLASH_ESCAPES} a string literal with a backslash, and in a binary session a string
 *       literal with bytes above ASCII, is written as a hex literal of its very bytes converted to its introducer's
 *       character set (the session's when it has none; JSqlParser reads no introducers):
 *       {@code 'C:\new'} becomes {@code CONVERT(X'433a5c6e6577' USING utf8mb4)}, and in a binary session
 *       {@code 'café'} becomes {@code X'636166c3a9'}. The backend then gives its value; the proxy never guesses it.
 * </ul>
 * Everything else is left as written, so a statement that needs none of this is returned as it is.
 */
final class NeutralSql {
    private NeutralSql() {}

    /** {@code sql} (decoded in the session's character_set_client) in a spelling that reads alike in every mode. */
    static String of(String sql, SessionText text) {
        SqlMode mode = text.sqlMode();
        ClientCharset charset = text.client();
        if (mode.equals(SqlMode.DEFAULT) && charset != ClientCharset.BINARY) {
            return sql;
        }
        List<Token> tokens;
        try {
            tokens = SqlLexer.tokenize(sql, mode);
        } catch (ProxyException e) {
            return sql; // unterminated: the parser reports it with its position
        }
        StringBuilder out = null;
        int copied = 0;
        for (int t = 0; t < tokens.size(); t++) {
            Token token = tokens.get(t);
            String replacement = null;
            int from = token.start();
            if (token.type() == SqlLexer.Type.QUOTED_IDENT && sql.charAt(token.start()) == '"') {
                replacement = "`" + token.text().replace("`", "``") + "`";
            } else if (token.type() == SqlLexer.Type.STRING && needsHex(sql, token, mode, charset)) {
                Token before = t > 0 ? tokens.get(t - 1) : null;
                boolean introduced = before != null && before.type() == SqlLexer.Type.WORD
                        && before.text().startsWith("_") && before.text().length() > 1 && before.start() >= copied;
                String set = introduced ? before.text().substring(1) : charset.mysqlName();
                String hex = "X'" + HexFormat.of().formatHex(charset.encodeStatement(token.text())) + "'";
                replacement = set.equalsIgnoreCase("binary") ? hex : "CONVERT(" + hex + " USING " + set + ")";
                if (introduced) {
                    from = before.start(); // the introducer becomes the conversion's target
                }
            }
            if (replacement != null) {
                if (out == null) {
                    out = new StringBuilder(sql.length() + 32);
                }
                out.append(sql, copied, from).append(replacement);
                copied = token.end();
            }
        }
        return out == null ? sql : out.append(sql, copied, sql.length()).toString();
    }

    private static boolean needsHex(String sql, Token token, SqlMode mode, ClientCharset charset) {
        if (mode.noBackslashEscapes() && sql.substring(token.start(), token.end()).indexOf('\\') >= 0) {
            return true;
        }
        return charset == ClientCharset.BINARY && !token.text().chars().allMatch(c -> c < 0x80);
    }
}
