package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.it.LocalBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seed 002's flow (Aurora PostgreSQL as a knowledge base for Bedrock: documents chunked, embedded, stored, then a
 * question answered with citations) as three statements through the mariadb CLI, on the embedded defaults (the local
 * embedding model and the local extractive answerer): the seed's {@code documents} table of PostgreSQL 16 release
 * notes, a knowledge base over it, and its question about the {@code pg_stat_io} view.
 */
class KnowledgeBaseSeedTest {
    private static final String DB = "ragproxy_it_ai_kb_seed";
    /** Seed 002's example rows, in its order (their ids 1 to 7). */
    static final List<String> RELEASE_NOTES = List.of(
            "Allow parallelization of FULL and internal right OUTER hash joins",
            "Allow logical replication from standby servers",
            "Allow logical replication subscribers to apply large transactions in parallel",
            "Allow monitoring of I/O statistics using the new pg_stat_io view",
            "Add SQL/JSON constructors and identity functions",
            "Improve performance of vacuum freezing",
            "Add support for regular expression matching of user and database names in pg_hba.conf, and user names in"
                    + " pg_ident.conf");
    private static final int PG_STAT_IO = 4;
    private static final String QUESTION = "How can I monitor I/O statistics?";
    private static AiProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        CatalogWorld.dropCatalog();
        LocalBackend.get().recreateDatabase(DB);
        proxy = AiProxy.local();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            LocalBackend.get().dropDatabase(DB);
            CatalogWorld.dropCatalog();
        }
    }

    @Test
    void documentsToACitedAnswerThroughTheMariadbCli() throws Exception {
        StringBuilder sql = new StringBuilder("CREATE TABLE documents (id INT PRIMARY KEY, content TEXT NOT NULL);\n"
                + "INSERT INTO documents VALUES ");
        for (int i = 0; i < RELEASE_NOTES.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append('(').append(i + 1).append(", ")
                    .append(AiProxy.quote(RELEASE_NOTES.get(i))).append(')');
        }
        sql.append(";\n")
                .append("CREATE KNOWLEDGE_BASE pg16_kb USING storage = pg16_chunks, content_columns = ['content'],"
                        + " id_column = 'id';\n")
                .append("INSERT INTO pg16_kb SELECT id, content FROM documents;\n")
                // What was stored, and what CHUNK_TEXT (the knowledge base's splitter, same options) makes of it.
                .append("SELECT COUNT(DISTINCT id), COUNT(*) FROM pg16_chunks;\n")
                .append("SELECT SUM(JSON_LENGTH(CHUNK_TEXT(content))) FROM documents;\n")
                .append("SELECT ANSWER(").append(AiProxy.quote(QUESTION)).append(", chunk_content, NULL,"
                        + " '{\"citations\": true}') AS answer, JSON_ARRAYAGG(id) AS sources FROM (SELECT id,"
                        + " chunk_content FROM pg16_kb WHERE content = ").append(AiProxy.quote(QUESTION))
                .append(" LIMIT 3) AS t;\n");
        List<String> out = Seeds.runCli(proxy.host(), proxy.port(), DB, sql.toString());
        assertEquals(3, out.size(), () -> "CLI output:\n" + String.join("\n", out));

        String[] stored = out.get(0).split("\t");
        assertEquals(String.valueOf(RELEASE_NOTES.size()), stored[0], "every document is in the knowledge base");
        assertEquals(out.get(1), stored[1], "the chunks stored are the chunks CHUNK_TEXT makes");

        System.out.println("seed 002's question answered: " + out.get(2));
        String[] answerRow = out.get(2).split("\t");
        assertEquals(2, answerRow.length, out.get(2));
        JsonNode answer = AiProxy.JSON.readTree(unescape(answerRow[0]));
        JsonNode sources = AiProxy.JSON.readTree(answerRow[1]);
        assertEquals(3, sources.size(), "three chunks retrieved: " + sources);
        assertEquals(PG_STAT_IO, sources.get(0).asInt(), "the pg_stat_io note is the nearest: " + sources);
        assertTrue(answer.get("answer").asText().contains("pg_stat_io"), "the answer: " + answer);
        List<Integer> cited = new ArrayList<>();
        answer.get("sources").forEach(n -> cited.add(sources.get(n.asInt() - 1).asInt()));
        assertFalse(cited.isEmpty(), "the answer cites its sources: " + answer);
        assertTrue(cited.contains(PG_STAT_IO), "the citations name document " + PG_STAT_IO + ": " + cited);
        for (int id : cited) {
            assertTrue(answer.get("answer").asText().contains(RELEASE_NOTES.get(id - 1)),
                    "a cited document's text is in the extractive answer: " + id + " in " + answer);
        }
    }

    /** The CLI's batch mode writes a backslash, a tab and a newline in a value as \\, \t and \n. */
    private static String unescape(String value) {
        return value.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\");
    }
}
