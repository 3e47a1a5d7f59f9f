package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.it.LocalBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #14, the audit log: a scripted session in front of the Bedrock emulator with {@code [audit] enabled} writing
 * to a file; every AI statement appears once, with its counts, a digest without its texts, and never the test's AWS
 * keys.
 */
class AuditLogTest {
    private static final String DB = "ragproxy_it_audit";
    private static final Path LOG = tempFile();

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB, AuditLogTest::audited);

    static ObjectNode audited(ObjectNode ai) {
        ai.putObject("audit").put("enabled", true).put("path", LOG.toString());
        return ai;
    }

    private static Path tempFile() {
        try {
            Path p = Files.createTempFile("ragproxy-audit", ".jsonl");
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The log's lines once it holds {@code n} (the writer is asynchronous), within 10 s. */
    static List<JsonNode> lines(int n) throws Exception {
        ObjectMapper json = new ObjectMapper();
        long end = System.nanoTime() + 10_000_000_000L;
        List<String> text;
        do {
            text = Files.readAllLines(LOG);
            if (text.size() >= n) {
                break;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        List<JsonNode> out = new ArrayList<>();
        for (String line : text) {
            out.add(json.readTree(line));
        }
        return out;
    }

    @Test
    void everyAiStatementAppearsOnceWithItsCountsAndNoTexts() throws Exception {
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS notes", "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)",
                "INSERT INTO notes VALUES (1, 'secret note one'), (2, 'secret note two'), (3, 'secret note three')");
        String prompt = "private prompt " + UUID.randomUUID();
        try (Connection c = WORLD.proxy().connect(DB)) {
            long id = Long.parseLong(scalar(c, "SELECT CONNECTION_ID()"));
            scalar(c, "SELECT VEC_AS_TEXT(EMBED('" + prompt + "'))");                       // 1 request
            scalar(c, "SELECT VEC_AS_TEXT(EMBED('" + prompt + "'))");                       // a cache hit
            assertEquals(3, rows(c, "SELECT id, GENERATE(body) FROM notes ORDER BY id").size()); // 3 requests
            scalar(c, "SELECT 1");                                                         // not an AI statement
            rows(c, "SHOW RAG STATUS");                                                     // a proxy statement
            assertSqlError(c, "SELECT EMBED('" + prompt + "', 'no-such-model')", 7011, "42000");

            List<JsonNode> log = lines(4);
            assertEquals(4, log.size(), "one line per AI statement: " + log);
            for (JsonNode line : log) {
                assertEquals(id, line.get("connection_id").asLong(), line.toString());
                assertTrue(line.get("account").asText().startsWith("'" + LocalBackend.USER + "'@'"), line.toString());
                assertTrue(line.get("client").asText().startsWith("127.0.0.1:"), line.toString());
                assertFalse(line.has("text"), "no statement text by default: " + line);
            }
            assertEquals("SELECT VEC_AS_TEXT(EMBED(?))", log.get(0).get("digest").asText());
            assertEquals("literal", log.get(0).get("plan").asText());
            assertEquals(AiProxy.TITAN_V2, log.get(0).get("models").get(0).asText());
            assertEquals(1, log.get(0).get("requests").asLong());
            assertTrue(log.get(0).get("input_tokens").asLong() > 0, log.get(0).toString());
            assertEquals("ok", log.get(0).get("outcome").asText());
            assertEquals(0, log.get(1).get("requests").asLong(), "the second one came from the cache");
            assertEquals(1, log.get(1).get("cache_hits").asLong());
            assertEquals("streamed", log.get(2).get("plan").asText());
            assertEquals(3, log.get(2).get("requests").asLong());
            assertTrue(log.get(2).get("output_tokens").asLong() > 0, log.get(2).toString());
            assertEquals("error 7011", log.get(3).get("outcome").asText());
            assertEquals(0, log.get(3).get("requests").asLong());
        }
        String all = Files.readString(LOG);
        assertFalse(all.contains("private prompt") || all.contains("secret note"), "no prompt text: " + all);
        assertFalse(all.contains("AKIDRAGPROXYTEST") || all.contains("ragproxy-test-secret"), "no AWS keys: " + all);
    }
}
