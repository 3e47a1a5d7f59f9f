package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TiDB's vector spellings through the proxy on the MariaDB backend, with no AI function in the statement: the
 * proxy translates them, the backend computes the same values as MariaDB's own spellings, and no model is called.
 */
class TidbVectorSpellingsTest {
    private static final String DB = "ragproxy_it_ai_spellings";
    private static AiProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        LocalBackend backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        backend.exec(DB, "CREATE TABLE v3 (id INT PRIMARY KEY, v VECTOR(3))",
                "INSERT INTO v3 VALUES (1, VEC_FromText('[1,2,3]')), (2, VEC_FromText('[3,-2,1]')),"
                        + " (3, VEC_FromText('[-0.5,4.25,0.125]'))");
        proxy = AiProxy.local();
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        LocalBackend.get().dropDatabase(DB);
    }

    @Test
    void distancesAndConversionsEqualMariadbsOwnSpellings() throws Exception {
        List<List<String>> direct;
        try (Connection c = LocalBackend.get().connect(DB)) {
            direct = rows(c, "SELECT id, VEC_DISTANCE_COSINE(v, VEC_FromText('[1,2,3]')),"
                    + " VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[1,2,3]')), VEC_ToText(v),"
                    + " VEC_ToText(VEC_FromText('[0.5,1]')) FROM v3 ORDER BY id");
        }
        try (Connection c = proxy.connect(DB)) {
            Map<String, String> before = status(c);
            List<List<String>> viaProxy = rows(c, "SELECT id, VEC_COSINE_DISTANCE(v, '[1,2,3]'),"
                    + " VEC_L2_DISTANCE(v, '[1,2,3]'), VEC_AS_TEXT(v), VEC_AS_TEXT(VEC_FROM_TEXT('[0.5,1]'))"
                    + " FROM v3 ORDER BY id");
            assertEquals(direct, viaProxy);
            // A translated function in WHERE / ORDER BY.
            assertEquals(List.of(List.of("1"), List.of("3"), List.of("2")),
                    rows(c, "SELECT id FROM v3 WHERE VEC_COSINE_DISTANCE(v, '[1,2,3]') < 2"
                            + " ORDER BY VEC_COSINE_DISTANCE(v, '[1,2,3]')"));
            Map<String, String> after = status(c);
            assertEquals(counter(before, "Rag_ml_requests"), counter(after, "Rag_ml_requests"), "no model call");
            assertEquals(counter(before, "Rag_ml_cache_misses"), counter(after, "Rag_ml_cache_misses"), "no model input");
        }
        // Sanity of the data: the three rows give three different distances.
        assertEquals(3, direct.stream().map(r -> r.get(1)).distinct().count());
    }

    /**
     * A client that reads a column by the name it wrote (MySQL names an unaliased select item by its text) must
     * not see the translated spelling.
     */
    @Test
    void columnLabelIsTheExpressionTheClientWrote() throws Exception {
        try (Connection c = proxy.connect(DB); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT VEC_COSINE_DISTANCE(v, '[1,2,3]') FROM v3 WHERE id = 1")) {
            String label = rs.getMetaData().getColumnLabel(1);
            assertEquals("VEC_COSINE_DISTANCE(v, '[1,2,3]')", label);
        }
    }

    /** DESIGN §6: a string literal stored into a vector column is translated on MariaDB, as TiDB accepts it. */
    @Test
    void spellingsInsideStringsAndCommentsAreLeftAlone() throws Exception {
        try (Connection c = proxy.connect(DB)) {
            String v = scalar(c, "SELECT 'VEC_COSINE_DISTANCE(v, ''[1,2,3]'')' /* VEC_L2_DISTANCE(x) */");
            assertEquals("VEC_COSINE_DISTANCE(v, '[1,2,3]')", v);
            assertFalse(v.contains("VEC_DISTANCE_COSINE"));
        }
    }
}
