package io.ragproxy.server.budget;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * The proxy's statements about budgets and usage, parsed from their text:
 * <pre>
 * SET RAG BUDGET FOR 'app'@'%' = 5.00 USD PER DAY
 * SET RAG BUDGET FOR 'app'@'%' = 2000000 TOKENS PER MONTH
 * SET RAG BUDGET FOR 'app'@'%' = NONE
 * SHOW RAG BUDGETS
 * SHOW RAG USAGE [FOR 'app'@'%'] [SINCE '2026-12-01']
 * </pre>
 * An account is {@code 'user'@'host'}, {@code user@host} or {@code 'user'} (host {@code %}), as in MySQL's GRANT.
 */
public sealed interface BudgetStatement {

    /** {@code SET RAG BUDGET FOR account = …}; {@code budget} null: {@code = NONE}, the budget is removed. */
    record SetBudget(Account account, Budget budget) implements BudgetStatement {
    }

    /** {@code SHOW RAG BUDGETS}. */
    record ShowBudgets() implements BudgetStatement {
    }

    /**
     * {@code SHOW RAG USAGE [FOR account] [SINCE 'date']}; {@code account} null: the caller's own, {@code since} null:
     * the start of the current UTC month.
     */
    record ShowUsage(Account account, LocalDate since) implements BudgetStatement {
    }

    /**
     * Parses one statement.
     *
     * @throws io.ragproxy.server.command.ProxyException PARSE_ERROR (7002) naming the line, column and what was
     *     expected
     */
    static BudgetStatement parse(String sql) {
        List<Token> tokens = SqlLexer.tokenize(sql);
        int[] i = {0};
        BudgetStatement s;
        if (accept(tokens, i, "SET")) {
            expect(tokens, i, "RAG");
            expect(tokens, i, "BUDGET");
            expect(tokens, i, "FOR");
            Account account = account(tokens, i);
            if (!acceptSymbol(tokens, i, '=')) {
                throw SqlLexer.error(peek(tokens, i), "expected = after the account, found "
                        + peek(tokens, i).describe());
            }
            if (accept(tokens, i, "NONE")) {
                s = new SetBudget(account, null);
            } else {
                Token amount = peek(tokens, i);
                if (amount.type() != Type.NUMBER) {
                    throw SqlLexer.error(amount, "expected an amount such as 5.00 or NONE, found " + amount.describe());
                }
                i[0]++;
                BigDecimal limit;
                try {
                    limit = new BigDecimal(amount.text());
                } catch (NumberFormatException e) {
                    throw SqlLexer.error(amount, "expected an amount such as 5.00, found " + amount.describe());
                }
                Token unit = peek(tokens, i);
                if (!unit.is("USD") && !unit.is("TOKENS")) {
                    throw SqlLexer.error(unit, "expected USD or TOKENS after the amount, found " + unit.describe());
                }
                i[0]++;
                expect(tokens, i, "PER");
                Token period = peek(tokens, i);
                if (!period.is("DAY") && !period.is("MONTH")) {
                    throw SqlLexer.error(period, "expected DAY or MONTH after PER, found " + period.describe());
                }
                i[0]++;
                Budget.Unit u = Budget.Unit.parse(unit.text());
                if (u == Budget.Unit.TOKENS && limit.stripTrailingZeros().scale() > 0) {
                    throw SqlLexer.error(amount, "a TOKENS budget is a whole number of tokens, not " + amount.text());
                }
                s = new SetBudget(account, new Budget(account, limit, u, Budget.Period.parse(period.text())));
            }
        } else if (accept(tokens, i, "SHOW")) {
            expect(tokens, i, "RAG");
            if (accept(tokens, i, "BUDGETS")) {
                s = new ShowBudgets();
            } else {
                expect(tokens, i, "USAGE");
                Account account = accept(tokens, i, "FOR") ? account(tokens, i) : null;
                LocalDate since = null;
                if (accept(tokens, i, "SINCE")) {
                    Token date = peek(tokens, i);
                    try {
                        if (date.type() != Type.STRING) {
                            throw new DateTimeParseException("not a string", date.text(), 0);
                        }
                        since = LocalDate.parse(date.text());
                    } catch (DateTimeParseException e) {
                        throw SqlLexer.error(date, "expected a date such as '2026-12-01' after SINCE, found "
                                + date.describe() + (date.type() == Type.STRING ? " '" + date.text() + "'" : ""));
                    }
                    i[0]++;
                }
                s = new ShowUsage(account, since);
            }
        } else {
            throw SqlLexer.error(peek(tokens, i), "expected SET or SHOW, found " + peek(tokens, i).describe());
        }
        acceptSymbol(tokens, i, ';');
        if (peek(tokens, i).type() != Type.END) {
            throw SqlLexer.error(peek(tokens, i), "expected the end of the statement, found "
                    + peek(tokens, i).describe());
        }
        return s;
    }

    private static Token peek(List<Token> tokens, int[] i) {
        return tokens.get(Math.min(i[0], tokens.size() - 1));
    }

    private static boolean accept(List<Token> tokens, int[] i, String word) {
        if (peek(tokens, i).is(word)) {
            i[0]++;
            return true;
        }
        return false;
    }

    private static boolean acceptSymbol(List<Token> tokens, int[] i, char symbol) {
        if (peek(tokens, i).isSymbol(symbol)) {
            i[0]++;
            return true;
        }
        return false;
    }

    private static void expect(List<Token> tokens, int[] i, String word) {
        if (!accept(tokens, i, word)) {
            throw SqlLexer.error(peek(tokens, i), "expected " + word + ", found " + peek(tokens, i).describe());
        }
    }

    /** {@code 'user'@'host'}, {@code user@host}, {@code 'user'}; MySQL's lexer may read {@code @'host'} as one token. */
    private static Account account(List<Token> tokens, int[] i) {
        Token u = peek(tokens, i);
        if (u.type() != Type.STRING && !u.isName()) {
            throw SqlLexer.error(u, "expected an account such as 'app'@'%', found " + u.describe());
        }
        i[0]++;
        if (!acceptSymbol(tokens, i, '@')) {
            Token glued = peek(tokens, i);
            if (glued.type() == Type.WORD && glued.text().startsWith("@") && glued.text().length() > 1) {
                i[0]++;
                return new Account(u.text(), glued.text().substring(1));
            }
            return new Account(u.text(), "%");
        }
        Token h = peek(tokens, i);
        if (h.type() != Type.STRING && !h.isName() && !h.isSymbol('%')) {
            throw SqlLexer.error(h, "expected a host such as '%' after @, found " + h.describe());
        }
        i[0]++;
        return new Account(u.text(), h.text());
    }
}
