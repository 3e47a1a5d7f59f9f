package io.ragproxy.catalog;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.GenerateOptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptionsTest {

    @Test
    void embedOptionsParseAndHaveStableCacheKeys() {
        EmbedOptions o = EmbedOptions.fromJson("{\"dimensions\":512,\"normalize\":true,\"input_type\":\"search_query\",\"truncate\":\"END\"}");
        assertEquals(512, o.dimensions());
        assertEquals(Boolean.TRUE, o.normalize());
        assertEquals(EmbedOptions.InputPurpose.QUERY, o.inputPurpose());
        assertEquals("END", o.extra().get("truncate"));
        assertEquals(o.cacheKey(), EmbedOptions.fromJson("{\"truncate\":\"END\",\"input_type\":\"query\",\"normalize\":true,\"dimensions\":512}").cacheKey());
        assertNotEquals(o.cacheKey(), EmbedOptions.fromJson("{\"dimensions\":256}").cacheKey());
        assertSame(EmbedOptions.DEFAULT, EmbedOptions.fromJson(null));
        assertSame(EmbedOptions.DEFAULT, EmbedOptions.fromJson("  "));
        EmbedOptions merged = EmbedOptions.fromJson("{\"normalize\":false}").orDefaults(EmbedOptions.fromJson("{\"dimensions\":512,\"normalize\":true}"));
        assertEquals(512, merged.dimensions());
        assertEquals(Boolean.FALSE, merged.normalize());
    }

    @Test
    void embedOptionErrorsNameTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbedOptions.fromJson("{\"dimension\":512}"));
        assertTrue(e.getMessage().contains("'dimension'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EmbedOptions.fromJson("{\"dimensions\":\"big\"}"));
        assertTrue(e.getMessage().contains("'dimensions'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> EmbedOptions.fromJson("{\"input_type\":\"both\"}"));
        assertTrue(e.getMessage().contains("input_type"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbedOptions.fromJson("[1]"));
        assertThrows(IllegalArgumentException.class, () -> EmbedOptions.fromJson("{oops"));
    }

    @Test
    void generateOptionsParse() {
        GenerateOptions g = GenerateOptions.fromJson("{\"max_tokens\":256,\"temperature\":0.2,\"top_p\":0.9,\"stop\":\"\\n\\n\",\"system\":\"Be brief.\"}");
        assertEquals(256, g.maxTokens());
        assertEquals(0.2, g.temperature());
        assertEquals(0.9, g.topP());
        assertEquals(List.of("\n\n"), g.stopSequences());
        assertEquals("Be brief.", g.system());
        assertEquals(List.of("a", "b"), GenerateOptions.fromJson("{\"stop\":[\"a\",\"b\"]}").stopSequences());
        assertNull(GenerateOptions.fromJson("{}").maxTokens());
        assertEquals(g.cacheKey(), GenerateOptions.fromJson("{\"system\":\"Be brief.\",\"stop\":[\"\\n\\n\"],\"top_p\":0.9,\"temperature\":0.2,\"max_tokens\":256}").cacheKey());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GenerateOptions.fromJson("{\"max_token\":5}"));
        assertTrue(e.getMessage().contains("'max_token'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GenerateOptions.fromJson("{\"temperature\":3}"));
        assertTrue(e.getMessage().contains("'temperature'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GenerateOptions.fromJson("{\"stop\":[1]}"));
        assertThrows(IllegalArgumentException.class, () -> GenerateOptions.fromJson("{\"max_tokens\":0}"));
    }
}
