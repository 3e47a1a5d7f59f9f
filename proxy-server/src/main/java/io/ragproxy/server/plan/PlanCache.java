package io.ragproxy.server.plan;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.text.SessionText;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * The literal plans' templates by statement shape or text, bounded (Caffeine, least frequently used out first), so
 * that a statement that repeats with other literals (a prepared statement's executes, a search box's queries) or
 * verbatim (a dashboard's refresh) is parsed once.
 *
 * <p>The first statement of a shape keeps its template under its text. When another statement of the shape misses,
 * its template is verified against its {@link StatementShape} and, if it verifies ({@link
 * LiteralTemplate#sharedByShape}), kept under the shape, else under the statement's text ({@link #missedBefore}). Either key holds everything the template's
 * preparation depends on: the statement as the parser reads it (the session's sql_mode and character set already
 * spelled out by {@link NeutralSql}, kept in the key too), the backend's dialect, the catalog's version, since a new
 * catalog object may mention the statement, and the result cache's partition: with {@code [cache] scope = "account"}
 * each account has templates of its own, so a quicker repeat never tells one account that another sent the same
 * statement (as the model cache's partitions promise). The rag_* settings are not part of it: models, options and
 * limits are applied by each plan of the template, not fixed in it. Thread-safe.
 */
public final class PlanCache {
    /** How many templates the proxy keeps. */
    public static final int DEFAULT_MAXIMUM_SIZE = 1000;
    /** Statements longer than this are not kept: bulk INSERTs rarely repeat, and their trees are large. */
    public static final int MAXIMUM_STATEMENT_LENGTH = 16 * 1024;

    private final Cache<Key, LiteralTemplate> templates;
    /** The hashes of shape keys a miss has met: a shape is verified for sharing only when it comes back. */
    private final Cache<Integer, Boolean> missedShapes;
    private final boolean enabled;
    private final LongAdder shapeHits = new LongAdder();
    private final LongAdder textHits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    /** A cache of up to {@code maximumSize} templates (0: none is kept), maintained on the common pool. */
    public PlanCache(int maximumSize) {
        this(maximumSize, java.util.concurrent.ForkJoinPool.commonPool());
    }

    /** @param maintenance where eviction runs ({@code Runnable::run} in tests, to see the bound at once) */
    PlanCache(int maximumSize, Executor maintenance) {
        if (maximumSize < 0) {
            throw new IllegalArgumentException("the plan cache's size must be 0 (off) or more, got " + maximumSize);
        }
        this.enabled = maximumSize > 0;
        this.templates = Caffeine.newBuilder().maximumSize(maximumSize).executor(maintenance).build();
        this.missedShapes = Caffeine.newBuilder().maximumSize(4L * maximumSize).executor(maintenance).build();
    }

    /**
     * What a template is looked up by.
     *
     * @param sql the statement in its neutral spelling ({@link NeutralSql}), or its shape's text
     * @param shape whether {@code sql} is a shape's text ({@link StatementShape#text()})
     * @param catalogEpoch with {@code catalogVersion}, which catalog the statement was checked against
     * @param partition the session's result-cache partition ({@code ""} when every account shares the cache)
     */
    public record Key(String sql, boolean shape, Dialect dialect, SessionText text, String catalogEpoch,
            long catalogVersion, String partition) {}

    /** The key of {@code sql}'s text, or null when a statement that long is not kept. */
    public static Key key(String sql, Dialect dialect, SessionText text, String catalogEpoch, long catalogVersion,
            String partition) {
        return sql.length() > MAXIMUM_STATEMENT_LENGTH ? null
                : new Key(sql, false, dialect, text, catalogEpoch, catalogVersion, partition);
    }

    /** The key of {@code shape} (null: none), or null when a statement that long is not kept. */
    public static Key key(StatementShape shape, Dialect dialect, SessionText text, String catalogEpoch,
            long catalogVersion, String partition) {
        return shape == null || shape.sql().length() > MAXIMUM_STATEMENT_LENGTH ? null
                : new Key(shape.text(), true, dialect, text, catalogEpoch, catalogVersion, partition);
    }

    /** Whether templates are kept at all ({@code [proxy] plan_cache_size} is not 0). */
    public boolean enabled() {
        return enabled;
    }

    /** The template kept for {@code key}, or null (not counted: see {@link #find}). */
    public LiteralTemplate get(Key key) {
        return key == null ? null : templates.getIfPresent(key);
    }

    /**
     * The template for a statement: the one kept for its shape if the statement fits it ({@link
     * LiteralTemplate#fits}), else the one kept for its text, else null; counted as a hit by shape, a hit by text or a
     * miss.
     *
     * @param shape the statement's shape (null when {@code byShape} is)
     */
    public LiteralTemplate find(Key byShape, Key byText, StatementShape shape) {
        LiteralTemplate found = get(byShape);
        if (found != null && found.fits(shape)) {
            shapeHits.increment();
            return found;
        }
        found = get(byText);
        (found != null ? textHits : misses).increment();
        return found;
    }

    /**
     * Whether a statement of {@code byShape}'s shape missed before; remembers this one. A miss keeps its template
     * under the statement's text the first time its shape is met and verifies it for the shape only when the shape
     * comes back, so a statement whose shape never repeats pays the lexer pass of its key and nothing more. Only a
     * hash is kept: another shape of the same hash makes a first sighting look like a second, which costs the
     * verification and nothing else.
     */
    public boolean missedBefore(Key byShape) {
        if (byShape == null || !enabled) {
            return false;
        }
        Integer hash = byShape.hashCode();
        if (missedShapes.getIfPresent(hash) != null) {
            return true;
        }
        missedShapes.put(hash, Boolean.TRUE);
        return false;
    }

    /** Keeps {@code template} for {@code key} (neither null). */
    public void put(Key key, LiteralTemplate template) {
        if (enabled) {
            templates.put(key, template);
        }
    }

    /** The number of templates kept (after pending evictions). */
    public long size() {
        templates.cleanUp();
        return templates.estimatedSize();
    }

    /** How often {@link #find} found a template by shape, by text, or none, since the proxy started. */
    public record Counts(long shapeHits, long textHits, long misses) {}

    /** The counts so far. */
    public Counts counts() {
        return new Counts(shapeHits.sum(), textHits.sum(), misses.sum());
    }
}
