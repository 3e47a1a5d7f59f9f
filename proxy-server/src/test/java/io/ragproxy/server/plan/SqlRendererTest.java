package io.ragproxy.server.plan;

import static io.ragproxy.server.testing.SqlText.unlabelled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.dialect.Dialect;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class SqlRendererTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;


    /** Renders {@code sql}, replacing every AI call by {@code replacement(call)}. */
    static String render(String sql, Dialect dialect, Function<AiCall, String> replacement) {
        StatementAnalysis a = StatementAnalysis.parse(sql, PARSER);
        Map<AiCall, String> r = new IdentityHashMap<>();
        for (AiCall c : a.calls()) {
            r.put(c, replacement.apply(c));
        }
        String out = SqlRenderer.render(a, r, dialect);
        assertFalse(out.contains("ragproxy_literal_"), "placeholder leaked: " + out);
        assertFalse(out.contains("\u0000"), "vector marker leaked: " + out);
        return unlabelled(out);
    }

    @Test
    void unaliasedRewrittenColumnsKeepTheirLabel() {
        StatementAnalysis a = StatementAnalysis.parse(
                "SELECT VEC_COSINE_DISTANCE(v, '[1,2]'), GENERATE('x') AS g, id FROM t", PARSER);
        Map<AiCall, String> r = new IdentityHashMap<>();
        a.calls().forEach(c -> r.put(c, "'gen'"));
        assertEquals("SELECT VEC_DISTANCE_COSINE(v, VEC_FromText('[1,2]')) AS `VEC_COSINE_DISTANCE(v, '[1,2]')`,"
                + " 'gen' AS g, id FROM t", SqlRenderer.render(a, r, Dialect.MARIADB));
    }

    /** What the planner substitutes: a vector literal of "[n]" where n is the text's length, or the distance to it. */
    static String planned(AiCall c, Dialect d) {
        String text = (String) ConstantValues.literal(c.text());
        String literal = d.vectorLiteralOfText("[" + text.length() + "]");
        return switch (c.function()) {
            case VEC_EMBED_COSINE_DISTANCE -> d.cosineDistance() + "(" + SqlRenderer.VECTOR_ARGUMENT + ", " + literal + ")";
            case VEC_EMBED_L2_DISTANCE -> d.l2Distance() + "(" + SqlRenderer.VECTOR_ARGUMENT + ", " + literal + ")";
            case GENERATE -> ConstantValues.quote("gen " + text);
            default -> literal;
        };
    }

    @Test
    void nestedCallsResolveOnMariadb() {
        assertEquals("SELECT VEC_DISTANCE_COSINE(VEC_FromText('[1]'), VEC_FromText('[2]'))",
                render("SELECT VEC_EMBED_COSINE_DISTANCE(EMBED('a'), 'bb')", Dialect.MARIADB, c -> planned(c, Dialect.MARIADB)));
    }

    @Test
    void nestedCallsResolveOnTidb() {
        assertEquals("SELECT VEC_COSINE_DISTANCE('[1]', '[2]')",
                render("SELECT VEC_EMBED_COSINE_DISTANCE(EMBED('a'), 'bb')", Dialect.TIDB, c -> planned(c, Dialect.TIDB)));
    }

    @Test
    void distanceOverColumnAndStringVector() {
        assertEquals("SELECT VEC_DISTANCE_EUCLIDEAN(t.v, VEC_FromText('[3]')), "
                        + "VEC_DISTANCE_COSINE(VEC_FromText('[0.5,1]'), VEC_FromText('[1]')) FROM t",
                render("SELECT VEC_EMBED_L2_DISTANCE(t.v, 'abc'), VEC_EMBED_COSINE_DISTANCE('[0.5,1]', 'x') FROM t",
                        Dialect.MARIADB, c -> planned(c, Dialect.MARIADB)));
        assertEquals("SELECT VEC_L2_DISTANCE(t.v, '[3]'), VEC_COSINE_DISTANCE('[0.5,1]', '[1]') FROM t",
                render("SELECT VEC_EMBED_L2_DISTANCE(t.v, 'abc'), VEC_EMBED_COSINE_DISTANCE('[0.5,1]', 'x') FROM t",
                        Dialect.TIDB, c -> planned(c, Dialect.TIDB)));
    }

    @Test
    void tidbSpellingsTranslatedOnMariadb() {
        String sql = "SELECT VEC_AS_TEXT(v), GENERATE('q') FROM t WHERE VEC_COSINE_DISTANCE(v, '[1,2]') < 0.5 "
                + "ORDER BY vec_l2_distance('[3]', VEC_FROM_TEXT('[4]'))";
        assertEquals("SELECT VEC_ToText(v), 'gen q' FROM t WHERE VEC_DISTANCE_COSINE(v, VEC_FromText('[1,2]')) < 0.5 "
                        + "ORDER BY VEC_DISTANCE_EUCLIDEAN(VEC_FromText('[3]'), VEC_FromText('[4]'))",
                render(sql, Dialect.MARIADB, c -> planned(c, Dialect.MARIADB)));
    }

    @Test
    void tidbSpellingsUntouchedOnTidb() {
        String sql = "SELECT VEC_AS_TEXT(v), GENERATE('q') FROM t WHERE VEC_COSINE_DISTANCE(v, '[1,2]') < 0.5";
        assertEquals("SELECT VEC_AS_TEXT(v), 'gen q' FROM t WHERE VEC_COSINE_DISTANCE(v, '[1,2]') < 0.5",
                render(sql, Dialect.TIDB, c -> planned(c, Dialect.TIDB)));
    }

    @Test
    void nonVectorStringInDistanceStays() {
        assertEquals("SELECT VEC_DISTANCE_COSINE(v, 'abc'), 'gen x' FROM t",
                render("SELECT VEC_COSINE_DISTANCE(v, 'abc'), GENERATE('x') FROM t", Dialect.MARIADB,
                        c -> planned(c, Dialect.MARIADB)));
    }

    @Test
    void vectorFromTidbFunctionTranslatedInsideDistanceCall() {
        assertEquals("SELECT VEC_DISTANCE_COSINE(VEC_FromText('[1]'), VEC_FromText('[1]'))",
                render("SELECT VEC_EMBED_COSINE_DISTANCE(VEC_FROM_TEXT('[1]'), 'q')", Dialect.MARIADB,
                        c -> planned(c, Dialect.MARIADB)));
    }

    @Test
    void manyCallsDoNotConfusePlaceholders() {
        StringBuilder sql = new StringBuilder("SELECT ");
        StringBuilder expected = new StringBuilder("SELECT ");
        for (int i = 0; i < 23; i++) {
            sql.append(i == 0 ? "" : ", ").append("GENERATE('").append(i).append("')");
            expected.append(i == 0 ? "" : ", ").append("'gen ").append(i).append("'");
        }
        assertEquals(expected.toString(), render(sql.toString(), Dialect.TIDB, c -> planned(c, Dialect.TIDB)));
    }

    @Test
    void replacementsMayHoldAnyText() {
        String out = render("SELECT GENERATE('a'), GENERATE('b')", Dialect.TIDB,
                c -> c.text().toString().equals("'a'") ? "'$1 \\\\ $0 ()'" : "_utf8mb4 X'00'");
        assertEquals("SELECT '$1 \\\\ $0 ()', _utf8mb4 X'00'", out);
    }

    @Test
    void insertValuesAllRows() {
        assertEquals("INSERT INTO t (v) VALUES (VEC_FromText('[1]')), (VEC_FromText('[2]'))",
                render("INSERT INTO t (v) VALUES (EMBED('a')), (EMBED('bb'))", Dialect.MARIADB,
                        c -> planned(c, Dialect.MARIADB)));
    }

    @Test
    void missingReplacementFails() {
        StatementAnalysis a = StatementAnalysis.parse("SELECT EMBED('a')", PARSER);
        assertThrows(IllegalStateException.class, () -> SqlRenderer.render(a, Map.of(), Dialect.TIDB));
    }

    /**
     * A MariaDB bulk batch of 1,000 rows is bound into one INSERT with 1,000 EMBED calls whose vectors make a text of
     * megabytes: every call is substituted, in order.
     */
    @Test
    void aThousandRowInsertRendersEveryCallInItsPlace() {
        StringBuilder sql = new StringBuilder("INSERT INTO docs (id, content, embedding) VALUES ");
        for (int i = 0; i < 1000; i++) {
            sql.append(i == 0 ? "" : ", ").append("(").append(i).append(", 'a text', EMBED('text ")
                    .append(i).append("'))");
        }
        String vector = "0.012345678,".repeat(511) + "0.5";
        long started = System.nanoTime();
        String out = render(sql.toString(), Dialect.MARIADB,
                c -> "VEC_FromText('[" + vector + "," + ConstantValues.literal(c.text()) + "]')");
        System.out.printf("rendered %,d chars in %d ms%n", out.length(), (System.nanoTime() - started) / 1_000_000);
        for (int i : new int[] {0, 1, 500, 999}) {
            assertTrue(out.contains("(" + i + ", 'a text', VEC_FromText('[" + vector + ",text " + i
                    + "]'))"), "row " + i);
        }
    }
}
