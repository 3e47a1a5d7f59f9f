package io.ragproxy.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Resolves a {@link ProxyConfig} from, in increasing precedence: the embedded defaults, a TOML file
 * ({@code conf/ragproxy.toml} documents every key), environment variables ({@code RAGPROXY_*}), and the
 * overrides given on the command line.
 *
 * <p>Unknown keys in the proxy's own tables are errors, so a typo never silently falls back to a default.
 */
public final class ConfigLoader {
    private static final List<String> AI_TABLES = List.of("models", "access", "cache", "usage", "audit");
    private static final List<String> TABLES = List.of("proxy", "backend", "tls", "catalog", "admin", "models",
            "access", "cache", "usage", "audit");

    private final Map<String, String> env;

    /** @param env the environment to read {@code RAGPROXY_*} overrides from (usually {@code System.getenv()}) */
    public ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    /**
     * Loads the configuration.
     *
     * @param file the TOML file, or null for none
     * @param listen a {@code HOST:PORT} override from the command line, or null
     * @param backend a {@code HOST:PORT} override from the command line, or null
     */
    public ProxyConfig load(Path file, String listen, String backend) {
        return load(file, listen, backend, null);
    }

    /**
     * Loads the configuration.
     *
     * @param file the TOML file, or null for none
     * @param listen a {@code HOST:PORT} override from the command line, or null
     * @param backend a {@code HOST:PORT} override from the command line, or null
     * @param adminListen a {@code HOST:PORT} override of the admin endpoint's address from the command line, or null
     */
    public ProxyConfig load(Path file, String listen, String backend, String adminListen) {
        ProxyConfig.Builder b = ProxyConfig.builder();
        String home = env.get("RAGPROXY_HOME");
        b.stateDir(home != null && !home.isBlank()
                ? Path.of(home)
                : Path.of(System.getProperty("user.home"), ".cache", "ragproxy"));
        if (file != null) {
            applyFile(b, file);
        }
        applyEnv(b);
        if (listen != null) {
            HostPort hp = HostPort.parse(listen, "--listen");
            b.listen(hp.host(), hp.port());
        }
        if (backend != null) {
            b.backends(HostPort.parseList(backend, "--backend"));
        }
        if (adminListen != null) {
            applyAdminListen(b, adminListen, "--admin-listen");
        }
        return b.build();
    }

    private void applyFile(ProxyConfig.Builder b, Path file) {
        JsonNode root;
        try {
            root = new TomlMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the configuration " + file + ": " + e.getMessage(), e);
        }
        if (root == null) {
            return;
        }
        root.fieldNames().forEachRemaining(k -> {
            if (!TABLES.contains(k)) {
                throw new IllegalArgumentException(file + ": unknown " + (root.get(k).isObject() ? "table [" + k + "]"
                        : "top-level setting " + k) + " (the tables are " + String.join(", ", TABLES) + ")");
            }
        });
        TomlTable proxy = new TomlTable(root, "proxy");
        proxy.keys("listen", "max_connections", "idle_timeout_s", "io_threads", "drain_timeout_s", "shutdown_grace_s",
                "state_dir", "parse_timeout_ms", "max_ai_statement_bytes", "login_timeout_s", "planner_threads",
                "plan_cache_size", "transport");
        if (proxy.has("listen")) {
            HostPort hp = HostPort.parse(proxy.text("listen"), "proxy.listen");
            b.listen(hp.host(), hp.port());
        }
        if (proxy.has("max_connections")) {
            b.maxConnections(proxy.integer("max_connections"));
        }
        if (proxy.has("idle_timeout_s")) {
            b.idleTimeout(Duration.ofSeconds(proxy.integer("idle_timeout_s")));
        }
        if (proxy.has("io_threads")) {
            b.ioThreads(proxy.integer("io_threads"));
        }
        if (proxy.has("transport")) {
            b.transport(proxy.text("transport"));
        }
        if (proxy.has("shutdown_grace_s")) { // the older name of drain_timeout_s
            b.drainTimeout(Duration.ofSeconds(proxy.integer("shutdown_grace_s")));
        }
        if (proxy.has("drain_timeout_s")) {
            b.drainTimeout(Duration.ofSeconds(proxy.integer("drain_timeout_s")));
        }
        if (proxy.has("state_dir") && !proxy.text("state_dir").isBlank()) {
            b.stateDir(Path.of(expandHome(proxy.text("state_dir"))));
        }
        SessionLimits limits = SessionLimits.DEFAULT;
        if (proxy.has("parse_timeout_ms")) {
            limits = limits.withParseTimeout(Duration.ofMillis(proxy.integer("parse_timeout_ms")));
        }
        if (proxy.has("max_ai_statement_bytes")) {
            limits = limits.withMaxAiStatementBytes(proxy.integer("max_ai_statement_bytes"));
        }
        if (proxy.has("login_timeout_s")) {
            limits = limits.withLoginTimeout(Duration.ofSeconds(proxy.integer("login_timeout_s")));
        }
        if (proxy.has("planner_threads")) {
            limits = limits.withPlannerThreads(proxy.integer("planner_threads"));
        }
        if (proxy.has("plan_cache_size")) {
            limits = limits.withPlanCacheSize(proxy.integer("plan_cache_size"));
        }
        b.limits(limits);

        TomlTable backend = new TomlTable(root, "backend");
        backend.keys("address", "addresses", "tls", "tls_verify", "connect_timeout_ms", "dialect");
        if (backend.has("address") && backend.has("addresses")) {
            throw new IllegalArgumentException("give either backend.address (one backend) or backend.addresses (a list),"
                    + " not both");
        }
        if (backend.has("address")) {
            HostPort hp = HostPort.parse(backend.text("address"), "backend.address");
            b.backend(hp.host(), hp.port());
        }
        if (backend.has("addresses")) {
            JsonNode list = backend.node("addresses");
            if (!list.isArray() || list.isEmpty()) {
                throw new IllegalArgumentException("backend.addresses must be a list of \"HOST:PORT\" strings, e.g."
                        + " [\"tidb-0:4000\", \"tidb-1:4000\"], got " + list);
            }
            List<HostPort> addresses = new java.util.ArrayList<>();
            list.forEach(n -> addresses.add(HostPort.parse(n.asText(), "backend.addresses")));
            b.backends(addresses);
        }
        boolean tls = backend.has("tls") && backend.bool("tls");
        boolean verify = !backend.has("tls_verify") || backend.bool("tls_verify");
        b.backendTls(tls, verify);
        if (backend.has("connect_timeout_ms")) {
            b.connectTimeout(Duration.ofMillis(backend.integer("connect_timeout_ms")));
        }
        if (backend.has("dialect")) {
            b.dialect(backend.text("dialect"));
        }

        TomlTable tlsTable = new TomlTable(root, "tls");
        tlsTable.keys("enabled", "cert", "key", "required");
        if (tlsTable.has("enabled")) {
            b.clientTls(tlsTable.bool("enabled"));
        }
        if (tlsTable.has("required")) {
            b.clientTlsRequired(tlsTable.bool("required"));
        }
        String cert = tlsTable.has("cert") ? tlsTable.text("cert") : "";
        String key = tlsTable.has("key") ? tlsTable.text("key") : "";
        if (cert.isBlank() != key.isBlank()) {
            throw new IllegalArgumentException("tls.cert and tls.key must be given together (or both left empty for a"
                    + " self-signed certificate)");
        }
        if (!cert.isBlank()) {
            Path base = file.toAbsolutePath().getParent();
            b.clientTlsFiles(base.resolve(expandHome(cert)), base.resolve(expandHome(key)));
        }

        TomlTable catalog = new TomlTable(root, "catalog");
        catalog.keys("user", "password");
        ProxyConfig current = b.build();
        b.catalogAccount(catalog.has("user") ? catalog.text("user") : current.catalogUser(),
                catalog.has("password") ? catalog.text("password") : current.catalogPassword());
        TomlTable admin = new TomlTable(root, "admin");
        admin.keys("enabled", "listen");
        current = b.build();
        boolean adminEnabled = admin.has("enabled") ? admin.bool("enabled") : current.adminEnabled();
        HostPort adminAddress = admin.has("listen") ? HostPort.parse(admin.text("listen"), "admin.listen")
                : new HostPort(current.adminHost(), current.adminPort());
        b.admin(adminEnabled, adminAddress.host(), adminAddress.port());

        TomlTable access = new TomlTable(root, "access");
        access.keys("default");
        if (access.has("default")) {
            io.ragproxy.server.access.ModelAccess.Mode.parse(access.text("default")); // fails on a typo, at start
        }
        new TomlTable(root, "cache").keys("scope");
        TomlTable audit = new TomlTable(root, "audit");
        audit.keys("enabled", "path", "include_text");
        if (audit.has("enabled")) {
            audit.bool("enabled");
        }
        if (audit.has("include_text")) {
            audit.bool("include_text");
        }
        if (audit.has("path") && audit.text("path").isBlank()) {
            throw new IllegalArgumentException("audit.path must name a file, or \"-\" for standard output");
        }
        TomlTable usage = new TomlTable(root, "usage");
        usage.keys("flush_interval_ms");
        if (usage.has("flush_interval_ms") && usage.integer("flush_interval_ms") < 100) {
            throw new IllegalArgumentException("usage.flush_interval_ms must be at least 100 (ms)");
        }

        ObjectNode ai = JsonNodeFactory.instance.objectNode();
        for (String table : AI_TABLES) {
            if (root.has(table)) {
                ai.set(table, root.get(table));
            }
        }
        CacheScope.of(ai); // a bad value fails the load, not the first session
        b.ai(ai);
    }

    private void applyEnv(ProxyConfig.Builder b) {
        String listen = env.get("RAGPROXY_LISTEN");
        if (listen != null && !listen.isBlank()) {
            HostPort hp = HostPort.parse(listen, "RAGPROXY_LISTEN");
            b.listen(hp.host(), hp.port());
        }
        String backend = env.get("RAGPROXY_BACKEND");
        if (backend != null && !backend.isBlank()) {
            b.backends(HostPort.parseList(backend, "RAGPROXY_BACKEND"));
        }
        String adminListen = env.get("RAGPROXY_ADMIN_LISTEN");
        if (adminListen != null && !adminListen.isBlank()) {
            applyAdminListen(b, adminListen, "RAGPROXY_ADMIN_LISTEN");
        }
        String transport = env.get("RAGPROXY_TRANSPORT");
        if (transport != null && !transport.isBlank()) {
            b.transport(transport.trim());
        }
        String ioThreads = env.get("RAGPROXY_IO_THREADS");
        if (ioThreads != null && !ioThreads.isBlank()) {
            try {
                b.ioThreads(Integer.parseInt(ioThreads.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("RAGPROXY_IO_THREADS must be a number, got '" + ioThreads + "'");
            }
        }
        String maxConnections = env.get("RAGPROXY_MAX_CONNECTIONS");
        if (maxConnections != null && !maxConnections.isBlank()) {
            try {
                b.maxConnections(Integer.parseInt(maxConnections.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("RAGPROXY_MAX_CONNECTIONS must be a number, got '" + maxConnections + "'");
            }
        }
        String backendTls = env.get("RAGPROXY_BACKEND_TLS");
        String verify = env.get("RAGPROXY_BACKEND_TLS_VERIFY");
        ProxyConfig current = b.build();
        boolean tls = backendTls == null || backendTls.isBlank() ? current.backendTls() : bool("RAGPROXY_BACKEND_TLS", backendTls);
        boolean tlsVerify = verify == null || verify.isBlank() ? current.backendTlsVerify()
                : bool("RAGPROXY_BACKEND_TLS_VERIFY", verify);
        b.backendTls(tls, tlsVerify);
        String catalogUser = env.get("RAGPROXY_CATALOG_USER");
        String catalogPassword = env.get("RAGPROXY_CATALOG_PASSWORD");
        b.catalogAccount(catalogUser == null || catalogUser.isBlank() ? current.catalogUser() : catalogUser.trim(),
                catalogPassword == null ? current.catalogPassword() : catalogPassword);
    }

    /** {@code HOST:PORT} turns the admin endpoint on at that address; {@code off} turns it off. */
    private static void applyAdminListen(ProxyConfig.Builder b, String value, String what) {
        ProxyConfig current = b.build();
        if (value.trim().equalsIgnoreCase("off")) {
            b.admin(false, current.adminHost(), current.adminPort());
            return;
        }
        HostPort hp = HostPort.parse(value, what);
        b.admin(true, hp.host(), hp.port());
    }

    private static boolean bool(String name, String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("true") || v.equals("1") || v.equals("yes")) {
            return true;
        }
        if (v.equals("false") || v.equals("0") || v.equals("no")) {
            return false;
        }
        throw new IllegalArgumentException(name + " must be true or false, got '" + value + "'");
    }

    private static String expandHome(String path) {
        return path.startsWith("~/") ? System.getProperty("user.home") + path.substring(1) : path;
    }

    /** A {@code host:port} pair given by a user. */
    public record HostPort(String host, int port) {
        /** Parses one or more comma-separated {@code host:port} addresses. */
        public static List<HostPort> parseList(String text, String what) {
            List<HostPort> out = new java.util.ArrayList<>();
            for (String part : text.split(",")) {
                if (!part.isBlank()) {
                    out.add(parse(part, what));
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException(what + " must be HOST:PORT (or several, comma-separated), got '"
                        + text + "'");
            }
            return out;
        }

        /** Parses {@code host:port}, {@code [v6]:port} or {@code :port} (loopback); {@code what} names the source in errors. */
        public static HostPort parse(String text, String what) {
            String s = text.trim();
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException(what + " must be HOST:PORT, got '" + text + "'");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = "127.0.0.1";
            }
            try {
                return new HostPort(host, Integer.parseInt(s.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " must be HOST:PORT with a numeric port, got '" + text + "'");
            }
        }
    }

    /** One table of the TOML file with typed, error-reporting accessors. */
    private static final class TomlTable {
        private final JsonNode node;
        private final String name;

        TomlTable(JsonNode root, String name) {
            this.node = root.path(name);
            this.name = name;
        }

        void keys(String... allowed) {
            List<String> known = List.of(allowed);
            node.fieldNames().forEachRemaining(k -> {
                if (!known.contains(k)) {
                    throw new IllegalArgumentException("unknown setting " + name + "." + k + " (known: "
                            + String.join(", ", known) + ")");
                }
            });
        }

        boolean has(String key) {
            return node.has(key) && !node.get(key).isNull();
        }

        JsonNode node(String key) {
            return node.get(key);
        }

        String text(String key) {
            return node.get(key).asText();
        }

        int integer(String key) {
            JsonNode v = node.get(key);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new IllegalArgumentException(name + "." + key + " must be a whole number, got " + v);
            }
            return v.asInt();
        }

        boolean bool(String key) {
            JsonNode v = node.get(key);
            if (!v.isBoolean()) {
                throw new IllegalArgumentException(name + "." + key + " must be true or false, got " + v);
            }
            return v.asBoolean();
        }
    }
}
