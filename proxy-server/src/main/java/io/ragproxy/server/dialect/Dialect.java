package io.ragproxy.server.dialect;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How the backend spells vectors: TiDB takes a string literal {@code '[0.1,0.2]'} wherever a vector is expected
 * and names its distance functions {@code VEC_COSINE_DISTANCE}/{@code VEC_L2_DISTANCE}; MariaDB needs
 * {@code VEC_FromText('[0.1,0.2]')} and names them {@code VEC_DISTANCE_COSINE}/{@code VEC_DISTANCE_EUCLIDEAN}.
 * On MariaDB the proxy translates TiDB's spellings, so the README's TiDB SQL runs unchanged on the local backend.
 */
public enum Dialect {
    TIDB,
    MARIADB;

    /** TiDB function name (upper case) → MariaDB spelling. */
    private static final Map<String, String> TIDB_TO_MARIADB = Map.of(
            "VEC_COSINE_DISTANCE", "VEC_DISTANCE_COSINE",
            "VEC_L2_DISTANCE", "VEC_DISTANCE_EUCLIDEAN",
            "VEC_FROM_TEXT", "VEC_FromText",
            "VEC_AS_TEXT", "VEC_ToText");

    /** Vector-typed parameters of TiDB's distance functions that take a string literal on TiDB. */
    private static final Set<String> DISTANCE_FUNCTIONS = Set.of("VEC_COSINE_DISTANCE", "VEC_L2_DISTANCE");

    /**
     * The dialect to use.
     *
     * @param configured {@code auto}, {@code tidb} or {@code mariadb} (backend.dialect)
     * @param backendVersion the version string from the backend's handshake
     */
    public static Dialect of(String configured, String backendVersion) {
        return switch (configured.toLowerCase(Locale.ROOT)) {
            case "tidb" -> TIDB;
            case "mariadb" -> MARIADB;
            default -> backendVersion != null && backendVersion.contains("MariaDB") ? MARIADB : TIDB;
        };
    }

    /** A vector as text, {@code [0.1,0.2]}, shortest round-tripping decimal for each float. */
    public static String vectorText(float[] vector) {
        StringBuilder b = new StringBuilder(vector.length * 11 + 2).append('[');
        for (int i = 0; i < vector.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            float f = vector[i];
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException("the model returned a vector with a non-finite value");
            }
            b.append(f);
        }
        return b.append(']').toString();
    }

    /** A vector literal in this dialect. */
    public String vectorLiteral(float[] vector) {
        return vectorLiteralOfText(vectorText(vector));
    }

    /** A vector from a SQL expression that yields its text form {@code [..]} (NULL stays NULL). */
    public String vectorFromText(String textExpression) {
        return (this == MARIADB ? "VEC_FromText(" : "VEC_FROM_TEXT(") + textExpression + ")";
    }

    /** A vector literal in this dialect from its text form {@code [..]}. */
    public String vectorLiteralOfText(String text) {
        String quoted = "'" + text + "'";
        return this == MARIADB ? "VEC_FromText(" + quoted + ")" : quoted;
    }

    /** The column type of a vector of {@code dimensions} floats (TiDB also reads {@code VECTOR<FLOAT>(n)}). */
    public String vectorType(int dimensions) {
        return "VECTOR(" + dimensions + ")";
    }

    /**
     * Whether the backend has {@code INVISIBLE} columns (MariaDB; TiDB has none), which hold the source-text hash of
     * an auto-embedding column without changing {@code SELECT *} or an {@code INSERT} without a column list.
     */
    public boolean invisibleColumns() {
        return this == MARIADB;
    }

    /** The backend's cosine distance function. */
    public String cosineDistance() {
        return this == MARIADB ? "VEC_DISTANCE_COSINE" : "VEC_COSINE_DISTANCE";
    }

    /**
     * The full-text relevance of {@code column} to {@code query} (both SQL), higher is better and 0 for no match:
     * MariaDB's {@code MATCH (column) AGAINST (query)} (natural language mode, over a {@code FULLTEXT} index), TiDB's
     * {@code fts_match_word(query, column)} (BM25, over a {@code FULLTEXT} index, TiDB Cloud 8.x).
     */
    public String fullTextScore(String column, String query) {
        return this == MARIADB ? "MATCH (" + column + ") AGAINST (" + query + ")"
                : "fts_match_word(" + query + ", " + column + ")";
    }

    /** The backend's Euclidean (L2) distance function. */
    public String l2Distance() {
        return this == MARIADB ? "VEC_DISTANCE_EUCLIDEAN" : "VEC_L2_DISTANCE";
    }

    /** The backend's spelling of the TiDB vector function {@code name}, or null when it needs no change. */
    public String translateFunction(String name) {
        return this == MARIADB ? TIDB_TO_MARIADB.get(name.toUpperCase(Locale.ROOT)) : null;
    }

    /** Whether {@code name} is a TiDB distance function whose string-literal arguments are vectors. */
    public static boolean isTidbDistanceFunction(String name) {
        return DISTANCE_FUNCTIONS.contains(name.toUpperCase(Locale.ROOT));
    }

    /** Function names the scan must flag for this dialect even without an AI call, because they need translating. */
    public Set<String> translatedFunctionNames() {
        return this == MARIADB ? TIDB_TO_MARIADB.keySet() : Set.of();
    }
}
