package io.ragproxy.server.plan;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.text.SessionText;
import java.util.concurrent.Executor;

/**
 * The literal plans' templates by statement text, bounded (Caffeine, least frequently used out first), so that a
 * statement that repeats verbatim (a cached {@code EMBED('…')} query, a dashboard's refresh) is parsed once.
 *
 * <p>A template is looked up by everything its preparation depends on: the statement as the parser reads it (the
 * session's sql_mode and character set already spelled out by {@link NeutralSql}, kept in the key too), the
 * backend's dialect, the catalog's version, since a new catalog object may mention the statement, and the result
 * cache's partition: with {@code [cache] scope = "account"} each account has templates of its own, so a quicker
 * repeat never tells one account that another sent the same statement (as the model cache's partitions promise).
 * The rag_*
 * settings are not part of it: models, options and limits are applied by each plan of the template, not fixed in it.
 * Thread-safe.
 */
public final class PlanCache {
    /** How many templates the proxy keeps. */
    public static final int DEFAULT_MAXIMUM_SIZE = 1000;
    /** Statements longer than this are not kept: bulk INSERTs rarely repeat, and their trees are large. */
    public static final int MAXIMUM_STATEMENT_LENGTH = 16 * 1024;

    private final Cache<Key, LiteralTemplate> templates;

    /** A cache of up to {@code maximumSize} templates, maintained on the common pool. */
    public PlanCache(int maximumSize) {
        this(maximumSize, java.util.concurrent.ForkJoinPool.commonPool());
    }

    /** @param maintenance where eviction runs ({@code Runnable::run} in tests, to see the bound at once) */
    PlanCache(int maximumSize, Executor maintenance) {
        this.templates = Caffeine.newBuilder().maximumSize(maximumSize).executor(maintenance).build();
    }

    /**
     * What a template is looked up by.
     *
     * @param sql the statement in its neutral spelling ({@link NeutralSql})
     * @param catalogEpoch with {@code catalogVersion}, which catalog the statement was checked against
     * @param partition the session's result-cache partition ({@code ""} when every account shares the cache)
     */
    public record Key(String sql, Dialect dialect, SessionText text, String catalogEpoch, long catalogVersion,
            String partition) {}

    /** The key of {@code sql}, or null when a statement that long is not kept. */
    public static Key key(String sql, Dialect dialect, SessionText text, String catalogEpoch, long catalogVersion,
            String partition) {
        return sql.length() > MAXIMUM_STATEMENT_LENGTH ? null
                : new Key(sql, dialect, text, catalogEpoch, catalogVersion, partition);
    }

    /** The template kept for {@code key}, or null. */
    public LiteralTemplate get(Key key) {
        return key == null ? null : templates.getIfPresent(key);
    }

    /** Keeps {@code template} for {@code key} (neither null). */
    public void put(Key key, LiteralTemplate template) {
        templates.put(key, template);
    }

    /** The number of templates kept (after pending evictions). */
    public long size() {
        templates.cleanUp();
        return templates.estimatedSize();
    }
}
