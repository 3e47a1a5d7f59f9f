package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A MindsDB knowledge base, {@code CREATE KNOWLEDGE_BASE kb USING embedding_model = …, storage = db.t, …}: documents
 * inserted into it are split into chunks, embedded and stored in its storage table (one row per chunk); a
 * {@code SELECT … FROM kb WHERE content = 'question'} reads the chunks nearest the question. Its name is global, as
 * a MindsDB model's.
 *
 * @param name the knowledge base's name (lower case)
 * @param embeddingModel the embedding model, as resolved when it was created (never null)
 * @param dimensions the model's vector dimensions, the storage table's VECTOR(n)
 * @param rerankingModel the reranking model as given, whose score a search's {@code relevance} becomes, or null for none
 * @param schema the storage table's database
 * @param table the storage table
 * @param contentColumns the inserted columns whose text is chunked and embedded (joined by a blank line)
 * @param metadataColumns the inserted columns kept as each chunk's metadata; empty: every column that is neither
 *     content nor id
 * @param idColumn the inserted column that identifies a document (re-inserting it replaces its chunks)
 * @param preprocessing CHUNK_TEXT's options JSON for the chunking, or null for its defaults
 * @param hybridSearch whether a search fuses the full-text ranking with the vector ranking unless the query says
 *     {@code hybrid_search = false} (a definition written before this setting existed has none: false)
 * @param hybridSearchAlpha the vector ranking's weight in a hybrid search, 0 to 1, unless the query gives
 *     {@code hybrid_search_alpha}; null for the default
 */
public record KnowledgeBase(String name, String embeddingModel, int dimensions, String rerankingModel, String schema,
        String table, List<String> contentColumns, List<String> metadataColumns, String idColumn,
        String preprocessing, boolean hybridSearch, Double hybridSearchAlpha) implements CatalogObject {

    /** The storage table's columns: a surrogate key, the document's id, the chunk's number in it, … */
    public static final String ROW_ID = "row_id";
    public static final String ID = "id";
    public static final String CHUNK_ID = "chunk_id";
    public static final String CHUNK_CONTENT = "chunk_content";
    public static final String METADATA = "metadata";
    public static final String CONTENT_HASH = "content_hash";
    public static final String EMBEDDING = "embedding";

    public KnowledgeBase {
        name = CatalogObject.key(Objects.requireNonNull(name, "name"));
        Objects.requireNonNull(embeddingModel, "embeddingModel");
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        contentColumns = lower(contentColumns);
        metadataColumns = lower(metadataColumns);
        idColumn = CatalogObject.key(Objects.requireNonNull(idColumn, "idColumn"));
    }

    private static List<String> lower(List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names == null ? List.<String>of() : names) {
            out.add(CatalogObject.key(n));
        }
        return List.copyOf(out);
    }

    @Override
    public Kind kind() {
        return Kind.KNOWLEDGE_BASE;
    }

    /** The storage table as SQL, {@code `db`.`t`}. */
    public String storageSql() {
        return Sql.table(schema, table);
    }

    @Override
    public ObjectNode definition() {
        ObjectNode d = JSON.createObjectNode();
        d.put("embedding_model", embeddingModel);
        d.put("dimensions", dimensions);
        if (rerankingModel != null) {
            d.put("reranking_model", rerankingModel);
        }
        d.put("storage_schema", schema);
        d.put("storage_table", table);
        ArrayNode content = d.putArray("content_columns");
        contentColumns.forEach(content::add);
        ArrayNode metadata = d.putArray("metadata_columns");
        metadataColumns.forEach(metadata::add);
        d.put("id_column", idColumn);
        if (preprocessing != null) {
            d.put("preprocessing", preprocessing);
        }
        if (hybridSearch) {
            d.put("hybrid_search", true);
        }
        if (hybridSearchAlpha != null) {
            d.put("hybrid_search_alpha", hybridSearchAlpha);
        }
        return d;
    }

    static KnowledgeBase fromDefinition(String name, JsonNode d) {
        List<String> content = new ArrayList<>();
        d.path("content_columns").forEach(c -> content.add(c.asText()));
        List<String> metadata = new ArrayList<>();
        d.path("metadata_columns").forEach(c -> metadata.add(c.asText()));
        return new KnowledgeBase(name, CatalogObject.text(d, "embedding_model"), d.path("dimensions").asInt(),
                CatalogObject.text(d, "reranking_model"), CatalogObject.text(d, "storage_schema"),
                CatalogObject.text(d, "storage_table"), content, metadata, CatalogObject.text(d, "id_column"),
                CatalogObject.text(d, "preprocessing"), d.path("hybrid_search").asBoolean(false),
                d.path("hybrid_search_alpha").isNumber() ? d.path("hybrid_search_alpha").asDouble() : null);
    }

    @Override
    public String signature() {
        return "INSERT INTO " + name + " SELECT " + idColumn + ", " + String.join(", ", contentColumns)
                + (metadataColumns.isEmpty() ? "" : ", " + String.join(", ", metadataColumns)) + " FROM …  |  SELECT "
                + "chunk_content, metadata, distance, relevance FROM " + name + " WHERE content = '…' LIMIT n";
    }
}
