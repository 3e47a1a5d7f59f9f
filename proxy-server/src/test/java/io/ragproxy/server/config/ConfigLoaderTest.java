package io.ragproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
    /** The shipped file, relative to the proxy-server module (Maven's basedir, surefire's working directory). */
    static final Path SHIPPED = Path.of(System.getProperty("basedir", "."), "..", "conf", "ragproxy.toml");

    @TempDir
    Path dir;

    private static ConfigLoader loader() {
        return new ConfigLoader(Map.of());
    }

    private static ConfigLoader loader(String... kv) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return new ConfigLoader(env);
    }

    private Path toml(String text) throws IOException {
        Path f = dir.resolve("ragproxy.toml");
        Files.writeString(f, text);
        return f;
    }

    private static IllegalArgumentException fails(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run);
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should mention '" + p + "'");
        }
    }

    // ---- [proxy] plan_cache_size ----

    @Test
    void planCacheSizeIsReadAndZeroTurnsItOffAndANegativeSizeFailsAtStart() throws IOException {
        assertEquals(1000, loader().load(toml(""), null, null).limits().planCacheSize());
        assertEquals(0, loader().load(toml("[proxy]\nplan_cache_size = 0\n"), null, null).limits().planCacheSize());
        assertEquals(50, loader().load(toml("[proxy]\nplan_cache_size = 50\n"), null, null).limits().planCacheSize());
        Path negative = toml("[proxy]\nplan_cache_size = -1\n");
        assertMentions(fails(() -> loader().load(negative, null, null)), "plan_cache_size");
    }

    // ---- [access] ----

    @Test
    void accessDefaultReachesThePipelineAndATypoFailsAtStart() throws IOException {
        ProxyConfig c = loader().load(toml("[access]\ndefault = \"deny\"\n"), null, null);
        assertEquals("deny", c.ai().path("access").path("default").asText());
        Path typo = toml("[access]\ndefault = \"maybe\"\n");
        assertMentions(fails(() -> loader().load(typo, null, null)), "allow", "deny", "maybe");
        Path unknownKey = toml("[access]\ndefaults = \"deny\"\n");
        assertMentions(fails(() -> loader().load(unknownKey, null, null)), "defaults");
    }

    @Test
    void usageFlushIntervalIsReadAndChecked() throws Exception {
        ProxyConfig c = loader().load(toml("[usage]\nflush_interval_ms = 1000\n"), null, null);
        assertEquals(1000, c.ai().path("usage").path("flush_interval_ms").asInt());
        Path tooShort = toml("[usage]\nflush_interval_ms = 10\n");
        assertMentions(fails(() -> loader().load(tooShort, null, null)), "flush_interval_ms");
        Path unknownKey = toml("[usage]\nflush_ms = 1000\n");
        assertMentions(fails(() -> loader().load(unknownKey, null, null)), "flush_ms");
    }

    @Test
    void tlsRequiredNeedsTlsEnabled() throws Exception {
        assertTrue(loader().load(toml("[tls]\nrequired = true\n"), null, null).clientTlsRequired());
        Path off = toml("[tls]\nenabled = false\nrequired = true\n");
        assertMentions(fails(() -> loader().load(off, null, null)), "tls.required", "tls.enabled");
    }

    @Test
    void auditTableIsReadAndChecked() throws Exception {
        ProxyConfig c = loader().load(toml("[audit]\nenabled = true\npath = \"/tmp/a.jsonl\"\n"), null, null);
        assertEquals("/tmp/a.jsonl", c.ai().path("audit").path("path").asText());
        Path unknownKey = toml("[audit]\ninclude_texts = true\n");
        assertMentions(fails(() -> loader().load(unknownKey, null, null)), "include_texts");
    }

    // ---- the shipped file ----

    @Test
    void shippedFileLoadsToTheBuilderDefaults() {
        assertTrue(Files.isRegularFile(SHIPPED), "shipped config at " + SHIPPED.toAbsolutePath());
        ProxyConfig fromFile = loader().load(SHIPPED, null, null);
        ProxyConfig defaults = ProxyConfig.builder().build();
        // [models] (with its sub-tables) and [access] are handed to the pipeline as they are; the rest is the default
        assertEquals(defaults, fromFile.toBuilder().ai(defaults.ai()).build());
        fromFile.ai().fieldNames().forEachRemaining(name -> assertTrue(
                List.of("models", "access", "cache", "usage", "audit").contains(name), "unexpected ai table " + name));
        assertEquals("allow", fromFile.ai().path("access").path("default").asText());
        assertEquals(5000, fromFile.ai().path("usage").path("flush_interval_ms").asInt(), "the documented default");
        assertEquals(CacheScope.GLOBAL, CacheScope.of(fromFile.ai()), "the documented default");
        assertEquals("local:all-minilm-l6-v2", fromFile.ai().path("models").path("default_embedding").asText());
        assertEquals(30000, fromFile.ai().path("models").path("invocation").path("timeout_ms").asInt());
    }

    @Test
    void shippedFileValuesAreTheDocumentedOnes() {
        ProxyConfig c = loader().load(SHIPPED, null, null);
        assertEquals("127.0.0.1:4306", c.listenAddress());
        assertEquals("127.0.0.1:3307", c.backendAddress());
        assertEquals(1024, c.maxConnections());
        assertEquals(Duration.ofSeconds(28800), c.idleTimeout());
        assertEquals(0, c.ioThreads());
        assertEquals(Duration.ofSeconds(30), c.shutdownGrace());
        assertEquals(Duration.ofMillis(10000), c.connectTimeout());
        assertFalse(c.backendTls());
        assertTrue(c.backendTlsVerify());
        assertTrue(c.clientTls());
        assertNull(c.clientTlsCert());
        assertNull(c.clientTlsKey());
        assertEquals("auto", c.dialect());
    }

    @Test
    void cacheScopeIsGlobalOrAccount() throws IOException {
        assertEquals(CacheScope.GLOBAL, CacheScope.of(loader().load(null, null, null).ai()));
        assertEquals(CacheScope.ACCOUNT, CacheScope.of(loader().load(toml("[cache]\nscope = \"account\"\n"), null, null).ai()));
        Path user = toml("[cache]\nscope = \"user\"\n");
        assertMentions(fails(() -> loader().load(user, null, null)), "cache.scope", "\"account\"");
        Path size = dir.resolve("size.toml");
        Files.writeString(size, "[cache]\nsize = 1\n");
        assertMentions(fails(() -> loader().load(size, null, null)), "size");
    }

    @Test
    void noFileAndEmptyFileGiveTheDefaults() throws IOException {
        ProxyConfig defaults = ProxyConfig.builder().build();
        assertEquals(defaults, loader().load(null, null, null));
        assertEquals(defaults, loader().load(toml(""), null, null));
        assertEquals(defaults, loader().load(toml("# only a comment\n"), null, null));
    }

    // ---- file values ----

    @Test
    void everyFileSettingIsApplied() throws IOException {
        Path f = toml("""
                [proxy]
                listen = "0.0.0.0:5000"
                max_connections = 7
                idle_timeout_s = 60
                io_threads = 3
                shutdown_grace_s = 2
                state_dir = "/var/lib/ragproxy"
                [backend]
                address = "db.example:4000"
                tls = true
                tls_verify = false
                connect_timeout_ms = 1500
                dialect = "tidb"
                [tls]
                enabled = false
                cert = "certs/server.pem"
                key = "certs/server.key"
                [models]
                default_embedding = "titan-v2"
                [models.invocation]
                timeout_ms = 64
                """);
        ProxyConfig c = loader().load(f, null, null);
        assertEquals("0.0.0.0", c.listenHost());
        assertEquals(5000, c.listenPort());
        assertEquals(7, c.maxConnections());
        assertEquals(Duration.ofSeconds(60), c.idleTimeout());
        assertEquals(3, c.ioThreads());
        assertEquals(Duration.ofSeconds(2), c.shutdownGrace());
        assertEquals(Path.of("/var/lib/ragproxy"), c.stateDir());
        assertEquals("db.example", c.backendHost());
        assertEquals(4000, c.backendPort());
        assertTrue(c.backendTls());
        assertFalse(c.backendTlsVerify());
        assertEquals(Duration.ofMillis(1500), c.connectTimeout());
        assertEquals("tidb", c.dialect());
        assertFalse(c.clientTls());
        assertEquals(dir.toAbsolutePath().resolve("certs/server.pem"), c.clientTlsCert(), "relative to the file");
        assertEquals(dir.toAbsolutePath().resolve("certs/server.key"), c.clientTlsKey());
        assertEquals("titan-v2", c.ai().path("models").path("default_embedding").asText());
        assertEquals(64, c.ai().path("models").path("invocation").path("timeout_ms").asInt(), c.ai().toString());
    }

    @Test
    void absoluteTlsPathsAreKept() throws IOException {
        ProxyConfig c = loader().load(toml("[tls]\ncert = \"/etc/ssl/a.pem\"\nkey = \"/etc/ssl/a.key\"\n"), null, null);
        assertEquals(Path.of("/etc/ssl/a.pem"), c.clientTlsCert());
        assertEquals(Path.of("/etc/ssl/a.key"), c.clientTlsKey());
    }

    @Test
    void homeIsExpandedInStateDir() throws IOException {
        ProxyConfig c = loader().load(toml("[proxy]\nstate_dir = \"~/rp\"\n"), null, null);
        assertEquals(Path.of(System.getProperty("user.home"), "rp"), c.stateDir());
    }

    @Test
    void partialFileKeepsOtherDefaults() throws IOException {
        ProxyConfig c = loader().load(toml("[backend]\naddress = \"10.0.0.5:4000\"\n"), null, null);
        assertEquals(ProxyConfig.builder().backend("10.0.0.5", 4000).build(), c);
    }

    @Test
    void severalBackendsFromFileEnvironmentOrFlag() throws IOException {
        ProxyConfig file = loader().load(toml("[backend]\naddresses = [\"tidb-0:4000\", \"tidb-1:4000\"]\n"), null, null);
        assertEquals(List.of(new ConfigLoader.HostPort("tidb-0", 4000), new ConfigLoader.HostPort("tidb-1", 4000)),
                file.backends());
        assertEquals("tidb-0:4000", file.backendAddress(), "the first one keeps the catalog");
        ProxyConfig env = loader("RAGPROXY_BACKEND", "a:1, b:2").load(null, null, null);
        assertEquals("a:1, b:2", env.backendAddresses());
        ProxyConfig flag = loader().load(null, null, "c:3,d:4,e:5");
        assertEquals(3, flag.backends().size());
        assertEquals(List.of(new ConfigLoader.HostPort("127.0.0.1", 3307)), ProxyConfig.builder().build().backends());
    }

    @Test
    void badBackendListsFailAtStart() throws IOException {
        assertMentions(fails(() -> loader().load(uncheckedToml("[backend]\naddress = \"a:1\"\naddresses = [\"b:2\"]\n"),
                null, null)), "either backend.address", "backend.addresses");
        assertMentions(fails(() -> loader().load(uncheckedToml("[backend]\naddresses = []\n"), null, null)),
                "backend.addresses must be a list");
        assertMentions(fails(() -> loader().load(uncheckedToml("[backend]\naddresses = \"a:1\"\n"), null, null)),
                "backend.addresses must be a list");
        assertMentions(fails(() -> loader().load(null, null, "a:1,a:1")), "names a backend twice");
    }

    private Path uncheckedToml(String text) {
        try {
            return toml(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ---- precedence ----

    @Test
    void environmentBeatsFile() throws IOException {
        Path f = toml("""
                [proxy]
                listen = "1.2.3.4:1000"
                max_connections = 5
                [backend]
                address = "file-db:1"
                """);
        ProxyConfig c = loader("RAGPROXY_LISTEN", "5.6.7.8:2000", "RAGPROXY_BACKEND", "env-db:4000",
                "RAGPROXY_MAX_CONNECTIONS", " 77 ", "RAGPROXY_IO_THREADS", "1").load(f, null, null);
        assertEquals(1, c.eventLoops());
        assertEquals("5.6.7.8:2000", c.listenAddress());
        assertEquals("env-db:4000", c.backendAddress());
        assertEquals(77, c.maxConnections());
    }

    @Test
    void blankEnvironmentValuesAreIgnored() throws IOException {
        Path f = toml("[proxy]\nlisten = \"1.2.3.4:1000\"\n");
        ProxyConfig c = loader("RAGPROXY_LISTEN", "  ", "RAGPROXY_BACKEND", "", "RAGPROXY_MAX_CONNECTIONS", "")
                .load(f, null, null);
        assertEquals("1.2.3.4:1000", c.listenAddress());
        assertEquals("127.0.0.1:3307", c.backendAddress());
    }

    @Test
    void commandLineBeatsEnvironmentAndFile() throws IOException {
        Path f = toml("[proxy]\nlisten = \"1.2.3.4:1000\"\n[backend]\naddress = \"file-db:1\"\n");
        ProxyConfig c = loader("RAGPROXY_LISTEN", "5.6.7.8:2000", "RAGPROXY_BACKEND", "env-db:4000")
                .load(f, "0.0.0.0:3000", "cli-db:5000");
        assertEquals("0.0.0.0:3000", c.listenAddress());
        assertEquals("cli-db:5000", c.backendAddress());
    }

    @Test
    void backendTlsFromEnvironment() {
        ProxyConfig on = loader("RAGPROXY_BACKEND_TLS", "true").load(null, null, null);
        assertTrue(on.backendTls());
        assertTrue(on.backendTlsVerify());
        ProxyConfig noVerify = loader("RAGPROXY_BACKEND_TLS", "TRUE", "RAGPROXY_BACKEND_TLS_VERIFY", "false")
                .load(null, null, null);
        assertTrue(noVerify.backendTls());
        assertFalse(noVerify.backendTlsVerify());
    }

    @Test
    void backendTlsEnvironmentTurnsFileSettingOff() throws IOException {
        ProxyConfig c = loader("RAGPROXY_BACKEND_TLS", "false").load(toml("[backend]\ntls = true\n"), null, null);
        assertFalse(c.backendTls());
    }

    @Test
    void backendTlsVerifyFromEnvironmentAloneOverridesFile() throws IOException {
        // conf/ragproxy.toml documents "Env: RAGPROXY_BACKEND_TLS_VERIFY" for backend.tls_verify
        ProxyConfig c = loader("RAGPROXY_BACKEND_TLS_VERIFY", "false")
                .load(toml("[backend]\ntls = true\n"), null, null);
        assertTrue(c.backendTls());
        assertFalse(c.backendTlsVerify(), "RAGPROXY_BACKEND_TLS_VERIFY=false must turn verification off");
    }

    @Test
    void backendTlsEnvironmentKeepsFileTlsVerify() throws IOException {
        ProxyConfig c = loader("RAGPROXY_BACKEND_TLS", "true")
                .load(toml("[backend]\ntls_verify = false\n"), null, null);
        assertTrue(c.backendTls());
        assertFalse(c.backendTlsVerify(), "the file's tls_verify = false must survive RAGPROXY_BACKEND_TLS=true");
    }

    @Test
    void ragproxyHomeFromTheGivenEnvironmentSetsTheDefaultStateDir() {
        ProxyConfig c = loader("RAGPROXY_HOME", "/opt/rp-home").load(null, null, null);
        assertEquals(Path.of("/opt/rp-home"), c.stateDir(),
                "state_dir's documented default is $RAGPROXY_HOME of the environment the loader was given");
    }

    // ---- host:port parsing ----

    @Test
    void hostPortForms() {
        assertEquals(new ConfigLoader.HostPort("db", 3306), ConfigLoader.HostPort.parse("db:3306", "x"));
        assertEquals(new ConfigLoader.HostPort("::1", 3306), ConfigLoader.HostPort.parse("[::1]:3306", "x"));
        assertEquals(new ConfigLoader.HostPort("127.0.0.1", 4306), ConfigLoader.HostPort.parse(":4306", "x"));
        assertEquals(new ConfigLoader.HostPort("db", 1), ConfigLoader.HostPort.parse("  db:1 ", "x"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "localhost:", "localhost:abc", "db:3306x", ""})
    void badHostPortNamesTheSource(String text) {
        IllegalArgumentException e = fails(() -> loader().load(null, text, null));
        assertMentions(e, "--listen", "HOST:PORT");
        IllegalArgumentException e2 = fails(() -> loader("RAGPROXY_BACKEND", text.isEmpty() ? "x" : text)
                .load(null, null, null));
        assertMentions(e2, "RAGPROXY_BACKEND");
    }

    @Test
    void badHostPortInFileNamesTheKey() throws IOException {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[backend]\naddress = \"db\"\n"), null, null)),
                "backend.address");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[proxy]\nlisten = \"x:y\"\n"), null, null)),
                "proxy.listen");
    }

    @Test
    void outOfRangePortsAreRejectedClearly() {
        assertMentions(fails(() -> loader().load(null, "127.0.0.1:65536", null)), "65536", "port");
        assertMentions(fails(() -> loader().load(null, "127.0.0.1:-1", null)), "-1", "port");
        assertMentions(fails(() -> loader().load(null, null, "db:0")), "backend port", "0");
        assertMentions(fails(() -> loader().load(null, null, "db:99999")), "backend port", "99999");
        // 0 is fine for listening (tests pick a free port)
        assertEquals(0, loader().load(null, "127.0.0.1:0", null).listenPort());
    }

    private Path tomlUnchecked(String text) {
        try {
            return toml(text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- errors ----

    @Test
    void unknownKeyIsAnErrorNamingIt() throws IOException {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[proxy]\nlisten_adress = \"a:1\"\n"), null, null)),
                "proxy.listen_adress");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[backend]\ntls_verfy = false\n"), null, null)),
                "backend.tls_verfy");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[tls]\ncertificate = \"a\"\n"), null, null)),
                "tls.certificate");
    }

    @Test
    void unknownTableIsAnError() {
        // a misspelled table would otherwise silently fall back to every default
        assertMentions(fails(() -> loader().load(tomlUnchecked("[backnd]\naddress = \"db:4000\"\n"), null, null)),
                "backnd");
        // the tables the file used to have before they moved under [models] must not be silently ignored either
        assertMentions(fails(() -> loader().load(tomlUnchecked("[cache]\nmax_weight_mb = 64\n"), null, null)),
                "cache");
    }

    @Test
    void topLevelKeyOutsideATableIsAnError() {
        assertMentions(fails(() -> loader().load(tomlUnchecked("listen = \"0.0.0.0:4306\"\n"), null, null)),
                "listen");
    }

    @Test
    void tlsCertWithoutKeyIsAnError() {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[tls]\ncert = \"server.pem\"\n"), null, null)),
                "tls.cert", "tls.key");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[tls]\ncert = \"server.pem\"\nkey = \"\"\n"),
                null, null)), "tls.key");
    }

    @Test
    void tlsKeyWithoutCertIsAnError() {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[tls]\nkey = \"server.key\"\n"), null, null)),
                "tls.cert");
    }

    @Test
    void wrongTypesAreErrors() {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[proxy]\nmax_connections = \"many\"\n"), null, null)),
                "proxy.max_connections", "whole number");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[backend]\ntls = \"yes\"\n"), null, null)),
                "backend.tls", "true or false");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[tls]\nenabled = 1\n"), null, null)),
                "tls.enabled");
    }

    @Test
    void fractionalNumberForAWholeNumberSettingIsAnError() {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[proxy]\nmax_connections = 1.5\n"), null, null)),
                "proxy.max_connections");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[proxy]\nidle_timeout_s = -1", "[proxy]\nshutdown_grace_s = -1",
        "[proxy]\nio_threads = -2", "[backend]\nconnect_timeout_ms = -5"})
    void negativeValuesAreErrors(String text) {
        String key = text.substring(text.indexOf('\n') + 1, text.indexOf(" ="));
        assertMentions(fails(() -> loader().load(tomlUnchecked(text + "\n"), null, null)), key);
    }

    @Test
    void invalidValuesAreErrors() {
        assertMentions(fails(() -> loader().load(tomlUnchecked("[proxy]\nmax_connections = 0\n"), null, null)),
                "max_connections");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[backend]\ndialect = \"oracle\"\n"), null, null)),
                "dialect", "oracle");
        assertMentions(fails(() -> loader("RAGPROXY_MAX_CONNECTIONS", "lots").load(null, null, null)),
                "RAGPROXY_MAX_CONNECTIONS", "lots");
        assertMentions(fails(() -> loader("RAGPROXY_IO_THREADS", "many").load(null, null, null)),
                "RAGPROXY_IO_THREADS", "many");
    }

    @Test
    void unreadableOrMalformedFileIsAnError() {
        assertMentions(fails(() -> loader().load(dir.resolve("missing.toml"), null, null)),
                "cannot read the configuration", "missing.toml");
        assertMentions(fails(() -> loader().load(tomlUnchecked("[proxy\nlisten = \n"), null, null)),
                "cannot read the configuration");
    }
}
