package io.ragproxy.server.budget;

import io.ragproxy.catalog.invoke.CallGate;
import io.ragproxy.catalog.invoke.CounterSet;
import io.ragproxy.catalog.invoke.InvocationCounters;
import io.ragproxy.server.access.Account;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.math.BigDecimal;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The budget check while one statement runs: before each model call the statement would send, what its account spent
 * (the ledger: flushed usage of every proxy plus this proxy's usage not yet flushed, which includes other sessions'
 * statements once they ended) plus what this statement spent so far (its session's counters since it started) is
 * compared with the account's budget; once nothing is left, the call is refused ({@link ProxyError#BUDGET_EXCEEDED})
 * and not sent. The statement's plan then stops with that error, or under {@code rag_on_error = 'null'} gives NULL with
 * a warning for each input it could not send. Calls already sent when the budget ran out are not stopped, so a
 * statement can overspend by what its calls in flight cost ({@code rag_concurrency} of them at most).
 *
 * <p>Only statements of accounts with a budget get one (a session without a budget pays one null check per call).
 * The budget is looked up on every call, so a budget raised or lifted while the statement runs counts at once.
 * Thread-safe.
 */
public final class StatementBudget implements CallGate {
    private final UsageLedger ledger;
    private final Account account;
    private final Supplier<Spend> spentByStatement;

    /**
     * @param ledger           the proxy's usage ledger
     * @param account          the session's account ({@code CURRENT_USER()})
     * @param spentByStatement what the statement spent so far, read on every call
     */
    public StatementBudget(UsageLedger ledger, Account account, Supplier<Spend> spentByStatement) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.account = Objects.requireNonNull(account, "account");
        this.spentByStatement = Objects.requireNonNull(spentByStatement, "spentByStatement");
    }

    /**
     * The budget of a statement whose calls {@code counters} (its session's) count as they end: what they gain from
     * now on is the statement's.
     */
    public static StatementBudget since(UsageLedger ledger, Account account, CounterSet counters) {
        Spend before = total(counters);
        return new StatementBudget(ledger, account, () -> total(counters).minus(before));
    }

    /** What {@code counters} show over all models, as a spend. */
    static Spend total(CounterSet counters) {
        InvocationCounters c = counters.total();
        return new Spend(c.requests(), c.inputTokens(), c.outputTokens(), c.estimatedCostUsd(), c.cacheHits());
    }

    @Override
    public RuntimeException refusal(String modelId) {
        Budget budget = ledger.budgetOf(account);
        if (budget == null) {
            return null;
        }
        Spend mine = spentByStatement.get();
        BigDecimal spent = UsageLedger.amount(budget, ledger.spent(budget).plus(mine));
        if (spent.compareTo(budget.limit()) < 0) {
            return null;
        }
        String unit = budget.unit() == Budget.Unit.USD ? " USD" : " tokens";
        String period = budget.period() == Budget.Period.DAY ? "today (UTC)" : "this month (UTC)";
        return new ProxyException(ProxyError.BUDGET_EXCEEDED, "account " + account + " has a budget of "
                + budget.describe() + (budget.account().equals(account) ? "" : " (set for " + budget.account() + ")")
                + " and it ran out during this statement: " + BudgetCheck.show(spent, budget) + unit + " spent of it "
                + period + ", " + BudgetCheck.show(UsageLedger.amount(budget, mine), budget) + unit + " of that by this"
                + " statement's " + mine.requests() + (mine.requests() == 1 ? " model request" : " model requests")
                + " (its estimate fitted when it started; it stopped before its next model call, and the calls"
                + " already sent are counted). Run a smaller statement, wait for the next period, or ask an administrator"
                + " to raise the budget (SET RAG BUDGET FOR " + budget.account() + " = …)");
    }
}
