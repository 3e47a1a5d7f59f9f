package io.ragproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProxyConfigTest {
    @Test
    void builderDefaults() {
        ProxyConfig c = ProxyConfig.builder().build();
        assertEquals("127.0.0.1:4306", c.listenAddress());
        assertEquals("127.0.0.1:3307", c.backendAddress());
        assertEquals(1024, c.maxConnections());
        assertEquals(Duration.ofHours(8), c.idleTimeout());
        assertEquals("auto", c.dialect());
        assertTrue(c.ai().isObject() && c.ai().isEmpty());
    }

    @Test
    void toBuilderRoundTrips() {
        ProxyConfig c = ProxyConfig.builder().listen("0.0.0.0", 0).backend("db", 4000).backendTls(true, false)
                .clientTls(false).clientTlsFiles(Path.of("/a.pem"), Path.of("/a.key")).stateDir(Path.of("/s"))
                .maxConnections(3).idleTimeout(Duration.ZERO).connectTimeout(Duration.ofMillis(5))
                .shutdownGrace(Duration.ofSeconds(1)).ioThreads(2).dialect("mariadb")
                .ai(JsonNodeFactory.instance.objectNode().put("x", 1)).build();
        assertEquals(c, c.toBuilder().build());
        assertEquals("db:4000", c.backendAddress());
    }

    @Test
    void validation() {
        assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().listen("h", 65536).build());
        assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().backend("h", 0).build());
        assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().maxConnections(0).build());
        assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().dialect("mysql").build());
        assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().clientTlsFiles(Path.of("/a"), null).build());
        assertThrows(IllegalArgumentException.class,
                () -> ProxyConfig.builder().clientTlsFiles(null, Path.of("/a")).build());
        assertThrows(NullPointerException.class, () -> ProxyConfig.builder().dialect(null).build());
        ProxyConfig.builder().listen("h", 0).backend("h", 65535).build();
    }
}
