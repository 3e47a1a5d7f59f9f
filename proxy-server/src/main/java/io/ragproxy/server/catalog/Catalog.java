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
 * <p>The proxy has no connection of its own, so a refresh runs on a client's session: one cheap query
 * ({@code SELECT version, epoch FROM ragproxy.catalog_version}), and only when that changed, one query reading every
 * object. It is due at most once per {@code interval} across all sessions (before a flagged statement, or when a
 * session starts), and always until the first read succeeded; plain statements never pay for it. A session that may
 * not read schema {@code ragproxy} leaves the cached view as it is. After a change made through this proxy the view
 * is re-read at once. Thread-safe.
 */
public final class Catalog {
    private final CatalogStore store;
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final Consumer<CatalogSnapshot> onChange;
    private final AtomicLong nextCheck = new AtomicLong();
    private volatile CatalogSnapshot snapshot = CatalogSnapshot.EMPTY;
    /** Whether some session has read the version: until then every session start and flagged statement checks. */
    private volatile boolean known;

    /**
     * @param nanoTime the clock ({@code System::nanoTime})
     * @param interval the least time between two version checks
     * @param onChange told (under this catalog's lock, in order) about every new snapshot
     */
    public Catalog(LongSupplier nanoTime, Duration interval, Consumer<CatalogSnapshot> onChange) {
        this(new CatalogStore(), nanoTime, interval, onChange);
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

    /** Whether some session has read the catalog's version (a proxy reads it on its first client session). */
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
        long now = nanoTime.getAsLong();
        long next = nextCheck.get();
        if (known && now - next < 0) {
            return CompletableFuture.completedFuture(snapshot);
        }
        if (!nextCheck.compareAndSet(next, now + intervalNanos) && known) {
            return CompletableFuture.completedFuture(snapshot); // another session is checking
        }
        return refresh(session);
    }

    /** Checks the version on {@code session} now and reloads on a change. Never fails. */
    public CompletableFuture<CatalogSnapshot> refresh(StatementSession session) {
        return store.version(session).thenCompose(v -> {
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
            return store.load(session, v).thenApply(s -> s == null ? snapshot : install(s));
        }).exceptionally(e -> snapshot);
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
