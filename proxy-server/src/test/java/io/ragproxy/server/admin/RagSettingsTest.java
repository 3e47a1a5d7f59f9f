package io.ragproxy.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RagSettings lives in the command package; tested here with the SET statements that use it. */
class RagSettingsTest {
    static final RagSettings D = RagSettings.defaults(InvocationSettings.DEFAULT);

    @Test
    void defaults() {
        assertNull(D.embeddingModel());
        assertNull(D.textModel());
        assertEquals(1000, D.maxCalls());
        assertEquals("error", D.onError());
        assertFalse(D.nullOnError());
        assertEquals(InvocationSettings.DEFAULT, D.invocation());
    }

    @Test
    void asMapInStableOrder() {
        Map<String, String> m = D.asMap();
        assertEquals(List.of("rag_embedding_model", "rag_text_model", "rag_inference_timeout_ms", "rag_concurrency",
                "rag_batch_size", "rag_max_attempts", "rag_throttle_wait_ms", "rag_max_calls", "rag_on_error"),
                List.copyOf(m.keySet()));
        assertEquals("", m.get("rag_embedding_model"));
        assertEquals("30000", m.get("rag_inference_timeout_ms"));
        assertEquals("16", m.get("rag_concurrency"));
        assertEquals("96", m.get("rag_batch_size"));
        assertEquals("4", m.get("rag_max_attempts"));
        assertEquals("120000", m.get("rag_throttle_wait_ms"));
        assertEquals("1000", m.get("rag_max_calls"));
        assertEquals("error", m.get("rag_on_error"));
        for (String name : m.keySet()) {
            assertTrue(RagSettings.NAMES.contains(name), name);
        }
    }

    @Test
    void withEachSetting() {
        RagSettings s = D.with("rag_embedding_model", "titan-v2", D)
                .with("RAG_TEXT_MODEL", "llama3-2-3b", D)
                .with("rag_inference_timeout_ms", "500", D)
                .with("rag_concurrency", "4", D)
                .with("rag_batch_size", " 8 ", D)
                .with("rag_max_attempts", "2", D)
                .with("rag_max_calls", "5", D)
                .with("rag_on_error", "NULL", D);
        assertEquals("titan-v2", s.embeddingModel());
        assertEquals("llama3-2-3b", s.textModel());
        assertEquals(500, s.invocation().timeoutMs());
        assertEquals(4, s.invocation().maxConcurrency());
        assertEquals(8, s.invocation().batchSize());
        assertEquals(2, s.invocation().maxAttempts());
        assertEquals(5, s.maxCalls());
        assertEquals("null", s.onError());
        assertTrue(s.nullOnError());
        assertEquals(InvocationSettings.DEFAULT.backoffBaseMs(), s.invocation().backoffBaseMs());
        RagSettings back = s;
        for (String name : D.asMap().keySet()) {
            back = back.with(name, "DEFAULT", D);
        }
        assertEquals(D, back);
        assertNull(s.with("rag_embedding_model", "", D).embeddingModel());
        assertNull(s.with("rag_text_model", "null", D).textModel());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rag_max_calls|0", "rag_max_calls|-1", "rag_max_calls|abc", "rag_max_calls|1.5", "rag_concurrency|3000000000",
        "rag_inference_timeout_ms|0", "rag_on_error|ignore", "rag_batch_size|''"})
    void badValues(String name, String value) {
        ProxyException e = assertThrows(ProxyException.class, () -> D.with(name, value, D));
        assertEquals(7005, e.code());
        assertEquals("42000", e.sqlState());
        assertTrue(e.getMessage().contains(name), e.getMessage());
    }

    @Test
    void unknownSettingListsNames() {
        ProxyException e = assertThrows(ProxyException.class, () -> D.with("rag_nonsense", "1", D));
        assertEquals(7004, e.code());
        assertTrue(e.getMessage().contains("rag_nonsense"), e.getMessage());
        assertTrue(e.getMessage().contains(RagSettings.NAMES), e.getMessage());
    }
}
