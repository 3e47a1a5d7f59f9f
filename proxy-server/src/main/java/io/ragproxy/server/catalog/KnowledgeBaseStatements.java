package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.catalog.chunk.ChunkOptions;
import io.ragproxy.catalog.chunk.TextChunker;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.catalog.CatalogStore.Change;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.StatementRunner;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.protocol.ServerStatus;
import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.wire.Packets;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Runs MindsDB's knowledge base statements: {@code CREATE KNOWLEDGE_BASE} (the catalog entry and the storage table,
 * created through the user's session), {@code DROP KNOWLEDGE_BASE} (both), {@code DESCRIBE KNOWLEDGE_BASE},
 * {@code SHOW KNOWLEDGE_BASES}, and the ingestion {@code INSERT INTO kb SELECT …}: each document's text is chunked
 * with CHUNK_TEXT's splitter and its chunks are embedded and stored, replacing the document's earlier chunks; a
 * document whose content hash is unchanged is skipped without a model call.
 */
public final class KnowledgeBaseStatements {
    /** MySQL's notes for CREATE … IF NOT EXISTS of an existing object and DROP … IF EXISTS of a missing one. */
    private static final int NOTE_EXISTS = 1304;
    private static final int NOTE_MISSING = 1305;
    /** Most chunks one page of the ingestion embeds and writes in one transaction. */
    static final int PAGE_CHUNKS = 64;
    private static final String SAVEPOINT = "ragproxy_kb_insert";
    /** Links per node of the storage's HNSW vector index on MariaDB. */
    static final int VECTOR_INDEX_M = 16;

    static final List<String> COLUMNS = List.of("Name", "Embedding_model", "Reranking_model", "Storage",
            "Content_columns", "Metadata_columns", "Id_column", "Preprocessing", "Hybrid_search", "Hybrid_search_alpha",
            "Owner", "Created");

    private final Catalog catalog;
    private final ModelInvoker invoker;
    private final StatementRunner statements;
    private final TextChunker chunker;

    /**
     * @param statements runs the proxy's own AI statements through the pipeline (each page's embedding INSERT)
     * @param chunker splits documents into chunks (CHUNK_TEXT's splitter)
     */
    public KnowledgeBaseStatements(Catalog catalog, ModelInvoker invoker, StatementRunner statements,
            TextChunker chunker) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.invoker = Objects.requireNonNull(invoker, "invoker");
        this.statements = Objects.requireNonNull(statements, "statements");
        this.chunker = Objects.requireNonNull(chunker, "chunker");
    }

    /** Runs CREATE, DROP, DESCRIBE KNOWLEDGE_BASE or SHOW KNOWLEDGE_BASES. */
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, Dialect dialect) {
        List<Token> tokens = SqlLexer.tokenize(sql, session.sessionText().sqlMode());
        if ((tokens.get(0).is("DESCRIBE") || tokens.get(0).is("DESC")) && tokens.size() <= 4
                && (tokens.get(2).type() == SqlLexer.Type.END || tokens.get(2).isSymbol(';'))) {
            return CompletableFuture.completedFuture(PipelineResult.forward(sql)); // a table named knowledge_base
        }
        KnowledgeBaseDdl.Statement statement = KnowledgeBaseDdl.parse(sql, session.sessionText().sqlMode());
        return AccountPrivileges.of(session).thenCompose(account -> catalog.refresh(session).thenCompose(snapshot -> {
            if (statement instanceof KnowledgeBaseDdl.Create c) {
                return create(session, account, snapshot, c, dialect);
            }
            if (statement instanceof KnowledgeBaseDdl.Drop d) {
                return drop(session, account, snapshot, d);
            }
            List<List<String>> rows = new ArrayList<>();
            for (CatalogEntry e : snapshot.entries()) {
                if (e.object() instanceof KnowledgeBase kb && (!(statement instanceof KnowledgeBaseDdl.Describe d)
                        || kb.name().equals(CatalogObject.key(d.name())))) {
                    rows.add(row(kb, e));
                }
            }
            if (statement instanceof KnowledgeBaseDdl.Describe d && rows.isEmpty()) {
                throw new ProxyException(ProxyError.UNKNOWN_OBJECT, "KNOWLEDGE_BASE " + d.name() + " does not exist"
                        + names(snapshot));
            }
            return CompletableFuture.completedFuture(PipelineResult.reply(session.resultSetWriter()
                    .write(session.alloc(), COLUMNS, rows, session.serverStatus())));
        }));
    }

    private static List<String> row(KnowledgeBase kb, CatalogEntry e) {
        return Arrays.asList(kb.name(), kb.embeddingModel(), kb.rerankingModel(), kb.schema() + "." + kb.table(),
                String.join(", ", kb.contentColumns()), String.join(", ", kb.metadataColumns()), kb.idColumn(),
                kb.preprocessing(), kb.hybridSearch() ? "true" : "false", String.valueOf(kb.hybridSearchAlpha() != null
                        ? kb.hybridSearchAlpha() : KnowledgeBaseQuery.DEFAULT_ALPHA), e.owner(), e.created());
    }

    private static String names(CatalogSnapshot snapshot) {
        List<String> names = new ArrayList<>(snapshot.knowledgeBaseNames());
        return names.isEmpty() ? "; there are none (SHOW KNOWLEDGE_BASES lists them)"
                : "; there are " + String.join(", ", names);
    }

    // ---------------------------------------------------------------------------------------- CREATE

    private CompletableFuture<PipelineResult> create(StatementSession session, AccountPrivileges account,
            CatalogSnapshot snapshot, KnowledgeBaseDdl.Create c, Dialect dialect) {
        CatalogEntry existing = snapshot.entry(CatalogObject.Kind.KNOWLEDGE_BASE, c.name());
        if (existing != null && !c.orReplace()) {
            if (c.ifNotExists()) {
                session.warn(NOTE_EXISTS, "KNOWLEDGE_BASE " + c.name() + " already exists");
                return CompletableFuture.completedFuture(ok(session, 0, null));
            }
            throw new ProxyException(ProxyError.OBJECT_EXISTS, "KNOWLEDGE_BASE " + c.name() + " already exists; drop"
                    + " it first or use CREATE OR REPLACE KNOWLEDGE_BASE");
        }
        if (existing != null) {
            CatalogStatements.requireOwner(account, existing, account.isCatalogAdmin(),
                    "the global ALTER ROUTINE privilege");
        }
        if (snapshot.model(c.name()) != null) {
            throw new ProxyException(ProxyError.OBJECT_EXISTS, c.name() + " is the name of a MindsDB model, which is"
                    + " read as a table like a knowledge base; give the knowledge base another name");
        }
        String model = c.embeddingModel() != null ? c.embeddingModel()
                : invoker.registry().embeddingModelId(session.settings().embeddingModel());
        int dimensions;
        try {
            dimensions = invoker.dimensions(model, EmbedOptions.DEFAULT);
        } catch (UnknownModelException e) {
            throw new ProxyException(ProxyError.UNKNOWN_MODEL, "embedding_model: " + e.getMessage());
        }
        // reranking_model = true: the configured default reranker ([models] default_reranking), as it is now.
        String reranking = c.rerankingModel() == null ? null : c.rerankingModel().equalsIgnoreCase("true")
                ? invoker.registry().rerankingModelId(null) : c.rerankingModel();
        if (reranking != null) {
            try {
                invoker.registry().rerankingModel(reranking);
            } catch (UnknownModelException e) {
                throw new ProxyException(ProxyError.UNKNOWN_MODEL, "reranking_model: " + e.getMessage());
            }
        }
        if (c.preprocessing() != null) {
            try {
                ChunkOptions.fromJson(c.preprocessing());
            } catch (IllegalArgumentException e) {
                throw new ProxyException(ProxyError.BAD_CHUNK_OPTIONS, "preprocessing: " + e.getMessage());
            }
        }
        List<String> content = c.contentColumns() == null ? List.of("content") : c.contentColumns();
        List<String> metadata = c.metadataColumns() == null ? List.of() : c.metadataColumns();
        String id = c.idColumn() == null ? "id" : c.idColumn();
        checkColumns(content, metadata, id);
        CompletableFuture<String> schema = c.storageSchema() != null ? CompletableFuture.completedFuture(c.storageSchema())
                : CatalogStore.currentDatabase(session);
        return schema.thenCompose(db -> {
            if (db == null) {
                throw new ProxyException(1046, "3D000", "No database selected: a knowledge base's chunks are stored"
                        + " in a table; write storage = db.table or USE db first", null);
            }
            KnowledgeBase kb = new KnowledgeBase(c.name(), model, dimensions, reranking, db,
                    c.storageTable() != null ? c.storageTable() : CatalogObject.key(c.name()) + "_chunks", content,
                    metadata, id, c.preprocessing(), Boolean.TRUE.equals(c.hybridSearch()), c.hybridSearchAlpha());
            CompletableFuture<QueryResult> dropOld = existing == null ? CompletableFuture.completedFuture(null)
                    : session.query("DROP TABLE IF EXISTS " + ((KnowledgeBase) existing.object()).storageSql());
            return dropOld.thenCompose(v -> session.query(storageDdl(kb, dialect)))
                    .thenCompose(v -> dialect == Dialect.TIDB ? tidbIndexes(session, kb) : CompletableFuture
                            .completedFuture(null))
                    .thenCompose(v -> catalog.write(session, List.of(existing != null
                            ? Change.replaceChecked(kb, account.user(), existing) : Change.create(kb, account.user())))
                            .exceptionallyCompose(e -> session.query("DROP TABLE " + kb.storageSql())
                                    .handle((r, ignored) -> null)
                                    .thenCompose(x -> CompletableFuture.failedFuture(e))))
                    .thenApply(s -> ok(session, 0, null));
        });
    }

    private static void checkColumns(List<String> content, List<String> metadata, String id) {
        if (content.isEmpty()) {
            throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, "content_columns is empty; name the"
                    + " column(s) whose text is chunked and embedded, e.g. content_columns = ['body']");
        }
        Set<String> seen = new LinkedHashSet<>();
        List<String> all = new ArrayList<>(content);
        all.addAll(metadata);
        all.add(id);
        for (String column : all) {
            if (!seen.add(CatalogObject.key(column))) {
                throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, "column " + column + " is named twice"
                        + " among content_columns, metadata_columns and id_column; each column has one role");
            }
        }
        for (String column : metadata) {
            if (KnowledgeBaseQuery.RESERVED.contains(CatalogObject.key(column))) {
                throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, "metadata column " + column + " has"
                        + " the name of a column every knowledge base has (" + String.join(", ",
                                KnowledgeBaseQuery.RESERVED) + "); rename it in the INSERT's SELECT (… AS other)");
            }
        }
    }

    /** The storage table: one row per chunk, the vector index and (on MariaDB) a FULLTEXT index on the text. */
    static String storageDdl(KnowledgeBase kb, Dialect dialect) {
        boolean maria = dialect == Dialect.MARIADB;
        // A surrogate primary key: MariaDB's vector index takes a primary key of at most 256 bytes. M = 16 links per
        // node (pgvector's default, which Bedrock's knowledge bases on Aurora use) instead of MariaDB's 6: at 6 the
        // search of KnowledgeBaseScaleTest's 6,700 chunks missed the right document for half of its questions even
        // with mhnsw_ef_search = 80 (recall@5 0.68; 0.97 at M = 16).
        return "CREATE TABLE " + kb.storageSql() + " (" + Sql.ident(KnowledgeBase.ROW_ID) + " BIGINT NOT NULL"
                + " AUTO_INCREMENT PRIMARY KEY, " + Sql.ident(KnowledgeBase.ID) + " VARCHAR(255) NOT NULL, "
                + Sql.ident(KnowledgeBase.CHUNK_ID) + " INT NOT NULL, " + Sql.ident(KnowledgeBase.CHUNK_CONTENT)
                + " LONGTEXT NOT NULL, " + Sql.ident(KnowledgeBase.METADATA) + " JSON NULL, "
                + Sql.ident(KnowledgeBase.CONTENT_HASH) + " CHAR(64) NOT NULL, " + Sql.ident(KnowledgeBase.EMBEDDING)
                + " " + dialect.vectorType(kb.dimensions()) + " NOT NULL, UNIQUE KEY (" + Sql.ident(KnowledgeBase.ID)
                + ", " + Sql.ident(KnowledgeBase.CHUNK_ID) + ")"
                + (maria ? ", VECTOR INDEX (" + Sql.ident(KnowledgeBase.EMBEDDING) + ") M=" + VECTOR_INDEX_M
                        + " DISTANCE=cosine, FULLTEXT (" + Sql.ident(KnowledgeBase.CHUNK_CONTENT) + ")" : "")
                + ") DEFAULT CHARSET=utf8mb4 COMMENT " + Sql.quote("ragproxy knowledge base " + kb.name());
    }

    /**
     * TiDB's vector index needs TiFlash, and its full-text index (for hybrid search's {@code fts_match_word}) TiDB
     * Cloud: where one cannot be built, the table works without it (with a warning).
     */
    private static CompletableFuture<Void> tidbIndexes(StatementSession session, KnowledgeBase kb) {
        return session.query("ALTER TABLE " + kb.storageSql() + " ADD VECTOR INDEX "
                + Sql.ident("vec_" + KnowledgeBase.EMBEDDING) + " ((VEC_COSINE_DISTANCE("
                + Sql.ident(KnowledgeBase.EMBEDDING) + ")))").handle((r, e) -> {
                    if (e != null) {
                        session.warn(1105, "knowledge base " + kb.name() + ": no vector index on " + kb.storageSql()
                                + " (" + CatalogStore.describe(e) + "); searches scan the table");
                    }
                    return null;
                }).thenCompose(v -> session.query("ALTER TABLE " + kb.storageSql() + " ADD FULLTEXT INDEX "
                        + Sql.ident("fts_" + KnowledgeBase.CHUNK_CONTENT) + " (" + Sql.ident(KnowledgeBase.CHUNK_CONTENT)
                        + ") WITH PARSER MULTILINGUAL ADD_COLUMNAR_REPLICA_ON_DEMAND").handle((r, e) -> {
                            if (e != null) {
                                session.warn(1105, "knowledge base " + kb.name() + ": no full-text index on "
                                        + kb.storageSql() + " (" + CatalogStore.describe(e) + "); a hybrid search"
                                        + " fails");
                            }
                            return null;
                        }));
    }

    // ---------------------------------------------------------------------------------------- DROP

    private CompletableFuture<PipelineResult> drop(StatementSession session, AccountPrivileges account,
            CatalogSnapshot snapshot, KnowledgeBaseDdl.Drop d) {
        CatalogEntry entry = snapshot.entry(CatalogObject.Kind.KNOWLEDGE_BASE, d.name());
        if (entry == null) {
            if (d.ifExists()) {
                session.warn(NOTE_MISSING, "KNOWLEDGE_BASE " + d.name() + " does not exist");
                return CompletableFuture.completedFuture(ok(session, 0, null));
            }
            throw new ProxyException(ProxyError.UNKNOWN_OBJECT, "KNOWLEDGE_BASE " + d.name() + " does not exist"
                    + names(snapshot));
        }
        CatalogStatements.requireOwner(account, entry, account.isCatalogAdmin(), "the global ALTER ROUTINE privilege");
        KnowledgeBase kb = (KnowledgeBase) entry.object();
        // The storage goes with the knowledge base: its rows mean nothing without the definition that made them.
        return session.query("DROP TABLE IF EXISTS " + kb.storageSql())
                .thenCompose(r -> catalog.write(session, List.of(Change.deleteChecked(entry))))
                .thenApply(s -> ok(session, 0, null));
    }

    // ---------------------------------------------------------------------------------------- INSERT

    /**
     * {@code INSERT INTO kb [(columns)] SELECT …} (or {@code VALUES …}) when {@code sql} writes a knowledge base of
     * {@code snapshot}; null otherwise.
     */
    public CompletableFuture<PipelineResult> insert(StatementSession session, String sql, CatalogSnapshot snapshot) {
        NamedKnowledgeBase named = target(sql, snapshot, Set.of(), "INTO", false);
        if (named == null) {
            return null; // an INSERT flagged for another reason (an AI call), or of a table
        }
        List<Token> tokens = named.tokens();
        KnowledgeBase kb = named.kb();
        int i = named.last();
        i++;
        List<String> columns = null;
        if (tokens.get(i).isSymbol('(') && !tokens.get(i + 1).is("SELECT") && !tokens.get(i + 1).is("WITH")) {
            columns = new ArrayList<>();
            i++;
            while (tokens.get(i).isName()) {
                columns.add(CatalogObject.key(tokens.get(i).text()));
                i++;
                if (!tokens.get(i).isSymbol(',')) {
                    break;
                }
                i++;
            }
            if (!tokens.get(i).isSymbol(')')) {
                throw SqlLexer.error(tokens.get(i), "expected ',' or ')' in the column list of INSERT INTO "
                        + kb.name() + ", found " + tokens.get(i).describe());
            }
            i++;
        }
        Token source = tokens.get(i);
        if (!source.is("SELECT") && !source.is("VALUES") && !source.is("WITH") && !source.isSymbol('(')) {
            throw new ProxyException(ProxyError.KNOWLEDGE_BASE_INSERT, "ragproxy fills knowledge base " + kb.name()
                    + " with INSERT INTO " + kb.name() + " SELECT " + kb.idColumn() + ", " + String.join(", ",
                            kb.contentColumns()) + " … FROM <table> (or VALUES … with a column list), not "
                    + source.describe());
        }
        String select = sql.substring(source.start()).trim();
        if (select.endsWith(";")) {
            select = select.substring(0, select.length() - 1);
        }
        List<String> given = columns;
        session.plan("knowledge base insert");
        return session.query(select).thenCompose(result -> ingest(session, kb, given, result.first()));
    }

    /**
     * {@code DELETE FROM kb [WHERE …] [ORDER BY …] [LIMIT n]} (MindsDB's form) when {@code sql} deletes from a
     * knowledge base of {@code snapshot}, null otherwise: the documents with a chunk the conditions select lose all
     * their chunks, deleted from the storage table through the user's session (the backend's grants decide). Whole
     * documents, so that a document is stored with all its chunks or none, as the ingestion's skip of unchanged
     * documents assumes. The conditions read the columns a search reads, {@code id}, {@code chunk_id},
     * {@code chunk_content}, {@code metadata} and each metadata column of the definition, so {@code WHERE id = 4}
     * deletes document 4; the OK counts the chunks deleted.
     */
    public CompletableFuture<PipelineResult> delete(StatementSession session, String sql, CatalogSnapshot snapshot) {
        // A multi-table DELETE is the backend's (a knowledge base in it is refused by the search).
        NamedKnowledgeBase named = target(sql, snapshot, Set.of("LOW_PRIORITY", "QUICK", "IGNORE"), "FROM", true);
        if (named == null) {
            return null;
        }
        List<Token> tokens = named.tokens();
        KnowledgeBase kb = named.kb();
        int i = named.last();
        Token next = tokens.get(i + 1);
        if (next.type() != SqlLexer.Type.END && !next.isSymbol(';') && !next.is("WHERE") && !next.is("ORDER")
                && !next.is("LIMIT")) {
            throw new ProxyException(ProxyError.KNOWLEDGE_BASE_QUERY, "ragproxy deletes from knowledge base "
                    + kb.name() + " with DELETE FROM " + kb.name() + " WHERE <conditions on id, chunk_id or metadata>"
                    + " [ORDER BY …] [LIMIT n], not with " + next.describe());
        }
        String tail = next.type() == SqlLexer.Type.END ? "" : sql.substring(next.start()).trim();
        if (tail.endsWith(";")) {
            tail = tail.substring(0, tail.length() - 1);
        }
        StringBuilder columns = new StringBuilder();
        for (String c : List.of(KnowledgeBase.ID, KnowledgeBase.CHUNK_ID, KnowledgeBase.CHUNK_CONTENT,
                KnowledgeBase.METADATA)) {
            columns.append(columns.length() == 0 ? "" : ", ").append(Sql.ident(c));
        }
        for (String field : kb.metadataColumns()) {
            columns.append(", JSON_UNQUOTE(JSON_EXTRACT(").append(Sql.ident(KnowledgeBase.METADATA)).append(", ")
                    .append(Sql.quote("$.\"" + field + "\"")).append(")) AS ").append(Sql.ident(field));
        }
        // The documents are chosen in derived tables, which the backend materializes first: the conditions may then
        // name metadata fields, and a LIMIT is allowed (neither is in a DELETE of the table itself).
        String id = Sql.ident(KnowledgeBase.ID);
        String delete = "DELETE FROM " + kb.storageSql() + " WHERE " + id + " IN (SELECT " + id + " FROM (SELECT " + id
                + " FROM (SELECT " + columns + " FROM " + kb.storageSql() + ") AS " + Sql.ident(kb.name())
                + (tail.isEmpty() ? "" : " " + tail) + ") AS ragproxy_documents)";
        session.plan("knowledge base delete");
        return session.query(delete).thenApply(r -> ok(session, r.affectedRows(), null));
    }

    /**
     * {@code UPDATE kb …} when {@code sql} updates a knowledge base of {@code snapshot} (as its first table): refused
     * with an error that says what to do instead, since a chunk's text, embedding and hash must change together and
     * only the ingestion writes them. Null otherwise.
     */
    public CompletableFuture<PipelineResult> update(String sql, CatalogSnapshot snapshot) {
        NamedKnowledgeBase named = target(sql, snapshot, Set.of("LOW_PRIORITY", "IGNORE"), null, false);
        if (named == null) {
            return null;
        }
        KnowledgeBase kb = named.kb();
        throw new ProxyException(ProxyError.KNOWLEDGE_BASE_UPDATE, "knowledge base " + kb.name() + " is not updated"
                + " in place: change the document in its source table and INSERT it again (INSERT INTO " + kb.name()
                + " SELECT " + kb.idColumn() + ", " + String.join(", ", kb.contentColumns()) + " … FROM <table> WHERE "
                + kb.idColumn() + " = …), which replaces that document's chunks; DELETE FROM " + kb.name()
                + " WHERE id = … removes one");
    }

    /** One document of an INSERT: its id, text, metadata JSON and content hash. */
    private record Document(String id, String content, String metadata, String hash) {}

    /** One page: the documents whose chunks are replaced together, and those chunks. */
    private record Page(List<Document> documents, List<List<String>> chunks) {
        int chunkCount() {
            return chunks.stream().mapToInt(List::size).sum();
        }
    }

    private CompletableFuture<PipelineResult> ingest(StatementSession session, KnowledgeBase kb, List<String> given,
            QueryResult.ResultSet rows) {
        List<String> names = new ArrayList<>();
        if (given != null) {
            if (given.size() != rows.columns().size()) {
                throw new ProxyException(ProxyError.KNOWLEDGE_BASE_INSERT, "INSERT INTO " + kb.name() + " names "
                        + given.size() + " columns but its SELECT gives " + rows.columns().size());
            }
            names.addAll(given);
        } else {
            rows.columns().forEach(c -> names.add(CatalogObject.key(c)));
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            index.putIfAbsent(names.get(i), i);
        }
        List<String> missing = new ArrayList<>();
        for (String c : required(kb)) {
            if (!index.containsKey(c)) {
                missing.add(c);
            }
        }
        if (!missing.isEmpty()) {
            throw new ProxyException(ProxyError.KNOWLEDGE_BASE_INSERT, "INSERT INTO " + kb.name() + " must give the"
                    + " column(s) " + String.join(", ", missing) + " (it gives " + String.join(", ", names)
                    + "); name them in the SELECT, e.g. SELECT doc_id AS " + kb.idColumn() + ", … ");
        }
        List<String> metadata = new ArrayList<>(kb.metadataColumns());
        if (metadata.isEmpty()) {
            for (String n : names) {
                if (!n.equals(kb.idColumn()) && !kb.contentColumns().contains(n) && !metadata.contains(n)) {
                    metadata.add(n);
                }
            }
        } else {
            for (String n : names) {
                if (!n.equals(kb.idColumn()) && !kb.contentColumns().contains(n) && !metadata.contains(n)) {
                    throw new ProxyException(ProxyError.KNOWLEDGE_BASE_INSERT, "INSERT INTO " + kb.name() + " gives"
                            + " column " + n + ", which is not among its id, content or metadata columns ("
                            + String.join(", ", required(kb)) + ", " + String.join(", ", metadata) + "); leave it out");
                }
            }
        }
        Map<String, Document> documents = new LinkedHashMap<>();
        for (List<String> row : rows.rows()) {
            String id = row.get(index.get(kb.idColumn()));
            if (id == null) {
                throw new ProxyException(ProxyError.KNOWLEDGE_BASE_INSERT, "a row inserted into " + kb.name() + " has"
                        + " a NULL " + kb.idColumn() + "; every document needs an id (re-inserting it replaces its"
                        + " chunks)");
            }
            StringBuilder content = new StringBuilder();
            for (String c : kb.contentColumns()) {
                String v = row.get(index.get(c));
                if (v != null && !v.isEmpty()) {
                    content.append(content.length() == 0 ? "" : "\n\n").append(v);
                }
            }
            ObjectNode meta = CatalogObject.JSON.createObjectNode();
            for (String m : metadata) {
                Integer at = index.get(m);
                meta.put(m, at == null ? null : row.get(at));
            }
            String metaJson = meta.toString();
            documents.put(id, new Document(id, content.toString(), metaJson, hash(kb, content.toString(), metaJson)));
        }
        return session.query("SELECT " + Sql.ident(KnowledgeBase.ID) + ", " + Sql.ident(KnowledgeBase.CONTENT_HASH)
                + " FROM " + kb.storageSql() + " WHERE " + Sql.ident(KnowledgeBase.CHUNK_ID) + " = 0")
                .thenCompose(stored -> {
                    Map<String, String> hashes = new HashMap<>();
                    stored.first().rows().forEach(r -> hashes.put(r.get(0), r.get(1)));
                    return write(session, kb, documents, hashes);
                });
    }

    private static List<String> required(KnowledgeBase kb) {
        List<String> out = new ArrayList<>();
        out.add(kb.idColumn());
        out.addAll(kb.contentColumns());
        return out;
    }

    /** The hash that decides whether a document changed: its text, its metadata and how it is chunked and embedded. */
    private static String hash(KnowledgeBase kb, String content, String metadata) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (String part : List.of(kb.embeddingModel(), String.valueOf(kb.preprocessing()), metadata, content)) {
                d.update(part.getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private CompletableFuture<PipelineResult> write(StatementSession session, KnowledgeBase kb,
            Map<String, Document> documents, Map<String, String> hashes) {
        ChunkOptions options = kb.preprocessing() == null ? ChunkOptions.DEFAULT
                : ChunkOptions.fromJson(kb.preprocessing());
        List<Page> pages = new ArrayList<>();
        Page page = new Page(new ArrayList<>(), new ArrayList<>());
        Set<String> distinct = new LinkedHashSet<>();
        int skipped = 0;
        int empty = 0;
        for (Document d : documents.values()) {
            if (d.hash().equals(hashes.get(d.id()))) {
                skipped++;
                continue;
            }
            if (d.content().isEmpty() && !hashes.containsKey(d.id())) {
                // No text and no chunks stored: nothing to write, now or on the next run (a document that had
                // chunks and lost its text is written: its chunks are deleted).
                skipped++;
                empty++;
                continue;
            }
            List<String> chunks = d.content().isEmpty() ? List.of() : chunker.chunks(d.content(), options);
            distinct.addAll(chunks);
            if (!page.documents().isEmpty() && page.chunkCount() + chunks.size() > PAGE_CHUNKS) {
                pages.add(page);
                page = new Page(new ArrayList<>(), new ArrayList<>());
            }
            page.documents().add(d);
            page.chunks().add(chunks);
        }
        if (!page.documents().isEmpty()) {
            pages.add(page);
        }
        int maxCalls = session.settings().maxCalls();
        if (distinct.size() > maxCalls) {
            throw new ProxyException(ProxyError.TOO_MANY_CALLS, "INSERT INTO " + kb.name() + " needs "
                    + distinct.size() + " embeddings (distinct chunks of the " + (documents.size() - skipped)
                    + " new or changed documents), more than rag_max_calls = " + maxCalls + "; nothing was written."
                    + " SET rag_max_calls = " + distinct.size() + " or insert fewer documents at a time");
        }
        boolean inTransaction = (session.serverStatus() & ServerStatus.IN_TRANS) != 0
                || (session.serverStatus() & ServerStatus.AUTOCOMMIT) == 0;
        int total = documents.size() - skipped;
        int[] done = {0, 0};
        session.progress(0, total);
        CompletableFuture<Void> chain = inTransaction ? session.query("SAVEPOINT " + SAVEPOINT).thenApply(r -> null)
                : CompletableFuture.completedFuture(null);
        for (Page p : pages) {
            chain = chain.thenCompose(v -> {
                if (session.cancellation().isDone()) {
                    throw new ProxyException(ProxyError.QUERY_INTERRUPTED, "Query execution was interrupted");
                }
                return writePage(session, kb, p, inTransaction);
            }).thenAccept(v -> {
                done[0] += p.documents().size();
                done[1] += p.chunkCount();
                session.progress(done[0], total);
            });
        }
        int skippedDocuments = skipped;
        int emptyDocuments = empty;
        return chain.thenCompose(v -> inTransaction ? session.query("RELEASE SAVEPOINT " + SAVEPOINT)
                        .thenApply(r -> (Void) null) : CompletableFuture.<Void>completedFuture(null))
                .thenApply(v -> ok(session, done[1], "Documents: " + done[0] + "  Chunks: " + done[1] + "  Skipped: "
                        + skippedDocuments + "  Empty: " + emptyDocuments))
                .exceptionallyCompose(error -> {
                    CompletableFuture<?> undo = inTransaction
                            ? session.query("ROLLBACK TO SAVEPOINT " + SAVEPOINT).handle((r, e) -> null)
                            : CompletableFuture.completedFuture(null);
                    return undo.thenCompose(x -> CompletableFuture.failedFuture(failed(error, kb, done[0], total,
                            inTransaction)));
                });
    }

    /** Replaces the page's documents' chunks in one transaction (inside the client's, when it has one open). */
    private CompletableFuture<Void> writePage(StatementSession session, KnowledgeBase kb, Page page,
            boolean inTransaction) {
        StringBuilder ids = new StringBuilder();
        for (Document d : page.documents()) {
            ids.append(ids.length() == 0 ? "" : ", ").append(CatalogStore.literal(d.id()));
        }
        String delete = "DELETE FROM " + kb.storageSql() + " WHERE " + Sql.ident(KnowledgeBase.ID) + " IN (" + ids
                + ")";
        StringBuilder insert = new StringBuilder();
        for (int i = 0; i < page.documents().size(); i++) {
            Document d = page.documents().get(i);
            List<String> chunks = page.chunks().get(i);
            for (int c = 0; c < chunks.size(); c++) {
                insert.append(insert.length() == 0 ? "" : ", ").append('(').append(CatalogStore.literal(d.id()))
                        .append(", ").append(c).append(", ").append(Sql.quote(chunks.get(c))).append(", ")
                        .append(CatalogStore.literal(d.metadata())).append(", '").append(d.hash()).append("', EMBED(")
                        .append(Sql.quote(chunks.get(c))).append(", ").append(Sql.quote(kb.embeddingModel()))
                        .append("))");
            }
        }
        String write = insert.length() == 0 ? null : "INSERT INTO " + kb.storageSql() + " ("
                + Sql.ident(KnowledgeBase.ID) + ", " + Sql.ident(KnowledgeBase.CHUNK_ID) + ", "
                + Sql.ident(KnowledgeBase.CHUNK_CONTENT) + ", " + Sql.ident(KnowledgeBase.METADATA) + ", "
                + Sql.ident(KnowledgeBase.CONTENT_HASH) + ", " + Sql.ident(KnowledgeBase.EMBEDDING) + ") VALUES "
                + insert;
        if (inTransaction) {
            return session.query(delete).thenCompose(r -> write == null ? CompletableFuture.completedFuture(null)
                    : statements.run(session, write));
        }
        return session.query("BEGIN")
                .thenCompose(r -> session.query(delete))
                .thenCompose(r -> write == null ? CompletableFuture.<Void>completedFuture(null)
                        : statements.run(session, write))
                .thenCompose(v -> session.query("COMMIT"))
                .thenApply(r -> (Void) null)
                .exceptionallyCompose(e -> session.query("ROLLBACK").handle((r, ignored) -> null)
                        .thenCompose(x -> CompletableFuture.failedFuture(e)));
    }

    /** A failed ingestion's error: the cause's code and SQLSTATE, and what was kept. */
    private static Throwable failed(Throwable error, KnowledgeBase kb, int written, int total, boolean inTransaction) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof ProxyException pe)) {
            return cause;
        }
        String kept = inTransaction ? "nothing of this INSERT was kept (it was rolled back to where it started; your"
                + " transaction stays open)" : written + " of the " + total + " new or changed documents were written"
                + " before it (each with all its chunks); run the INSERT again to write the rest: unchanged documents"
                + " are skipped";
        return new ProxyException(pe.code(), pe.sqlState(), "INSERT INTO " + kb.name() + " stopped: "
                + pe.getMessage() + "; " + kept, pe);
    }

    private static PipelineResult ok(StatementSession session, long affected, String info) {
        return PipelineResult.reply(Packets.ok(session.alloc(), 1, affected, 0, session.serverStatus(), 0, info,
                session.sessionTrack()));
    }

    /** A knowledge base named in a statement, the statement's tokens and the index of the name's last token. */
    private record NamedKnowledgeBase(List<Token> tokens, KnowledgeBase kb, int last) {}

    /**
     * The knowledge base an INSERT, DELETE or UPDATE writes, or null: its first token is the verb, then any of
     * {@code modifiers}, then {@code keyword} ({@code INTO}, {@code FROM}; null for none; a statement without it is not
     * read when it is {@code required}), then the name. Statements that name no knowledge base at all (flagged for
     * another reason, such as an AI call) are not tokenized.
     */
    private static NamedKnowledgeBase target(String sql, CatalogSnapshot snapshot, Set<String> modifiers,
            String keyword, boolean required) {
        if (snapshot.knowledgeBaseNames().isEmpty()) {
            return null;
        }
        String lower = sql.toLowerCase(java.util.Locale.ROOT);
        if (snapshot.knowledgeBaseNames().stream().noneMatch(lower::contains)) {
            return null;
        }
        List<Token> tokens = SqlLexer.tokenize(sql); // neutral SQL: read as the parser reads it
        int i = 1;
        while (modifiers.stream().anyMatch(tokens.get(i)::is)) {
            i++;
        }
        if (keyword != null && tokens.get(i).is(keyword)) {
            i++;
        } else if (required) {
            return null;
        }
        return tokens.get(i).isName() ? knowledgeBaseAt(tokens, i, snapshot) : null;
    }

    /** The knowledge base named at token {@code i} ({@code kb} or MindsDB's {@code mindsdb.kb}), or null. */
    private static NamedKnowledgeBase knowledgeBaseAt(List<Token> tokens, int i, CatalogSnapshot snapshot) {
        Token name = tokens.get(i);
        if (tokens.get(i + 1).isSymbol('.')) {
            if (!name.text().equalsIgnoreCase(DdlParser.MINDSDB_PROJECT) || !tokens.get(i + 2).isName()) {
                return null;
            }
            i += 2;
            name = tokens.get(i);
        }
        KnowledgeBase kb = snapshot.knowledgeBase(name.text());
        return kb == null ? null : new NamedKnowledgeBase(tokens, kb, i);
    }
}
