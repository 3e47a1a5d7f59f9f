package io.ragproxy.server.budget;

import io.ragproxy.server.access.Account;
import io.ragproxy.server.catalog.CatalogConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This proxy's view of budgets and usage. Statements' usage is added in memory, per account, model and UTC day, and
 * flushed to {@code ragproxy.usage} every {@code [usage] flush_interval_ms} and on {@link #close()}; each flush then
 * re-reads the budgets and what their accounts spent this period over every proxy instance. What an account has spent
 * is therefore the last flushed total plus this proxy's unflushed usage: another instance's usage counts once it has
 * flushed it and this one has read it, within about two flush intervals. Thread-safe.
 */
public final class UsageLedger implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsageLedger.class);
    /** How long {@link #close()} waits for the last flush. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final UsageStore store;
    private final Clock clock;
    private final ScheduledExecutorService timer;

    /** Usage not yet written, and usage being written by the flush under way (it still counts until re-read). */
    private Map<UsageStore.Key, Spend> pending = new LinkedHashMap<>();
    private Map<UsageStore.Key, Spend> inFlight = Map.of();
    /** The budgets and flushed usage as last read: guarded by {@code this}. */
    private Map<Account, UsageStore.BudgetRow> budgets = Map.of();
    private List<UsageStore.UsageRow> flushed = List.of();
    private CompletableFuture<Void> lastFlush = CompletableFuture.completedFuture(null);
    /** Completes once budgets were first read (or could not be): until then no statement's budget is known. */
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    /**
     * @param connection    the catalog's connection, which usage and budgets are read and written through
     * @param flushInterval how often usage is written (and budgets re-read); zero or less: only on demand and close
     * @param clock         gives the UTC day usage is counted on
     */
    public UsageLedger(CatalogConnection connection, Duration flushInterval, Clock clock) {
        this.store = new UsageStore(connection);
        this.clock = clock;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ragproxy-usage");
            t.setDaemon(true);
            return t;
        });
        if (flushInterval.toMillis() > 0) {
            timer.scheduleWithFixedDelay(() -> flush().join(), flushInterval.toMillis(), flushInterval.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        timer.execute(() -> flush().whenComplete((v, e) -> ready.complete(null)).join());
    }

    /** Today, in UTC. */
    LocalDate today() {
        return LocalDate.now(clock.withZone(ZoneOffset.UTC));
    }

    /** Adds what one statement of {@code account} spent, by model id. */
    public synchronized void record(Account account, Map<String, Spend> byModel) {
        LocalDate day = today();
        byModel.forEach((model, spend) -> {
            if (!spend.isEmpty()) {
                pending.merge(new UsageStore.Key(account, model, day), spend, Spend::plus);
            }
        });
    }

    /**
     * The budget that applies to a session of {@code account}: its own, else its user's at host {@code %}; null when
     * neither has one.
     */
    public synchronized Budget budgetOf(Account account) {
        UsageStore.BudgetRow row = budgets.get(account);
        if (row == null) {
            row = budgets.get(new Account(account.user(), "%"));
        }
        return row == null ? null : row.budget();
    }

    /** Completes once the budgets were first read (or the read failed): a budget check waits for it. */
    public CompletableFuture<Void> ready() {
        return ready;
    }

    /** Whether any account has a budget (so a statement's estimate is worth computing). */
    public synchronized boolean anyBudget() {
        return !budgets.isEmpty();
    }

    /**
     * What the accounts {@code budget} covers spent in its current period: its own account, or for host {@code %} every
     * account of its user; flushed usage of every proxy plus this proxy's unflushed usage.
     */
    public synchronized Spend spent(Budget budget) {
        LocalDate start = budget.period().start(today());
        Spend total = Spend.NONE;
        for (UsageStore.UsageRow row : flushed) {
            if (!row.day().isBefore(start) && covers(budget.account(), row.account())) {
                total = total.plus(row.spend());
            }
        }
        for (Map<UsageStore.Key, Spend> m : List.of(pending, inFlight)) {
            for (Map.Entry<UsageStore.Key, Spend> e : m.entrySet()) {
                if (!e.getKey().day().isBefore(start) && covers(budget.account(), e.getKey().account())) {
                    total = total.plus(e.getValue());
                }
            }
        }
        return total;
    }

    /** The amount {@code spend} counts against {@code budget}: dollars or tokens. */
    static java.math.BigDecimal amount(Budget budget, Spend spend) {
        return budget.unit() == Budget.Unit.USD ? java.math.BigDecimal.valueOf(spend.costUsd())
                : java.math.BigDecimal.valueOf(spend.tokens());
    }

    private static boolean covers(Account budgeted, Account spender) {
        return budgeted.user().equals(spender.user())
                && (budgeted.host().equals("%") || budgeted.host().equals(spender.host()));
    }

    /**
     * Writes the unflushed usage, then re-reads budgets and this period's usage. Flushes run one after another;
     * a failed write keeps its usage for the next one.
     */
    public synchronized CompletableFuture<Void> flush() {
        lastFlush = lastFlush.handle((v, e) -> null).thenCompose(v -> flushNow());
        return lastFlush;
    }

    private CompletableFuture<Void> flushNow() {
        Map<UsageStore.Key, Spend> batch;
        synchronized (this) {
            batch = pending;
            inFlight = batch;
            pending = new LinkedHashMap<>();
        }
        LocalDate monthStart = Budget.Period.MONTH.start(today());
        return store.add(batch).handle((v, e) -> {
            if (e != null) {
                log.warn("cannot write model usage to {}: {} (kept for the next flush)", UsageStore.USAGE,
                        e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
                synchronized (this) {
                    batch.forEach((k, s) -> pending.merge(k, s, Spend::plus));
                    inFlight = Map.of();
                }
                return false;
            }
            return true;
        }).thenCompose(written -> store.budgets().thenCombine(store.usage(monthStart, null, null, false),
                (rows, usage) -> {
                    Map<Account, UsageStore.BudgetRow> byAccount = new HashMap<>();
                    rows.forEach(r -> byAccount.put(r.budget().account(), r));
                    synchronized (this) {
                        budgets = Map.copyOf(byAccount);
                        flushed = List.copyOf(usage);
                        if (written) {
                            inFlight = Map.of(); // now part of what was read
                        }
                    }
                    return (Void) null;
                })).exceptionally(e -> {
                    log.warn("cannot read budgets and usage from schema {}: {}", UsageStore.SCHEMA, e.getMessage());
                    return null;
                });
    }

    /** Sets or removes a budget, then re-reads budgets and usage. */
    CompletableFuture<Long> setBudget(Account account, Budget budget, String setBy) {
        return store.setBudget(account, budget, setBy).thenCompose(n -> flush().thenApply(v -> n));
    }

    /** Every budget as last read after a flush. */
    CompletableFuture<List<UsageStore.BudgetRow>> budgets() {
        return flush().thenCompose(v -> store.budgets());
    }

    /** Usage rows from {@code since}, after this proxy's usage was flushed. */
    CompletableFuture<List<UsageStore.UsageRow>> usage(LocalDate since, Account account) {
        return flush().thenCompose(v -> store.usage(since, account == null ? null : account.user(),
                account == null || account.host().equals("%") ? null : account.host(), true));
    }

    /** Writes the usage still in memory (waiting a few seconds at most) and stops the timer. */
    @Override
    public void close() {
        try {
            flush().get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("model usage not written at shutdown: {}", e.getMessage());
        }
        timer.shutdownNow();
        ready.complete(null);
    }
}
