package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.counter;
import static io.ragproxy.it.ai.AiProxy.globalStatus;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.status;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #11, item 5: what one account can learn of another's model calls. Accounts {@code owner} (all privileges on
 * the database) and {@code reader} (SELECT only) share one proxy in front of the Bedrock emulator.
 */
class SessionIsolationTest {
    private static final String DB = "ragproxy_it_isolation";
    private static final String OWNER = "rp_iso_owner";
    private static final String READER = "rp_iso_reader";
    private static final String PASSWORD = "pw-iso-1";
    private static final List<String> COUNTERS = List.of("Rag_ml_requests", "Rag_ml_responses", "Rag_ml_cache_hits",
            "Rag_ml_cache_misses", "Rag_ml_input_tokens");

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @BeforeAll
    static void accounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + OWNER + "'@'%'", "DROP USER IF EXISTS '" + READER + "'@'%'",
                "CREATE USER '" + OWNER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + READER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "GRANT ALL ON " + DB + ".* TO '" + OWNER + "'@'%'",
                "GRANT SELECT ON " + DB + ".* TO '" + READER + "'@'%'");
    }

    @AfterAll
    static void dropAccounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + OWNER + "'@'%'", "DROP USER IF EXISTS '" + READER
                + "'@'%'");
    }

    static Connection as(AiProxy proxy, String user) throws SQLException {
        return Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), DB, user, PASSWORD, false);
    }

    @Test
    void showRagStatusCountsTheSessionsOwnCallsAndShowGlobalRagStatusNeedsProcess() throws Exception {
        try (Connection reader = as(WORLD.proxy(), READER); Connection owner = as(WORLD.proxy(), OWNER)) {
            Map<String, String> before = status(reader);
            for (String name : COUNTERS) {
                assertEquals(0, counter(before, name), name + " of a new session: " + before);
            }
            int calls = WORLD.emulator().requestCount();
            assertEquals("1", scalar(owner, "SELECT EMBED('the owner''s secret plan') IS NOT NULL"));
            assertEquals(calls + 1, WORLD.emulator().requestCount(), "the owner's embedding called the model");
            Map<String, String> ownerStatus = status(owner);
            assertEquals(1, counter(ownerStatus, "Rag_ml_requests"), ownerStatus.toString());
            assertEquals(1, counter(ownerStatus, "Rag_ml_cache_misses"), ownerStatus.toString());

            Map<String, String> after = status(reader);
            for (String name : COUNTERS) {
                assertEquals(counter(before, name), counter(after, name), name + " moved with the owner's call: " + after);
            }
            assertTrue(after.keySet().stream().noneMatch(k -> k.startsWith("Rag_ml_cache_entries")
                    || k.startsWith("Rag_ml_cache_bytes")), "the shared cache's size is not a session counter: " + after);

            java.sql.SQLException refused = assertSqlError(reader, "SHOW GLOBAL RAG STATUS", 7027, "42000");
            assertTrue(refused.getMessage().contains("PROCESS"), refused.getMessage());
        }
        try (Connection root = WORLD.proxy().connect(DB)) {
            Map<String, String> global = globalStatus(root);
            assertTrue(counter(global, "Rag_ml_requests") >= 1, global.toString());
            assertTrue(global.containsKey("Rag_ml_cache_entries"), global.toString());
            assertEquals(0, counter(status(root), "Rag_ml_requests"), "root's own session made no call");
        }
    }

    @Test
    void aConnectionResetStartsTheRagSettingsAndCountersAfresh() throws Exception {
        // A pool hands a reset connection to its next user: nothing of the last one's rag_ session may stay.
        try (Connection c = Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), DB, OWNER, PASSWORD,
                false, "useResetConnection=true")) {
            AiProxy.exec(c, "SET rag_batch_size = 7, rag_on_error = 'null'");
            assertEquals("1", scalar(c, "SELECT EMBED('before the reset') IS NOT NULL"));
            assertEquals(1, counter(status(c), "Rag_ml_requests"));
            c.unwrap(org.mariadb.jdbc.Connection.class).reset(); // COM_RESET_CONNECTION
            Map<String, String> settings = new java.util.HashMap<>();
            AiProxy.rows(c, "SHOW RAG SETTINGS").forEach(r -> settings.put(r.get(0), r.get(1)));
            assertEquals("96", settings.get("rag_batch_size"), settings.toString());
            assertEquals("error", settings.get("rag_on_error"), settings.toString());
            assertEquals(0, counter(status(c), "Rag_ml_requests"), "the session's counters start again");
        }
    }

    @Test
    void withCacheScopeAccountAnotherAccountsTextIsACacheMissWithGlobalScopeAHit() throws Exception {
        // Global scope (the default): the reader's embedding of the owner's text is a hit, no model call; this is
        // what the scope "account" is for.
        try (Connection owner = as(WORLD.proxy(), OWNER); Connection reader = as(WORLD.proxy(), READER)) {
            embed(owner, "the owner's shared-cache secret");
            int calls = WORLD.emulator().requestCount();
            embed(reader, "the owner's shared-cache secret");
            assertEquals(calls, WORLD.emulator().requestCount(), "global scope: the owner's result was reused");
            assertEquals(1, counter(status(reader), "Rag_ml_cache_hits"), status(reader).toString());
        }
        ObjectNode ai = AiProxy.bedrockConfig(WORLD.emulator());
        ai.putObject("cache").put("scope", "account");
        AiProxy accountScoped = AiProxy.start(ai, true);
        try (Connection owner = as(accountScoped, OWNER); Connection reader = as(accountScoped, READER)) {
            int calls = WORLD.emulator().requestCount();
            embed(owner, "the owner's private secret");
            embed(owner, "the owner's private secret");
            assertEquals(calls + 1, WORLD.emulator().requestCount(), "the owner's second embedding is its own hit");
            assertEquals(1, counter(status(owner), "Rag_ml_cache_hits"));

            long templates = accountScoped.pipeline().planCache().size();
            embed(reader, "the owner's private secret");
            assertEquals(templates + 1, accountScoped.pipeline().planCache().size(),
                    "account scope: the reader's statement was parsed for it, not taken from the owner's plan");
            assertEquals(calls + 2, WORLD.emulator().requestCount(),
                    "account scope: the reader's embedding of the owner's text called the model");
            Map<String, String> readerStatus = status(reader);
            assertEquals(0, counter(readerStatus, "Rag_ml_cache_hits"), readerStatus.toString());
            assertEquals(1, counter(readerStatus, "Rag_ml_cache_misses"), readerStatus.toString());
            assertEquals(1, counter(readerStatus, "Rag_ml_requests"), readerStatus.toString());
        } finally {
            WORLD.close(accountScoped);
        }
    }

    private static void embed(Connection c, String text) throws SQLException {
        assertEquals("1", scalar(c, "SELECT EMBED('" + text.replace("'", "''") + "') IS NOT NULL"));
    }
}
