package io.ragproxy.server.catalog;

import io.ragproxy.server.command.StatementSession;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The proxy's cached view of the catalog and when to refresh it. One instance per proxy (owned by the pipeline).
 *
 * <p>A refresh runs on the proxy's own {@link CatalogConnection}: one cheap query ({@code SELECT version, epoch FROM
 * ragproxy.catalog_version}), and only when that changed, one query reading every object. It is due at most once per
 * {@code interval} across all sessions (before a flagged statement, or when a session starts), and always until the
 * first read succeeded; plain statements never pay for it. A read that fails leaves the cached view as it is. After
 * a change made through this proxy the view is re-read at once. The futures complete on the session's event loop.
 * Thread-safe.
 */
public final class Catalog {
    private final CatalogStore store;
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final Consumer<CatalogSnapshot> onChange;
    private final AtomicLong nextCheck = new AtomicLong();
    /** Whether a check was ever started: the first is due at once, whatever the clock says. */
    private volatile boolean started;
    private volatile CatalogSnapshot snapshot = CatalogSnapshot.EMPTY;
    /** Whether the catalog's version was ever read. */
    private volatile boolean known;

    /**
     * @param connection the catalog's own connection (the {@code [catalog]} account)
     * @param nanoTime the clock ({@code System::nanoTime})
     * @param interval the least time between two version checks
     * @param onChange told (under this catalog's lock, in order) about every new snapshot
     */
    public Catalog(CatalogConnection connection, LongSupplier nanoTime, Duration interval,
            Consumer<CatalogSnapshot> onChange) {
        this(new CatalogStore(connection), nanoTime, interval, onChange);
    }

    Catalog(CatalogStore store, LongSupplier nanoTime, Duration interval, Consumer<CatalogSnapshot> onChange) {
        this.store = Objects.requireNonNull(store, "store");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.intervalNanos = interval.toNanos();
        this.onChange = Objects.requireNonNull(onChange, "onChange");
    }

    /** The current view. */
    public CatalogSnapshot snapshot() {
        return snapshot;
    }

    /** Whether the catalog's version was read at least once (through the catalog's own account). */
    public boolean read() {
        return known;
    }

    /** The storage, for the DDL statements. */
    CatalogStore store() {
        return store;
    }

    /**
     * Checks the version on {@code session} when a check is due, and reloads on a change; otherwise completes at
     * once with the current view. Never fails: a check that cannot run keeps the current view.
     */
    public CompletableFuture<CatalogSnapshot> refreshIfDue(StatementSession session) {
        return due() ? refresh(session) : CompletableFuture.completedFuture(snapshot);
    }

    /**
     * Like {@link #refreshIfDue(StatementSession)} without a session: at the proxy's start, and while {@code /ready}
     * waits for the first read. The future completes on the catalog connection's thread. Never fails.
     */
    public CompletableFuture<CatalogSnapshot> refreshIfDue() {
        return due() ? refresh() : CompletableFuture.completedFuture(snapshot);
    }

    /** Whether a check is due now; if so, this caller makes it (the next is due an interval later). */
    private boolean due() {
        long now = nanoTime.getAsLong();
        long next = nextCheck.get();
        if (started && now - next < 0) {
            return false;
        }
        started = true;
        return nextCheck.compareAndSet(next, now + intervalNanos); // else another caller is checking
    }

    /** Checks the version now and reloads on a change; completes on {@code session}'s event loop. Never fails. */
    public CompletableFuture<CatalogSnapshot> refresh(StatementSession session) {
        return onLoop(session, refresh());
    }

    private CompletableFuture<CatalogSnapshot> refresh() {
        return store.version().thenCompose(v -> {
            if (v == null) {
                return CompletableFuture.completedFuture(snapshot);
            }
            known = true;
            CatalogSnapshot current = snapshot;
            if (current.isState(v.counter(), v.epoch())) {
                return CompletableFuture.completedFuture(current);
            }
            if (v.equals(CatalogStore.Version.NONE)) {
                return CompletableFuture.completedFuture(install(new CatalogSnapshot(0, "", List.of())));
            }
            return store.load(v).thenApply(s -> s == null ? snapshot : install(s));
        }).exceptionally(e -> snapshot);
    }

    /**
     * Writes {@code changes} through the catalog's connection and re-reads the view; completes on {@code session}'s
     * event loop.
     */
    CompletableFuture<CatalogSnapshot> write(StatementSession session, List<CatalogStore.Change> changes) {
        return onLoop(session, store.write(changes).thenCompose(v -> refresh()));
    }

    /**
     * Grants {@code granted} to and revokes {@code revoked} from account {@code user@host} through the catalog's
     * connection, then re-reads the view (so this proxy enforces the change at once, the others after their next
     * version check); completes on {@code session}'s event loop with the rows inserted and deleted.
     *
     * @param grantedBy {@code CURRENT_USER()} of the session that ran the statement
     */
    public CompletableFuture<List<Long>> writeModelGrants(StatementSession session, String user, String host,
            List<String> granted, List<String> revoked, String grantedBy) {
        return onLoop(session, store.writeGrants(user, host, granted, revoked, grantedBy)
                .thenCompose(counts -> refresh().thenApply(s -> counts)));
    }

    /** {@code future}'s outcome, delivered on {@code session}'s event loop (the thread its callbacks must run on). */
    static <T> CompletableFuture<T> onLoop(StatementSession session, CompletableFuture<T> future) {
        io.netty.channel.EventLoop loop = session.eventLoop();
        if (loop == null) {
            return future;
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        future.whenComplete((v, e) -> {
            Runnable deliver = () -> {
                if (e != null) {
                    out.completeExceptionally(e);
                } else {
                    out.complete(v);
                }
            };
            if (loop.inEventLoop()) {
                deliver.run();
            } else {
                loop.execute(deliver);
            }
        });
        return out;
    }

    private synchronized CatalogSnapshot install(CatalogSnapshot fresh) {
        CatalogSnapshot current = snapshot;
        if (current.isState(fresh.version(), fresh.epoch())) {
            return current;
        }
        snapshot = fresh;
        onChange.accept(fresh);
        return fresh;
    }
}
