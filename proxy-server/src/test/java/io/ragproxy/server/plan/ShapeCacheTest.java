package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.text.SessionText;
import io.ragproxy.server.text.SqlMode;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A template shared by shape, filled with another statement's literals, plans what a fresh parse of that statement
 * plans: the same backend SQL, the same models called with the same options (a different option would be a new
 * model call: the result cache is keyed by them), the same errors.
 */
class ShapeCacheTest {
    static final SessionText NO_BACKSLASH_ESCAPES = new SessionText("utf8mb4", "utf8mb4", new SqlMode(true, false));
    static final SessionText ANSI_QUOTES = new SessionText("utf8mb4", "utf8mb4", new SqlMode(false, true));
    static final SessionText BINARY = new SessionText("binary", "binary", SqlMode.DEFAULT);

    FakeModels.Embedder embedder;
    FakeModels.Generator generator;
    ModelInvoker invoker;
    LiteralPlanner planner;
    RagSettings settings;
    FakeSession session;

    @BeforeEach
    void setUp() {
        FakeModels.Rig rig = FakeModels.rig();
        embedder = rig.embedder();
        generator = rig.generator();
        invoker = rig.invoker();
        settings = rig.settings();
        planner = new LiteralPlanner(invoker, LiteralPlannerTest.PARSER);
        session = new FakeSession(LiteralPlannerTest.MARIADB, true, settings).answer("SELECT @q", "the question");
    }

    @AfterEach
    void tearDown() {
        invoker.close();
    }

    static StatementShape shape(String sql, SessionText text) {
        return StatementShape.of(NeutralSql.of(sql, text), text.sqlMode());
    }

    LiteralTemplate template(String sql, SessionText text, Dialect dialect) {
        String neutral = NeutralSql.of(sql, text);
        return planner.template(planner.parse(neutral), dialect, StatementShape.of(neutral, text.sqlMode()),
                text.sqlMode());
    }

    /** The backend SQL of a fresh parse, or the error's code as text. */
    String uncached(String sql, SessionText text, Dialect dialect) throws Exception {
        try {
            return planner.plan(session, NeutralSql.of(sql, text), dialect, settings, false).get(10, TimeUnit.SECONDS)
                    .backendSql();
        } catch (ProxyException e) {
            return "error " + e.code();
        } catch (ExecutionException e) {
            return "error " + assertInstanceOf(ProxyException.class, e.getCause()).code();
        }
    }

    /** The backend SQL of {@code template} filled with {@code sql}'s literals, or the error's code as text. */
    String filled(LiteralTemplate template, String sql, SessionText text) throws Exception {
        try {
            return planner.plan(session, template, template.fill(shape(sql, text)), settings, false)
                    .get(10, TimeUnit.SECONDS).backendSql();
        } catch (ProxyException e) {
            return "error " + e.code();
        } catch (ExecutionException e) {
            return "error " + assertInstanceOf(ProxyException.class, e.getCause()).code();
        }
    }

    /**
     * Checks that {@code first}'s template is shared by shape and that each variant has its shape and plans from it
     * as from a fresh parse, calling no model the fresh parse did not (same texts, models and options).
     */
    void sameAsUncached(SessionText text, String first, String... variants) throws Exception {
        for (Dialect dialect : List.of(Dialect.MARIADB, Dialect.TIDB)) {
            LiteralTemplate template = template(first, text, dialect);
            assertTrue(template.sharedByShape(), "shared by shape: " + first);
            for (String variant : variants) {
                assertEquals(shape(first, text).text(), shape(variant, text).text(), "one shape: " + variant);
                String expected = uncached(variant, text, dialect);
                int embeddings = embedder.calls.size();
                int generations = generator.prompts.size();
                assertEquals(expected, filled(template, variant, text), variant);
                assertEquals(embeddings, embedder.calls.size(), "no embedding the fresh parse did not ask for: "
                        + variant + " " + embedder.calls);
                assertEquals(generations, generator.prompts.size(), "no generation the fresh parse did not ask for: "
                        + variant);
            }
        }
    }

    @Test
    void theIssuesExampleFillsTheTemplateOfAnotherStatementOfItsShape() throws Exception {
        sameAsUncached(SessionText.DEFAULT,
                "SELECT id FROM docs WHERE cat = 'a' ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('q1')) LIMIT 3",
                "SELECT id FROM docs WHERE cat = 'b' ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('q2')) LIMIT 5",
                "SELECT id FROM docs WHERE cat = '' ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('')) LIMIT 0",
                "SELECT id FROM docs WHERE cat = 'it''s' ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('l''été')) LIMIT 1");
    }

    @Test
    void escapesInStringsAreReadFromEachStatementsOwnLiterals() throws Exception {
        sameAsUncached(SessionText.DEFAULT, "SELECT GENERATE('plain') AS a FROM t WHERE b = 'x'",
                "SELECT GENERATE('tab\\there') AS a FROM t WHERE b = 'new\\nline'",
                "SELECT GENERATE('it''s') AS a FROM t WHERE b = 'it''s not'",
                "SELECT GENERATE('it\\'s') AS a FROM t WHERE b = 'x\\'y'",
                "SELECT GENERATE('50\\% and \\_') AS a FROM t WHERE b = 'back\\\\slash'",
                "SELECT GENERATE('say \"hi\"') AS a FROM t WHERE b = 'NUL\\0'",
                "SELECT GENERATE(\"double \"\" quoted\") AS a FROM t WHERE b = \"x\"");
    }

    @Test
    void underNoBackslashEscapesABackslashIsAnotherShape() throws Exception {
        sameAsUncached(NO_BACKSLASH_ESCAPES, "SELECT GENERATE('plain') AS a FROM t WHERE b = 'x'",
                "SELECT GENERATE('it''s') AS a FROM t WHERE b = 'y'");
        // A backslash is spelled as a hex literal of its bytes (NeutralSql): another shape, planned as a fresh parse.
        assertNotEquals(shape("SELECT GENERATE('a') AS a FROM t WHERE b = 'x'", NO_BACKSLASH_ESCAPES).text(),
                shape("SELECT GENERATE('a') AS a FROM t WHERE b = 'C:\\new'", NO_BACKSLASH_ESCAPES).text());
        sameAsUncached(NO_BACKSLASH_ESCAPES, "SELECT GENERATE('a') AS a FROM t WHERE b = 'C:\\new'",
                "SELECT GENERATE('b') AS a FROM t WHERE b = 'D:\\old'");
    }

    @Test
    void underAnsiQuotesDoubleQuotesNameColumns() throws Exception {
        sameAsUncached(ANSI_QUOTES, "SELECT \"id\" FROM t WHERE \"cat\" = 'a' ORDER BY"
                + " VEC_COSINE_DISTANCE(\"v\", EMBED('one')) LIMIT 2",
                "SELECT \"id\" FROM t WHERE \"cat\" = 'b' ORDER BY VEC_COSINE_DISTANCE(\"v\", EMBED('two')) LIMIT 9");
        assertNotEquals(shape("SELECT \"a\", EMBED('x') AS e", ANSI_QUOTES).text(),
                shape("SELECT \"b\", EMBED('x') AS e", ANSI_QUOTES).text(), "an identifier is part of the shape");
    }

    @Test
    void introducersHexAndBitLiteralsKeepTheirPrefixInTheShape() throws Exception {
        sameAsUncached(SessionText.DEFAULT, "SELECT EMBED('q') AS e FROM t WHERE a = X'41' AND b = N'n' AND c = 0x1F",
                "SELECT EMBED('r') AS e FROM t WHERE a = X'4243' AND b = N'm' AND c = 0x1F");
        assertNotEquals(shape("SELECT EMBED('q') AS e FROM t WHERE a = X'41'", SessionText.DEFAULT).text(),
                shape("SELECT EMBED('q') AS e FROM t WHERE a = 'A'", SessionText.DEFAULT).text());
        assertNotEquals(shape("SELECT EMBED('q') AS e FROM t WHERE a = 0x1F", SessionText.DEFAULT).text(),
                shape("SELECT EMBED('q') AS e FROM t WHERE a = 0x2F", SessionText.DEFAULT).text(),
                "a hexadecimal number is a word to the lexer: part of the shape");
        assertNotEquals(shape("SELECT EMBED(_utf8mb4'q') AS e", SessionText.DEFAULT).text(),
                shape("SELECT EMBED('q') AS e", SessionText.DEFAULT).text(), "the introducer is part of the shape");
    }

    @Test
    void inABinarySessionTextAboveAsciiIsAnotherShape() throws Exception {
        sameAsUncached(BINARY, "SELECT GENERATE('ascii') AS a FROM t WHERE b = 'x'",
                "SELECT GENERATE('other') AS a FROM t WHERE b = 'y'");
        assertNotEquals(shape("SELECT GENERATE('a') AS a FROM t WHERE b = 'x'", BINARY).text(),
                shape("SELECT GENERATE('a') AS a FROM t WHERE b = 'café'", BINARY).text());
    }

    @Test
    void numbersSignsAndPositionsAreFilledAsWritten() throws Exception {
        sameAsUncached(SessionText.DEFAULT,
                "SELECT id, EMBED('q') AS e FROM t WHERE a > -7 AND b < 2.5 ORDER BY 1 DESC LIMIT 10, 5",
                "SELECT id, EMBED('r') AS e FROM t WHERE a > -70 AND b < 1e-3 ORDER BY 2 DESC LIMIT 0, 50",
                "SELECT id, EMBED('s') AS e FROM t WHERE a > -0.50 AND b < 3 ORDER BY 1 DESC LIMIT 5, 10",
                "SELECT id, EMBED('1') AS e FROM t WHERE a > -1 AND b < 1 ORDER BY 1 DESC LIMIT 1, 1");
        assertNotEquals(shape("SELECT EMBED('q') AS e FROM t WHERE a > -1", SessionText.DEFAULT).text(),
                shape("SELECT EMBED('q') AS e FROM t WHERE a > 1", SessionText.DEFAULT).text(),
                "the sign is part of the shape");
        assertNotEquals(shape("SELECT EMBED('q') AS e FROM t ORDER BY 1", SessionText.DEFAULT).text(),
                shape("SELECT EMBED('q') AS e FROM t ORDER BY '1'", SessionText.DEFAULT).text(),
                "a number and a string are different slots");
    }

    @Test
    void modelNamesAndOptionsAreEvaluatedPerStatement() throws Exception {
        FakeModels.Embedder other = new FakeModels.Embedder("other-embed");
        invoker.registry().register(other);
        sameAsUncached(SessionText.DEFAULT,
                "SELECT EMBED('q', 'fake-embed', '{\"input_type\": \"query\"}') AS e",
                "SELECT EMBED('q', 'fake-embed', '{\"input_type\": \"document\"}') AS e",
                "SELECT EMBED('q', 'other-embed', '{\"dimensions\": 3}') AS e",
                "SELECT EMBED('q', 'no-such-model', '{}') AS e",
                "SELECT EMBED('q', 'fake-embed', '{not json') AS e");
        LiteralTemplate template = template("SELECT EMBED('q', 'fake-embed', '{}') AS e", SessionText.DEFAULT,
                Dialect.MARIADB);
        assertEquals("error 7011", filled(template, "SELECT EMBED('q', 'no-such-model', '{}') AS e",
                SessionText.DEFAULT), "an unknown model in a later statement of the shape is refused");
        assertEquals("error 7012", filled(template, "SELECT EMBED('q', 'fake-embed', '{not json') AS e",
                SessionText.DEFAULT));
        filled(template, "SELECT EMBED('with the other model', 'other-embed', '{}') AS e", SessionText.DEFAULT);
        assertEquals(List.of("with the other model"), other.calls.get(other.calls.size() - 1),
                "the second model was called");
    }

    @Test
    void generatedColumnLabelsAreWrittenFromEachStatementsText() throws Exception {
        sameAsUncached(SessionText.DEFAULT, "SELECT GENERATE('hi'), CONCAT('a', GENERATE('b')) FROM t WHERE c = 1",
                "SELECT GENERATE('bye'), CONCAT('x', GENERATE('y')) FROM t WHERE c = 2",
                "SELECT GENERATE('" + "long ".repeat(80) + "'), CONCAT('back`tick', GENERATE('y')) FROM t WHERE c = 3");
    }

    @Test
    void argumentsThatAreNotLiteralsAreEvaluatedByTheBackendAsBefore() throws Exception {
        sameAsUncached(SessionText.DEFAULT, "SELECT EMBED(@q) AS e, GENERATE('a') AS g FROM t WHERE x = 'one'",
                "SELECT EMBED(@q) AS e, GENERATE('b') AS g FROM t WHERE x = 'two'");
    }

    @Test
    void aTemplateMadeFromEqualLiteralsIsFilledOnlyWhereTheyAreEqualToo() throws Exception {
        String equal = "SELECT GENERATE('a') AS g FROM t WHERE c = 'a'";
        String same = "SELECT GENERATE('z') AS g FROM t WHERE c = 'z'";
        String different = "SELECT GENERATE('y') AS g FROM t WHERE c = 'z'";
        assertEquals(shape(equal, SessionText.DEFAULT).text(), shape(different, SessionText.DEFAULT).text());
        LiteralTemplate fromEqual = template(equal, SessionText.DEFAULT, Dialect.MARIADB);
        assertTrue(fromEqual.fits(shape(same, SessionText.DEFAULT)));
        assertFalse(fromEqual.fits(shape(different, SessionText.DEFAULT)),
                "the check could not tell the two 'a' apart: another statement is parsed");
        sameAsUncached(SessionText.DEFAULT, equal, same);
        // Made from different literals, the template fills every statement of the shape.
        sameAsUncached(SessionText.DEFAULT, "SELECT GENERATE('a') AS g FROM t WHERE c = 'b'", same, different);
    }

    @Test
    void whatAPreparationReadsFromALiteralsValueIsNotShared() {
        // On MariaDB a string argument of a TiDB distance function is translated only when it reads as a vector.
        assertFalse(template("SELECT VEC_COSINE_DISTANCE(v, '[1,2,3]') AS d, EMBED('q') AS e FROM t",
                SessionText.DEFAULT, Dialect.MARIADB).sharedByShape());
        // A distance call's vector argument is rendered once, with the template.
        assertFalse(template("SELECT id FROM t ORDER BY VEC_EMBED_COSINE_DISTANCE('[1,2,3]', 'q')",
                SessionText.DEFAULT, Dialect.MARIADB).sharedByShape());
        // Text hidden from the parser is put back as written.
        assertFalse(template("SELECT j.x, EMBED('q') AS e FROM JSON_TABLE('[1]', '$[*]' COLUMNS (x INT PATH '$')) j",
                SessionText.DEFAULT, Dialect.MARIADB).sharedByShape());
        // An argument holding a literal inside an expression is not one slot.
        assertFalse(template("SELECT EMBED(CONCAT('a', @q)) AS e", SessionText.DEFAULT, Dialect.MARIADB)
                .sharedByShape());
        // An alias the user wrote that reads like a generated label is not told apart from it.
        assertFalse(template("SELECT GENERATE('a'), 1 AS `GENERATE('a')`", SessionText.DEFAULT, Dialect.MARIADB)
                .sharedByShape());
        // ODBC escapes are rewritten by the parser ({d '2020-1-1'} becomes {d '2020-01-01'}): no shape.
        assertNull(shape("SELECT EMBED('q') AS e FROM t WHERE d = {d '2020-01-01'}", SessionText.DEFAULT));
        assertThrows(IllegalStateException.class, () -> template("SELECT EMBED(CONCAT('a', @q)) AS e",
                SessionText.DEFAULT, Dialect.MARIADB).fill(shape("SELECT EMBED(CONCAT('b', @q)) AS e",
                SessionText.DEFAULT)));
    }

    @Test
    void aShapeKeepsItsLiteralsVerbatimAndTellsKindsApart() {
        StatementShape s = shape("SELECT EMBED('it''s', \"m\") AS e FROM t WHERE a = -12.5e3 -- 'comment'",
                SessionText.DEFAULT);
        assertNotNull(s);
        assertEquals(3, s.size(), "the comment is part of the shape");
        assertEquals(List.of("'it''s'", "\"m\"", "12.5e3"), List.of(s.literal(0), s.literal(1), s.literal(2)));
        assertEquals("it's", s.stringValue(0));
        assertTrue(s.isString(1));
        assertFalse(s.isString(2));
        assertEquals(shape("SELECT EMBED('x', \"y\") AS e FROM t WHERE a = -1 -- 'comment'", SessionText.DEFAULT)
                .text(), s.text());
    }
}
