package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.emulator.RecordedRequest;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.Driver;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Seed 004 (Aurora MySQL + Amazon Bedrock using SQL) through the proxy: the functions exactly as the post's
 * repository defines them, its two queries over constants run with the mariadb CLI as written, and its two per-row
 * procedures as single UPDATE statements. The emulator answers Claude 3 Haiku's Messages API; a reference emulator
 * gives the expected response bodies.
 */
class AuroraFunctionsTest {
    private static final String DB = "ragproxy_it_aurora";
    static final String HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, UnaryOperator.identity());

    /** The function definitions of the post's repository, as written there. */
    static final String CREATE_TITAN = """
            CREATE FUNCTION invoke_titan (request_body TEXT)
            RETURNS TEXT
            ALIAS AWS_BEDROCK_INVOKE_MODEL
            MODEL ID 'amazon.titan-text-express-v1' /*** model ID ***/
            CONTENT_TYPE 'application/json'
            ACCEPT 'application/json';
            """;
    static final String CREATE_HAIKU = """
            CREATE FUNCTION claude3_haiku (request_body TEXT)
            RETURNS TEXT
            ALIAS AWS_BEDROCK_INVOKE_MODEL
            MODEL ID 'anthropic.claude-3-haiku-20240307-v1:0'\s
            CONTENT_TYPE 'application/json'
            ACCEPT 'application/json';
            """;

    /** The post's Claude 3 request body around {@code text}, as its queries write it. */
    static String haikuBody(String text) {
        return "{\n \"anthropic_version\": \"bedrock-2023-05-31\",\n \"max_tokens\": 1024,\"temperature\": 0,"
                + "\"top_p\": 0,\"top_k\":1,\"stop_sequences\": [],\n \"messages\": [{\"role\": \"user\",\"content\":"
                + " [{\"type\": \"text\", \"text\": \"" + text + "\"}]}]\n}";
    }

    /** The post's query: the text of Claude's answer to {@code text}. */
    static String haikuQuery(String text) {
        return "select json_unquote(json_extract(claude3_haiku(\n'" + haikuBody(text) + "'),\"$.content[0].text\"))"
                + " as response_from_bedrock\\G\n";
    }

    @BeforeEach
    void functions() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "DROP FUNCTION IF EXISTS invoke_titan");
            exec(c, "DROP FUNCTION IF EXISTS claude3_haiku");
        }
        Seeds.runCli(WORLD.proxy().host(), WORLD.proxy().port(), DB, CREATE_TITAN + CREATE_HAIKU);
        WORLD.emulator().clearRequests();
    }

    /** What the emulator answers to {@code body} for {@code model}, asked directly. */
    static JsonNode expected(String model, String body) {
        return WORLD.reference().post(model, "invoke", body.getBytes(StandardCharsets.UTF_8)).join();
    }

    @Test
    void seedQueriesOverConstantsRunAsWrittenWithTheCli() throws Exception {
        String english = "Please tell me 3 recommended sightseeing spots in Kyoto.";
        String japanese = "京都でお勧めの観光地を教えて下さい";
        java.util.Map<String, String> before;
        try (Connection c = WORLD.proxy().connect(DB)) {
            before = AiProxy.globalStatus(c);
        }
        List<String> out = Seeds.runCli(WORLD.proxy().host(), WORLD.proxy().port(), DB,
                haikuQuery(english) + haikuQuery(japanese));
        String want1 = expected(HAIKU, haikuBody(english)).at("/content/0/text").asText();
        String want2 = expected(HAIKU, haikuBody(japanese)).at("/content/0/text").asText();
        // \G in batch mode without column names: a row header, then the value.
        assertEquals(List.of("*************************** 1. row ***************************", want1,
                "*************************** 1. row ***************************", want2), out);

        // Exactly two InvokeModel calls, each with the body as written and the function's media types.
        List<RecordedRequest> calls = WORLD.emulator().requests(HAIKU, "invoke");
        assertEquals(2, calls.size(), () -> "requests: " + WORLD.emulator().requests());
        assertEquals(haikuBody(english), calls.get(0).bodyString());
        assertEquals(haikuBody(japanese), calls.get(1).bodyString());
        assertEquals("application/json", calls.get(0).header("Content-Type"));
        assertEquals("application/json", calls.get(0).header("Accept"));
        // Aurora's Aurora_ml_* counters have their counterpart in SHOW GLOBAL RAG STATUS (the CLI's session is gone), per model too.
        try (Connection c = WORLD.proxy().connect(DB)) {
            java.util.Map<String, String> after = AiProxy.globalStatus(c);
            String key = "Rag_ml_requests@" + HAIKU;
            long was = before.containsKey(key) ? AiProxy.counter(before, key) : 0;
            assertEquals(2, AiProxy.counter(after, key) - was, after.toString());
        }
    }

    @Test
    void titanFunctionOfThePostsRepository() throws Exception {
        String body = "{\n\"inputText\": \"What is the proportion of land and sea on Earth?\",\n"
                + "\"textGenerationConfig\": {\n\"maxTokenCount\": 1024,\n\"stopSequences\": [],\n\"temperature\":0,\n"
                + "\"topP\":1\n}\n}";
        try (Connection c = WORLD.proxy().connect(DB)) {
            String answer = scalar(c, "select json_unquote(json_extract(invoke_titan(\n'" + body + "'\n),"
                    + "\"$.results[0].outputText\")) as bedrock_response");
            assertEquals(expected("amazon.titan-text-express-v1", body).at("/results/0/outputText").asText(), answer);
            // The raw response body comes back whole: the function returns it, not just the text.
            String raw = scalar(c, "SELECT invoke_titan('" + body + "')");
            assertEquals(expected("amazon.titan-text-express-v1", body), AiProxy.JSON.readTree(raw));
        }
    }

    /** Use case 1, "complement existing data": the procedure's per-row loop as one UPDATE. */
    @Test
    void complementProcedureAsOneUpdate() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE t_bedrock (id INT PRIMARY KEY AUTO_INCREMENT, country VARCHAR(52),"
                    + " information TEXT)");
            exec(c, "INSERT INTO t_bedrock (country) VALUES ('Japan'), ('Sweden'), ('Mexico')");
            update(c, "UPDATE t_bedrock SET information = json_unquote(json_extract("
                    + "claude3_haiku(CONCAT('{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,"
                    + "\"temperature\": 0,\"top_p\": 0, \"top_k\":1, \"stop_sequences\": [],\"messages\": [{\"role\":"
                    + " \"user\",\"content\": [{\"type\": \"text\", \"text\": \"What is the most popular food in ',"
                    + " country, ' ?\"}]}]}')), '$.content[0].text'))");
            for (List<String> row : rows(c, "SELECT country, information FROM t_bedrock ORDER BY id")) {
                String body = "{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"temperature\": 0,"
                        + "\"top_p\": 0, \"top_k\":1, \"stop_sequences\": [],\"messages\": [{\"role\": \"user\","
                        + "\"content\": [{\"type\": \"text\", \"text\": \"What is the most popular food in " + row.get(0)
                        + " ?\"}]}]}";
                assertEquals(expected(HAIKU, body).at("/content/0/text").asText(), row.get(1), row.get(0));
            }
            assertEquals(3, WORLD.emulator().requests(HAIKU, "invoke").size());
        }
    }

    /** Use case 2, "summarize": product names and summaries per row as UPDATEs, and a GROUP_CONCAT summary. */
    @Test
    void summarizeProceduresAsOneUpdateEach() throws Exception {
        List<String> feed = List.of("Amazon Athena is now available in the AWS Canada West (Calgary) Region.",
                "Amazon Cognito is now available in the Europe (Zurich) Region.",
                "AWS Backup now supports restore testing for Amazon EBS Snapshots Archive.");
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE TABLE t_feed (id INT PRIMARY KEY AUTO_INCREMENT, description TEXT, product TEXT,"
                    + " summary TEXT)");
            for (String d : feed) {
                exec(c, "INSERT INTO t_feed (description) VALUES ('" + d + "')");
            }
            // Over the whole table: constants to the proxy (the user variable), so it runs today.
            exec(c, "set session group_concat_max_len = 1048576");
            exec(c, "set @all = (select group_concat(description) from t_feed)");
            String summary = scalar(c, "select json_unquote(json_extract(claude3_haiku(concat('{\"anthropic_version\":"
                    + " \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"temperature\": 0,\"top_p\": 0, \"top_k\":1,"
                    + " \"stop_sequences\": [],\"messages\": [{\"role\": \"user\",\"content\": [{\"type\": \"text\","
                    + " \"text\": \"Please categorize and tell me what kind of services improvement being talked about"
                    + " based on the following content. ', @all, ' ?\"}]}]}')),\"$.content[0].text\")) as"
                    + " response_from_bedrock");
            String allBody = "{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"temperature\": 0,"
                    + "\"top_p\": 0, \"top_k\":1, \"stop_sequences\": [],\"messages\": [{\"role\": \"user\",\"content\":"
                    + " [{\"type\": \"text\", \"text\": \"Please categorize and tell me what kind of services improvement"
                    + " being talked about based on the following content. " + String.join(",", feed) + " ?\"}]}]}";
            assertEquals(expected(HAIKU, allBody).at("/content/0/text").asText(), summary);

            {
                update(c, "UPDATE t_feed SET product = json_unquote(json_extract(claude3_haiku(CONCAT("
                        + "'{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"messages\": [{\"role\":"
                        + " \"user\",\"content\": [{\"type\": \"text\", \"text\": \"Only the product name in: ',"
                        + " description, '\"}]}]}')), '$.content[0].text'))");
                update(c, "UPDATE t_feed SET summary = json_unquote(json_extract(claude3_haiku(CONCAT("
                        + "'{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"messages\": [{\"role\":"
                        + " \"user\",\"content\": [{\"type\": \"text\", \"text\": \"Summarize: ', description,"
                        + " '\"}]}]}')), '$.content[0].text'))");
            }
            for (List<String> row : rows(c, "SELECT description, product, summary FROM t_feed ORDER BY id")) {
                String product = "{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"messages\":"
                        + " [{\"role\": \"user\",\"content\": [{\"type\": \"text\", \"text\": \"Only the product name"
                        + " in: " + row.get(0) + "\"}]}]}";
                String summarize = "{\"anthropic_version\": \"bedrock-2023-05-31\",\"max_tokens\": 1024,\"messages\":"
                        + " [{\"role\": \"user\",\"content\": [{\"type\": \"text\", \"text\": \"Summarize: " + row.get(0)
                        + "\"}]}]}";
                assertEquals(expected(HAIKU, product).at("/content/0/text").asText(), row.get(1));
                assertEquals(expected(HAIKU, summarize).at("/content/0/text").asText(), row.get(2));
            }
        }
    }

    @Test
    void showRagFunctionsListsTheFunctionsWithTheirDefinitions() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            List<String> haiku = rows(c, "SHOW RAG FUNCTIONS").stream().filter(r -> r.get(0).equals(DB + ".claude3_haiku"))
                    .findFirst().orElseThrow();
            assertEquals("aurora function", haiku.get(1));
            assertEquals("TEXT", haiku.get(2));
            assertEquals("claude3_haiku(request_body TEXT) RETURNS TEXT", haiku.get(3));
            JsonNode definition = AiProxy.JSON.readTree(haiku.get(4));
            assertEquals(HAIKU, definition.get("model_id").asText());
            assertEquals("application/json", definition.get("content_type").asText());
            assertEquals(DB, definition.get("schema").asText());
            assertEquals(scalar(c, "SELECT CURRENT_USER()"), haiku.get(5));
            assertTrue(haiku.get(6) != null && haiku.get(6).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d.*"),
                    haiku.toString());
            // The catalog is a table the backend keeps: what SHOW lists is what schema ragproxy holds.
            try (Connection direct = LocalBackend.get().connect("")) {
                assertEquals(List.of(List.of("claude3_haiku"), List.of("invoke_titan")),
                        rows(direct, "SELECT name FROM ragproxy.functions ORDER BY name"));
            }
        }
    }

    @Test
    void explainRagShowsTheBuiltInCallWithoutCallingTheModel() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            List<List<String>> plan = rows(c, "EXPLAIN RAG SELECT claude3_haiku('{\"messages\": []}') AS r");
            assertEquals("literal", plan.get(0).get(0));
            assertEquals(HAIKU, plan.get(0).get(2));
            assertTrue(plan.get(0).get(3).contains("'…response body from " + HAIKU + "…'"), plan.toString());
            assertEquals(0, WORLD.emulator().requestCount());
        }
    }

    @Test
    void timeoutMsLimitsEachCall() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "CREATE FUNCTION haiku_quick (request_body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID '" + HAIKU + "' TIMEOUT_MS 200");
            try {
                WORLD.emulator().setLatency(Duration.ofMillis(1500));
                assertSqlError(c, "SELECT haiku_quick('" + haikuBody("slow") + "')", 7102, "HYT00");
            } finally {
                WORLD.emulator().setLatency(Duration.ZERO);
                exec(c, "DROP FUNCTION haiku_quick");
            }
        }
    }

    @Test
    void dropFunctionDropsOursAndForwardsTheBackendsOwn() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            exec(c, "DROP FUNCTION claude3_haiku");
            // No longer ours: the call goes to the backend, which has no such stored function.
            SQLException e = assertSqlError(c, "SELECT claude3_haiku('{}')", 1305, "42000");
            assertTrue(e.getMessage().contains("claude3_haiku"), e.getMessage());
            // A stored function of the backend is dropped by the backend.
            LocalBackend.get().exec(DB, "CREATE FUNCTION plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1");
            assertEquals("3", scalar(c, "SELECT plus_one(2)"));
            exec(c, "DROP FUNCTION plus_one");
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '"
                    + DB + "' AND ROUTINE_NAME = 'plus_one'"));
            assertSqlError(c, "DROP FUNCTION plus_one", 1305, "42000");
            exec(c, "DROP FUNCTION IF EXISTS plus_one");
        }
    }

    @Test
    void mistakesGetErrorsThatSayWhatToDo() throws Exception {
        try (Connection c = WORLD.proxy().connect(DB)) {
            SQLException e = assertSqlError(c, "SELECT claude3_haiku('a', 'b')", 7010, "42000");
            assertTrue(e.getMessage().contains("claude3_haiku() takes one argument (request_body TEXT)"), e.getMessage());
            e = assertSqlError(c, CREATE_HAIKU, 7020, "42000");
            assertTrue(e.getMessage().contains("already exists"), e.getMessage());
            exec(c, "CREATE FUNCTION IF NOT EXISTS claude3_haiku (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID 'x'");
            e = assertSqlError(c, "CREATE FUNCTION f2 (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL"
                    + " MODEL ID 'no-such-model'", 7011, "42000");
            assertTrue(e.getMessage().contains("Bedrock model id"), e.getMessage());
            e = assertSqlError(c, "CREATE FUNCTION f2 (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODE ID 'x'",
                    7002, "42000");
            assertTrue(e.getMessage().endsWith("line 1, column 73: expected MODEL after ALIAS AWS_BEDROCK_INVOKE_MODEL,"
                    + " found MODE"), e.getMessage());
            assertEquals("0", scalar(c, "SELECT COUNT(*) FROM ragproxy.functions WHERE name = 'f2'"));
        }
    }

    @Test
    void creatingAFunctionNeedsCreateRoutineOnItsDatabaseAndNoGrantOnSchemaRagproxy() throws Exception {
        LocalBackend.get().exec("", "DROP USER IF EXISTS 'rp_it_user'@'%'", "CREATE USER 'rp_it_user'@'%' IDENTIFIED BY"
                + " 'pw-it-1'", "GRANT SELECT ON " + DB + ".* TO 'rp_it_user'@'%'");
        try (Connection c = Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), DB, "rp_it_user",
                "pw-it-1", false)) {
            SQLException e = assertSqlError(c, "CREATE FUNCTION mine (b TEXT) RETURNS TEXT ALIAS"
                    + " AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + HAIKU + "'", 7024, "42000");
            assertTrue(e.getMessage().contains("GRANT CREATE ROUTINE ON `" + DB + "`.* TO rp_it_user@%"),
                    e.getMessage());
            // Using the catalog's functions needs no grant on it.
            String body = haikuBody("granted?");
            assertEquals(expected(HAIKU, body).toString(), AiProxy.JSON.readTree(scalar(c, "SELECT claude3_haiku('"
                    + body + "')")).toString());
            LocalBackend.get().exec("", "GRANT CREATE ROUTINE ON " + DB + ".* TO 'rp_it_user'@'%'");
            exec(c, "CREATE FUNCTION mine (b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID '" + HAIKU + "'");
            exec(c, "DROP FUNCTION mine");
        } finally {
            LocalBackend.get().exec("", "DROP USER IF EXISTS 'rp_it_user'@'%'");
        }
    }
}
