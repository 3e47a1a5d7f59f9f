package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Test;

class AnswerPlannerTest {
    private static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;


    private static boolean applies(String sql) {
        return AnswerPlanner.applies(StatementAnalysis.parse(sql, PARSER));
    }

    @Test
    void takesAnswerAsAWholeItemOfTheOuterSelectList() {
        assertTrue(applies("SELECT ANSWER('q', content) FROM (SELECT content FROM docs LIMIT 3) t"));
        assertTrue(applies("SELECT g, ANSWER('q', content, 'm', '{}') AS a FROM docs GROUP BY g"));
        assertFalse(applies("SELECT UPPER(ANSWER('q', content)) FROM docs"), "inside another expression");
        assertFalse(applies("SELECT id FROM docs ORDER BY ANSWER('q', content)"), "in ORDER BY");
        assertFalse(applies("SELECT GENERATE('x')"), "no ANSWER");
        assertFalse(applies("UPDATE docs SET a = 1"), "not a SELECT");
    }

    @Test
    void citationsComeFromMarkersOrFromTheSourcesTheSentencesWereTakenFrom() {
        List<String> sources = List.of("TiDB is a database.", "It scales out. It is open source.", "Bedrock hosts models.");
        assertEquals("{\"answer\":\"TiDB is a database [1], and it scales [2].\",\"sources\":[1,2]}",
                AnswerPlanner.citations("TiDB is a database [1], and it scales [2].", sources));
        assertEquals("{\"answer\":\"It scales out. TiDB is a database.\",\"sources\":[1,2]}",
                AnswerPlanner.citations("It scales out. TiDB is a database.", sources));
        assertEquals("{\"answer\":\"Nothing here [7].\",\"sources\":[]}",
                AnswerPlanner.citations("Nothing here [7].", sources), "a marker beyond the sources is not a citation");
        // Sources without full stops (a knowledge base's chunks, list items), joined by the extractive model.
        List<String> notes = List.of("Allow monitoring of I/O statistics using the new pg_stat_io view",
                "Improve performance of vacuum freezing", "Allow logical replication from standby servers", "Yes");
        assertEquals("{\"answer\":\"Allow monitoring of I/O statistics using the new pg_stat_io view Allow logical"
                + " replication from standby servers\",\"sources\":[1,3]}", AnswerPlanner.citations("Allow monitoring of"
                + " I/O statistics using the new pg_stat_io view Allow logical replication from standby servers", notes));
        assertEquals("{\"answer\":\"Yes, vacuum runs.\",\"sources\":[]}",
                AnswerPlanner.citations("Yes, vacuum runs.", notes), "a word or two in common is no citation");
    }
}
