package io.ragproxy.server.catalog;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.catalog.CatalogStore.Change;
import io.ragproxy.server.catalog.DdlParser.CreateFunction;
import io.ragproxy.server.catalog.DdlParser.CreateMlEngine;
import io.ragproxy.server.catalog.DdlParser.CreateModel;
import io.ragproxy.server.catalog.DdlParser.Drop;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.StatementRunner;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.plan.AiFunction;
import io.ragproxy.server.scan.FunctionNames;
import io.ragproxy.server.wire.Packets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Runs the catalog's statements: Aurora's {@code CREATE FUNCTION … ALIAS} / {@code DROP FUNCTION}, MindsDB's
 * {@code CREATE/DROP MODEL} and {@code CREATE/DROP ML_ENGINE}, TiDB Cloud's auto-embedding {@code CREATE TABLE}
 * (and the {@code DROP TABLE} and {@code LOAD DATA} of such tables: a load fills the vectors in its transaction), and the catalog's rows of
 * {@code SHOW RAG FUNCTIONS} and {@code SHOW RAG PENDING}. Privileges are checked through the user's session; the
 * catalog is written through the proxy's own account.
 */
public final class CatalogStatements {
    /** MySQL's notes for CREATE … IF NOT EXISTS of an existing object and DROP … IF EXISTS of a missing one. */
    private static final int NOTE_EXISTS = 1304;
    private static final int NOTE_MISSING = 1305;

    /** The savepoint a LOAD DATA inside the client's transaction runs under. */
    private static final String LOAD_SAVEPOINT = "ragproxy_load";
    /** Engines whose writes a ROLLBACK undoes (TiDB reports InnoDB). */
    private static final java.util.Set<String> TRANSACTIONAL_ENGINES = java.util.Set.of("innodb", "rocksdb");

    private final Catalog catalog;
    private final ModelInvoker invoker;
    private final StatementRunner statements;
    private final BuiltinNames builtins;
    private final KnowledgeBaseStatements knowledgeBases;

    /**
     * @param statements runs the proxy's own AI statements through the pipeline (the refresh after a LOAD DATA)
     * @param builtins the backend functions' names, refused as names of functions and models
     */
    public CatalogStatements(Catalog catalog, ModelInvoker invoker, StatementRunner statements, BuiltinNames builtins) {
        this.builtins = Objects.requireNonNull(builtins, "builtins");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.invoker = Objects.requireNonNull(invoker, "invoker");
        this.statements = Objects.requireNonNull(statements, "statements");
        this.knowledgeBases = new KnowledgeBaseStatements(catalog, invoker, statements,
                new io.ragproxy.catalog.chunk.TextChunker(new io.ragproxy.catalog.local.MiniLmTokenCounter()));
    }

    /** MindsDB's knowledge bases: their DDL, ingestion and SHOW/DESCRIBE. */
    public KnowledgeBaseStatements knowledgeBases() {
        return knowledgeBases;
    }

    /** The catalog these statements change. */
    public Catalog catalog() {
        return catalog;
    }

    /**
     * Runs a CREATE or DROP of a FUNCTION (ALIAS), MODEL or ML_ENGINE, after checking the account's privileges
     * through its own session ({@link AccountPrivileges}): an Aurora function is created with CREATE ROUTINE on its
     * database (as on Aurora); replacing or dropping an object takes its ownership, or ALTER ROUTINE on the function's
     * database (globally, for a model or ML engine). The owner recorded is the session's {@code CURRENT_USER()}.
     */
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql) {
        DdlParser.Ddl ddl = DdlParser.parse(sql, session.sessionText().sqlMode());
        if (ddl instanceof CreateFunction c) {
            refuseBuiltinName(c.function().name(), "function");
        } else if (ddl instanceof CreateModel c) {
            refuseBuiltinName(c.model().name(), "model");
        }
        return AccountPrivileges.of(session).thenCompose(account -> catalog.refresh(session).thenCompose(snapshot -> {
            if (ddl instanceof CreateFunction c) {
                return createFunction(session, account, snapshot, c);
            }
            if (ddl instanceof CreateModel c) {
                return createModel(session, account, snapshot, c);
            }
            if (ddl instanceof CreateMlEngine c) {
                return create(session, account, snapshot, c.engine(), false, c.ifNotExists());
            }
            return drop(session, account, sql, snapshot, (Drop) ddl);
        }));
    }

    private void refuseBuiltinName(String name, String what) {
        if (builtins.contains(name)) {
            throw new ProxyException(ProxyError.RESERVED_NAME, name.toUpperCase(java.util.Locale.ROOT) + " is a built-in"
                    + " function of MySQL, MariaDB or TiDB, so ragproxy does not take it as the name of a " + what
                    + ": calls written for the built-in would go to a model. Choose another name");
        }
    }

    private CompletableFuture<PipelineResult> createFunction(StatementSession session, AccountPrivileges account,
            CatalogSnapshot snapshot, CreateFunction c) {
        AliasFunction f = c.function();
        if (AiFunction.named(f.name()) != null) {
            throw new ProxyException(ProxyError.OBJECT_EXISTS, f.name().toUpperCase() + " is a built-in AI function"
                    + " of ragproxy; give the function another name");
        }
        CompletableFuture<String> schema = f.schema() != null ? CompletableFuture.completedFuture(f.schema())
                : CatalogStore.currentDatabase(session);
        return schema.thenCompose(db -> {
            if (db == null) {
                throw new ProxyException(1046, "3D000", "No database selected: an Aurora function belongs to a"
                        + " database; write CREATE FUNCTION db." + f.name() + " … or USE db first", null);
            }
            AliasFunction function = new AliasFunction(f.name(), db, f.parameter(), f.parameterType(), f.returns(),
                    f.modelId(), f.contentType(), f.accept(), f.timeoutMs(), f.definer(), f.sqlSecurity());
            CatalogEntry existing = snapshot.entry(CatalogObject.Kind.FUNCTION, function.qualifiedKey());
            if (existing != null && c.ifNotExists() && !c.orReplace()) {
                return create(session, account, snapshot, function, false, true); // a note, nothing written
            }
            if (!account.hasOnDatabase("CREATE ROUTINE", db)) {
                throw denied("CREATE FUNCTION " + db + "." + f.name() + " needs the CREATE ROUTINE privilege on"
                        + " database " + db + ", as on Aurora", account, "GRANT CREATE ROUTINE ON " + Sql.ident(db)
                        + ".*");
            }
            if (existing != null && c.orReplace()) {
                requireOwner(account, existing, account.hasOnDatabase(AccountPrivileges.ADMIN_PRIVILEGE, db),
                        "ALTER ROUTINE on database " + db);
            }
            try {
                invoker.registry().rawModel(f.modelId());
            } catch (UnknownModelException e) {
                throw new ProxyException(ProxyError.UNKNOWN_MODEL, e.getMessage());
            }
            return create(session, account, snapshot, function, c.orReplace(), c.ifNotExists());
        });
    }

    private CompletableFuture<PipelineResult> createModel(StatementSession session, AccountPrivileges account,
            CatalogSnapshot snapshot, CreateModel c) {
        MindsModel m = c.model();
        if (snapshot.knowledgeBase(m.name()) != null) {
            throw new ProxyException(ProxyError.OBJECT_EXISTS, m.name() + " is the name of a knowledge base, which is"
                    + " read as a table like a model; give the model another name");
        }
        if (c.ifNotExists() && !c.orReplace() && snapshot.model(m.name()) != null) {
            return create(session, account, snapshot, m, false, true);
        }
        if (!m.engine().equalsIgnoreCase("bedrock") && snapshot.find(CatalogObject.Kind.ML_ENGINE, m.engine()) == null) {
            throw new ProxyException(ProxyError.UNKNOWN_OBJECT, c.enginePosition() + ": there is no ML engine '"
                    + m.engine() + "'; create it with CREATE ML_ENGINE " + m.engine() + " FROM bedrock, or write"
                    + " engine = 'bedrock'");
        }
        if (m.modelId() != null) {
            try {
                invoker.registry().textModel(m.modelId());
            } catch (UnknownModelException e) {
                throw new ProxyException(ProxyError.UNKNOWN_MODEL, e.getMessage());
            }
        }
        return create(session, account, snapshot, m, c.orReplace(), c.ifNotExists());
    }

    private CompletableFuture<PipelineResult> create(StatementSession session, AccountPrivileges account,
            CatalogSnapshot snapshot, CatalogObject object, boolean orReplace, boolean ifNotExists) {
        CatalogEntry existing = snapshot.entry(object.kind(), object.qualifiedKey());
        String what = object.kind().keyword() + " " + (object.kind() == CatalogObject.Kind.FUNCTION
                ? object.schemaName() + "." : "") + object.name();
        if (existing != null && !orReplace) {
            if (ifNotExists) {
                session.warn(NOTE_EXISTS, what + " already exists");
                return CompletableFuture.completedFuture(ok(session));
            }
            throw new ProxyException(ProxyError.OBJECT_EXISTS, what + " already exists (" + existing.object().signature()
                    + "); drop it first or use CREATE OR REPLACE " + object.kind().keyword());
        }
        if (existing != null && object.kind() != CatalogObject.Kind.FUNCTION) {
            requireOwner(account, existing, account.isCatalogAdmin(), "the global ALTER ROUTINE privilege");
        }
        Change change = orReplace ? Change.replaceChecked(object, account.user(), existing)
                : Change.create(object, account.user());
        return catalog.write(session, List.of(change)).thenApply(s -> ok(session));
    }

    /** Refuses a change of {@code existing} unless the account owns it or {@code admin} holds. */
    static void requireOwner(AccountPrivileges account, CatalogEntry existing, boolean admin, String privilege) {
        if (!account.owns(existing.owner()) && !admin) {
            CatalogObject o = existing.object();
            throw new ProxyException(ProxyError.CATALOG_ACCESS_DENIED, o.kind().keyword() + " "
                    + (o.schemaName().isEmpty() || o.kind() != CatalogObject.Kind.FUNCTION ? "" : o.schemaName() + ".")
                    + o.name() + " belongs to " + existing.owner() + "; only its owner or an account with " + privilege
                    + " may replace or drop it (you are " + account.user() + "). Create yours under another name");
        }
    }

    private static ProxyException denied(String what, AccountPrivileges account, String grant) {
        return new ProxyException(ProxyError.CATALOG_ACCESS_DENIED, what + ", which " + account.user() + " does not"
                + " have; ask an administrator for " + grant + " TO " + account.user());
    }

    private CompletableFuture<PipelineResult> drop(StatementSession session, AccountPrivileges account, String sql,
            CatalogSnapshot snapshot, Drop d) {
        if (d.kind() == CatalogObject.Kind.FUNCTION) {
            CompletableFuture<String> schema = d.qualifier() != null ? CompletableFuture.completedFuture(d.qualifier())
                    : CatalogStore.currentDatabase(session);
            return schema.thenCompose(db -> {
                CatalogEntry entry = db == null ? null
                        : snapshot.entry(CatalogObject.Kind.FUNCTION, AliasFunction.key(db, d.name()));
                if (entry == null) {
                    // Not ours: a stored function of the backend, which answers (or says it does not exist).
                    return CompletableFuture.completedFuture(PipelineResult.forward(sql));
                }
                requireOwner(account, entry, account.hasOnDatabase(AccountPrivileges.ADMIN_PRIVILEGE, db),
                        "ALTER ROUTINE on database " + db);
                return catalog.write(session, List.of(Change.deleteChecked(entry))).thenApply(s -> ok(session));
            });
        }
        CatalogEntry entry = snapshot.entry(d.kind(), d.name());
        if (d.kind() == CatalogObject.Kind.MODEL && d.qualifier() != null
                && !d.qualifier().equalsIgnoreCase(DdlParser.MINDSDB_PROJECT)) {
            entry = null;
        }
        String what = d.kind().keyword() + " " + (d.qualifier() == null ? "" : d.qualifier() + ".") + d.name();
        if (entry == null) {
            if (d.ifExists()) {
                session.warn(NOTE_MISSING, what + " does not exist");
                return CompletableFuture.completedFuture(ok(session));
            }
            throw new ProxyException(ProxyError.UNKNOWN_OBJECT, what + " does not exist"
                    + existing(snapshot, d.kind()));
        }
        requireOwner(account, entry, account.isCatalogAdmin(), "the global ALTER ROUTINE privilege");
        if (d.kind() == CatalogObject.Kind.ML_ENGINE) {
            List<String> users = new ArrayList<>();
            for (CatalogEntry e : snapshot.entries()) {
                if (e.object() instanceof MindsModel m && m.engine().equalsIgnoreCase(d.name())) {
                    users.add(m.name());
                }
            }
            if (!users.isEmpty()) {
                throw new ProxyException(ProxyError.OBJECT_EXISTS, "ML_ENGINE " + d.name() + " is used by MODEL "
                        + String.join(", ", users) + "; drop those first");
            }
        }
        return catalog.write(session, List.of(Change.deleteChecked(entry))).thenApply(s -> ok(session));
    }

    private static String existing(CatalogSnapshot snapshot, CatalogObject.Kind kind) {
        List<String> names = new ArrayList<>();
        for (CatalogEntry e : snapshot.entries()) {
            if (e.object().kind() == kind) {
                names.add(e.object().name());
            }
        }
        return names.isEmpty() ? "; there are none (SHOW RAG FUNCTIONS lists the catalog)"
                : "; the catalog has " + String.join(", ", names);
    }

    // ---------------------------------------------------------------------------------------- tables

    /**
     * Runs {@code sql} when it is a table statement the catalog owns: a {@code CREATE TABLE} with auto-embedding
     * columns, a {@code DROP TABLE} or {@code LOAD DATA} of a table that has them, or an {@code INSERT} into, a
     * {@code DELETE} from or an {@code UPDATE} (refused) of a knowledge base. Null when it is none of these.
     */
    public CompletableFuture<PipelineResult> tableStatement(StatementSession session, String sql,
            CatalogSnapshot snapshot, Dialect dialect) {
        String keyword = SqlLexer.firstWord(sql);
        if (keyword.equals("INSERT")) {
            return knowledgeBases.insert(session, sql, snapshot); // null unless it fills a knowledge base
        }
        if (keyword.equals("DELETE")) {
            return knowledgeBases.delete(session, sql, snapshot); // null unless it deletes from a knowledge base
        }
        if (keyword.equals("UPDATE")) {
            return knowledgeBases.update(sql, snapshot); // null unless it updates a knowledge base (then an error)
        }
        if (!keyword.equals("CREATE") && !keyword.equals("DROP") && !keyword.equals("LOAD")) {
            return null; // the common case, decided without reading further
        }
        List<Token> tokens = SqlLexer.tokenize(sql);
        Token first = tokens.get(0);
        if (first.is("CREATE")) {
            AutoEmbeddingTable.Parsed parsed = AutoEmbeddingTable.parse(sql);
            return parsed == null ? null : createTable(session, parsed, snapshot, dialect);
        }
        if (snapshot.rules().isEmpty()) {
            return null;
        }
        if (first.is("DROP") && (tokens.get(1).is("TABLE") || tokens.get(1).is("TABLES")
                || (tokens.get(1).is("TEMPORARY") && tokens.get(2).is("TABLE")))) {
            return dropTable(session, sql, tableNames(tokens, tokens.get(1).is("TEMPORARY") ? 3 : 2), snapshot);
        }
        if (first.is("LOAD")) {
            for (int i = 1; i + 2 < tokens.size(); i++) {
                if (tokens.get(i).is("INTO") && tokens.get(i + 1).is("TABLE")) {
                    return loadData(session, sql, tableNames(tokens, i + 2).subList(0, 1), snapshot);
                }
            }
        }
        return null;
    }

    /** {@code [IF EXISTS] [db.]t [, [db.]t]*} from token {@code i}, as {schema or null, table} pairs. */
    private static List<String[]> tableNames(List<Token> tokens, int i) {
        if (tokens.get(i).is("IF") && tokens.get(i + 1).is("EXISTS")) {
            i += 2;
        }
        List<String[]> out = new ArrayList<>();
        while (tokens.get(i).isName()) {
            String[] name = {null, tokens.get(i).text()};
            if (tokens.get(i + 1).isSymbol('.') && tokens.get(i + 2).isName()) {
                name = new String[] {tokens.get(i).text(), tokens.get(i + 2).text()};
                i += 2;
            }
            out.add(name);
            i++;
            if (!tokens.get(i).isSymbol(',')) {
                break;
            }
            i++;
        }
        return out.isEmpty() ? List.<String[]>of(new String[] {null, ""}) : out;
    }

    /** The auto-embedding columns of the named tables, unqualified names resolved in the session's database. */
    private static CompletableFuture<List<EmbeddingRule>> rulesOf(StatementSession session, List<String[]> names,
            CatalogSnapshot snapshot) {
        boolean anyUnqualified = names.stream().anyMatch(n -> n[0] == null && snapshot.hasRulesForTableName(n[1]));
        CompletableFuture<String> db = anyUnqualified ? CatalogStore.currentDatabase(session)
                : CompletableFuture.completedFuture(null);
        return db.thenApply(database -> {
            List<EmbeddingRule> rules = new ArrayList<>();
            for (String[] n : names) {
                String schema = n[0] != null ? n[0] : database;
                if (schema != null) {
                    rules.addAll(snapshot.rules(schema, n[1]));
                }
            }
            return rules;
        });
    }

    private CompletableFuture<PipelineResult> createTable(StatementSession session, AutoEmbeddingTable.Parsed p,
            CatalogSnapshot snapshot, Dialect dialect) {
        if (p.temporary()) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "auto-embedding columns are kept in the shared"
                    + " catalog, so they cannot belong to a TEMPORARY table; create a regular table");
        }
        try {
            FunctionNames.of(p.table());
        } catch (IllegalArgumentException e) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "ragproxy finds writes to tables with"
                    + " auto-embedding columns by their unquoted name, so '" + p.table() + "' must be a plain"
                    + " identifier (letters, digits, _ and $)");
        }
        List<Integer> dimensions = new ArrayList<>();
        for (AutoEmbeddingTable.Column c : p.columns()) {
            dimensions.add(dimensions(c));
        }
        // Where the backend has invisible columns, each vector gets one holding its source text's hash, so that
        // SHOW RAG PENDING also finds vectors made stale by a text changed behind the proxy's back.
        List<String> hashColumns = new ArrayList<>();
        List<String> taken = new ArrayList<>(p.columnNames());
        for (AutoEmbeddingTable.Column c : p.columns()) {
            String hash = dialect.invisibleColumns() ? EmbeddingRule.hashColumnName(c.name(), taken) : null;
            hashColumns.add(hash);
            if (hash != null) {
                taken.add(hash);
            }
        }
        String rewritten = p.rewrite(dimensions, dialect::vectorType, hashColumns);
        CompletableFuture<String> db = p.schema() != null ? CompletableFuture.completedFuture(p.schema())
                : CatalogStore.currentDatabase(session);
        return db.thenCompose(schema -> {
            if (schema == null) {
                throw new ProxyException(1046, "3D000", "No database selected", null);
            }
            return AccountPrivileges.of(session).thenCompose(account -> {
                if (!account.hasOnTable("ALTER", schema, p.table())) {
                    throw denied("an auto-embedding column of " + schema + "." + p.table() + " needs the ALTER"
                            + " privilege on that table (ragproxy alters the table's writes)", account,
                            "GRANT ALTER ON " + Sql.table(schema, p.table()));
                }
                return createTable(session, p, snapshot, rewritten, schema, dimensions, hashColumns, account);
            });
        });
    }

    private CompletableFuture<PipelineResult> createTable(StatementSession session, AutoEmbeddingTable.Parsed p,
            CatalogSnapshot snapshot, String rewritten, String schema, List<Integer> dimensions,
            List<String> hashColumns, AccountPrivileges account) {
        {
            CompletableFuture<Boolean> existed = !p.ifNotExists() ? CompletableFuture.completedFuture(false)
                    : session.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                            + CatalogStore.literal(schema) + " AND TABLE_NAME = " + CatalogStore.literal(p.table()))
                            .thenApply(r -> !"0".equals(r.first().rows().get(0).get(0)));
            return existed.thenCompose(exists -> session.query(rewritten).thenCompose(result -> {
                if (exists) {
                    // IF NOT EXISTS on an existing table: the backend created nothing, the catalog keeps its rules.
                    return CompletableFuture.completedFuture(ok(session, result.warnings()));
                }
                List<Change> changes = new ArrayList<>();
                for (EmbeddingRule old : snapshot.rules(schema, p.table())) {
                    changes.add(Change.delete(old));
                }
                for (int i = 0; i < p.columns().size(); i++) {
                    AutoEmbeddingTable.Column c = p.columns().get(i);
                    changes.add(Change.replace(new EmbeddingRule(schema, p.table(), c.name(), dimensions.get(i),
                            c.model(), c.source(), c.options(), hashColumns.get(i)), account.user()));
                }
                return catalog.write(session, changes)
                        .thenApply(s -> ok(session, result.warnings()))
                        .exceptionallyCompose(e -> session.query("DROP TABLE " + Sql.table(schema, p.table()))
                                .handle((r, ignored) -> null)
                                .thenCompose(v -> CompletableFuture.failedFuture(e)));
            }));
        }
    }

    /** The vector's dimensions: as declared, checked against the model's; the model's when none is declared. */
    private int dimensions(AutoEmbeddingTable.Column c) {
        String options = new EmbeddingRule("-", "-", c.name(), c.dimensions(), c.model(), c.source(), c.options())
                .storedOptions();
        int model;
        try {
            model = invoker.dimensions(c.model(), options == null ? EmbedOptions.DEFAULT : EmbedOptions.fromJson(options));
        } catch (UnknownModelException e) {
            throw new ProxyException(ProxyError.UNKNOWN_MODEL, "EMBED_TEXT of column " + c.name() + ": "
                    + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ProxyException(ProxyError.BAD_OPTIONS, "EMBED_TEXT of column " + c.name() + ": " + e.getMessage());
        }
        if (c.dimensions() != null && c.dimensions() != model) {
            throw new ProxyException(ProxyError.BAD_OPTIONS, "line " + c.at().line() + ", column " + c.at().column()
                    + ": " + c.name() + " is VECTOR(" + c.dimensions() + ") but EMBED_TEXT('" + c.model() + "') makes "
                    + model + " dimensions; declare VECTOR(" + model + ") or ask the model for " + c.dimensions()
                    + " with options '{\"dimensions\": " + c.dimensions() + "}' if it takes them");
        }
        return model;
    }

    private CompletableFuture<PipelineResult> dropTable(StatementSession session, String sql, List<String[]> names,
            CatalogSnapshot snapshot) {
        return rulesOf(session, names, snapshot).thenCompose(rules -> {
            if (rules.isEmpty()) {
                return CompletableFuture.completedFuture(PipelineResult.forward(sql));
            }
            return session.query(sql).thenCompose(result -> {
                List<Change> changes = new ArrayList<>();
                rules.forEach(r -> changes.add(Change.delete(r)));
                return catalog.write(session, changes).handle((s, e) -> {
                            if (e != null) {
                                session.warn(1142, "the table was dropped but its auto-embedding columns stay in the"
                                        + " catalog: " + CatalogStore.describe(e));
                            }
                            return ok(session, result.warnings());
                        });
            });
        });
    }

    /**
     * {@code LOAD DATA [LOCAL] INFILE … INTO TABLE t} where t has auto-embedding columns: the load and the refresh of
     * t's vectors run as one transaction (BEGIN … COMMIT, or under a savepoint when the client is in a transaction
     * already), so the rows of the file are there with their vectors or not at all. A LOCAL file comes from the
     * client as on a direct connection ({@link StatementSession#queryRelayingLocalInfile}); the refresh is
     * {@link #refreshStatement} of each column, run by the pipeline (the backfill plan, whose pages then belong to
     * this transaction), so it also fills rows that were pending before the load. The client's OK is the load's own
     * (affected rows, {@code Records: … Deleted: … Skipped: … Warnings: …}). A table whose engine cannot roll back
     * (MyISAM, Aria) is refused: a failed refresh would leave the file's rows without vectors.
     */
    private CompletableFuture<PipelineResult> loadData(StatementSession session, String sql, List<String[]> names,
            CatalogSnapshot snapshot) {
        return rulesOf(session, names, snapshot).thenCompose(rules -> {
            if (rules.isEmpty()) {
                return CompletableFuture.completedFuture(PipelineResult.forward(sql));
            }
            EmbeddingRule first = rules.get(0);
            return session.query("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                    + CatalogStore.literal(first.schema()) + " AND TABLE_NAME = " + CatalogStore.literal(first.table()))
                    .thenCompose(engine -> {
                        List<List<String>> found = engine.first().rows();
                        String name = found.isEmpty() ? null : found.get(0).get(0);
                        if (name != null && !TRANSACTIONAL_ENGINES.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "LOAD DATA into " + first.table()
                                    + " fills its auto-embedding column " + first.column() + " in the same transaction,"
                                    + " and " + name + " tables cannot roll back if that fails, so ragproxy did not"
                                    + " send it. Convert the table (ALTER TABLE " + first.table() + " ENGINE=InnoDB), or"
                                    + " load the file on a direct connection and then run " + refreshStatement(first)
                                    + " through ragproxy");
                        }
                        return loadAndRefresh(session, sql, rules);
                    });
        });
    }

    private CompletableFuture<PipelineResult> loadAndRefresh(StatementSession session, String sql,
            List<EmbeddingRule> rules) {
        boolean inTransaction = (session.serverStatus() & ServerStatus.IN_TRANS) != 0
                || (session.serverStatus() & ServerStatus.AUTOCOMMIT) == 0;
        String begin = inTransaction ? "SAVEPOINT " + LOAD_SAVEPOINT : "BEGIN";
        String commit = inTransaction ? "RELEASE SAVEPOINT " + LOAD_SAVEPOINT : "COMMIT";
        String rollback = inTransaction ? "ROLLBACK TO SAVEPOINT " + LOAD_SAVEPOINT : "ROLLBACK";
        boolean[] loaded = {false};
        return session.query(begin)
                .thenCompose(v -> session.queryRelayingLocalInfile(sql))
                .thenCompose(load -> {
                    loaded[0] = true;
                    CompletableFuture<Void> refresh = CompletableFuture.completedFuture(null);
                    for (EmbeddingRule r : rules) {
                        refresh = refresh.thenCompose(v -> statements.run(session, refreshStatement(r)));
                    }
                    return refresh.thenCompose(v -> session.query(commit)).thenApply(v -> load);
                })
                .thenApply(load -> PipelineResult.reply(Packets.ok(session.alloc(), 1, load.affectedRows(),
                        load.lastInsertId(), session.serverStatus(), load.warnings(), load.info(),
                        session.sessionTrack())))
                .exceptionallyCompose(error -> session.query(rollback).handle((r, e) -> {
                    throw new java.util.concurrent.CompletionException(loadFailed(error, loaded[0], rules.get(0),
                            inTransaction));
                }));
    }

    /** The error of a LOAD DATA that was rolled back: the cause's code and SQLSTATE, and what became of the rows. */
    private static Throwable loadFailed(Throwable error, boolean loaded, EmbeddingRule rule, boolean inTransaction) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (!loaded || !(cause instanceof ProxyException pe)) {
            return cause; // the load itself failed (a missing file, a duplicate key …): the backend's own error
        }
        return new ProxyException(pe.code(), pe.sqlState(), "LOAD DATA into " + rule.table() + " was rolled back"
                + (inTransaction ? " to where it started (your transaction stays open)" : "") + ", no row of the file"
                + " was kept, because the vectors of its auto-embedding column " + rule.column() + " could not be"
                + " made: " + pe.getMessage(), pe);
    }

    // ---------------------------------------------------------------------------------------- SHOW RAG

    /**
     * Whether {@code account} may see {@code entry} in SHOW RAG FUNCTIONS and PENDING: its own objects; MindsDB models
     * and ML engines (their names are global and anyone may call them); functions and auto-embedding columns of a
     * database the account has some privilege on; everything for a catalog administrator.
     */
    public static boolean visible(CatalogEntry entry, AccountPrivileges account) {
        CatalogObject o = entry.object();
        return account.owns(entry.owner()) || account.isCatalogAdmin() || o.schemaName().isEmpty()
                || account.seesDatabase(o.schemaName());
    }

    /** Whether {@code account} may read {@code entry}'s definition (a prompt template, a model id): owner or admin. */
    public static boolean definitionVisible(CatalogEntry entry, AccountPrivileges account) {
        CatalogObject o = entry.object();
        return account.owns(entry.owner()) || account.isCatalogAdmin() || o.kind() != CatalogObject.Kind.MODEL
                && o.kind() != CatalogObject.Kind.ML_ENGINE && o.kind() != CatalogObject.Kind.KNOWLEDGE_BASE
                && account.hasOnDatabase(AccountPrivileges.ADMIN_PRIVILEGE, o.schemaName());
    }

    /**
     * SHOW RAG FUNCTIONS' rows of the catalog's objects {@code account} may see ({@link #visible}): Name (an Aurora
     * function's as {@code db.name}), Kind, Returns, Signature, Definition (NULL unless {@link #definitionVisible}),
     * Owner, Created.
     */
    public static List<List<String>> functionRows(CatalogSnapshot snapshot, AccountPrivileges account) {
        List<List<String>> rows = new ArrayList<>();
        for (CatalogEntry e : snapshot.entries()) {
            if (!visible(e, account)) {
                continue;
            }
            CatalogObject o = e.object();
            String returns = switch (o.kind()) {
                case FUNCTION -> ((AliasFunction) o).returns();
                case MODEL -> "rows";
                case ML_ENGINE -> "";
                case EMBEDDING -> "vector";
                case KNOWLEDGE_BASE -> "rows";
            };
            String name = o.kind() == CatalogObject.Kind.FUNCTION ? o.schemaName() + "." + o.name() : o.name();
            rows.add(Arrays.asList(name, o.kind().label(), returns, o.signature(),
                    definitionVisible(e, account) ? o.definition().toString() : null, e.owner(), e.created()));
        }
        return rows;
    }

    /**
     * SHOW RAG PENDING: for each auto-embedding column, the rows whose vector is missing (NULL while the source has
     * text), the rows whose vector is stale (when the table has the source-hash column: the text changed behind the
     * proxy's back; NULL when it has none, so not tracked), and the one statement that refreshes both (run by the
     * backfill plan, in committed pages). Columns: Table, Column, Model, Rows_missing, Rows_stale, Refresh. Only
     * the columns {@code account} may see ({@link #visible}) are listed.
     */
    public CompletableFuture<List<List<String>>> pending(StatementSession session, CatalogSnapshot snapshot,
            AccountPrivileges account) {
        List<List<String>> rows = new ArrayList<>();
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (CatalogEntry entry : snapshot.entries()) {
            if (!(entry.object() instanceof EmbeddingRule r) || !visible(entry, account)) {
                continue;
            }
            String count = "SELECT COUNT(CASE WHEN " + r.missingCondition() + " THEN 1 END), "
                    + (r.tracksStaleness() ? "COUNT(CASE WHEN " + r.staleCondition() + " THEN 1 END)" : "NULL")
                    + " FROM " + Sql.table(r.schema(), r.table());
            chain = chain.thenCompose(v -> session.query(count).handle((QueryResult result, Throwable e) -> {
                List<String> counts = e == null ? result.first().rows().get(0) : Arrays.asList(null, null);
                rows.add(Arrays.asList(r.schema() + "." + r.table(), r.column(), r.model(), counts.get(0),
                        counts.get(1), e == null ? refreshStatement(r) : "cannot count: " + CatalogStore.describe(e)));
                return null;
            }));
        }
        return chain.thenApply(v -> rows);
    }

    /**
     * The statement that refreshes {@code r}'s column: fills the missing vectors and, when the table has the hash
     * column, recomputes the stale ones, setting the hash from the same source in the same statement. The vector is
     * assigned first, as an AI call over columns and nothing assigned before it, so the backfill plan takes it.
     */
    static String refreshStatement(EmbeddingRule r) {
        return "UPDATE " + Sql.table(r.schema(), r.table()) + " SET " + Sql.ident(r.column()) + " = "
                + r.embedSql(r.source(), false)
                + (r.tracksStaleness() ? ", " + Sql.ident(r.sourceHash()) + " = " + EmbeddingRule.hashSql(r.source())
                        : "")
                + " WHERE " + r.pendingCondition();
    }

    private static PipelineResult ok(StatementSession session) {
        return ok(session, 0);
    }

    private static PipelineResult ok(StatementSession session, int warnings) {
        return PipelineResult.reply(Packets.ok(session.alloc(), 1, 0, 0, session.serverStatus(), warnings, null,
                session.sessionTrack()));
    }
}
