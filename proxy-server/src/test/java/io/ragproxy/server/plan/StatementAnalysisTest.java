package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import net.sf.jsqlparser.expression.Expression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class StatementAnalysisTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;


    static StatementAnalysis parse(String sql) {
        return StatementAnalysis.parse(sql, PARSER);
    }

    static List<String> functions(String sql) {
        return parse(sql).calls().stream().map(c -> c.function().name()).toList();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "SELECT EMBED('a')|EMBED",
        "SELECT 1 + LENGTH(CONCAT('x', GENERATE('a'))) AS deep|GENERATE",
        "SELECT * FROM t WHERE VEC_COSINE_DISTANCE(v, EMBED('q')) < 0.5|EMBED",
        "SELECT * FROM t ORDER BY VEC_COSINE_DISTANCE(v, EMBED('q')) LIMIT 3|EMBED",
        "SELECT GENERATE('g'), COUNT(*) FROM t GROUP BY GENERATE('g') HAVING COUNT(*) > LENGTH(GENERATE('h'))|GENERATE,GENERATE,GENERATE",
        "INSERT INTO t (v) VALUES (EMBED('a')), (EMBED('b')), (EMBED_TEXT('m', 'c'))|EMBED,EMBED,EMBED_TEXT",
        "UPDATE t SET v = EMBED('a'), s = GENERATE('b') WHERE id = 1|EMBED,GENERATE",
        "DELETE FROM t WHERE VEC_EMBED_L2_DISTANCE(v, 'x') > 1|VEC_EMBED_L2_DISTANCE",
        "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE GENERATE('s') = u.x)|GENERATE",
        "SELECT d.e FROM (SELECT EMBED('x') AS e) AS d|EMBED",
        "SELECT * FROM t JOIN u ON u.v = EMBED('j')|EMBED",
        "SELECT CASE WHEN x > 0 THEN GENERATE('pos') ELSE GENERATE('neg') END FROM t|GENERATE,GENERATE",
        "WITH c AS (SELECT EMBED('a') e) SELECT * FROM c|EMBED",
        "SELECT embed('lower case')|EMBED",
        "INSERT INTO t VALUES (EMBED('a')) ON DUPLICATE KEY UPDATE v = EMBED('b')|EMBED,EMBED",
    })
    void findsAiCallsEverywhere(String sql, String expected) {
        assertEquals(List.of(expected.split(",")), functions(sql));
    }

    @Test
    void nestedCallsOuterFirst() {
        StatementAnalysis a = parse("SELECT VEC_EMBED_COSINE_DISTANCE(EMBED('a'), 'b')");
        assertEquals(List.of("VEC_EMBED_COSINE_DISTANCE", "EMBED"), a.calls().stream().map(c -> c.function().name()).toList());
        AiCall outer = a.calls().get(0);
        assertEquals("EMBED('a')", outer.vector().toString());
        assertEquals("'b'", outer.text().toString());
        assertNull(outer.model());
        assertNull(outer.options());
        assertEquals(List.of(outer.text()), outer.modelInputs());
    }

    @Test
    void argumentPositions() {
        AiCall c = parse("SELECT EMBED_TEXT('m', 't', '{}')").calls().get(0);
        assertEquals("'t'", c.text().toString());
        assertEquals("'m'", c.model().toString());
        assertEquals("'{}'", c.options().toString());
        assertNull(c.vector());
        AiCall g = parse("SELECT GENERATE('p', 'm')").calls().get(0);
        assertEquals("'p'", g.text().toString());
        assertEquals("'m'", g.model().toString());
        assertNull(g.options());
        assertNull(g.argument(-1));
        assertNull(g.argument(5));
    }

    @Test
    void qualifiedCallIsNotAnAiCall() {
        assertEquals(List.of(), functions("SELECT db.embed('x'), mydb.GENERATE('y')"));
        assertEquals(List.of("EMBED"), functions("SELECT db.embed('x'), EMBED('y')"));
    }

    @Test
    void tidbVectorFunctionsCollected() {
        StatementAnalysis a = parse("SELECT VEC_COSINE_DISTANCE(v, '[1,2]'), vec_l2_distance(v, v), VEC_AS_TEXT(v), LENGTH('x') FROM t");
        assertEquals(List.of("VEC_COSINE_DISTANCE", "vec_l2_distance", "VEC_AS_TEXT"),
                a.vectorFunctions().stream().map(f -> f.getName()).toList());
        assertTrue(a.calls().isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT EMBED()",
        "SELECT EMBED('a', 'm', '{}', 'extra')",
        "SELECT EMBED_TEXT('m')",
        "SELECT VEC_EMBED_COSINE_DISTANCE(v)",
        "SELECT VEC_EMBED_L2_DISTANCE(v, 'a', 'm')",
        "SELECT GENERATE()",
        "SELECT ANSWER('q')",
        "SELECT ANSWER('q', c, 'm', '{}', 'x') FROM t",
        "SELECT EMBED(DISTINCT 'a')",
    })
    void wrongArgumentCounts(String sql) {
        ProxyException e = assertThrows(ProxyException.class, () -> parse(sql));
        assertEquals(ProxyError.BAD_ARGUMENTS.code(), e.code());
        assertEquals("42000", e.sqlState());
        assertTrue(e.getMessage().contains("takes"), e.getMessage());
    }

    @Test
    void wrongArgumentCountMessageShowsSignature() {
        ProxyException e = assertThrows(ProxyException.class, () -> parse("SELECT EMBED()"));
        assertTrue(e.getMessage().contains("EMBED(text [, model [, options_json]])"), e.getMessage());
        assertTrue(e.getMessage().contains("got 0 arguments"), e.getMessage());
    }

    @Test
    void parseErrorNamesPosition() {
        ProxyException e = assertThrows(ProxyException.class,
                () -> parse("SELECT EMBED('a') FROM WHERE"));
        assertEquals(ProxyError.PARSE_ERROR.code(), e.code());
        assertTrue(e.getMessage().matches("(?s).*line 1, column \\d+.*"), e.getMessage());
        assertTrue(e.getMessage().contains("not sent to the backend"), e.getMessage());
    }

    @Test
    void multiLineParseErrorNamesLine() {
        ProxyException e = assertThrows(ProxyException.class,
                () -> parse("SELECT EMBED('a')\nFROM t\nWHERE WHERE"));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void storedCallsAreTheValuesAStatementWrites() {
        StatementAnalysis insert = parse("INSERT INTO t VALUES (EMBED('a'))");
        assertTrue(insert.stored(insert.calls().get(0)));
        StatementAnalysis update = parse("UPDATE t SET v = EMBED('a') WHERE VEC_COSINE_DISTANCE(v, EMBED('q')) < 1");
        AiCall set = update.calls().stream().filter(c -> c.text().toString().equals("'a'")).findFirst().orElseThrow();
        AiCall where = update.calls().stream().filter(c -> c.text().toString().equals("'q'")).findFirst().orElseThrow();
        assertTrue(update.stored(set));
        assertFalse(update.stored(where), "a text the UPDATE only compares against is a query");
        StatementAnalysis select = parse("SELECT EMBED('a')");
        assertFalse(select.stored(select.calls().get(0)));
        StatementAnalysis delete = parse("DELETE FROM t WHERE VEC_EMBED_L2_DISTANCE(v, 'x') > 1");
        assertFalse(delete.stored(delete.calls().get(0)));
    }

    // ---------------------------------------------------------------- firstColumn

    static Expression textOf(String expr) {
        return parse("SELECT EMBED(" + expr + ") FROM t").calls().get(0).text();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"'lit'", "42", "-1.5", "NULL", "@q", "CONCAT('a', 'b')", "CONCAT('a', @x, \"dq\")",
        "\"double quoted\"", "UPPER(LOWER('x'))", "CASE WHEN 1 THEN 'a' ELSE 'b' END"})
    void constantsHaveNoColumn(String expr) {
        assertNull(StatementAnalysis.firstColumn(textOf(expr)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "body|body",
        "t.body|t.body",
        "CONCAT('a', body)|body",
        "CONCAT(title, body)|title",
        "CASE WHEN x > 0 THEN 'a' ELSE 'b' END|x",
        "`quoted col`|`quoted col`",
        "(SELECT 'x')|(subquery)",
        "(SELECT body FROM u LIMIT 1)|(subquery)",
    })
    void columnsAndSubqueriesAreNotConstant(String expr, String expected) {
        assertEquals(expected, StatementAnalysis.firstColumn(textOf(expr)));
    }

    // ------------------------------------------------------------ found bugs

    /** BUG: FunctionCollector reflects into java.lang.Enum and dies with InaccessibleObjectException. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SELECT EMBED('a') UNION SELECT 1",
        "SELECT EMBED('a') FROM t WHERE x LIKE 'a%'",
        "SELECT EMBED('a') FROM t ORDER BY x NULLS FIRST",
        "SELECT EMBED('a') FROM t FOR UPDATE",
        "REPLACE INTO t VALUES (EMBED('a'))",
        "INSERT LOW_PRIORITY INTO t VALUES (EMBED('a'))",
    })
    void statementsHoldingParserEnumsAreAnalysed(String sql) {
        assertEquals(List.of("EMBED"), functions(sql));
    }

    /** BUG: MySQL's backslash escapes in string literals are not enabled in the parser. */
    @Test
    void backslashEscapedQuoteParses() {
        StatementAnalysis a = parse("SELECT EMBED('it\\'s')");
        assertEquals("it's", ConstantValues.literal(a.calls().get(0).text()));
    }
}
