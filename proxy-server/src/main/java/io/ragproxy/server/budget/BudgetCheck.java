package io.ragproxy.server.budget;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Decides, before a statement's first model call, whether its estimate ({@link Estimate}, the same as EXPLAIN RAG's)
 * fits what is left of its account's budget this period. An account without a budget costs nothing: no estimate is
 * computed. Thread-safe.
 */
public final class BudgetCheck {
    private final UsageLedger ledger;

    public BudgetCheck(UsageLedger ledger) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /**
     * Completes when the statement may run; fails with {@link ProxyError#BUDGET_EXCEEDED} when its estimate is more than
     * what is left (or, when it cannot be estimated, when nothing is left).
     *
     * @param account  the session's account ({@code CURRENT_USER()})
     * @param estimate computes the statement's estimate; called only when a budget applies
     */
    public CompletableFuture<Void> check(Account account, Supplier<CompletableFuture<Estimate>> estimate) {
        Budget budget = ledger.budgetOf(account);
        if (budget == null) {
            return CompletableFuture.completedFuture(null);
        }
        return estimate.get().thenAccept(e -> {
            Budget now = ledger.budgetOf(account);
            if (now == null) {
                return;
            }
            BigDecimal spent = UsageLedger.amount(now, ledger.spent(now));
            BigDecimal left = now.limit().subtract(spent);
            BigDecimal need = !e.known() ? null : now.unit() == Budget.Unit.USD ? e.costUsd()
                    : BigDecimal.valueOf(e.tokens());
            if (need == null ? left.signum() <= 0 : need.compareTo(left) > 0) {
                throw refused(account, now, spent, need, e);
            }
        });
    }

    private ProxyException refused(Account account, Budget budget, BigDecimal spent, BigDecimal need, Estimate e) {
        String unit = budget.unit() == Budget.Unit.USD ? " USD" : " tokens";
        String period = budget.period() == Budget.Period.DAY ? "today (UTC)" : "this month (UTC)";
        String estimate = need == null
                ? "this statement's model inputs cannot be counted before it runs, and nothing is left"
                : "this statement is estimated at " + show(need, budget) + unit + " (" + e.inputs() + " model inputs"
                        + (e.models().isEmpty() ? "" : " to " + String.join(", ", e.models()))
                        + ", as EXPLAIN RAG estimates it), more than the " + show(budget.limit().subtract(spent)
                                .max(BigDecimal.ZERO), budget) + unit + " left";
        return new ProxyException(ProxyError.BUDGET_EXCEEDED, "account " + account + " has a budget of "
                + budget.describe() + (budget.account().equals(account) ? "" : " (set for " + budget.account() + ")")
                + " and has spent " + show(spent, budget) + unit + " of it " + period + "; " + estimate
                + ". Run a smaller statement, wait for the next period, or ask an administrator to raise the budget"
                + " (SET RAG BUDGET FOR " + budget.account() + " = …); no model was called");
    }

    /** {@code amount} in the budget's unit as messages show it: whole tokens, or dollars to six decimals. */
    static String show(BigDecimal amount, Budget budget) {
        return budget.unit() == Budget.Unit.TOKENS ? amount.setScale(0, RoundingMode.CEILING).toPlainString()
                : amount.setScale(6, RoundingMode.HALF_UP).toPlainString();
    }
}
