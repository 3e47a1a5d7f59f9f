package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.LLAMA;
import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.LocalBackend;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Seed 003 (MindsDB's Amazon Bedrock integration) through the proxy: its CREATE ML_ENGINE (refused as written,
 * because it carries AWS keys), its CREATE MODEL statements and its queries, run as written there. MindsDB's
 * {@code files} database is a schema of the local backend here. Answers come from the emulator's Converse route;
 * a reference emulator gives the expected text.
 */
class MindsdbModelsTest {
    private static final String DB = "ragproxy_it_mindsdb";

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, UnaryOperator.identity());

    static final String SEED_ENGINE = """
            CREATE ML_ENGINE bedrock_engine
            FROM bedrock
            USING
                aws_access_key_id = 'AQAXEQK89OX07YS34OP',
                aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
                aws_session_token = 'FwoGZXIvYXdzEJr...',
                region_name = 'us-east-1';""";
    static final String DEFAULT_MODEL = """
            CREATE MODEL bedrock_default_model
            PREDICT answer
            USING
                engine = 'bedrock_engine',
                prompt_template = 'Answer the users input in a helpful way: {{question}}';""";
    static final String QUESTION_MODEL = """
            CREATE MODEL bedrock_model
            PREDICT answer
            USING
                engine = 'bedrock_engine',
                question_column = 'question',
                max_tokens = 100,
                temperature = 0.3;""";
    static final String CONVERSATIONAL_MODEL = """
            CREATE MODEL bedrock_conversational_model
            PREDICT answer
            USING
                engine = 'bedrock_engine',
                mode = 'conversational',
                question_column = 'question';""";

    @BeforeAll
    static void files() throws Exception {
        LocalBackend.get().recreateDatabase("files");
        LocalBackend.get().exec("files",
                "CREATE TABLE unrelated_questions (question TEXT)",
                "INSERT INTO unrelated_questions VALUES ('What is the capital of Sweden?'),"
                        + " ('What is the second planet in the solar system?')",
                "CREATE TABLE related_questions (question TEXT)",
                "INSERT INTO related_questions VALUES ('What is the capital of Sweden?'),"
                        + " ('What are some cool places to visit there?')");
    }

    @AfterAll
    static void dropFiles() throws Exception {
        LocalBackend.get().dropDatabase("files");
    }

    @BeforeEach
    void engineAndModels() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        try (Connection c = WORLD.proxy().connect(DB)) {
            for (String m : List.of("bedrock_default_model", "bedrock_model", "bedrock_conversational_model")) {
                exec(c, "DROP MODEL IF EXISTS " + m);
            }
            exec(c, "DROP ML_ENGINE IF EXISTS bedrock_engine");
            exec(c, "CREATE ML_ENGINE bedrock_engine FROM bedrock USING region_name = 'us-east-1'");
            exec(c, DEFAULT_MODEL);
            exec(c, QUESTION_MODEL);
            exec(c, CONVERSATIONAL_MODEL);
        }
        WORLD.emulator().clearRequests();
    }

    /** The emulator's Converse answer for one user message, asked directly. */
    static String answer(String model, String prompt, ObjectNode inference) {
        ObjectNode body = AiProxy.JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user").putArray("content").addObject().put("text", prompt);
        if (inference != null) {
            body.set("inferenceConfig", inference);
        }
        JsonNode out = WORLD.reference().post(model, "converse", body.toString().getBytes(StandardCharsets.UTF_8)).join();
        return out.at("/output/message/content/0/text").asText();
    }

    static String promptOf(RecordedRequest r) {
        return r.json().at("/messages/0/content/0/text").asText();
    }

    @Test
    void engineWithKeysInSqlIsRefusedAndNothingIsStored() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "DROP MODEL bedrock_default_model");
            exec(c, "DROP MODEL bedrock_model");
            exec(c, "DROP MODEL bedrock_conversational_model");
            exec(c, "DROP ML_ENGINE bedrock_engine");
            SQLException e = assertSqlError(c, SEED_ENGINE, 7022, "42000");
            assertTrue(e.getMessage().contains("line 4, column 5: CREATE ML_ENGINE got aws_access_key_id"), e.getMessage());
            assertTrue(e.getMessage().contains("AWS default credentials provider chain"), e.getMessage());
            assertFalse(e.getMessage().contains("AQAXEQK89OX07YS34OP") || e.getMessage().contains("EXAMPLEKEY"),
                    "the message repeats a key: " + e.getMessage());
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM ragproxy.ml_engines"));
            // Without the keys, the seed's engine is accepted.
            exec(c, SEED_ENGINE.replaceAll("(?m)^\\s+aws_\\w+ = '[^']*',\\n", ""));
            assertEquals(List.of(List.of("bedrock_engine", "{\"handler\":\"bedrock\",\"using\":{\"region_name\":"
                    + "\"us-east-1\"}}")), rows(c, "SELECT name, definition FROM ragproxy.ml_engines"));
            // A key in CREATE MODEL is refused the same way.
            e = assertSqlError(c, "CREATE MODEL m2 PREDICT answer USING engine = 'bedrock_engine',"
                    + " question_column = 'q', aws_secret_access_key = 'abc'", 7022, "42000");
            assertTrue(e.getMessage().contains("aws_secret_access_key"), e.getMessage());
        }
    }

    @Test
    void defaultModeOneQuestionAsWrittenInTheSeed() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT *\nFROM bedrock_default_model\n"
                        + "WHERE question = 'What is the capital of Sweden?';")) {
            assertEquals(2, rs.getMetaData().getColumnCount());
            assertEquals("question", rs.getMetaData().getColumnLabel(1));
            assertEquals("answer", rs.getMetaData().getColumnLabel(2));
            assertTrue(rs.next());
            String prompt = "Answer the users input in a helpful way: What is the capital of Sweden?";
            assertEquals("What is the capital of Sweden?", rs.getString(1));
            assertEquals(answer(LLAMA, prompt, null), rs.getString(2));
            assertFalse(rs.next());
        }
        // Without model_id: the proxy's default text model, through Converse, with the template filled in.
        // The answer above is the emulator's echo of exactly that prompt; the seed's JOIN example asks the same
        // question, so when it ran first the answer comes from the cache and no call is made here.
        List<RecordedRequest> calls = WORLD.emulator().requests(LLAMA, "converse");
        assertTrue(calls.size() <= 1, () -> WORLD.emulator().requests().toString());
        for (RecordedRequest call : calls) {
            assertEquals("Answer the users input in a helpful way: What is the capital of Sweden?", promptOf(call));
        }
    }

    @Test
    void aPromptTemplateWrittenUnderNoBackslashEscapesIsStoredAsTheBackendReadsIt() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "DROP MODEL IF EXISTS nbe_model");
            exec(c, "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
            exec(c, "CREATE MODEL nbe_model PREDICT answer USING engine = 'bedrock',"
                    + " prompt_template = 'Files in C:\\new\\: {{question}}'");
            String template = scalar(c, "SELECT 'Files in C:\\new\\: '"); // the backend's reading
            assertEquals("Files in C:\\new\\: ", template);
            WORLD.emulator().clearRequests();
            scalar(c, "SELECT answer FROM nbe_model WHERE question = 'nbe one'");
            assertEquals(template + "nbe one", promptOf(WORLD.emulator().requests(LLAMA, "converse").get(0)));
            // Stored as read: a session in the default mode gets the same prompt.
            exec(c, "SET sql_mode = DEFAULT");
            WORLD.emulator().clearRequests();
            scalar(c, "SELECT answer FROM nbe_model WHERE question = 'nbe two'");
            assertEquals(template + "nbe two", promptOf(WORLD.emulator().requests(LLAMA, "converse").get(0)));
            exec(c, "DROP MODEL nbe_model");
        }
    }

    @Test
    void questionColumnModelPassesMaxTokensAndTemperature() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            String a = scalar(c, "SELECT answer FROM bedrock_model WHERE question = 'Name three rivers.'");
            ObjectNode inference = AiProxy.JSON.createObjectNode();
            inference.put("maxTokens", 100);
            inference.put("temperature", 0.3);
            assertEquals(answer(LLAMA, "Name three rivers.", inference), a);
            JsonNode sent = WORLD.emulator().requests(LLAMA, "converse").get(0).json();
            assertEquals(100, sent.at("/inferenceConfig/maxTokens").asInt());
            assertEquals(0.3, sent.at("/inferenceConfig/temperature").asDouble(), 1e-6);
            assertEquals("Name three rivers.", promptOf(WORLD.emulator().requests(LLAMA, "converse").get(0)));
        }
    }

    @Test
    void defaultModeJoinAnswersEveryRowAsWrittenInTheSeed() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            {
                List<List<String>> result = rows(c, "SELECT *\nFROM files.unrelated_questions AS d\n"
                        + "JOIN bedrock_default_model AS m");
                List<List<String>> expected = new ArrayList<>();
                for (List<String> q : rows(c, "SELECT question FROM files.unrelated_questions")) {
                    expected.add(List.of(q.get(0), answer(LLAMA, "Answer the users input in a helpful way: "
                            + q.get(0), null)));
                }
                assertEquals(expected, result);
            }
        }
    }

    @Test
    void conversationalModeAnswersOnceInTheLastRow() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT *\nFROM files.related_questions AS d\n"
                        + "JOIN bedrock_conversational_model AS m")) {
            assertEquals("question", rs.getMetaData().getColumnLabel(1));
            assertEquals("answer", rs.getMetaData().getColumnLabel(2));
            List<String> questions = new ArrayList<>();
            List<String> answers = new ArrayList<>();
            while (rs.next()) {
                questions.add(rs.getString(1));
                answers.add(rs.getString(2));
            }
            assertEquals(List.of("What is the capital of Sweden?", "What are some cool places to visit there?"),
                    questions);
            assertNull(answers.get(0), "earlier rows are the conversation: " + answers);
            String conversation = String.join("\n", questions);
            assertEquals(answer(LLAMA, conversation, null), answers.get(1));
        }
        List<RecordedRequest> calls = WORLD.emulator().requests(LLAMA, "converse");
        assertEquals(1, calls.size(), "one answer for the whole conversation: " + calls);
        assertEquals("What is the capital of Sweden?\nWhat are some cool places to visit there?",
                promptOf(calls.get(0)));
    }

    @Test
    void modelsAreListedAndDroppedLikeMindsdbs() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            List<String> row = rows(c, "SHOW RAG FUNCTIONS").stream()
                    .filter(r -> r.get(0).equals("bedrock_default_model")).findFirst().orElseThrow();
            assertEquals("mindsdb model", row.get(1));
            JsonNode definition = AiProxy.JSON.readTree(row.get(4));
            assertEquals("Answer the users input in a helpful way: {{question}}",
                    definition.get("prompt_template").asText());
            assertEquals("bedrock_engine", definition.get("engine").asText());
            SQLException e = assertSqlError(c, "DROP ML_ENGINE bedrock_engine", 7020, "42000");
            assertTrue(e.getMessage().contains("bedrock_default_model"), e.getMessage());
            exec(c, "DROP MODEL bedrock_default_model");
            e = assertSqlError(c, "SELECT * FROM bedrock_default_model WHERE question = 'x'", 1146, "42S02");
            assertSqlError(c, "DROP MODEL bedrock_default_model", 7021, "42000");
            exec(c, "DROP MODEL IF EXISTS bedrock_default_model");
            e = assertSqlError(c, "CREATE MODEL m3 PREDICT answer USING engine = 'no_such_engine',"
                    + " question_column = 'q'", 7021, "42000");
            assertTrue(e.getMessage().contains("CREATE ML_ENGINE no_such_engine FROM bedrock"), e.getMessage());
            e = assertSqlError(c, "CREATE MODEL m3 PREDICT answer USING engine = 'bedrock', question_column = 'q',"
                    + " prompt_template = 'x {{q}}'", 7002, "42000");
            assertTrue(e.getMessage().contains("give either prompt_template, or question_column"), e.getMessage());
            e = assertSqlError(c, "SELECT * FROM bedrock_model", 7023, "42000");
            assertTrue(e.getMessage().contains("question = '…'"), e.getMessage());
        }
    }
}
