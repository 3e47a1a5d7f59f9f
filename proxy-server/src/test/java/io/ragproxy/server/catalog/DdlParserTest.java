package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.catalog.DdlParser.CreateFunction;
import io.ragproxy.server.catalog.DdlParser.CreateMlEngine;
import io.ragproxy.server.catalog.DdlParser.CreateModel;
import io.ragproxy.server.catalog.DdlParser.Drop;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.text.SqlMode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DdlParserTest {

    static ProxyException error(String sql) {
        return assertThrows(ProxyException.class, () -> DdlParser.parse(sql), sql);
    }

    @Test
    void auroraFunctionAsTheAwsDocumentationWritesIt() {
        CreateFunction c = assertInstanceOf(CreateFunction.class, DdlParser.parse("""
                CREATE FUNCTION invoke_titan (request_body TEXT)
                    RETURNS TEXT
                    ALIAS AWS_BEDROCK_INVOKE_MODEL
                    MODEL ID 'amazon.titan-text-express-v1'
                    CONTENT_TYPE 'application/json'
                    ACCEPT 'application/json';
                """));
        AliasFunction f = c.function();
        assertEquals("invoke_titan", f.name());
        assertNull(f.schema());
        assertEquals("request_body", f.parameter());
        assertEquals("TEXT", f.parameterType());
        assertEquals("TEXT", f.returns());
        assertEquals("amazon.titan-text-express-v1", f.modelId());
        assertEquals("application/json", f.contentType());
        assertEquals("application/json", f.accept());
        assertNull(f.timeoutMs());
        assertFalse(c.orReplace() || c.ifNotExists());
    }

    @Test
    void aFunctionNamedIfIsNotIfNotExists() {
        CreateFunction c = assertInstanceOf(CreateFunction.class, DdlParser.parse("CREATE FUNCTION if (b TEXT)"
                + " RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm.x-v1'"));
        assertEquals("if", c.function().name());
        assertFalse(c.ifNotExists());
        CreateFunction d = assertInstanceOf(CreateFunction.class, DdlParser.parse("CREATE FUNCTION IF NOT EXISTS if"
                + " (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm.x-v1'"));
        assertEquals("if", d.function().name());
        assertTrue(d.ifNotExists());
    }

    @Test
    void everyOptionalClause() {
        CreateFunction c = assertInstanceOf(CreateFunction.class, DdlParser.parse("CREATE OR REPLACE FUNCTION"
                + " IF NOT EXISTS bedrockdb.Haiku (body VARCHAR(4000) CHARACTER SET utf8mb4) DEFINER = 'admin'@'%'"
                + " RETURNS LONGTEXT SQL SECURITY INVOKER COMMENT 'ask Claude' ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID"
                + " 'anthropic.claude-3-haiku-20240307-v1:0' TIMEOUT_MS 5000 ACCEPT '*/*' CONTENT_TYPE 'text/plain'"));
        AliasFunction f = c.function();
        assertTrue(c.orReplace() && c.ifNotExists());
        assertEquals("haiku", f.name());
        assertEquals("bedrockdb", f.schema());
        assertEquals("VARCHAR(4000) CHARACTER SET utf8mb4", f.parameterType());
        assertEquals("LONGTEXT", f.returns());
        assertEquals("DEFINER = 'admin'@'%'", f.definer());
        assertEquals("INVOKER", f.sqlSecurity());
        assertEquals(5000, f.timeoutMs());
        assertEquals("*/*", f.accept());
        assertEquals("text/plain", f.contentType());
        assertEquals("{\"timeout_ms\":5000}", f.invokeOptions());
        // MySQL's own place for DEFINER, before FUNCTION.
        AliasFunction g = ((CreateFunction) DdlParser.parse("CREATE DEFINER=CURRENT_USER() FUNCTION g (b TEXT)"
                + " RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm.x-v1'")).function();
        assertEquals("DEFINER=CURRENT_USER()", g.definer());
        assertEquals(AliasFunction.DEFAULT_MEDIA_TYPE, g.contentType());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODE ID 'x'"
                + "|line 1, column 72: expected MODEL after ALIAS AWS_BEDROCK_INVOKE_MODEL, found MODE",
        "CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL 'x'"
                + "|line 1, column 78: expected ID after MODEL, found a string",
        "CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID x"
                + "|line 1, column 81: expected the Bedrock model id as a quoted string after MODEL ID, found x",
        "CREATE FUNCTION f (b TEXT) RETURNS TEXT MODEL ID 'x'"
                + "|line 1, column 41: expected ALIAS after RETURNS TEXT, found MODEL",
        "CREATE FUNCTION f (b TEXT) ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x'"
                + "|line 1, column 28: expected RETURNS after ), found ALIAS",
        "CREATE FUNCTION f () RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x'"
                + "|line 1, column 20: an AWS_BEDROCK_INVOKE_MODEL function takes exactly one parameter, the request"
                + " body, e.g. (request_body TEXT)",
        "CREATE FUNCTION f (a TEXT, b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x'"
                + "|line 1, column 26: an AWS_BEDROCK_INVOKE_MODEL function takes exactly one parameter, the request"
                + " body; found a second one",
        "CREATE FUNCTION f (b TEXT) RETURNS JSON ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x'"
                + "|line 1, column 36: Amazon Bedrock functions do not return JSON (as on Aurora): write RETURNS TEXT"
                + " and read the result with JSON_EXTRACT, or CAST it",
        "CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x' TIMEOUT_MS 0"
                + "|line 1, column 96: expected a positive number of milliseconds after TIMEOUT_MS, found 0",
        "CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x' ACCEPT 'a' ACCEPT 'b'"
                + "|line 1, column 96: expected CONTENT_TYPE, ACCEPT, TIMEOUT_MS (each at most once) or the end of"
                + " the statement after ACCEPT, found ACCEPT",
        "CREATE FUNCTION `my-fn` (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x'"
                + "|line 1, column 17: ragproxy finds calls of user functions by their unquoted name, so 'my-fn' must"
                + " be a plain identifier (letters, digits, _ and $)",
        "DROP FUNCTION IF f|line 1, column 18: expected EXISTS after IF, found f",
        "DROP PROCEDURE p|line 1, column 6: expected FUNCTION, MODEL or ML_ENGINE after DROP, found PROCEDURE",
        "DROP MODEL m extra|line 1, column 14: unexpected extra after m",
    })
    void errorsNameTheExactPosition(String sql, String message) {
        ProxyException e = error(sql);
        assertEquals(7002, e.code());
        assertEquals("42000", e.sqlState());
        assertEquals(message, e.getMessage());
    }

    @Test
    void positionsCountLinesAndColumns() {
        ProxyException e = error("CREATE FUNCTION f (b TEXT)\n  RETURNS TEXT\n  ALIAS AWS_BEDROCK_INVOKE_MODEL\n"
                + "  MODEL ID 'x'\n  CONTENT_TYPE application/json");
        assertEquals("line 5, column 16: expected the content type as a quoted string after CONTENT_TYPE, found"
                + " application", e.getMessage());
        e = error("CREATE FUNCTION f (b TEXT) /* a comment\n spanning lines */ RETURNS TEXT ALIAS OTHER");
        assertEquals("line 2, column 39: expected AWS_BEDROCK_INVOKE_MODEL after ALIAS, found OTHER", e.getMessage());
        e = error("CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e'");
        assertEquals(7001, e.code());
        assertEquals("line 1, column 47: ragproxy runs AWS_BEDROCK_INVOKE_MODEL alias functions only, not"
                + " AWS_SAGEMAKER_INVOKE_ENDPOINT", e.getMessage());
        e = error("CREATE FUNCTION f (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x");
        assertEquals("line 1, column 81: unterminated string starting here", e.getMessage());
    }

    @Test
    void drops() {
        assertEquals(new Drop(CatalogObject.Kind.FUNCTION, null, "Haiku", true), DdlParser.parse("drop function if"
                + " exists Haiku;"));
        assertEquals(new Drop(CatalogObject.Kind.FUNCTION, "db", "f", false), DdlParser.parse("DROP FUNCTION `db`.f"));
        assertEquals(new Drop(CatalogObject.Kind.MODEL, "mindsdb", "m", false), DdlParser.parse("DROP MODEL mindsdb.m"));
        assertEquals(new Drop(CatalogObject.Kind.ML_ENGINE, null, "e", false), DdlParser.parse("DROP ML_ENGINE e"));
    }

    @Test
    void mindsdbModelsAsTheSeedWritesThem() {
        CreateModel c = assertInstanceOf(CreateModel.class, DdlParser.parse("""
                CREATE MODEL bedrock_model
                PREDICT answer
                USING
                    engine = 'bedrock_engine',
                    question_column = 'question',
                    max_tokens = 100,
                    temperature = 0.3;"""));
        MindsModel m = c.model();
        assertEquals("bedrock_model", m.name());
        assertEquals("answer", m.predict());
        assertEquals("bedrock_engine", m.engine());
        assertNull(m.modelId());
        assertEquals("default", m.mode());
        assertEquals(List.of("question"), m.inputColumns());
        assertEquals("{\"max_tokens\":100,\"temperature\":0.3}", m.optionsJson());
        assertEquals("line 4, column 5", c.enginePosition());

        MindsModel t = ((CreateModel) DdlParser.parse("CREATE MODEL mindsdb.t PREDICT answer USING engine = 'bedrock',"
                + " model_id = 'us.meta.llama3-2-3b-instruct-v1:0', mode = 'conversational', prompt_template ="
                + " 'Q: {{question}} C: {{ context }}', top_p = 0.9, stop = ['\\n', 'END']")).model();
        assertEquals("t", t.name());
        assertTrue(t.conversational());
        assertEquals(List.of("question", "context"), t.inputColumns());
        assertEquals("CONCAT('Q: ', d.question, ' C: ', d.context)", t.promptSql(col -> "d." + col));
        assertEquals("{\"top_p\":0.9,\"stop\":[\"\\n\",\"END\"]}", t.optionsJson());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "CREATE MODEL m PREDICT answer USING question_column = 'q'|CREATE MODEL needs engine = '<ML engine>'",
        "CREATE MODEL m PREDICT answer USING engine = 'e'|give either prompt_template, or question_column",
        "CREATE MODEL m PREDICT answer USING engine = 'e', context_column = 'c'|give either prompt_template",
        "CREATE MODEL m PREDICT answer USING engine = 'e', prompt_template = 'no placeholder'|has no {{column}}"
                + " placeholder",
        "CREATE MODEL m PREDICT answer USING engine = 'e', question_column = 'q', mode = 'chat'|mode must be"
                + " 'default' or 'conversational'",
        "CREATE MODEL m PREDICT answer USING engine = 'e', question_column = 'q', max_tokens = 1.5|max_tokens must"
                + " be a positive whole number",
        "CREATE MODEL m PREDICT answer USING engine = 'e', question_colum = 'q'|CREATE MODEL takes context_column,"
                + " engine, max_tokens, mode, model_id, prompt_template, question_column, stop, temperature, top_p;"
                + " not question_colum",
        "CREATE MODEL m PREDICT answer USING engine = 'e', engine = 'f'|engine is given twice",
        "CREATE MODEL other.m PREDICT answer USING engine = 'e'|ragproxy keeps models in one project, mindsdb",
        "CREATE MODEL m PREDICT answer|expected USING after PREDICT answer, found the end of the statement",
    })
    void modelMistakes(String sql, String message) {
        ProxyException e = error(sql);
        assertEquals(7002, e.code());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void credentialsInSqlAreRefusedWithoutRepeatingThem() {
        ProxyException e = error("""
                CREATE ML_ENGINE bedrock_engine
                FROM bedrock
                USING
                    aws_access_key_id = 'AQAXEQK89OX07YS34OP',
                    aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
                    region_name = 'us-east-1';""");
        assertEquals(7022, e.code());
        assertTrue(e.getMessage().startsWith("line 4, column 5: CREATE ML_ENGINE got aws_access_key_id; ragproxy never"
                + " takes AWS credentials in SQL"), e.getMessage());
        assertTrue(e.getMessage().contains("AWS default credentials provider chain"), e.getMessage());
        assertFalse(e.getMessage().contains("AQAX") || e.getMessage().contains("EXAMPLEKEY"), e.getMessage());
        for (String key : List.of("aws_secret_access_key", "AWS_SESSION_TOKEN", "api_key", "password")) {
            assertEquals(7022, error("CREATE MODEL m PREDICT a USING engine = 'e', " + key + " = 'x'").code(), key);
        }
        CreateMlEngine ok = assertInstanceOf(CreateMlEngine.class, DdlParser.parse("CREATE ML_ENGINE e FROM bedrock"
                + " USING region_name = 'eu-west-1'"));
        assertEquals("{\"handler\":\"bedrock\",\"using\":{\"region_name\":\"eu-west-1\"}}",
                ok.engine().definition().toString());
        assertEquals(7001, error("CREATE ML_ENGINE e FROM openai").code());
        assertEquals(7001, error("CREATE MODEL m FROM files (SELECT * FROM t) PREDICT a USING engine = 'e'").code());
    }

    @Test
    void literalsReadAsTheSessionsSqlModeReadsThem() {
        String sql = "CREATE MODEL m PREDICT answer USING engine = 'bedrock', prompt_template = 'C:\\new {{q}}'";
        // Under NO_BACKSLASH_ESCAPES the backend reads 'C:\new' as six characters; by default \n is a newline.
        assertEquals("C:\\new {{q}}", ((CreateModel) DdlParser.parse(sql, new SqlMode(true, false))).model()
                .promptTemplate());
        assertEquals("C:\new {{q}}", ((CreateModel) DdlParser.parse(sql)).model().promptTemplate());
        // The stored template goes back into SQL in a spelling every mode reads alike.
        MindsModel m = ((CreateModel) DdlParser.parse(sql, new SqlMode(true, false))).model();
        assertEquals("CONCAT(" + CatalogStore.literal("C:\\new ") + ", d.q)", m.promptSql(col -> "d." + col));
    }

    @Test
    void doubleQuotesAreNamesUnderAnsiQuotes() {
        String sql = "CREATE MODEL m PREDICT answer USING engine = \"bedrock\", prompt_template = 'x {{q}}'";
        assertEquals("bedrock", ((CreateModel) DdlParser.parse(sql)).model().engine());
        ProxyException e = assertThrows(ProxyException.class, () -> DdlParser.parse(sql, new SqlMode(false, true)));
        assertTrue(e.getMessage().contains("quoted string"), e.getMessage());
    }
}
