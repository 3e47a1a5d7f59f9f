package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.StatementSession;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog's storage: schema {@code ragproxy} in the backend, read and written through the user's own session
 * (the proxy has no credentials), so the backend's grants on that schema decide who may create and drop objects.
 *
 * <p>One table per kind ({@code functions}, {@code models}, {@code ml_engines}, {@code embedding_rules}: name,
 * definition JSON, owner, created) and {@code catalog_version}, one row whose counter every change bumps in the same
 * transaction, with an epoch drawn when the schema is set up (so a dropped and re-created catalog is never mistaken
 * for the cached one). The schema and tables are created on the first write.
 */
final class CatalogStore {
    static final String SCHEMA = "ragproxy";
    private static final Logger log = LoggerFactory.getLogger(CatalogStore.class);

    /** MySQL's ER_BAD_DB_ERROR and ER_NO_SUCH_TABLE: the catalog was never set up. */
    private static final int NO_DATABASE = 1049;
    private static final int NO_TABLE = 1146;

    /** Whether the version table was seen to exist; shared by the proxy's sessions, a hint only. */
    private volatile boolean tableSeen;
    /** ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR. */
    private static final int DB_DENIED = 1044;
    private static final int TABLE_DENIED = 1142;
    private static final int PRIVILEGE_NEEDED = 1227;
    private static final int DUPLICATE_KEY = 1062;

    /** What a version read found. */
    record Version(long counter, String epoch) {
        /** The catalog of a backend where it was never set up. */
        static final Version NONE = new Version(0, "");
    }

    /** A change to write: create, replace or delete one object. */
    record Change(CatalogObject.Kind kind, String name, CatalogObject object, boolean replace) {
        /** Creates {@code object}; fails with {@link ProxyError#OBJECT_EXISTS} if its name is taken meanwhile. */
        static Change create(CatalogObject object) {
            return new Change(object.kind(), object.name(), object, false);
        }

        /** Creates or replaces {@code object}. */
        static Change replace(CatalogObject object) {
            return new Change(object.kind(), object.name(), object, true);
        }

        static Change delete(CatalogObject.Kind kind, String name) {
            return new Change(kind, CatalogObject.key(name), null, false);
        }
    }

    /**
     * Reads the version: {@link Version#NONE} when the schema or table does not exist, null when this session may
     * not read it (the caller keeps what it has).
     */
    CompletableFuture<Version> version(StatementSession session) {
        if (!tableSeen) {
            // Until the table exists, ask information_schema first: a failed query would stay in the session's
            // diagnostics area, and SHOW WARNINGS after a statement that uses no table would list its 1146.
            return session.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + SCHEMA
                    + "' AND TABLE_NAME = 'catalog_version'").thenCompose(r -> {
                        if ("0".equals(r.first().rows().get(0).get(0))) {
                            return CompletableFuture.completedFuture(Version.NONE);
                        }
                        tableSeen = true;
                        return version(session);
                    }).exceptionally(e -> {
                        log.debug("cannot look for the ragproxy catalog as {}: {}", session.user(), describe(e));
                        return null;
                    });
        }
        return session.query("SELECT version, epoch FROM " + SCHEMA + ".catalog_version WHERE id = 1")
                .thenApply(r -> {
                    List<List<String>> rows = r.first().rows();
                    return rows.isEmpty() ? Version.NONE : new Version(Long.parseLong(rows.get(0).get(0)),
                            rows.get(0).get(1));
                })
                .exceptionally(e -> {
                    BackendException be = backendError(e);
                    if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                        tableSeen = false; // dropped behind our back
                        return Version.NONE;
                    }
                    log.debug("cannot read the ragproxy catalog's version as {}: {}", session.user(), describe(e));
                    return null;
                });
    }

    /** Reads every object; completes with null when this session may not read them. */
    CompletableFuture<CatalogSnapshot> load(StatementSession session, Version version) {
        StringBuilder sql = new StringBuilder();
        for (CatalogObject.Kind kind : CatalogObject.Kind.values()) {
            sql.append(sql.length() == 0 ? "" : " UNION ALL ").append("SELECT '").append(kind.tag())
                    .append("', name, definition, owner, created FROM ").append(SCHEMA).append('.').append(kind.table());
        }
        return session.query(sql.toString()).thenApply(r -> {
            List<CatalogEntry> entries = new ArrayList<>();
            for (List<String> row : r.first().rows()) {
                try {
                    CatalogObject.Kind kind = CatalogObject.Kind.ofTag(row.get(0));
                    JsonNode definition = CatalogObject.JSON.readTree(row.get(2));
                    entries.add(new CatalogEntry(CatalogObject.fromDefinition(kind, row.get(1), definition), row.get(3),
                            row.get(4)));
                } catch (Exception e) {
                    // One bad row (edited by hand) must not hide the rest of the catalog.
                    log.warn("skipping ragproxy catalog entry {} {}: {}", row.get(0), row.get(1), describe(e));
                }
            }
            return new CatalogSnapshot(version.counter(), version.epoch(), entries);
        }).exceptionally(e -> {
            BackendException be = backendError(e);
            if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                return new CatalogSnapshot(0, "", List.of());
            }
            log.debug("cannot read the ragproxy catalog as {}: {}", session.user(), describe(e));
            return null;
        });
    }

    /**
     * Writes {@code changes} in one transaction with the version bump; sets the schema up when it is missing. Like
     * DDL, this commits a transaction the session has open. Fails with the backend's access-denied error re-worded
     * to name the grant needed, or {@link ProxyError#OBJECT_EXISTS} when a put collides with a concurrent create.
     *
     * @return the number of rows each change touched
     */
    CompletableFuture<List<Long>> write(StatementSession session, List<Change> changes) {
        return transaction(session, changes).exceptionallyCompose(e -> {
            BackendException be = backendError(e);
            if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                return setUp(session).thenCompose(v -> transaction(session, changes));
            }
            return CompletableFuture.failedFuture(e);
        }).exceptionallyCompose(e -> CompletableFuture.failedFuture(translate(e)));
    }

    private CompletableFuture<List<Long>> transaction(StatementSession session, List<Change> changes) {
        List<Long> counts = new ArrayList<>();
        CompletableFuture<QueryResult> chain = session.query("START TRANSACTION");
        for (Change c : changes) {
            chain = chain.thenCompose(r -> session.query(statement(c))).thenApply(r -> {
                counts.add(r.affectedRows());
                return r;
            });
        }
        return chain
                .thenCompose(r -> session.query("UPDATE " + SCHEMA + ".catalog_version SET version = version + 1,"
                        + " changed = CURRENT_TIMESTAMP(6) WHERE id = 1"))
                .thenCompose(r -> session.query("COMMIT"))
                .thenApply(r -> counts)
                .exceptionallyCompose(e -> session.query("ROLLBACK").handle((r, ignored) -> null)
                        .thenCompose(v -> CompletableFuture.failedFuture(e)));
    }

    private static String statement(Change c) {
        String table = SCHEMA + "." + c.kind().table();
        if (c.object() == null) {
            return "DELETE FROM " + table + " WHERE name = " + literal(c.name());
        }
        return "INSERT INTO " + table + " (name, definition, owner) VALUES (" + literal(c.name()) + ", "
                + literal(c.object().definition().toString()) + ", CURRENT_USER())" + (c.replace() ? " ON DUPLICATE KEY"
                + " UPDATE definition = VALUES(definition), owner = VALUES(owner), created = CURRENT_TIMESTAMP(6)" : "");
    }

    private CompletableFuture<Void> setUp(StatementSession session) {
        List<String> ddl = new ArrayList<>();
        ddl.add("CREATE DATABASE IF NOT EXISTS " + SCHEMA + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        ddl.add("CREATE TABLE IF NOT EXISTS " + SCHEMA + ".catalog_version (id TINYINT NOT NULL PRIMARY KEY,"
                + " version BIGINT NOT NULL, epoch VARCHAR(64) NOT NULL, changed TIMESTAMP(6) NOT NULL"
                + " DEFAULT CURRENT_TIMESTAMP(6)) COMMENT 'ragproxy: bumped on every catalog change'");
        ddl.add("INSERT IGNORE INTO " + SCHEMA + ".catalog_version (id, version, epoch) VALUES (1, 0, UUID())");
        for (CatalogObject.Kind kind : CatalogObject.Kind.values()) {
            ddl.add("CREATE TABLE IF NOT EXISTS " + SCHEMA + "." + kind.table() + " (name VARCHAR(255) NOT NULL"
                    + " PRIMARY KEY, definition JSON NOT NULL, owner VARCHAR(300) NOT NULL, created TIMESTAMP(6) NOT"
                    + " NULL DEFAULT CURRENT_TIMESTAMP(6)) COMMENT 'ragproxy: " + kind.label() + "s'");
        }
        CompletableFuture<QueryResult> chain = CompletableFuture.completedFuture(null);
        for (String statement : ddl) {
            chain = chain.thenCompose(r -> session.query(statement));
        }
        return chain.thenApply(r -> null);
    }

    /** A string literal that reads the same under every sql_mode (NO_BACKSLASH_ESCAPES too). */
    static String literal(String text) {
        return "CONVERT(X'" + HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)) + "' USING utf8mb4)";
    }

    /** The backend's refusal, re-worded to say which grant on schema ragproxy the user needs. */
    private static Throwable translate(Throwable e) {
        BackendException be = backendError(e);
        if (be == null) {
            return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        }
        if (be.code() == DB_DENIED || be.code() == TABLE_DENIED || be.code() == PRIVILEGE_NEEDED) {
            return new ProxyException(be.code(), be.sqlState(), be.getMessage() + ". ragproxy keeps AI functions, models"
                    + " and auto-embedding columns in schema " + SCHEMA + " and writes it as you: creating or dropping"
                    + " them needs GRANT SELECT, INSERT, UPDATE, DELETE ON " + SCHEMA + ".* (and CREATE ON " + SCHEMA
                    + ".* while the schema does not exist yet)", null);
        }
        if (be.code() == DUPLICATE_KEY) {
            return new ProxyException(ProxyError.OBJECT_EXISTS, "another session created an object of that name"
                    + " meanwhile; drop it first or use CREATE OR REPLACE");
        }
        return be;
    }

    static BackendException backendError(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof BackendException be) {
                return be;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    static String describe(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    /** The session's current database ({@code DATABASE()}), null when none is selected. */
    static CompletableFuture<String> currentDatabase(StatementSession session) {
        return session.query("SELECT DATABASE()").thenApply(r -> r.first().rows().get(0).get(0));
    }
}
