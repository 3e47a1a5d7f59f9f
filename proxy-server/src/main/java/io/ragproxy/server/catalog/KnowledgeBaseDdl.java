package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;
import io.ragproxy.server.text.SqlMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parses MindsDB's knowledge base statements: {@code CREATE [OR REPLACE] KNOWLEDGE_BASE [IF NOT EXISTS] kb [USING]
 * key = value, …}, {@code DROP KNOWLEDGE_BASE [IF EXISTS] kb}, {@code DESCRIBE KNOWLEDGE_BASE kb} and
 * {@code SHOW KNOWLEDGE_BASES}. A name may be qualified with MindsDB's project, {@code mindsdb.kb}.
 */
final class KnowledgeBaseDdl {
    /** The USING keys; {@code storage} is {@code db.table} or {@code table}. */
    static final Set<String> KEYS = Set.of("embedding_model", "reranking_model", "storage", "content_columns",
            "metadata_columns", "id_column", "preprocessing", KnowledgeBaseQuery.HYBRID, KnowledgeBaseQuery.HYBRID_ALPHA);

    /** A parsed statement. */
    sealed interface Statement permits Create, Drop, Describe, Show {}

    /**
     * {@code CREATE KNOWLEDGE_BASE}.
     *
     * @param storageSchema the storage's database as written, or null (the current one)
     * @param storageTable the storage table as written, or null (the default, {@code <name>_chunks})
     * @param embeddingModel as written, or null (the session's default embedding model)
     * @param hybridSearch {@code hybrid_search = true|false}, or null (false: vector search only)
     * @param hybridSearchAlpha {@code hybrid_search_alpha}, 0 to 1, or null (the default weight)
     */
    record Create(String name, boolean orReplace, boolean ifNotExists, String embeddingModel, String rerankingModel,
            String storageSchema, String storageTable, List<String> contentColumns, List<String> metadataColumns,
            String idColumn, String preprocessing, Boolean hybridSearch, Double hybridSearchAlpha)
            implements Statement {}

    record Drop(String name, boolean ifExists) implements Statement {}

    record Describe(String name) implements Statement {}

    record Show() implements Statement {}

    private final String sql;
    private final TokenCursor t;

    private KnowledgeBaseDdl(String sql, SqlMode mode) {
        this.sql = sql;
        this.t = new TokenCursor(sql, mode);
    }

    static Statement parse(String sql, SqlMode mode) {
        return new KnowledgeBaseDdl(sql, mode).statement();
    }

    private Statement statement() {
        if (t.accept("SHOW")) {
            t.expect("KNOWLEDGE_BASES", "SHOW");
            t.expectEnd("SHOW KNOWLEDGE_BASES");
            return new Show();
        }
        if (t.accept("DESCRIBE") || t.accept("DESC")) {
            t.expect("KNOWLEDGE_BASE", "DESCRIBE");
            String name = name("DESCRIBE KNOWLEDGE_BASE");
            t.expectEnd("the knowledge base's name");
            return new Describe(name);
        }
        if (t.accept("DROP")) {
            t.expect("KNOWLEDGE_BASE", "DROP");
            boolean ifExists = false;
            if (t.accept("IF")) {
                t.expect("EXISTS", "IF");
                ifExists = true;
            }
            String name = name("DROP KNOWLEDGE_BASE");
            t.expectEnd("the knowledge base's name");
            return new Drop(name, ifExists);
        }
        t.expect("CREATE", "the start");
        boolean orReplace = false;
        if (t.accept("OR")) {
            t.expect("REPLACE", "CREATE OR");
            orReplace = true;
        }
        t.expect("KNOWLEDGE_BASE", "CREATE");
        boolean ifNotExists = false;
        if (t.accept("IF")) {
            t.expect("NOT", "IF");
            t.expect("EXISTS", "IF NOT");
            ifNotExists = true;
        }
        String name = name("CREATE KNOWLEDGE_BASE");
        Map<String, Object> using = new LinkedHashMap<>();
        if (t.accept("USING") || t.peek().isName()) {
            do {
                Token key = t.expectName("a parameter name", using.isEmpty() ? "USING" : ",");
                String k = key.text().toLowerCase(Locale.ROOT);
                if (DdlParser.isCredential(k)) {
                    throw new ProxyException(ProxyError.CREDENTIALS_IN_SQL, "line " + key.line() + ", column "
                            + key.column() + ": CREATE KNOWLEDGE_BASE got " + k + "; ragproxy takes no credentials in"
                            + " SQL: configure the model in ragproxy.toml, whose credentials come from the AWS"
                            + " default provider chain");
                }
                if (!KEYS.contains(k)) {
                    throw t.error(key, "CREATE KNOWLEDGE_BASE takes " + String.join(", ", KEYS.stream().sorted()
                            .toList()) + "; not " + key.text());
                }
                if (using.containsKey(k)) {
                    throw t.error(key, k + " is given twice");
                }
                t.expectSymbol('=', k);
                using.put(k, k.equals("storage") ? storage() : value(k));
            } while (t.acceptSymbol(','));
        }
        t.expectEnd(using.isEmpty() ? "the knowledge base's name" : "the USING parameters");
        String[] storage = (String[]) using.get("storage");
        return new Create(name, orReplace, ifNotExists, modelName(using.get("embedding_model"), "embedding_model"),
                reranking(using.get("reranking_model")), storage == null ? null : storage[0],
                storage == null ? null : storage[1], names(using.get("content_columns"), "content_columns"),
                names(using.get("metadata_columns"), "metadata_columns"), text(using.get("id_column"), "id_column"),
                preprocessing(using.get("preprocessing")), hybrid(using.get(KnowledgeBaseQuery.HYBRID)),
                alpha(using.get(KnowledgeBaseQuery.HYBRID_ALPHA)));
    }

    /** {@code [mindsdb.]name}. */
    private String name(String after) {
        Token first = t.expectName("the knowledge base's name", after);
        if (t.acceptSymbol('.')) {
            if (!first.text().equalsIgnoreCase(DdlParser.MINDSDB_PROJECT)) {
                throw t.error(first, "a knowledge base's name is global (MindsDB's project " + DdlParser.MINDSDB_PROJECT
                        + "); write " + after + " <name> or " + DdlParser.MINDSDB_PROJECT + ".<name>, not "
                        + first.text() + ".…");
            }
            return t.expectName("the knowledge base's name", first.text() + ".").text();
        }
        return first.text();
    }

    /** {@code db.table} or {@code table}, as names or one string. */
    private String[] storage() {
        Token first = t.take();
        if (first.type() == Type.STRING) {
            String[] parts = first.text().split("\\.", 2);
            return parts.length == 2 ? parts : new String[] {null, parts[0]};
        }
        if (!first.isName()) {
            throw t.error(first, "expected the storage table (db.table) after storage =, found " + first.describe());
        }
        if (t.acceptSymbol('.')) {
            return new String[] {first.text(), t.expectName("the storage table", first.text() + ".").text()};
        }
        return new String[] {null, first.text()};
    }

    /** A string, number, word, [list] or {JSON object}; the object is kept as its JSON text. */
    private Object value(String key) {
        Token v = t.peek();
        if (v.isSymbol('{')) {
            int depth = 0;
            Token open = v;
            Token close;
            do {
                close = t.take();
                if (close.type() == Type.END) {
                    throw t.error(open, "the {…} of " + key + " is not closed");
                }
                depth += close.isSymbol('{') ? 1 : close.isSymbol('}') ? -1 : 0;
            } while (depth > 0);
            try {
                return CatalogObject.JSON.readTree(sql.substring(open.start(), close.end()));
            } catch (Exception e) {
                throw t.error(open, key + " must be a JSON object, such as {\"size\": 800, \"overlap\": 100}: "
                        + e.getMessage().lines().findFirst().orElse(""));
            }
        }
        t.take();
        if (v.isSymbol('[')) {
            ArrayNode a = CatalogObject.JSON.createArrayNode();
            if (!t.acceptSymbol(']')) {
                do {
                    Token item = t.take();
                    if (item.type() != Type.STRING && !item.isName()) {
                        throw t.error(item, "the list of " + key + " holds column names, not " + item.describe());
                    }
                    a.add(item.text());
                } while (t.acceptSymbol(','));
                t.expectSymbol(']', "the list of " + key);
            }
            return a;
        }
        if (v.type() == Type.STRING || v.type() == Type.NUMBER || v.isName()) {
            return CatalogObject.JSON.getNodeFactory().textNode(v.text());
        }
        throw t.error(v, "expected a value (a quoted string, a [list] or a {JSON object}) after " + key + " =, found "
                + v.describe());
    }

    private static String text(Object value, String key) {
        if (value == null) {
            return null;
        }
        JsonNode n = (JsonNode) value;
        if (!n.isTextual()) {
            throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, key + " takes one name, not " + n);
        }
        return n.asText();
    }

    /** A model as a string, or MindsDB's object form {@code {"provider": …, "model_name": "…"}}. */
    private static String modelName(Object value, String key) {
        if (value instanceof JsonNode n && n.isObject()) {
            JsonNode model = n.path("model_name");
            if (!model.isTextual()) {
                throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, key + " as an object needs \"model_name\""
                        + " (a configured model, e.g. {\"model_name\": \"titan-v2\"}); got " + n);
            }
            return model.asText();
        }
        return text(value, key);
    }

    /** {@code false} (or none) means no reranking. */
    private static String reranking(Object value) {
        String name = modelName(value, "reranking_model");
        return name == null || name.equalsIgnoreCase("false") ? null : name;
    }

    /** {@code hybrid_search = true|false} (or 1|0). */
    private static Boolean hybrid(Object value) {
        if (value == null) {
            return null;
        }
        String v = ((JsonNode) value).asText().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, KnowledgeBaseQuery.HYBRID
                    + " takes true or false, not " + value);
        };
    }

    /** {@code hybrid_search_alpha = x}, 0 to 1. */
    private static Double alpha(Object value) {
        if (value == null) {
            return null;
        }
        try {
            double a = Double.parseDouble(((JsonNode) value).asText());
            if (a >= 0 && a <= 1) {
                return a;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, KnowledgeBaseQuery.HYBRID_ALPHA + " takes a"
                + " number from 0 (full-text only) to 1 (vector only), not " + value);
    }

    private static List<String> names(Object value, String key) {
        if (value == null) {
            return null;
        }
        JsonNode n = (JsonNode) value;
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            n.forEach(c -> out.add(c.asText()));
        } else {
            throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, key + " takes a list of column names, such"
                    + " as ['body'], not " + n);
        }
        return out;
    }

    private static String preprocessing(Object value) {
        if (value == null) {
            return null;
        }
        JsonNode n = (JsonNode) value;
        if (n.isObject()) {
            return n.toString();
        }
        if (n.isTextual()) {
            return n.asText(); // the options JSON as a string, as CHUNK_TEXT takes it
        }
        throw new ProxyException(ProxyError.KNOWLEDGE_BASE_DEFINITION, "preprocessing takes CHUNK_TEXT's options as a"
                + " JSON object, such as {\"size\": 800, \"overlap\": 100}; not " + n);
    }
}
