package io.ragproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code [admin]} table, {@code RAGPROXY_ADMIN_LISTEN} and {@code --admin-listen}. */
class AdminConfigTest {
    @TempDir
    Path dir;

    private Path toml(String text) throws IOException {
        Path f = dir.resolve("ragproxy.toml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void onByDefaultOnLoopback4380() {
        ProxyConfig c = new ConfigLoader(Map.of()).load(null, null, null);
        assertTrue(c.adminEnabled());
        assertEquals("127.0.0.1:4380", c.adminAddress());
    }

    @Test
    void fileThenEnvironmentThenFlag() throws IOException {
        Path f = toml("[admin]\nenabled = true\nlisten = \"0.0.0.0:9100\"\n");
        assertEquals("0.0.0.0:9100", new ConfigLoader(Map.of()).load(f, null, null).adminAddress());
        ProxyConfig env = new ConfigLoader(Map.of("RAGPROXY_ADMIN_LISTEN", "127.0.0.1:9200")).load(f, null, null);
        assertEquals("127.0.0.1:9200", env.adminAddress());
        ProxyConfig flag = new ConfigLoader(Map.of("RAGPROXY_ADMIN_LISTEN", "127.0.0.1:9200"))
                .load(f, null, null, "127.0.0.1:0");
        assertEquals("127.0.0.1:0", flag.adminAddress());
        assertTrue(flag.adminEnabled());
    }

    @Test
    void offTurnsItOff() throws IOException {
        assertFalse(new ConfigLoader(Map.of()).load(toml("[admin]\nenabled = false\n"), null, null).adminEnabled());
        assertFalse(new ConfigLoader(Map.of("RAGPROXY_ADMIN_LISTEN", "off")).load(null, null, null).adminEnabled());
        assertFalse(new ConfigLoader(Map.of()).load(null, null, null, "OFF").adminEnabled());
    }

    @Test
    void typosAreErrors() throws IOException {
        Path f = toml("[admin]\nlisten_on = \"127.0.0.1:1\"\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConfigLoader(Map.of()).load(f, null, null));
        assertTrue(e.getMessage().contains("admin.listen_on"), e.getMessage());
    }
}
