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
 * The catalog's storage: schema {@code ragproxy} in the backend, read and written through the proxy's own
 * {@link CatalogConnection} (the {@code [catalog]} account). Users need no grant on that schema: they change the
 * catalog only through the proxy's DDL, which checks their privileges through their own session first.
 *
 * <p>One table per kind ({@code functions}, {@code models}, {@code ml_engines}, {@code embedding_rules}: schema_name,
 * name, definition JSON, owner, created; keyed by schema_name and name) and {@code catalog_version}, one row whose
 * counter every change bumps in the same transaction, with an epoch drawn when the schema is set up (so a dropped and
 * re-created catalog is never mistaken for the cached one), and {@code model_grants} (user, host, model, granted_by,
 * granted_at: GRANT RAG MODEL). The schema and tables are created on the first write; tables of an older ragproxy
 * (without {@code schema_name}) are migrated on the first read; a catalog without {@code model_grants} reads as one
 * without grants, and gets the table with the first GRANT RAG MODEL. A kind's table missing from an existing catalog
 * (one set up before that kind existed, such as {@code knowledge_bases}) is created on the first read.
 */
final class CatalogStore {
    static final String SCHEMA = "ragproxy";
    private static final Logger log = LoggerFactory.getLogger(CatalogStore.class);

    /** MySQL's ER_BAD_DB_ERROR and ER_NO_SUCH_TABLE: the catalog was never set up. */
    private static final int NO_DATABASE = 1049;
    private static final int NO_TABLE = 1146;
    private static final int DUPLICATE_KEY = 1062;

    /** Who may call which model (GRANT RAG MODEL); read with the objects, changed with a version bump. */
    static final String MODEL_GRANTS = "model_grants";
    private static final String MODEL_GRANTS_DDL = "CREATE TABLE IF NOT EXISTS " + SCHEMA + "." + MODEL_GRANTS
            + " (user VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL, model VARCHAR(255) NOT NULL,"
            + " granted_by VARCHAR(300) NOT NULL, granted_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
            + " PRIMARY KEY (user, host, model)) COMMENT 'ragproxy: GRANT RAG MODEL'";

    private final CatalogConnection connection;
    /** Whether this process has seen the tables in the current layout (migrated them if needed). */
    private volatile boolean migrated;

    CatalogStore(CatalogConnection connection) {
        this.connection = connection;
    }

    /** What a version read found. */
    record Version(long counter, String epoch) {
        /** The catalog of a backend where it was never set up. */
        static final Version NONE = new Version(0, "");
    }

    /**
     * A change to write: create, replace or delete one object.
     *
     * @param owner the account recorded as the object's owner ({@code CURRENT_USER()} of the session that ran the
     *     DDL); null for a delete
     * @param checked the object as the ownership check saw it, when the write must find it unchanged (null: no
     *     check was made, or the check found no object and the write must not find one either, for
     *     {@link #replaceChecked}); the write and the check are then one atomic step
     * @param guarded whether the write is conditional on what the check saw
     */
    record Change(CatalogObject.Kind kind, String schemaName, String name, CatalogObject object, boolean replace,
            String owner, CatalogEntry checked, boolean guarded) {
        /** Creates {@code object}; fails with {@link ProxyError#OBJECT_EXISTS} if its name is taken meanwhile. */
        static Change create(CatalogObject object, String owner) {
            return new Change(object.kind(), object.schemaName(), object.name(), object, false, owner, null, false);
        }

        /** Creates or replaces {@code object}, whoever owns it (no ownership check applies). */
        static Change replace(CatalogObject object, String owner) {
            return new Change(object.kind(), object.schemaName(), object.name(), object, true, owner, null, false);
        }

        /**
         * Replaces {@code checked} with {@code object} only if the catalog still holds {@code checked}'s owner for
         * it, or creates {@code object} when {@code checked} is null only if no object of that name exists: else
         * nothing is written and the write fails with {@link ProxyError#CATALOG_CHANGED}.
         */
        static Change replaceChecked(CatalogObject object, String owner, CatalogEntry checked) {
            return new Change(object.kind(), object.schemaName(), object.name(), object, true, owner, checked, true);
        }

        /** Deletes {@code object}, whoever owns it. */
        static Change delete(CatalogObject object) {
            return new Change(object.kind(), object.schemaName(), object.name(), null, false, null, null, false);
        }

        /**
         * Deletes {@code checked}'s object only if the catalog still records {@code checked}'s owner for it; else
         * nothing is written and the write fails with {@link ProxyError#CATALOG_CHANGED}.
         */
        static Change deleteChecked(CatalogEntry checked) {
            CatalogObject o = checked.object();
            return new Change(o.kind(), o.schemaName(), o.name(), null, false, null, checked, true);
        }

        /** How the statement names the object, for messages. */
        String what() {
            return kind.keyword() + " " + (kind == CatalogObject.Kind.FUNCTION && !schemaName.isEmpty()
                    ? schemaName + "." : "") + name;
        }
    }

    /**
     * Reads the version: {@link Version#NONE} when the schema or table does not exist, null when the catalog cannot
     * be read (the caller keeps what it has).
     */
    CompletableFuture<Version> version() {
        return connection.query("SELECT version, epoch FROM " + SCHEMA + ".catalog_version WHERE id = 1")
                .thenCompose(r -> {
                    List<List<String>> rows = r.first().rows();
                    Version v = rows.isEmpty() ? Version.NONE : new Version(Long.parseLong(rows.get(0).get(0)),
                            rows.get(0).get(1));
                    return migrated ? CompletableFuture.completedFuture(v) : migrate().thenApply(x -> v);
                })
                .exceptionally(e -> {
                    BackendException be = backendError(e);
                    if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                        migrated = false; // dropped behind our back
                        return Version.NONE;
                    }
                    log.warn("cannot read the ragproxy catalog's version as {}: {}", connection.account(), describe(e));
                    return null;
                });
    }

    /** Reads every object; completes with null when the catalog cannot be read. */
    CompletableFuture<CatalogSnapshot> load(Version version) {
        StringBuilder sql = new StringBuilder();
        for (CatalogObject.Kind kind : CatalogObject.Kind.values()) {
            sql.append(sql.length() == 0 ? "" : " UNION ALL ").append("SELECT '").append(kind.tag())
                    .append("', name, definition, owner, created FROM ").append(SCHEMA).append('.').append(kind.table());
        }
        return connection.query(sql.toString()).thenCombine(modelGrants(), (r, grants) -> {
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
            return new CatalogSnapshot(version.counter(), version.epoch(), entries, grants);
        }).exceptionally(e -> {
            BackendException be = backendError(e);
            if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                return new CatalogSnapshot(0, "", List.of());
            }
            log.warn("cannot read the ragproxy catalog as {}: {}", connection.account(), describe(e));
            return null;
        });
    }

    /** The rows of {@code model_grants}; none when the table does not exist yet. */
    private CompletableFuture<List<ModelGrantRow>> modelGrants() {
        return connection.query("SELECT user, host, model, granted_by, granted_at FROM " + SCHEMA + "." + MODEL_GRANTS
                + " ORDER BY user, host, model").thenApply(r -> {
                    List<ModelGrantRow> rows = new ArrayList<>();
                    for (List<String> row : r.first().rows()) {
                        rows.add(new ModelGrantRow(row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)));
                    }
                    return rows;
                }).exceptionallyCompose(e -> {
                    BackendException be = backendError(e);
                    return be != null && be.code() == NO_TABLE ? CompletableFuture.completedFuture(List.of())
                            : CompletableFuture.failedFuture(e);
                });
    }

    /**
     * Grants {@code models} to {@code user@host} (rows already there are kept as they are) and revokes
     * {@code revoked} from it, in one transaction with the version bump; sets the schema up when it is missing.
     *
     * @return the number of rows inserted and the number deleted
     */
    CompletableFuture<List<Long>> writeGrants(String user, String host, List<String> granted, List<String> revoked,
            String grantedBy) {
        List<String> statements = new ArrayList<>();
        for (String model : granted) {
            statements.add("INSERT IGNORE INTO " + SCHEMA + "." + MODEL_GRANTS + " (user, host, model, granted_by)"
                    + " VALUES (" + literal(user) + ", " + literal(host) + ", " + literal(model) + ", "
                    + literal(grantedBy) + ")");
        }
        for (String model : revoked) {
            statements.add("DELETE FROM " + SCHEMA + "." + MODEL_GRANTS + " WHERE user = " + literal(user)
                    + " AND host = " + literal(host) + " AND model = " + literal(model));
        }
        statements.add("UPDATE " + SCHEMA + ".catalog_version SET version = version + 1,"
                + " changed = CURRENT_TIMESTAMP(6) WHERE id = 1");
        java.util.function.Supplier<CompletableFuture<List<Long>>> run = () -> connection.transaction(statements)
                .thenApply(results -> {
                    long inserted = 0;
                    long deleted = 0;
                    for (int i = 0; i < granted.size() + revoked.size(); i++) {
                        if (i < granted.size()) {
                            inserted += results.get(i).affectedRows();
                        } else {
                            deleted += results.get(i).affectedRows();
                        }
                    }
                    return List.of(inserted, deleted);
                });
        return run.get().exceptionallyCompose(e -> {
            BackendException be = backendError(e);
            if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                return setUp().thenCompose(v -> run.get());
            }
            return CompletableFuture.failedFuture(e);
        }).exceptionallyCompose(e -> CompletableFuture.failedFuture(translate(e, List.of())));
    }

    /**
     * Writes {@code changes} in one transaction with the version bump; sets the schema up when it is missing. Fails
     * with {@link ProxyError#OBJECT_EXISTS} when a create collides with a concurrent one, or
     * {@link ProxyError#CATALOG_UNAVAILABLE} when the catalog's account cannot write.
     *
     * @return the number of rows each change touched
     */
    CompletableFuture<List<Long>> write(List<Change> changes) {
        return transaction(changes).exceptionallyCompose(e -> {
            BackendException be = backendError(e);
            if (be != null && (be.code() == NO_DATABASE || be.code() == NO_TABLE)) {
                return setUp().thenCompose(v -> transaction(changes));
            }
            return CompletableFuture.failedFuture(e);
        }).exceptionallyCompose(e -> CompletableFuture.failedFuture(translate(e, changes)));
    }

    private CompletableFuture<List<Long>> transaction(List<Change> changes) {
        List<String> statements = new ArrayList<>();
        changes.forEach(c -> statements.add(statement(c)));
        statements.add("UPDATE " + SCHEMA + ".catalog_version SET version = version + 1,"
                + " changed = CURRENT_TIMESTAMP(6) WHERE id = 1");
        return connection.transaction(statements, i -> i < changes.size() && changes.get(i).guarded()
                && changes.get(i).checked() != null).thenApply(results -> {
            List<Long> counts = new ArrayList<>();
            for (int i = 0; i < changes.size(); i++) {
                counts.add(results.get(i).affectedRows());
            }
            return counts;
        });
    }

    private static String statement(Change c) {
        String table = SCHEMA + "." + c.kind().table();
        String key = " WHERE schema_name = " + literal(c.schemaName()) + " AND name = " + literal(c.name());
        // A checked change is conditional on the owner its check saw: the check and the write are one atomic step,
        // whatever another session or proxy wrote in between (a guarded statement that changes no row fails).
        String seenOwner = c.guarded() && c.checked() != null ? " AND owner = " + literal(c.checked().owner()) : "";
        if (c.object() == null) {
            return "DELETE FROM " + table + key + seenOwner;
        }
        if (c.guarded() && c.checked() != null) {
            return "UPDATE " + table + " SET definition = " + literal(c.object().definition().toString()) + ", owner = "
                    + literal(c.owner()) + ", created = CURRENT_TIMESTAMP(6)" + key + seenOwner;
        }
        return "INSERT INTO " + table + " (schema_name, name, definition, owner) VALUES (" + literal(c.schemaName())
                + ", " + literal(c.name()) + ", " + literal(c.object().definition().toString()) + ", "
                + literal(c.owner()) + ")" + (c.replace() && !c.guarded() ? " ON DUPLICATE KEY UPDATE definition ="
                + " VALUES(definition), owner = VALUES(owner), created = CURRENT_TIMESTAMP(6)" : "");
    }

    private CompletableFuture<Void> setUp() {
        List<String> ddl = new ArrayList<>();
        ddl.add("CREATE DATABASE IF NOT EXISTS " + SCHEMA + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
        ddl.add("CREATE TABLE IF NOT EXISTS " + SCHEMA + ".catalog_version (id TINYINT NOT NULL PRIMARY KEY,"
                + " version BIGINT NOT NULL, epoch VARCHAR(64) NOT NULL, changed TIMESTAMP(6) NOT NULL"
                + " DEFAULT CURRENT_TIMESTAMP(6)) COMMENT 'ragproxy: bumped on every catalog change'");
        ddl.add("INSERT IGNORE INTO " + SCHEMA + ".catalog_version (id, version, epoch) VALUES (1, 0, UUID())");
        for (CatalogObject.Kind kind : CatalogObject.Kind.values()) {
            ddl.add(kindTableDdl(kind));
        }
        ddl.add(MODEL_GRANTS_DDL);
        return run(ddl).thenCompose(v -> migrate());
    }

    /** The table of one kind of object. */
    private static String kindTableDdl(CatalogObject.Kind kind) {
        return "CREATE TABLE IF NOT EXISTS " + SCHEMA + "." + kind.table() + " (schema_name VARCHAR(64) NOT NULL"
                + " DEFAULT '', name VARCHAR(255) NOT NULL, definition JSON NOT NULL, owner VARCHAR(300) NOT NULL,"
                + " created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (schema_name, name))"
                + " COMMENT 'ragproxy: " + kind.label() + "s'";
    }

    /**
     * Brings tables of an older ragproxy to the current layout, once per process: each gets {@code schema_name}
     * (filled from the definition's {@code schema}, empty where it has none) and the key (schema_name, name).
     */
    private CompletableFuture<Void> migrate() {
        CompletableFuture<QueryResult> withSchemaName = connection.query("SELECT TABLE_NAME FROM"
                + " information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + SCHEMA + "' AND COLUMN_NAME = 'schema_name'");
        return withSchemaName.thenCompose(r -> connection.query("SELECT TABLE_NAME FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = '" + SCHEMA + "'").thenCompose(t -> {
                    List<String> done = new ArrayList<>();
                    r.first().rows().forEach(row -> done.add(row.get(0)));
                    List<String> present = new ArrayList<>();
                    t.first().rows().forEach(row -> present.add(row.get(0)));
                    List<String> ddl = new ArrayList<>();
                    for (CatalogObject.Kind kind : CatalogObject.Kind.values()) {
                        if (!present.contains(kind.table())) {
                            // A kind newer than the catalog (knowledge bases): its table, empty.
                            log.info("adding the ragproxy catalog table {}.{}", SCHEMA, kind.table());
                            ddl.add(kindTableDdl(kind));
                            continue;
                        }
                        if (done.contains(kind.table())) {
                            continue;
                        }
                        String table = SCHEMA + "." + kind.table();
                        log.info("migrating the ragproxy catalog table {}: adding schema_name", table);
                        ddl.add("ALTER TABLE " + table + " ADD COLUMN schema_name VARCHAR(64) NOT NULL DEFAULT ''"
                                + " FIRST, DROP PRIMARY KEY, ADD PRIMARY KEY (schema_name, name)");
                        ddl.add("UPDATE " + table + " SET schema_name = CASE WHEN JSON_TYPE(JSON_EXTRACT(definition,"
                                + " '$.schema')) = 'STRING' THEN JSON_UNQUOTE(JSON_EXTRACT(definition, '$.schema'))"
                                + " ELSE '' END");
                    }
                    return run(ddl);
                })).thenApply(v -> {
                    migrated = true;
                    return null;
                });
    }

    private CompletableFuture<Void> run(List<String> statements) {
        CompletableFuture<QueryResult> chain = CompletableFuture.completedFuture(null);
        for (String statement : statements) {
            chain = chain.thenCompose(r -> connection.query(statement));
        }
        return chain.thenApply(r -> null);
    }

    /** A string literal that reads the same under every sql_mode (NO_BACKSLASH_ESCAPES too). */
    static String literal(String text) {
        return "CONVERT(X'" + HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)) + "' USING utf8mb4)";
    }

    /** A failed write of {@code changes} as the user should see it. */
    private Throwable translate(Throwable e, List<Change> changes) {
        CatalogConnection.NothingChanged stale = find(e, CatalogConnection.NothingChanged.class);
        if (stale != null && stale.index() < changes.size()) {
            return changed(changes.get(stale.index()));
        }
        BackendException be = backendError(e);
        if (be == null) {
            return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        }
        if (be.code() == DUPLICATE_KEY) {
            for (Change c : changes) {
                if (c.guarded() && c.checked() == null) {
                    return changed(c); // CREATE OR REPLACE checked that there was none: its check no longer holds
                }
            }
            return new ProxyException(ProxyError.OBJECT_EXISTS, "another session created an object of that name"
                    + " meanwhile; drop it first or use CREATE OR REPLACE");
        }
        return new ProxyException(ProxyError.CATALOG_UNAVAILABLE, "ragproxy could not write its catalog (schema "
                + SCHEMA + ") as '" + connection.account() + "': " + be.getMessage() + ". Give that account ALL ON "
                + SCHEMA + ".* or set [catalog] user and password (RAGPROXY_CATALOG_USER / RAGPROXY_CATALOG_PASSWORD)"
                + " to one that has it");
    }

    private static ProxyException changed(Change c) {
        return new ProxyException(ProxyError.CATALOG_CHANGED, c.what() + " was created, replaced or dropped by another"
                + " session while this statement checked whether you may change it; nothing was written. Run the"
                + " statement again: it is checked against the object as it is now");
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }

    static BackendException backendError(Throwable e) {
        return BackendException.in(e);
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
