package io.ragproxy.server.catalog;

import io.ragproxy.server.scan.SqlLexer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A TiDB Cloud auto-embedding column, {@code embedding VECTOR(n) GENERATED ALWAYS AS (EMBED_TEXT('model', content
 * [, options])) STORED}: the backend gets a plain {@code VECTOR(n)} column, and the proxy fills it in every INSERT,
 * REPLACE and UPDATE of the source it runs, with the built-in {@code EMBED_TEXT('model', <source>, '<options>')}.
 *
 * <p>Options follow TiDB Cloud: a key with the suffix {@code @search} (for example
 * {@code "input_type@search": "search_query"}) replaces the key of the same name when the column is searched with
 * {@code VEC_EMBED_COSINE_DISTANCE(column, 'text')}; stored values use the keys without the suffix.
 *
 * <p><b>Stale vectors.</b> When the backend has invisible columns (MariaDB), the table also gets {@link #sourceHash()},
 * an {@code INVISIBLE BINARY(32)} column holding the SHA-256 of the source text the vector was computed from (as
 * utf8mb4). Every write through the proxy that sets the vector sets the hash in the same statement, from the same
 * source expression ({@link #hashSql}), so a text changed behind the proxy's back (a direct connection) no longer
 * matches its hash: {@link #staleCondition()}. Invisible, the column stays out of {@code SELECT *} and out of an
 * {@code INSERT … VALUES} without a column list. Without it (TiDB has no invisible columns; tables created before
 * ragproxy tracked hashes) only missing vectors are found.
 *
 * @param schema the table's database
 * @param table the table
 * @param column the vector column
 * @param dimensions the vector's dimensions as declared, or null when the declaration had none
 * @param model the embedding model named in EMBED_TEXT
 * @param source the source expression as written (usually a column name)
 * @param options the options JSON as written, or null
 * @param sourceHash the invisible column holding the SHA-256 of the source text the vector was made from, or null
 *     when the table has none (stale vectors are then not tracked)
 */
public record EmbeddingRule(String schema, String table, String column, Integer dimensions, String model,
        String source, String options, String sourceHash) implements CatalogObject {

    private static final String SEARCH_SUFFIX = "@search";

    /** What a source expression may call: text functions of the row's own columns. */
    static final Set<String> SOURCE_FUNCTIONS = Set.of("CONCAT", "CONCAT_WS", "COALESCE", "IFNULL", "NULLIF", "LOWER",
            "UPPER", "LCASE", "UCASE", "TRIM", "LTRIM", "RTRIM", "SUBSTRING", "SUBSTR", "LEFT", "RIGHT", "REPLACE",
            "JSON_UNQUOTE", "JSON_EXTRACT", "JSON_VALUE");

    /**
     * @throws IllegalArgumentException when {@code source} is not a column, a literal, or an allowed text function
     *     of them (see {@link #checkSource})
     */
    public EmbeddingRule {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(column, "column");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(source, "source");
        checkSource(source, null);
    }

    /** A rule without a hash column: stale vectors are not tracked. */
    public EmbeddingRule(String schema, String table, String column, Integer dimensions, String model, String source,
            String options) {
        this(schema, table, column, dimensions, model, source, options, null);
    }

    /** Suffix of the hash column's name: unlikely in a user's schema, and telling whose column it is. */
    static final String HASH_SUFFIX = "_ragproxy_sha256";
    /** MySQL's and MariaDB's longest column name. */
    private static final int MAX_IDENTIFIER = 64;

    /**
     * The name of the hash column for the vector column {@code column}: {@code <column>_ragproxy_sha256}, shortened
     * (with a digest of the full name, so two long names stay apart) to 64 characters, with {@code _2}, {@code _3}…
     * appended while it names one of {@code taken} (compared case-insensitively, as column names are).
     */
    static String hashColumnName(String column, Collection<String> taken) {
        String base = column + HASH_SUFFIX;
        if (base.length() > MAX_IDENTIFIER - 3) {
            String digest = Integer.toHexString(column.toLowerCase(java.util.Locale.ROOT).hashCode());
            base = column.substring(0, MAX_IDENTIFIER - 3 - HASH_SUFFIX.length() - digest.length() - 1) + "_" + digest
                    + HASH_SUFFIX;
        }
        String name = base;
        for (int n = 2; contains(taken, name); n++) {
            name = base + "_" + n;
        }
        return name;
    }

    private static boolean contains(Collection<String> names, String name) {
        return names.stream().anyMatch(n -> n.equalsIgnoreCase(name));
    }

    /** Whether the table has the hash column, so that stale vectors are found. */
    public boolean tracksStaleness() {
        return sourceHash != null;
    }

    /**
     * The SHA-256 (32 bytes) of the text {@code sourceSql} yields, as utf8mb4: the value of the hash column. The
     * conversion makes the hash independent of the column's and the connection's character sets; NULL text gives
     * NULL.
     */
    public static String hashSql(String sourceSql) {
        // JSqlParser (which reads the rewritten statement again) takes a call in CONVERT(… USING …) only in
        // parentheses, but reads (VALUES(c)) as a subquery, which would mean the row's old value in an ODKU.
        String text = VALUES_CALL.matcher(sourceSql).matches() ? sourceSql : "(" + sourceSql + ")";
        return "UNHEX(SHA2(CONVERT(" + text + " USING utf8mb4), 256))";
    }

    private static final java.util.regex.Pattern VALUES_CALL =
            java.util.regex.Pattern.compile("(?i)\\s*VALUES?\\s*\\(\\s*[`\\w$.]+\\s*\\)\\s*");

    /** Rows whose vector is missing: NULL while the source has text. */
    public String missingCondition() {
        return Sql.ident(column) + " IS NULL AND (" + source + ") <> ''";
    }

    /**
     * Rows whose vector is stale: it is there, but the hash column does not hold the hash of the current source
     * text (null-safe: a vector written behind the proxy's back has no hash; a text set to NULL behind its back no
     * longer matches the old hash). Null when the table has no hash column.
     */
    public String staleCondition() {
        if (sourceHash == null) {
            return null;
        }
        return Sql.ident(column) + " IS NOT NULL AND NOT (" + Sql.ident(sourceHash) + " <=> " + hashSql(source) + ")";
    }

    /** Rows to refresh: missing, or (when tracked) stale. */
    public String pendingCondition() {
        return sourceHash == null ? missingCondition()
                : "(" + missingCondition() + ") OR (" + staleCondition() + ")";
    }

    /**
     * Checks a source expression: a column ({@code columns}' when given), a string or number literal, NULL, or one
     * of {@link #SOURCE_FUNCTIONS} of such expressions. The proxy writes the source into other users' statements
     * (their INSERTs, SHOW RAG PENDING), so a catalog row must not be able to make them run anything else, such as
     * a subquery of a table they may read.
     *
     * @return null when it is fine, else what is wrong and the token where
     */
    static SqlLexer.Token checkSource(String source, Collection<String> columns) {
        List<SqlLexer.Token> tokens = SqlLexer.tokenize(source);
        int[] at = {0};
        boolean ok = sourceExpression(tokens, at, columns) && tokens.get(at[0]).type() == SqlLexer.Type.END;
        if (ok) {
            return null;
        }
        SqlLexer.Token bad = tokens.get(Math.min(at[0], tokens.size() - 1));
        if (columns == null) {
            throw new IllegalArgumentException("the source of an auto-embedding column must be a column, a literal or "
                    + String.join(", ", new TreeSet<>(SOURCE_FUNCTIONS)) + " of them; not " + source);
        }
        return bad;
    }

    private static boolean sourceExpression(List<SqlLexer.Token> tokens, int[] at, Collection<String> columns) {
        SqlLexer.Token t = tokens.get(at[0]);
        if (t.type() == SqlLexer.Type.STRING || t.type() == SqlLexer.Type.NUMBER || t.is("NULL")) {
            at[0]++;
            return true;
        }
        if (!t.isName()) {
            return false;
        }
        if (tokens.get(at[0] + 1).isSymbol('(')) {
            if (t.type() != SqlLexer.Type.WORD || !SOURCE_FUNCTIONS.contains(t.upper())) {
                return false;
            }
            at[0] += 2;
            if (tokens.get(at[0]).isSymbol(')')) {
                at[0]++;
                return true;
            }
            do {
                if (!sourceExpression(tokens, at, columns)) {
                    return false;
                }
            } while (tokens.get(at[0]).isSymbol(',') && ++at[0] > 0);
            if (!tokens.get(at[0]).isSymbol(')')) {
                return false;
            }
            at[0]++;
            return true;
        }
        if (columns != null && columns.stream().noneMatch(c -> c.equalsIgnoreCase(t.text()))) {
            return false;
        }
        at[0]++;
        return true;
    }

    @Override
    public Kind kind() {
        return Kind.EMBEDDING;
    }

    @Override
    public String schemaName() {
        return schema;
    }

    /** {@code schema.table.column}, lower case. */
    @Override
    public String name() {
        return tableKey() + "." + CatalogObject.key(column);
    }

    /** {@code schema.table}, lower case. */
    public String tableKey() {
        return tableKey(schema, table);
    }

    static String tableKey(String schema, String table) {
        return CatalogObject.key(schema) + "." + CatalogObject.key(table);
    }

    /** The options for stored values: the keys without the {@code @search} suffix; null when there are none. */
    public String storedOptions() {
        return options(false);
    }

    /** The options for a search text: {@code key@search} values replace {@code key}; null when there are none. */
    public String searchOptions() {
        return options(true);
    }

    private String options(boolean search) {
        if (options == null || options.isBlank()) {
            return null;
        }
        JsonNode node = parse(options);
        ObjectNode out = JSON.createObjectNode();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getKey().endsWith(SEARCH_SUFFIX)) {
                out.set(e.getKey(), e.getValue());
            }
        }
        if (search) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                if (e.getKey().endsWith(SEARCH_SUFFIX)) {
                    out.set(e.getKey().substring(0, e.getKey().length() - SEARCH_SUFFIX.length()), e.getValue());
                }
            }
        }
        return out.isEmpty() ? null : out.toString();
    }

    /** Parses options JSON, which must be an object. */
    static JsonNode parse(String options) {
        try {
            JsonNode node = JSON.readTree(options);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("EMBED_TEXT options must be a JSON object, got: " + options);
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("EMBED_TEXT options are not valid JSON (" + e.getOriginalMessage()
                    + "): " + options);
        }
    }

    /** The built-in call embedding {@code sourceSql}, with the stored or the search options. */
    public String embedSql(String sourceSql, boolean search) {
        String o = search ? searchOptions() : storedOptions();
        return "EMBED_TEXT(" + Sql.quote(model) + ", " + sourceSql + (o == null ? "" : ", " + Sql.quote(o)) + ")";
    }

    @Override
    public ObjectNode definition() {
        ObjectNode d = JSON.createObjectNode();
        d.put("schema", schema);
        d.put("table", table);
        d.put("column", column);
        if (dimensions != null) {
            d.put("dimensions", dimensions);
        }
        d.put("model", model);
        d.put("source", source);
        if (options != null) {
            d.put("options", options);
        }
        if (sourceHash != null) {
            d.put("source_hash", sourceHash);
        }
        return d;
    }

    static EmbeddingRule fromDefinition(JsonNode d) {
        return new EmbeddingRule(CatalogObject.text(d, "schema"), CatalogObject.text(d, "table"),
                CatalogObject.text(d, "column"), d.hasNonNull("dimensions") ? d.get("dimensions").asInt() : null,
                CatalogObject.text(d, "model"), CatalogObject.text(d, "source"), CatalogObject.text(d, "options"),
                CatalogObject.text(d, "source_hash")); // absent in rows written before hashes were tracked
    }

    @Override
    public String signature() {
        return Sql.table(schema, table) + "." + Sql.ident(column) + " = EMBED_TEXT(" + Sql.quote(model) + ", " + source
                + (options == null ? "" : ", " + Sql.quote(options)) + ")";
    }
}
