package io.ragproxy.server.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FunctionNamesTest {

    private static int indexOf(FunctionNames names, String word) {
        byte[] b = ("  " + word + "  ").getBytes(StandardCharsets.UTF_8);
        return names.indexOf(b, null, 2, b.length - 2);
    }

    @Test
    void namesAreLowerCasedSortedAndDeduplicatedIgnoringCase() {
        FunctionNames names = FunctionNames.of("EMBED", "embed", "Generate", "ANSWER");
        assertEquals(3, names.size());
        assertEquals(List.of("answer", "embed", "generate"), new ArrayList<>(names.names()));
    }

    @Test
    void containsIgnoresAsciiCase() {
        FunctionNames names = FunctionNames.of("VEC_EMBED_COSINE_DISTANCE", "EMBED_TEXT");
        assertTrue(names.contains("vec_embed_cosine_distance"));
        assertTrue(names.contains("Embed_Text"));
        assertFalse(names.contains("embed"));
        assertFalse(names.contains(""));
    }

    @Test
    void indexOfMatchesBytesInPlaceAndReturnsTheLowerCaseName() {
        FunctionNames names = FunctionNames.of("EMBED", "EMBED_TEXT", "GENERATE");
        int i = indexOf(names, "eMbEd_TeXt");
        assertTrue(i >= 0);
        assertEquals("embed_text", names.name(i));
        assertEquals(-1, indexOf(names, "embed_tex"));
        assertEquals(-1, indexOf(names, "embedx"));
        assertEquals(-1, indexOf(names, "gEnErAtEs"));
    }

    @Test
    void nonAsciiNamesMatchExactlyAndAsciiPartsIgnoringCase() {
        FunctionNames names = FunctionNames.of("摘要_SUM");
        assertTrue(indexOf(names, "摘要_sum") >= 0);
        assertEquals(-1, indexOf(names, "摘_sum"));
        assertEquals(Set.of("摘要_sum"), names.names());
    }

    @Test
    void manyNamesWithCollidingLengthsAndEdgesAllResolve() {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            many.add("f" + i + "_x");
        }
        FunctionNames names = FunctionNames.of(many);
        assertEquals(500, names.size());
        for (String name : many) {
            int i = indexOf(names, name.toUpperCase());
            assertTrue(i >= 0, name);
            assertEquals(name, names.name(i));
        }
        assertEquals(-1, indexOf(names, "f500_x"));
    }

    @Test
    void emptySetMatchesNothing() {
        assertEquals(0, FunctionNames.empty().size());
        assertEquals(-1, indexOf(FunctionNames.empty(), "embed"));
        assertEquals(FunctionNames.empty(), FunctionNames.of(List.of()));
    }

    @Test
    void rejectsNamesThatAreNotUnquotedIdentifiers() {
        assertThrows(IllegalArgumentException.class, () -> FunctionNames.of(""));
        assertThrows(IllegalArgumentException.class, () -> FunctionNames.of("db.embed"));
        assertThrows(IllegalArgumentException.class, () -> FunctionNames.of("em bed"));
        assertThrows(IllegalArgumentException.class, () -> FunctionNames.of("embed("));
        assertThrows(NullPointerException.class, () -> FunctionNames.of(Arrays.asList("embed", null)));
    }

    @Test
    void equalityIsBySetOfCanonicalNames() {
        assertEquals(FunctionNames.of("EMBED", "GENERATE"), FunctionNames.of("generate", "embed"));
        assertEquals(FunctionNames.of("EMBED").hashCode(), FunctionNames.of("embed").hashCode());
        assertNotEquals(FunctionNames.of("EMBED"), FunctionNames.of("EMBED", "GENERATE"));
    }
}
