package io.ragproxy.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokensTest {
    static List<String> texts(String sql) {
        Tokens t = Tokens.of(sql);
        List<String> out = new ArrayList<>();
        while (!t.atEnd()) {
            out.add(t.take().text());
        }
        return out;
    }

    @Test
    void wordsPunctuationAndComments() {
        assertEquals(List.of("SET", "@@session.rag_concurrency", ":", "=", "4"),
                texts("SET @@session.rag_concurrency:=4"));
        assertEquals(List.of("SET", "rag_max_calls", "=", "-5", ",", "rag_on_error", "=", "null"),
                texts("SET rag_max_calls=-5, rag_on_error = 'null';"));
        assertEquals(List.of("SHOW", "RAG", "MODELS"), texts("SHOW /* c */ RAG # x\n MODELS -- y\n ;;"));
        assertEquals(List.of("SET", "rag_text_model", "=", "us.amazon.nova-micro-v1:0"),
                texts("SET rag_text_model = us.amazon.nova-micro-v1:0"));
    }

    @Test
    void quotedStrings() {
        Tokens t = Tokens.of("'it''s' \"a\\\"b\" `we``ird` 'back\\\\slash'");
        Tokens.Token a = t.take();
        assertEquals("it's", a.text());
        assertTrue(a.quoted());
        assertEquals(0, a.position());
        assertEquals("a\"b", t.take().text());
        Tokens.Token c = t.take();
        assertEquals("we`ird", c.text());
        assertFalse(c.quoted(), "a backquoted identifier is not a string");
        assertEquals("back\\slash", t.take().text());
        assertTrue(t.atEnd());
        assertNull(t.peek());
    }

    @Test
    void quotedWordIsNotAKeyword() {
        Tokens t = Tokens.of("'SHOW' SHOW");
        assertFalse(t.accept("SHOW"));
        t.take();
        assertTrue(t.accept("show"));
    }

    @Test
    void restAndErrorsNamePosition() {
        Tokens t = Tokens.of("EXPLAIN RAG  SELECT EMBED('x')  ");
        t.expect("EXPLAIN");
        t.expect("RAG");
        assertEquals("SELECT EMBED('x')", t.rest());
        ProxyException e = assertThrows(ProxyException.class, () -> t.expect("FROM"));
        assertEquals(7002, e.code());
        assertTrue(e.getMessage().contains("expected FROM at position 14"), e.getMessage());
        Tokens end = Tokens.of("SHOW RAG");
        end.take();
        end.take();
        ProxyException e2 = assertThrows(ProxyException.class, end::take);
        assertTrue(e2.getMessage().contains("ends too early at position 9"), e2.getMessage());
    }
}
