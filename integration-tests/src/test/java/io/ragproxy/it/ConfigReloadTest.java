package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGHUP (issue 15): a real proxy process re-reads its configuration file; a changed model price shows in
 * {@code SHOW RAG MODELS} on a connection opened before the signal, which stays usable, and a change that needs a
 * restart is named in the log.
 */
class ConfigReloadTest {
    private static final String TITAN = "amazon.titan-embed-text-v2:0";

    private static String toml(String price, int cacheMb) {
        LocalBackend backend = LocalBackend.get();
        return """
                [backend]
                address = "%s:%d"
                [tls]
                enabled = false
                [models]
                cache_mb = %d
                [models.prices]
                "%s" = { input = %s, output = 0.0 }
                """.formatted(backend.host(), backend.port(), cacheMb, TITAN, price);
    }

    @Test
    void sighupAppliesANewPriceAndKeepsConnectionsOpen() throws Exception {
        try (ProxyProcess proxy = ProxyProcess.start(List.of(), toml("0.00002", 64), Map.of());
                Connection c = Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), "", LocalBackend.USER,
                        LocalBackend.PASSWORD, false)) {
            assertEquals("0.00002", titanInputPrice(c));
            try (Statement s = c.createStatement()) {
                s.execute("SET @kept = 42");
            }

            Files.writeString(proxy.configFile(), toml("0.5", 128));
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(proxy.pid())).inheritIO().start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -HUP");

            long deadline = System.nanoTime() + 20_000_000_000L;
            String price;
            while (!(price = titanInputPrice(c)).equals("0.5") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals("0.5", price, "SHOW RAG MODELS shows the new price; proxy output:\n" + proxy.output());
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @kept")) {
                rs.next();
                assertEquals(42, rs.getInt(1), "the same session, still open");
            }
            assertTrue(proxy.isAlive());
            String out = proxy.output();
            assertTrue(out.contains("applied: models.prices"), out);
            assertTrue(out.contains("changed but applied only after a restart: models.cache_mb"), out);

            Files.writeString(proxy.configFile(), "[proxy]\nno_such_setting = 1\n");
            new ProcessBuilder("kill", "-HUP", Long.toString(proxy.pid())).start().waitFor(10, TimeUnit.SECONDS);
            deadline = System.nanoTime() + 20_000_000_000L;
            while (!proxy.output().contains("does not load") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(proxy.output().contains("does not load, the running one stays"), proxy.output());
            assertEquals("0.5", titanInputPrice(c), "a bad file changes nothing");
        }
    }

    private static String titanInputPrice(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW RAG MODELS")) {
            while (rs.next()) {
                if (rs.getString("Model_id").equals(TITAN)) {
                    return rs.getString("Input_usd_per_1k");
                }
            }
        }
        throw new AssertionError("SHOW RAG MODELS has no row for " + TITAN);
    }
}
