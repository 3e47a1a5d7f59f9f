package io.ragproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.registry.ModelPrice;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGHUP's reload: the model table changes live, what needs a restart is named, a bad file changes nothing. */
class ConfigReloadTest {
    private static final String TITAN = "amazon.titan-embed-text-v2:0";

    @TempDir
    Path dir;

    private Path file;

    private ProxyConfig load() {
        return new ConfigLoader(Map.of()).load(file, null, null);
    }

    private void write(String price, String listen, String extra) throws IOException {
        Files.writeString(file, """
                [proxy]
                listen = "%s"
                [models]
                cache_mb = 64
                [models.aliases]
                titan-v2 = "%s"
                [models.prices]
                "%s" = { input = %s, output = 0.0 }
                %s
                """.formatted(listen, TITAN, TITAN, price, extra));
    }

    @Test
    void pricesApplyLiveAndTheListenAddressIsNamedAsNeedingARestart() throws IOException {
        file = dir.resolve("ragproxy.toml");
        write("0.00002", "127.0.0.1:4306", "");
        ProxyConfig started = load();
        ModelRegistry registry = new ModelRegistry(ModelsConfig.fromJson(started.ai()), null);
        ConfigReload reload = new ConfigReload(this::load, started, registry);

        ConfigReload.Outcome unchanged = reload.reload();
        assertTrue(unchanged.loaded());
        assertEquals(List.of(), unchanged.applied());
        assertEquals(List.of(), unchanged.restartOnly());

        write("0.5", "127.0.0.1:4999", "");
        ConfigReload.Outcome outcome = reload.reload();
        assertEquals(List.of("models.prices"), outcome.applied());
        assertEquals(List.of("proxy.listen"), outcome.restartOnly());
        assertEquals(new ModelPrice(0.5, 0.0), registry.price(TITAN));
        assertTrue(registry.describe().stream().anyMatch(d -> d.modelId().equals(TITAN)
                && d.price().inputPer1k() == 0.5), "SHOW RAG MODELS reads the new price");
    }

    @Test
    void restartOnlyModelSettingsStayAsTheyWereAndABadFileChangesNothing() throws IOException {
        file = dir.resolve("ragproxy.toml");
        write("0.00002", "127.0.0.1:4306", "");
        ProxyConfig started = load();
        ModelRegistry registry = new ModelRegistry(ModelsConfig.fromJson(started.ai()), null);
        ConfigReload reload = new ConfigReload(this::load, started, registry);

        Files.writeString(file, Files.readString(file).replace("cache_mb = 64", "cache_mb = 128")
                .replace("input = 0.00002", "input = 0.25"));
        ConfigReload.Outcome outcome = reload.reload();
        assertEquals(List.of("models.prices"), outcome.applied());
        assertEquals(List.of("models.cache_mb"), outcome.restartOnly());
        assertEquals(64L * 1024 * 1024, registry.config().cacheBytes(), "the cache keeps its size until a restart");
        assertEquals(0.25, registry.price(TITAN).inputPer1k());

        Files.writeString(file, "[proxy]\nno_such_key = 1\n");
        ConfigReload.Outcome bad = reload.reload();
        assertFalse(bad.loaded());
        assertTrue(bad.error().contains("no_such_key"), bad.error());
        assertEquals(0.25, registry.price(TITAN).inputPer1k(), "the running configuration stays");
    }
}
