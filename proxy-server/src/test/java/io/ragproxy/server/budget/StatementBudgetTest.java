package io.ragproxy.server.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.catalog.CatalogConnection;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The budget check while a statement runs: the ledger's view of what the account spent (another instance's flushed
 * usage, this proxy's unflushed usage of other statements) plus what the statement spent so far, against the budget.
 */
class StatementBudgetTest {
    private static final Account APP = new Account("app", "%");
    private static final Account APP_LOCAL = new Account("app", "localhost");
    private static final String TODAY = "2026-12-05";
    private static final Clock CLOCK = Clock.fixed(Instant.parse(TODAY + "T10:00:00Z"), ZoneOffset.UTC);

    /** The catalog's tables as the fake backend holds them: budget rows and (summed) usage rows. */
    private final List<List<String>> budgetRows = new ArrayList<>();
    private final List<List<String>> usageRows = new ArrayList<>();
    private final CatalogConnection backend = sql -> {
        List<List<String>> rows = sql.startsWith("SELECT user, host, amount") ? budgetRows
                : sql.startsWith("SELECT") ? usageRows : List.of();
        return CompletableFuture.completedFuture(new QueryResult(List.of(new QueryResult.ResultSet(List.of(),
                List.copyOf(rows))), 0, 0, 0, ""));
    };
    private UsageLedger ledger;

    @AfterEach
    void close() {
        if (ledger != null) {
            ledger.close();
        }
    }

    private UsageLedger ledger() {
        ledger = new UsageLedger(backend, Duration.ZERO, CLOCK);
        ledger.ready().join();
        return ledger;
    }

    private static List<String> budget(Account account, String amount, String unit, String period) {
        return List.of(account.user(), account.host(), amount, unit, period, "root@%", TODAY + " 09:00:00");
    }

    private static List<String> usage(Account account, long requests, long tokens, String costUsd) {
        return List.of(account.user(), account.host(), "", TODAY, Long.toString(requests), Long.toString(tokens), "0",
                costUsd, "0");
    }

    private static Spend costing(double usd) {
        return new Spend(1, 0, 0, usd, 0);
    }

    @Test
    void anAccountWithoutABudgetIsNeverStopped() {
        budgetRows.add(budget(new Account("other", "%"), "0.01", "USD", "DAY"));
        StatementBudget check = new StatementBudget(ledger(), APP, () -> costing(1000));
        assertNull(check.refusal("m"));
    }

    @Test
    void stopsOnceTheLedgerAndTheStatementsOwnSpendReachTheBudget() {
        budgetRows.add(budget(APP, "3.00", "USD", "DAY"));
        usageRows.add(usage(APP_LOCAL, 1, 0, "0.5")); // flushed by another instance
        UsageLedger l = ledger();
        AtomicReference<Spend> statement = new AtomicReference<>(Spend.NONE);
        StatementBudget check = new StatementBudget(l, APP, statement::get);
        assertNull(check.refusal("m"), "0.50 of 3.00 spent");
        statement.set(new Spend(2, 2000, 0, 2.0, 0));
        assertNull(check.refusal("m"), "2.50 of 3.00 spent");
        // Another session of the account ends a statement meanwhile: it counts at once.
        l.record(APP_LOCAL, Map.of("m", costing(0.5)));
        RuntimeException refusal = check.refusal("m");
        assertNotNull(refusal, "3.00 of 3.00 spent: nothing left");
        ProxyException e = assertInstanceOf(ProxyException.class, refusal);
        assertEquals(ProxyError.BUDGET_EXCEEDED.code(), e.code());
        assertEquals("42000", e.sqlState());
        String m = e.getMessage();
        assertTrue(m.contains("'app'@'%' has a budget of 3.00 USD PER DAY and it ran out during this statement"), m);
        assertTrue(m.contains("3.000000 USD spent of it today (UTC), 2.000000 USD of that by this statement's 2 model"
                + " requests"), m);
    }

    @Test
    void aBudgetRaisedOrLiftedWhileTheStatementRunsCountsAtOnce() {
        budgetRows.add(budget(APP, "1.00", "USD", "DAY"));
        UsageLedger l = ledger();
        StatementBudget check = new StatementBudget(l, APP, () -> costing(1.5));
        assertNotNull(check.refusal("m"));
        budgetRows.set(0, budget(APP, "2.00", "USD", "DAY"));
        l.flush().join();
        assertNull(check.refusal("m"), "1.50 of 2.00");
        budgetRows.clear();
        l.flush().join();
        assertNull(new StatementBudget(l, APP, () -> costing(100)).refusal("m"), "no budget any more");
    }

    @Test
    void aTokenBudgetCountsInputAndOutputTokensOfTheUsersAccounts() {
        budgetRows.add(budget(APP, "1000", "TOKENS", "MONTH"));
        usageRows.add(usage(new Account("someone", "%"), 5, 5000, "9")); // another user's spend does not count
        usageRows.add(usage(APP_LOCAL, 1, 400, "0"));
        UsageLedger l = ledger();
        AtomicReference<Spend> statement = new AtomicReference<>(new Spend(1, 300, 299, 0, 0));
        StatementBudget check = new StatementBudget(l, APP, statement::get);
        assertNull(check.refusal("m"), "999 of 1000 tokens");
        statement.set(new Spend(1, 300, 300, 0, 0));
        RuntimeException refusal = check.refusal("m");
        assertNotNull(refusal);
        assertTrue(refusal.getMessage().contains("1000 TOKENS PER MONTH and it ran out during this statement: 1000"
                + " tokens spent of it this month (UTC), 600 tokens of that by this statement's 1 model request"),
                refusal.getMessage());
    }

    @Test
    void aStatementsSpendIsWhatItsSessionsCountersGainedSinceItStarted() {
        budgetRows.add(budget(APP, "0.00", "USD", "DAY"));
        io.ragproxy.catalog.invoke.CounterSet counters = new io.ragproxy.catalog.invoke.CounterSet();
        StatementBudget check = StatementBudget.since(ledger(), APP, counters);
        RuntimeException refusal = check.refusal("m");
        assertNotNull(refusal, "a budget of nothing allows no call");
        assertTrue(refusal.getMessage().contains("0.000000 USD of that by this statement's 0 model requests"),
                refusal.getMessage());
    }
}
