package io.ragproxy.server.budget;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.access.ModelAccessStatements;
import io.ragproxy.server.catalog.AccountPrivileges;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.wire.Packets;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Runs {@code SET RAG BUDGET}, {@code SHOW RAG BUDGETS} and {@code SHOW RAG USAGE}. Setting a budget, and seeing
 * another account's budget or usage, needs what GRANT RAG MODEL needs (the GRANT OPTION on schema {@code ragproxy});
 * every account sees its own.
 */
public final class BudgetStatements {
    private static final List<String> BUDGET_COLUMNS = List.of("Account", "Budget", "Unit", "Period", "Spent",
            "Remaining", "Set_by", "Set_at");
    private static final List<String> USAGE_COLUMNS = List.of("Account", "Model", "Day", "Requests", "Input_tokens",
            "Output_tokens", "Estimated_cost_usd", "Cache_hits");

    private final UsageLedger ledger;

    public BudgetStatements(UsageLedger ledger) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /** Runs one statement (as {@link BudgetStatement#parse} reads it). */
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql) {
        BudgetStatement statement = BudgetStatement.parse(sql);
        return AccountPrivileges.of(session).thenCompose(privileges -> {
            Account caller = Account.ofCurrentUser(privileges.user());
            session.currentUser(privileges.user());
            if (statement instanceof BudgetStatement.SetBudget set) {
                ModelAccessStatements.requireManager(privileges, "SET RAG BUDGET");
                return onLoop(session, ledger.setBudget(set.account(), set.budget(), privileges.user()))
                        .thenApply(n -> PipelineResult.reply(Packets.ok(session.alloc(), 1, n, 0,
                                session.serverStatus(), 0, null, session.sessionTrack())));
            }
            boolean manager = privileges.mayGrantOn("ragproxy");
            if (statement instanceof BudgetStatement.ShowBudgets) {
                return onLoop(session, ledger.budgets()).thenApply(rows -> {
                    List<List<String>> out = new ArrayList<>();
                    for (UsageStore.BudgetRow r : rows) {
                        Budget b = r.budget();
                        if (manager || b.account().equals(caller) || b.account().equals(
                                new Account(caller.user(), "%"))) {
                            BigDecimal spent = UsageLedger.amount(b, ledger.spent(b));
                            out.add(Arrays.asList(b.account().toString(), b.amount(), b.unit().name(),
                                    b.period().name(), show(spent, b), show(b.limit().subtract(spent)
                                            .max(BigDecimal.ZERO), b), r.setBy(), r.setAt()));
                        }
                    }
                    return table(session, BUDGET_COLUMNS, out);
                });
            }
            BudgetStatement.ShowUsage show = (BudgetStatement.ShowUsage) statement;
            Account whose = show.account() == null ? caller : show.account();
            if (!whose.equals(caller)) {
                ModelAccessStatements.requireManager(privileges, "SHOW RAG USAGE FOR " + whose);
            }
            java.time.LocalDate since = show.since() != null ? show.since()
                    : Budget.Period.MONTH.start(ledger.today());
            return onLoop(session, ledger.usage(since, whose)).thenApply(rows -> {
                List<List<String>> out = new ArrayList<>();
                for (UsageStore.UsageRow r : rows) {
                    Spend s = r.spend();
                    out.add(Arrays.asList(r.account().toString(), r.model(), r.day().toString(),
                            Long.toString(s.requests()), Long.toString(s.inputTokens()),
                            Long.toString(s.outputTokens()), BigDecimal.valueOf(s.costUsd())
                                    .setScale(8, RoundingMode.HALF_UP).toPlainString(), Long.toString(s.cacheHits())));
                }
                return table(session, USAGE_COLUMNS, out);
            });
        });
    }

    private static String show(BigDecimal amount, Budget b) {
        return b.unit() == Budget.Unit.TOKENS ? amount.setScale(0, RoundingMode.CEILING).toPlainString()
                : amount.setScale(6, RoundingMode.HALF_UP).toPlainString();
    }

    private static PipelineResult table(StatementSession session, List<String> columns, List<List<String>> rows) {
        return PipelineResult.reply(session.resultSetWriter().write(session.alloc(), columns, rows,
                session.serverStatus()));
    }

    /** {@code future}'s outcome on {@code session}'s event loop, where replies are composed. */
    private static <T> CompletableFuture<T> onLoop(StatementSession session, CompletableFuture<T> future) {
        io.netty.channel.EventLoop loop = session.eventLoop();
        if (loop == null) {
            return future;
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        future.whenComplete((v, e) -> loop.execute(() -> {
            if (e != null) {
                out.completeExceptionally(e);
            } else {
                out.complete(v);
            }
        }));
        return out;
    }
}
