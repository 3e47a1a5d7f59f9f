package io.ragproxy.server.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Digests keep a statement's shape and drop its literals. */
class StatementDigestTest {

    @Test
    void literalsBecomeQuestionMarks() {
        assertEquals("SELECT GENERATE(?, ?)", StatementDigest.of("SELECT GENERATE('my secret prompt', 'llama3-2-3b')"));
        assertEquals("UPDATE docs SET embedding = EMBED(content) WHERE id > ?",
                StatementDigest.of("UPDATE docs  SET embedding = EMBED(content)\n WHERE id > 42 /* note */"));
        assertEquals("SELECT `a b`.x FROM t LIMIT ?", StatementDigest.of("SELECT `a b`.x FROM t LIMIT 10"));
        assertEquals("SELECT VEC_AS_TEXT(EMBED(?))", StatementDigest.of("select VEC_AS_TEXT(EMBED(\"it's\"))")
                .replace("select", "SELECT"));
    }
}
