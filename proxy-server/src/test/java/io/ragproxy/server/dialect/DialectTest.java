package io.ragproxy.server.dialect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class DialectTest {
    @Test
    void detectsFromVersionString() {
        assertEquals(Dialect.MARIADB, Dialect.of("auto", "5.5.5-11.8.6-MariaDB-0+deb13u1"));
        assertEquals(Dialect.MARIADB, Dialect.of("auto", "11.4.2-MariaDB"));
        assertEquals(Dialect.TIDB, Dialect.of("auto", "8.0.11-TiDB-v8.5.0"));
        assertEquals(Dialect.TIDB, Dialect.of("AUTO", "8.0.11-TiDB-v7.5.1-serverless"));
        assertEquals(Dialect.TIDB, Dialect.of("auto", null));
    }

    @Test
    void configuredOverrides() {
        assertEquals(Dialect.TIDB, Dialect.of("tidb", "5.5.5-11.8.6-MariaDB-0+deb13u1"));
        assertEquals(Dialect.TIDB, Dialect.of("TiDB", "5.5.5-11.8.6-MariaDB"));
        assertEquals(Dialect.MARIADB, Dialect.of("mariadb", "8.0.11-TiDB-v8.5.0"));
        assertEquals(Dialect.MARIADB, Dialect.of("MariaDB", null));
    }

    @Test
    void vectorText() {
        assertEquals("[0.1,-2.5,1.0E-5,-1.0E-7,1.0E10,0.0,-0.0]",
                Dialect.vectorText(new float[] {0.1f, -2.5f, 1e-5f, -1e-7f, 1e10f, 0f, -0f}));
        assertEquals("[]", Dialect.vectorText(new float[0]));
        assertEquals("[0.33333334]", Dialect.vectorText(new float[] {1f / 3}));
    }

    @Test
    void vectorTextRoundTripsEveryFloat() {
        float[] v = {Float.MIN_VALUE, Float.MAX_VALUE, -Float.MIN_NORMAL, 0.1f + 0.2f, (float) Math.PI};
        String text = Dialect.vectorText(v);
        String[] parts = text.substring(1, text.length() - 1).split(",");
        for (int i = 0; i < v.length; i++) {
            assertEquals(v[i], Float.parseFloat(parts[i]), parts[i]);
        }
    }

    @Test
    void nonFiniteRejected() {
        assertThrows(IllegalArgumentException.class, () -> Dialect.vectorText(new float[] {1f, Float.NaN}));
        assertThrows(IllegalArgumentException.class, () -> Dialect.vectorText(new float[] {Float.POSITIVE_INFINITY}));
        assertThrows(IllegalArgumentException.class, () -> Dialect.MARIADB.vectorLiteral(new float[] {Float.NEGATIVE_INFINITY}));
    }

    @Test
    void literals() {
        assertEquals("VEC_FromText('[1.0,-0.5]')", Dialect.MARIADB.vectorLiteral(new float[] {1f, -0.5f}));
        assertEquals("'[1.0,-0.5]'", Dialect.TIDB.vectorLiteral(new float[] {1f, -0.5f}));
        assertEquals("VEC_FromText('[1,2]')", Dialect.MARIADB.vectorLiteralOfText("[1,2]"));
        assertEquals("'[1,2]'", Dialect.TIDB.vectorLiteralOfText("[1,2]"));
    }

    @Test
    void functionNames() {
        assertEquals("VEC_DISTANCE_COSINE", Dialect.MARIADB.cosineDistance());
        assertEquals("VEC_DISTANCE_EUCLIDEAN", Dialect.MARIADB.l2Distance());
        assertEquals("VEC_COSINE_DISTANCE", Dialect.TIDB.cosineDistance());
        assertEquals("VEC_L2_DISTANCE", Dialect.TIDB.l2Distance());
        assertEquals("VEC_DISTANCE_COSINE", Dialect.MARIADB.translateFunction("vec_cosine_distance"));
        assertEquals("VEC_DISTANCE_EUCLIDEAN", Dialect.MARIADB.translateFunction("VEC_L2_DISTANCE"));
        assertEquals("VEC_FromText", Dialect.MARIADB.translateFunction("VEC_FROM_TEXT"));
        assertEquals("VEC_ToText", Dialect.MARIADB.translateFunction("Vec_As_Text"));
        assertNull(Dialect.MARIADB.translateFunction("VEC_DISTANCE_COSINE"));
        assertNull(Dialect.TIDB.translateFunction("VEC_COSINE_DISTANCE"));
        assertTrue(Dialect.isTidbDistanceFunction("vec_cosine_distance"));
        assertTrue(Dialect.isTidbDistanceFunction("VEC_L2_DISTANCE"));
        assertFalse(Dialect.isTidbDistanceFunction("VEC_FROM_TEXT"));
        assertEquals(Set.of("VEC_COSINE_DISTANCE", "VEC_L2_DISTANCE", "VEC_FROM_TEXT", "VEC_AS_TEXT"),
                Dialect.MARIADB.translatedFunctionNames());
        assertEquals(Set.of(), Dialect.TIDB.translatedFunctionNames());
    }
}
