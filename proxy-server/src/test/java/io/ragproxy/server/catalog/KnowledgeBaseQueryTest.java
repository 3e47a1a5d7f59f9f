package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.dialect.Dialect;
import java.util.List;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.PlainSelect;
import org.junit.jupiter.api.Test;

/** The search SQL a knowledge base read becomes: the hybrid search's spelling per backend, its setting, its width. */
class KnowledgeBaseQueryTest {

    static KnowledgeBase kb(boolean hybrid, Double alpha, String reranker) {
        return new KnowledgeBase("kb", "titan-v2", 1024, reranker, "db", "kb_chunks", List.of("body"), List.of(),
                "id", null, hybrid, alpha);
    }

    /** The rewritten statement, and the search width the rewrite asked for. */
    record Rewritten(String sql, int width) {}

    static Rewritten rewrite(String sql, KnowledgeBase kb, Dialect dialect) throws Exception {
        PlainSelect select = (PlainSelect) CCJSqlParserUtil.parse(sql);
        int width = KnowledgeBaseQuery.rewrite(select, kb, (Table) select.getFromItem(), dialect);
        return new Rewritten(select.toString(), width);
    }

    @Test
    void hybridSearchSpellsTheFullTextScoreOfEachBackend() throws Exception {
        String sql = "SELECT id, relevance FROM kb WHERE content = 'QZT7785' AND hybrid_search = true LIMIT 3";
        String tidb = rewrite(sql, kb(false, null, null), Dialect.TIDB).sql();
        assertTrue(tidb.contains("fts_match_word('QZT7785', `chunk_content`) AS ragproxy_s"), tidb);
        assertTrue(tidb.contains("WHERE fts_match_word('QZT7785', `chunk_content`) ORDER BY ragproxy_s DESC LIMIT 100"),
                tidb);
        assertFalse(tidb.contains("MATCH ("), tidb);
        String maria = rewrite(sql, kb(false, null, null), Dialect.MARIADB).sql();
        assertTrue(maria.contains("MATCH (`chunk_content`) AGAINST ('QZT7785') AS ragproxy_s"), maria);
        assertFalse(maria.contains("fts_match_word"), maria);
        // The rest of the fusion is the same SQL on both.
        assertEquals(maria.replace("MATCH (`chunk_content`) AGAINST ('QZT7785')", "X"),
                tidb.replace("fts_match_word('QZT7785', `chunk_content`)", "X"));
    }

    @Test
    void theKnowledgeBasesHybridSettingAppliesUnlessTheQueryOverridesIt() throws Exception {
        KnowledgeBase hybrid = kb(true, 0.3, null);
        String fused = rewrite("SELECT id FROM kb WHERE content = 'q' LIMIT 3", hybrid, Dialect.MARIADB).sql();
        assertTrue(fused.contains("0.3 / (60 + ragproxy_vector_rank)"), fused);
        assertTrue(fused.contains("ORDER BY relevance DESC"), fused);
        String weighed = rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search_alpha = 0.8 LIMIT 3", hybrid,
                Dialect.MARIADB).sql();
        assertTrue(weighed.contains("0.8 / (60 + ragproxy_vector_rank)"), weighed);
        String off = rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search = false LIMIT 3", hybrid,
                Dialect.MARIADB).sql();
        assertFalse(off.contains("MATCH"), off);
        assertTrue(off.contains("ORDER BY distance"), off);
        String listing = rewrite("SELECT id FROM kb", hybrid, Dialect.MARIADB).sql();
        assertFalse(listing.contains("MATCH"), "no question, no ranking: " + listing);
        String on = rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search = true LIMIT 3",
                kb(false, null, null), Dialect.MARIADB).sql();
        assertTrue(on.contains("0.5 / (60 + ragproxy_vector_rank)"), on);
    }

    @Test
    void aVectorSearchAsksForAtLeast80CandidatesOrTheRowsItTakes() throws Exception {
        KnowledgeBase plain = kb(false, null, null);
        assertEquals(80, rewrite("SELECT id FROM kb WHERE content = 'q' LIMIT 5", plain, Dialect.MARIADB).width());
        assertEquals(80, rewrite("SELECT id FROM kb WHERE content = 'q'", plain, Dialect.MARIADB).width());
        assertEquals(150, rewrite("SELECT id FROM kb WHERE content = 'q' LIMIT 100 OFFSET 50", plain, Dialect.MARIADB)
                .width());
        assertEquals(130, rewrite("SELECT id FROM kb WHERE content = 'q' LIMIT 30, 100", plain, Dialect.MARIADB)
                .width());
        assertEquals(200, rewrite("SELECT id FROM kb WHERE content = 'q' AND reranking_candidates = 200 LIMIT 5",
                kb(false, null, "cohere-rerank-3-5"), Dialect.MARIADB).width());
        assertEquals(0, rewrite("SELECT id FROM kb", plain, Dialect.MARIADB).width(), "no question: no index read");
        assertEquals(100, rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search = true LIMIT 5", plain,
                Dialect.MARIADB).width(), "a hybrid search's vector ranking lists 100 chunks");
    }

    @Test
    void aHybridSearchFusesTwoListsEachReadFromItsIndex() throws Exception {
        KnowledgeBase plain = kb(false, null, null);
        String sql = rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search = true LIMIT 5", plain,
                Dialect.MARIADB).sql();
        // The vector list is the index's nearest (ORDER BY the distance LIMIT n), the full-text list the FULLTEXT
        // index's matches: neither ranks the whole table.
        assertTrue(sql.contains("AS ragproxy_d FROM `db`.`kb_chunks` ORDER BY ragproxy_d LIMIT 100"), sql);
        assertTrue(sql.contains("FROM `db`.`kb_chunks` WHERE MATCH (`chunk_content`) AGAINST ('q') ORDER BY ragproxy_s"
                + " DESC LIMIT 100"), sql);
        assertFalse(sql.contains("ROW_NUMBER() OVER (ORDER BY distance)"), sql);
        // The lists grow with the rows taken and the reranking candidates.
        String wide = rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search = true LIMIT 300", plain,
                Dialect.MARIADB).sql();
        assertTrue(wide.contains("ORDER BY ragproxy_d LIMIT 300"), wide);
        assertEquals(400, rewrite("SELECT id FROM kb WHERE content = 'q' AND hybrid_search = true"
                + " AND reranking_candidates = 400 LIMIT 5", kb(false, null, "cohere-rerank-3-5"), Dialect.MARIADB).width());
    }
}
