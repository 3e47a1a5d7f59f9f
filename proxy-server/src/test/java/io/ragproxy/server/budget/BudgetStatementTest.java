package io.ragproxy.server.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.math.BigDecimal;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

/** The budget statements' syntax and the periods budgets count over. */
class BudgetStatementTest {
    private static final Account APP = new Account("app", "%");

    @Test
    void parsesSetShowBudgetsAndUsage() {
        assertEquals(new BudgetStatement.SetBudget(APP, new Budget(APP, new BigDecimal("5.00"), Budget.Unit.USD,
                Budget.Period.DAY)), BudgetStatement.parse("SET RAG BUDGET FOR 'app'@'%' = 5.00 USD PER DAY"));
        assertEquals(new BudgetStatement.SetBudget(APP, new Budget(APP, new BigDecimal("2000000"),
                Budget.Unit.TOKENS, Budget.Period.MONTH)),
                BudgetStatement.parse("set rag budget for app = 2000000 tokens per month;"));
        assertEquals(new BudgetStatement.SetBudget(new Account("r", "10.0.%"), null),
                BudgetStatement.parse("SET RAG BUDGET FOR 'r'@'10.0.%' = NONE"));
        assertEquals(new BudgetStatement.ShowBudgets(), BudgetStatement.parse("SHOW RAG BUDGETS"));
        assertEquals(new BudgetStatement.ShowUsage(null, null), BudgetStatement.parse("SHOW RAG USAGE"));
        assertEquals(new BudgetStatement.ShowUsage(APP, LocalDate.of(2026, 12, 1)),
                BudgetStatement.parse("SHOW RAG USAGE FOR 'app'@'%' SINCE '2026-12-01'"));
    }

    @Test
    void badStatementsSayWhatWasExpected() {
        ProxyException e = assertThrows(ProxyException.class,
                () -> BudgetStatement.parse("SET RAG BUDGET FOR app = 5 EUR PER DAY"));
        assertEquals(ProxyError.PARSE_ERROR.code(), e.code());
        assertTrue(e.getMessage().contains("USD or TOKENS"), e.getMessage());
        e = assertThrows(ProxyException.class, () -> BudgetStatement.parse("SET RAG BUDGET FOR app = 5 USD PER WEEK"));
        assertTrue(e.getMessage().contains("DAY or MONTH"), e.getMessage());
        e = assertThrows(ProxyException.class, () -> BudgetStatement.parse("SET RAG BUDGET FOR app = 1.5 TOKENS PER DAY"));
        assertTrue(e.getMessage().contains("whole number"), e.getMessage());
        e = assertThrows(ProxyException.class, () -> BudgetStatement.parse("SHOW RAG USAGE SINCE 'yesterday'"));
        assertTrue(e.getMessage().contains("'2026-12-01'"), e.getMessage());
    }

    @Test
    void periodsAreUtcDaysAndCalendarMonths() {
        LocalDate day = LocalDate.of(2026, 12, 5);
        assertEquals(day, Budget.Period.DAY.start(day));
        assertEquals(LocalDate.of(2026, 12, 1), Budget.Period.MONTH.start(day));
    }
}
