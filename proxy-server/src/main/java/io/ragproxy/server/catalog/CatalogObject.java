package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * A user-defined AI object in the catalog. Each kind has a table of its own in the backend's {@code ragproxy}
 * schema, so that a DBA can grant who may create which kind; the definition is stored as JSON.
 */
public sealed interface CatalogObject permits AliasFunction, MindsModel, MlEngine, EmbeddingRule,
        KnowledgeBase {

    /** Shared, thread-safe JSON mapper of the catalog. */
    ObjectMapper JSON = new ObjectMapper();

    /** The kinds of object and where each is stored. */
    enum Kind {
        /** An Aurora ML {@code CREATE FUNCTION … ALIAS AWS_BEDROCK_INVOKE_MODEL} function. */
        FUNCTION("functions", "function", "aurora function"),
        /** A MindsDB {@code CREATE MODEL … PREDICT … USING engine = …}. */
        MODEL("models", "model", "mindsdb model"),
        /** A MindsDB {@code CREATE ML_ENGINE … FROM bedrock}. */
        ML_ENGINE("ml_engines", "ml_engine", "mindsdb ml_engine"),
        /** A TiDB Cloud auto-embedding column ({@code GENERATED ALWAYS AS (EMBED_TEXT(…)) STORED}). */
        EMBEDDING("embedding_rules", "embedding", "auto-embedding column"),
        /** A MindsDB {@code CREATE KNOWLEDGE_BASE …}: chunked, embedded documents in a storage table. */
        KNOWLEDGE_BASE("knowledge_bases", "knowledge_base", "knowledge base");

        private final String table;
        private final String tag;
        private final String label;

        Kind(String table, String tag, String label) {
            this.table = table;
            this.tag = tag;
            this.label = label;
        }

        /** The table in schema {@code ragproxy} holding objects of this kind. */
        public String table() {
            return table;
        }

        /** The short tag the load query writes in its kind column. */
        String tag() {
            return tag;
        }

        /** How {@code SHOW RAG FUNCTIONS} names the kind. */
        public String label() {
            return label;
        }

        /** How statements spell the kind, e.g. {@code FUNCTION}, {@code ML_ENGINE}. */
        public String keyword() {
            return this == EMBEDDING ? "AUTO EMBEDDING" : name();
        }

        static Kind ofTag(String tag) {
            for (Kind k : values()) {
                if (k.tag.equals(tag)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown catalog kind " + tag);
        }
    }

    Kind kind();

    /** The key of the object within its kind and schema, lower case. */
    String name();

    /**
     * The database the object belongs to: an Aurora function's or an auto-embedding column's; empty for MindsDB
     * models and ML engines (their names are global, as in MindsDB's {@code mindsdb} project). Never null.
     */
    default String schemaName() {
        return "";
    }

    /** The object's key within its kind: {@code schema.name} for an Aurora function, else the name. */
    default String qualifiedKey() {
        return name();
    }

    /** The definition as stored in the catalog. */
    ObjectNode definition();

    /** How the object is used, for {@code SHOW RAG FUNCTIONS}' Signature column. */
    String signature();

    /** The object of {@code kind} named {@code name} from its stored definition. */
    static CatalogObject fromDefinition(Kind kind, String name, JsonNode definition) {
        return switch (kind) {
            case FUNCTION -> AliasFunction.fromDefinition(name, definition);
            case MODEL -> MindsModel.fromDefinition(name, definition);
            case ML_ENGINE -> MlEngine.fromDefinition(name, definition);
            case EMBEDDING -> EmbeddingRule.fromDefinition(definition);
            case KNOWLEDGE_BASE -> KnowledgeBase.fromDefinition(name, definition);
        };
    }

    /** The lower-case key of a name (ASCII letters only, as the scanner folds case). */
    static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    /** A text field of a definition, or null. */
    static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
