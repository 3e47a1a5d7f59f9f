package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.dialect.Dialect;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutoEmbeddingTableTest {

    @Test
    void tidbCloudDeclarationBecomesAPlainVectorColumnAndARule() {
        String sql = "CREATE TABLE documents (\n  id INT PRIMARY KEY AUTO_INCREMENT,\n  content TEXT,\n"
                + "  content_vector VECTOR(1024) GENERATED ALWAYS AS (\n"
                + "    EMBED_TEXT(\"tidbcloud_free/amazon/titan-embed-text-v2\", content)\n  ) STORED\n);";
        AutoEmbeddingTable.Parsed p = AutoEmbeddingTable.parse(sql);
        assertNull(p.schema());
        assertEquals("documents", p.table());
        assertEquals(1, p.columns().size());
        AutoEmbeddingTable.Column c = p.columns().get(0);
        assertEquals("content_vector", c.name());
        assertEquals(1024, c.dimensions());
        assertEquals("tidbcloud_free/amazon/titan-embed-text-v2", c.model());
        assertEquals("content", c.source());
        assertNull(c.options());
        assertEquals("CREATE TABLE documents (\n  id INT PRIMARY KEY AUTO_INCREMENT,\n  content TEXT,\n"
                + "  content_vector VECTOR(1024)\n)", p.rewrite(List.of(1024), Dialect.MARIADB::vectorType, Arrays.asList((String) null)));
    }

    @Test
    void everySpellingOfTheColumn() {
        AutoEmbeddingTable.Parsed p = AutoEmbeddingTable.parse("CREATE TABLE IF NOT EXISTS db.t (id INT,"
                + " title TEXT, body TEXT, a VECTOR<FLOAT>(3) AS (EMBED_TEXT('m', CONCAT(title, ' ', body),"
                + " '{\"input_type\":\"search_document\",\"input_type@search\":\"search_query\"}')) VIRTUAL NOT NULL,"
                + " b VECTOR GENERATED ALWAYS AS (EMBED_TEXT('m2', body)) STORED COMMENT 'x', VECTOR INDEX idx"
                + " ((VEC_COSINE_DISTANCE(a))), KEY (id)) ENGINE=InnoDB");
        assertEquals("db", p.schema());
        assertEquals("t", p.table());
        assertTrue(p.ifNotExists());
        assertEquals("CONCAT(title, ' ', body)", p.columns().get(0).source());
        assertEquals("{\"input_type\":\"search_document\",\"input_type@search\":\"search_query\"}",
                p.columns().get(0).options());
        assertNull(p.columns().get(1).dimensions());
        assertEquals("CREATE TABLE IF NOT EXISTS db.t (id INT, title TEXT, body TEXT, a VECTOR(3) NOT NULL,"
                + " b VECTOR(384) COMMENT 'x', VECTOR INDEX idx ((VEC_COSINE_DISTANCE(a))), KEY (id)) ENGINE=InnoDB",
                p.rewrite(List.of(3, 384), Dialect.MARIADB::vectorType, Arrays.asList(null, null)));
    }

    @Test
    void eachVectorMayGetAnInvisibleHashColumnAfterItsAttributes() {
        AutoEmbeddingTable.Parsed p = AutoEmbeddingTable.parse("CREATE TABLE t (id INT, body TEXT, a VECTOR(3) AS"
                + " (EMBED_TEXT('m', body)) STORED NOT NULL, b VECTOR GENERATED ALWAYS AS (EMBED_TEXT('m2', body))"
                + " STORED COMMENT 'x')");
        assertEquals(List.of("id", "body", "a", "b"), p.columnNames());
        assertEquals("CREATE TABLE t (id INT, body TEXT, a VECTOR(3) NOT NULL, `a_ragproxy_sha256` BINARY(32) INVISIBLE,"
                + " b VECTOR(384) COMMENT 'x', `b_h` BINARY(32) INVISIBLE)",
                p.rewrite(List.of(3, 384), Dialect.MARIADB::vectorType, List.of("a_ragproxy_sha256", "b_h")));
        assertEquals("CREATE TABLE t (id INT, body TEXT, a VECTOR(3) NOT NULL,"
                + " b VECTOR(384) COMMENT 'x', `b_h` BINARY(32) INVISIBLE)",
                p.rewrite(List.of(3, 384), Dialect.MARIADB::vectorType, Arrays.asList(null, "b_h")));
    }

    @Test
    void theHashColumnsNameFitsAndCollidesWithNothing() {
        assertEquals("v_ragproxy_sha256", EmbeddingRule.hashColumnName("v", List.of("id", "v")));
        assertEquals("v_ragproxy_sha256_2", EmbeddingRule.hashColumnName("v", List.of("V_RAGPROXY_SHA256")));
        String longName = "a".repeat(60);
        String hash = EmbeddingRule.hashColumnName(longName, List.of(longName));
        assertTrue(hash.length() <= 61 && hash.endsWith("_ragproxy_sha256") && hash.startsWith("aaaa"), hash);
        assertTrue(!hash.equals(EmbeddingRule.hashColumnName("a".repeat(59) + "b", List.of())), hash);
    }

    @Test
    void theHashColumnIsKeptInTheCatalogAndOldRowsReadWithout() {
        EmbeddingRule tracked = new EmbeddingRule("db", "t", "v", 3, "m", "body", null, "v_ragproxy_sha256");
        JsonNode d = tracked.definition();
        assertEquals("v_ragproxy_sha256", d.get("source_hash").asText());
        assertEquals(tracked, EmbeddingRule.fromDefinition(d));
        ((com.fasterxml.jackson.databind.node.ObjectNode) d).remove("source_hash");
        EmbeddingRule old = EmbeddingRule.fromDefinition(d);
        assertNull(old.sourceHash());
        assertTrue(!old.tracksStaleness() && old.staleCondition() == null);
        assertEquals("`v` IS NULL AND (body) <> ''", old.pendingCondition());
        assertEquals("(`v` IS NULL AND (body) <> '') OR (`v` IS NOT NULL AND NOT (`v_ragproxy_sha256` <=>"
                + " UNHEX(SHA2(CONVERT((body) USING utf8mb4), 256))))", tracked.pendingCondition());
        assertEquals("UPDATE `db`.`t` SET `v` = EMBED_TEXT('m', body), `v_ragproxy_sha256` = UNHEX(SHA2(CONVERT((body)"
                + " USING utf8mb4), 256)) WHERE " + tracked.pendingCondition(), CatalogStatements.refreshStatement(tracked));
        assertEquals("UPDATE `db`.`t` SET `v` = EMBED_TEXT('m', body) WHERE `v` IS NULL AND (body) <> ''",
                CatalogStatements.refreshStatement(old));
    }

    @Test
    void otherStatementsAndGeneratedColumnsAreNotOurs() {
        assertNull(AutoEmbeddingTable.parse("CREATE TABLE t (a INT, b INT AS (a + 1) STORED)"));
        assertNull(AutoEmbeddingTable.parse("CREATE TABLE t LIKE u"));
        assertNull(AutoEmbeddingTable.parse("CREATE INDEX i ON t (a)"));
        assertNull(AutoEmbeddingTable.parse("SELECT EMBED_TEXT('m', 'x')"));
    }

    @Test
    void mistakesNameTheirPosition() {
        ProxyException e = assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse(
                "CREATE TABLE t (c TEXT, v BLOB GENERATED ALWAYS AS (EMBED_TEXT('m', c)) STORED)"));
        assertTrue(e.getMessage().startsWith("line 1, column 27: a column generated by EMBED_TEXT must be a VECTOR"),
                e.getMessage());
        e = assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse(
                "CREATE TABLE t (c TEXT, v VECTOR(3) AS (EMBED_TEXT(m, c)))"));
        assertEquals("line 1, column 52: expected the model name as a quoted string after EMBED_TEXT(, found m",
                e.getMessage());
        e = assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse(
                "CREATE TABLE t (c TEXT, v VECTOR(3) AS (EMBED_TEXT('m', c, '{not json')))"));
        assertTrue(e.getMessage().startsWith("line 1, column 60: EMBED_TEXT options are not valid JSON"), e.getMessage());
        e = assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse(
                "CREATE TABLE t (c TEXT, v VECTOR(3) AS (EMBED_TEXT('m', d)))"));
        assertEquals("line 1, column 41: EMBED_TEXT of v reads d, which is not a column of t", e.getMessage());
    }

    @Test
    void theSourceMayReadOnlyTheRowsOwnText() {
        ProxyException e = assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse("CREATE TABLE t (c TEXT,"
                + " v VECTOR(3) AS (EMBED_TEXT('m', (SELECT c FROM other LIMIT 1))))"));
        assertTrue(e.getMessage().startsWith("line 1, column 41: EMBED_TEXT of v must read this table's columns"),
                e.getMessage());
        assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse("CREATE TABLE t (c TEXT, v VECTOR(3) AS"
                + " (EMBED_TEXT('m', SLEEP(c))))"));
        assertThrows(ProxyException.class, () -> AutoEmbeddingTable.parse("CREATE TABLE t (c TEXT, v VECTOR(3) AS"
                + " (EMBED_TEXT('m', CONCAT(c, x))))"));
        assertEquals("CONCAT_WS(' ', c, LOWER(d), 'x', 1, NULL)", AutoEmbeddingTable.parse("CREATE TABLE t (c TEXT,"
                + " d TEXT, v VECTOR(3) AS (EMBED_TEXT('m', CONCAT_WS(' ', c, LOWER(d), 'x', 1, NULL))))")
                .columns().get(0).source());
        // A catalog row written by hand is held to the same rule.
        for (String source : List.of("(SELECT authentication_string FROM mysql.user)", "c) OR (1", "c; DROP TABLE t",
                "@secret", "a b")) {
            assertThrows(IllegalArgumentException.class, () -> new EmbeddingRule("db", "t", "v", 3, "m", source, null),
                    source);
        }
    }

    @Test
    void searchSuffixSplitsTheOptions() {
        EmbeddingRule r = new EmbeddingRule("db", "t", "v", 1024, "cohere.embed-english-v3", "content",
                "{\"input_type\":\"search_document\",\"input_type@search\":\"search_query\",\"truncate\":\"END\"}");
        assertEquals("{\"input_type\":\"search_document\",\"truncate\":\"END\"}", r.storedOptions());
        assertEquals("{\"input_type\":\"search_query\",\"truncate\":\"END\"}", r.searchOptions());
        assertEquals("EMBED_TEXT('cohere.embed-english-v3', 'q', '{\"input_type\":\"search_query\",\"truncate\":\"END\"}')",
                r.embedSql("'q'", true));
        assertEquals("db.t.v", r.name());
        EmbeddingRule plain = new EmbeddingRule("db", "T", "V", null, "m", "c", null);
        assertNull(plain.searchOptions());
        assertEquals("db.t.v", plain.name());
        assertEquals("EMBED_TEXT('m', c)", plain.embedSql("c", false));
    }
}
