package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSqlError;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.rows;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue #14, model access: accounts {@code app} and {@code other} (all privileges on one database, none on
 * {@code ragproxy}) and {@code admin} ({@code SELECT ON ragproxy.* WITH GRANT OPTION}), created by root, in front of
 * the Bedrock emulator. Under the default {@code [access] default = "allow"} every model is open until the first
 * grant; from then on a Bedrock model needs one. A refusal is error 7110 (42000) naming the model and the account,
 * and the emulator records no request for it.
 */
class ModelGrantsTest {
    private static final String DB = "ragproxy_it_access";
    private static final String APP = "rp_acc_app";
    private static final String OTHER = "rp_acc_other";
    private static final String ADMIN = "rp_acc_admin";
    private static final String PASSWORD = "pw-acc-1";

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, ai -> ai);

    @BeforeAll
    static void accounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + APP + "'@'%'", "DROP USER IF EXISTS '" + OTHER + "'@'%'",
                "DROP USER IF EXISTS '" + ADMIN + "'@'%'",
                "CREATE USER '" + APP + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + OTHER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + ADMIN + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "GRANT ALL ON " + DB + ".* TO '" + APP + "'@'%'",
                "GRANT ALL ON " + DB + ".* TO '" + OTHER + "'@'%'",
                "GRANT SELECT ON ragproxy.* TO '" + ADMIN + "'@'%' WITH GRANT OPTION");
    }

    @AfterAll
    static void dropAccounts() throws SQLException {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + APP + "'@'%'", "DROP USER IF EXISTS '" + OTHER + "'@'%'",
                "DROP USER IF EXISTS '" + ADMIN + "'@'%'");
    }

    @BeforeEach
    void noGrants() throws SQLException {
        CatalogWorld.dropCatalog();
    }

    static Connection as(AiProxy proxy, String user) throws SQLException {
        return Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), user.equals(ADMIN) ? "" : DB, user, PASSWORD,
                false);
    }

    /** A text no earlier statement sent, so the result cache cannot answer it. */
    static String fresh() {
        return "text " + UUID.randomUUID();
    }

    /** The requests the emulator has recorded, once none is in flight. */
    int requests() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (WORLD.emulator().inFlight() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return WORLD.emulator().requestCount();
    }

    @Test
    void grantsDecideWhichAccountCallsWhichBedrockModelBeforeAnyCall() throws Exception {
        AiProxy proxy = WORLD.proxy();
        try (Connection app = as(proxy, APP); Connection other = as(proxy, OTHER); Connection admin = as(proxy, ADMIN)) {
            assertNotNull(scalar(app, "SELECT GENERATE('" + fresh() + "')"), "no grant yet: an upgrade changes nothing");

            SQLException denied = assertSqlError(app, "GRANT RAG MODEL 'titan-v2' TO '" + APP + "'@'%'", 7024, "42000");
            assertTrue(denied.getMessage().contains("WITH GRANT OPTION"), denied.getMessage());
            assertEquals(List.of(), rows(admin, "SHOW RAG GRANTS"));

            exec(admin, "GRANT RAG MODEL 'titan-v2', 'llama3-2-3b' TO '" + APP + "'@'%'");
            assertNotNull(scalar(app, "SELECT VEC_AS_TEXT(EMBED('" + fresh() + "'))"));
            assertNotNull(scalar(app, "SELECT GENERATE('" + fresh() + "')"));

            int before = requests();
            SQLException refused = assertSqlError(other, "SELECT GENERATE('" + fresh() + "')", 7110, "42000");
            assertTrue(refused.getMessage().contains(AiProxy.LLAMA) && refused.getMessage().contains("'" + OTHER
                    + "'@'%'"), "names the model and the account: " + refused.getMessage());
            assertSqlError(other, "SELECT VEC_AS_TEXT(EMBED('" + fresh() + "', 'titan-v2'))", 7110, "42000");
            assertEquals(before, requests(), "no model was called for a refused statement");

            exec(admin, "REVOKE RAG MODEL 'llama3-2-3b' FROM '" + APP + "'@'%'");
            before = requests();
            refused = assertSqlError(app, "SELECT GENERATE('" + fresh() + "')", 7110, "42000");
            assertTrue(refused.getMessage().contains("'" + APP + "'@'%'"), refused.getMessage());
            assertEquals(before, requests(), "revoked: refused before any call");
            assertNotNull(scalar(app, "SELECT VEC_AS_TEXT(EMBED('" + fresh() + "'))"), "titan-v2 is still granted");

            assertEquals(List.of(List.of("'" + APP + "'@'%'", AiProxy.TITAN_V2)), firstTwo(rows(app,
                    "SHOW RAG GRANTS")), "the caller's own grants");
            assertEquals(List.of(List.of("'" + APP + "'@'%'", AiProxy.TITAN_V2)), firstTwo(rows(admin,
                    "SHOW RAG GRANTS FOR '" + APP + "'@'%'")));
            assertEquals(ADMIN + "@%", rows(admin, "SHOW RAG GRANTS FOR " + APP).get(0).get(2), "granted by");
            assertSqlError(other, "SHOW RAG GRANTS FOR '" + APP + "'@'%'", 7024, "42000");
            assertSqlError(app, "REVOKE RAG MODEL 'titan-v2' FROM '" + APP + "'@'%'", 7024, "42000");
            assertSqlError(admin, "GRANT RAG MODEL 'no-such-model' TO " + APP, 7011, "42000");
        }
    }

    @Test
    void underDenyEveryModelNeedsAGrantAndARevokeReachesAnotherInstance() throws Exception {
        ObjectNode deny = AiProxy.bedrockConfig(WORLD.emulator());
        deny.putObject("access").put("default", "deny");
        AiProxy strict = AiProxy.start(deny, true);
        try (Connection admin = as(WORLD.proxy(), ADMIN)) {
            try (Connection other = as(strict, OTHER)) {
                assertSqlError(other, "SELECT VEC_AS_TEXT(EMBED('" + fresh() + "'))", 7110, "42000");
            }
            exec(admin, "GRANT RAG MODEL 'titan-v2' TO '" + OTHER + "'@'%'");
            try (Connection other = as(strict, OTHER)) {
                // The grant was written through the other instance: this one sees it after its next version check.
                assertEventually(() -> scalar(other, "SELECT VEC_AS_TEXT(EMBED('" + fresh() + "'))") != null);
                int before = requests();
                assertSqlError(other, "SELECT GENERATE('" + fresh() + "')", 7110, "42000");
                assertEquals(before, requests());
                exec(admin, "REVOKE RAG MODEL 'titan-v2' FROM '" + OTHER + "'@'%'");
                assertEventually(() -> {
                    try {
                        scalar(other, "SELECT VEC_AS_TEXT(EMBED('" + fresh() + "'))");
                        return false;
                    } catch (SQLException e) {
                        return e.getErrorCode() == 7110;
                    }
                });
            }
        } finally {
            WORLD.close(strict);
        }
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Within 15 s: the catalog is re-read at most once a second per instance. */
    static void assertEventually(Check check) throws Exception {
        long end = System.nanoTime() + 15_000_000_000L;
        while (true) {
            try {
                if (check.holds()) {
                    return;
                }
            } catch (SQLException e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("did not happen within 15 s");
            }
            Thread.sleep(200);
        }
    }

    static List<List<String>> firstTwo(List<List<String>> rows) {
        return rows.stream().map(r -> r.subList(0, 2)).toList();
    }
}
