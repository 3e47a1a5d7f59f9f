package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AiFunctionTest {
    @Test
    void namedIgnoresCase() {
        assertEquals(AiFunction.EMBED, AiFunction.named("embed"));
        assertEquals(AiFunction.EMBED_TEXT, AiFunction.named("Embed_Text"));
        assertEquals(AiFunction.VEC_EMBED_COSINE_DISTANCE, AiFunction.named("vec_embed_cosine_distance"));
        assertNull(AiFunction.named("embedding"));
        assertNull(AiFunction.named("VEC_COSINE_DISTANCE"));
    }

    @Test
    void argumentLayouts() {
        assertEquals(1, AiFunction.EMBED.minArgs());
        assertEquals(3, AiFunction.EMBED.maxArgs());
        assertEquals(0, AiFunction.EMBED.textArg());
        assertEquals(1, AiFunction.EMBED.modelArg());
        assertEquals(2, AiFunction.EMBED.optionsArg());
        assertEquals(-1, AiFunction.EMBED.vectorArg());
        assertEquals(1, AiFunction.EMBED_TEXT.textArg());
        assertEquals(0, AiFunction.EMBED_TEXT.modelArg());
        assertEquals(0, AiFunction.VEC_EMBED_L2_DISTANCE.vectorArg());
        assertEquals(1, AiFunction.VEC_EMBED_L2_DISTANCE.textArg());
        assertEquals(-1, AiFunction.VEC_EMBED_L2_DISTANCE.modelArg());
        assertEquals(2, AiFunction.ANSWER.minArgs());
        assertEquals(4, AiFunction.ANSWER.maxArgs());
        assertEquals(2, AiFunction.ANSWER.modelArg());
    }

    @Test
    void kindsAndSignatures() {
        assertTrue(AiFunction.EMBED.embeds());
        assertTrue(AiFunction.EMBED_TEXT.embeds());
        assertTrue(AiFunction.VEC_EMBED_COSINE_DISTANCE.embeds());
        assertFalse(AiFunction.GENERATE.embeds());
        assertFalse(AiFunction.ANSWER.embeds());
        for (AiFunction f : AiFunction.values()) {
            assertTrue(f.signature().startsWith(f.name() + "("), f.signature());
        }
    }
}
