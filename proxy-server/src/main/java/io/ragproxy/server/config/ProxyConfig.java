package io.ragproxy.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Everything the proxy needs to run, resolved from {@code conf/ragproxy.toml}, environment variables and
 * command-line flags (in that order of increasing precedence; see {@link ConfigLoader}).
 *
 * <p>Immutable. {@link #builder()} starts from the embedded defaults documented in {@code conf/ragproxy.toml}.
 *
 * @param listenHost address the proxy binds, loopback by default
 * @param listenPort port the proxy binds; 0 picks a free one (tests)
 * @param backendHost the first (or only) backend's host; the proxy keeps its catalog there
 * @param backendPort the first backend's port
 * @param backends every backend a client connection may go to ({@code backend.addresses}), the first one being
 *     {@code backendHost:backendPort}; one entry in the simple case
 * @param backendTls whether the proxy-to-backend leg uses TLS (TiDB Cloud requires it)
 * @param backendTlsVerify whether the backend's certificate is verified against the JDK trust store
 * @param clientTls whether clients may upgrade their connection to TLS (terminated at the proxy)
 * @param clientTlsCert PEM certificate chain for the client leg; null means a self-signed one
 * @param clientTlsKey PEM private key (PKCS#8) for {@code clientTlsCert}
 * @param clientTlsRequired whether clients that do not upgrade to TLS are refused at login ({@code tls.required},
 *     like MySQL's require_secure_transport); needs {@code clientTls}
 * @param stateDir folder for state the proxy makes itself (the self-signed certificate); {@link ConfigLoader}
 *     defaults it to {@code $RAGPROXY_HOME}, else {@code ~/.cache/ragproxy}
 * @param maxConnections client connections accepted at once; further ones get error 1040
 * @param idleTimeout a client connection idle this long is closed; zero disables
 * @param connectTimeout how long to wait for the backend's TCP connect
 * @param shutdownGrace the drain timeout ({@code proxy.drain_timeout_s}): on shutdown, how long running statements get
 *     to finish before the proxy stops them and closes every connection
 * @param ioThreads Netty event-loop threads; 0 means one per core ({@link #eventLoops()})
 * @param dialect {@code auto}, {@code tidb} or {@code mariadb}: how vectors are written to the backend
 * @param ai the raw {@code [models]} table (models, cache, invocation policy, Bedrock), handed to udf-catalog, and the
 *     {@code [cache]} table ({@link CacheScope})
 * @param limits what one session may cost: parse time, AI statement size, login time, planner threads
 * @param catalogUser the backend account the proxy keeps its catalog (schema {@code ragproxy}) through
 * @param catalogPassword that account's password (empty for none); never logged
 * @param adminEnabled whether {@code RagProxyMain} serves the admin HTTP endpoint ({@code /metrics}, {@code /health},
 *     {@code /ready})
 * @param adminHost address the admin endpoint binds, loopback by default
 * @param adminPort port the admin endpoint binds; 0 picks a free one (tests)
 * @param transport how sockets are driven: {@code auto} (Netty's native epoll where it loads, else NIO), {@code nio}
 *     or {@code epoll} (fails at start where epoll cannot load)
 */
public record ProxyConfig(
        String listenHost,
        int listenPort,
        String backendHost,
        int backendPort,
        List<ConfigLoader.HostPort> backends,
        boolean backendTls,
        boolean backendTlsVerify,
        boolean clientTls,
        Path clientTlsCert,
        Path clientTlsKey,
        boolean clientTlsRequired,
        Path stateDir,
        int maxConnections,
        Duration idleTimeout,
        Duration connectTimeout,
        Duration shutdownGrace,
        int ioThreads,
        String dialect,
        JsonNode ai,
        SessionLimits limits,
        String catalogUser,
        String catalogPassword,
        boolean adminEnabled,
        String adminHost,
        int adminPort,
        String transport) {

    public ProxyConfig {
        Objects.requireNonNull(listenHost, "listenHost");
        Objects.requireNonNull(backendHost, "backendHost");
        backends = List.copyOf(backends);
        if (backends.isEmpty() || !backends.get(0).equals(new ConfigLoader.HostPort(backendHost, backendPort))) {
            throw new IllegalArgumentException("the first of backends must be backendHost:backendPort");
        }
        for (ConfigLoader.HostPort b : backends) {
            checkPort("backend port", b.port(), false);
        }
        if (backends.stream().distinct().count() < backends.size()) {
            throw new IllegalArgumentException("backend.addresses names a backend twice: " + backends);
        }
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(ai, "ai");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(catalogUser, "catalogUser");
        Objects.requireNonNull(catalogPassword, "catalogPassword");
        if (catalogUser.isBlank()) {
            throw new IllegalArgumentException("catalog.user must name a backend account");
        }
        Objects.requireNonNull(adminHost, "adminHost");
        checkPort("listen port", listenPort, true);
        checkPort("admin port", adminPort, true);
        checkPort("backend port", backendPort, false);
        if (idleTimeout.isNegative() || connectTimeout.isNegative() || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("idle_timeout_s, connect_timeout_ms and shutdown_grace_s must not be"
                    + " negative");
        }
        if (ioThreads < 0) {
            throw new IllegalArgumentException("io_threads must be 0 (automatic) or more, got " + ioThreads);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("max_connections must be at least 1, got " + maxConnections);
        }
        if (!dialect.equals("auto") && !dialect.equals("tidb") && !dialect.equals("mariadb")) {
            throw new IllegalArgumentException("backend.dialect must be auto, tidb or mariadb, got '" + dialect + "'");
        }
        Objects.requireNonNull(transport, "transport");
        if (!transport.equals("auto") && !transport.equals("nio") && !transport.equals("epoll")) {
            throw new IllegalArgumentException("proxy.transport must be auto, nio or epoll, got '" + transport + "'");
        }
        if ((clientTlsCert == null) != (clientTlsKey == null)) {
            throw new IllegalArgumentException("tls.cert and tls.key must be given together");
        }
        if (clientTlsRequired && !clientTls) {
            throw new IllegalArgumentException("tls.required = true needs tls.enabled = true (clients cannot upgrade"
                    + " to TLS otherwise)");
        }
    }

    private static void checkPort(String what, int port, boolean zeroAllowed) {
        if (port < (zeroAllowed ? 0 : 1) || port > 65535) {
            throw new IllegalArgumentException(what + " must be between " + (zeroAllowed ? 0 : 1) + " and 65535, got " + port);
        }
    }

    /** Like the record's, with the catalog password left out. */
    @Override
    public String toString() {
        return "ProxyConfig[listen=" + listenAddress() + ", backends=" + backendAddresses() + ", dialect=" + dialect
                + ", catalogUser=" + catalogUser + ", admin=" + (adminEnabled ? adminAddress() : "off") + "]";
    }

    /** The drain timeout: how long running statements get to finish on shutdown (same as {@link #shutdownGrace()}). */
    public Duration drainTimeout() {
        return shutdownGrace;
    }

    /** The listen address as {@code host:port}. */
    public String listenAddress() {
        return listenHost + ":" + listenPort;
    }

    /** The admin endpoint's address as {@code host:port}. */
    public String adminAddress() {
        return adminHost + ":" + adminPort;
    }

    /** The first backend's address as {@code host:port} (where the catalog is kept). */
    public String backendAddress() {
        return backendHost + ":" + backendPort;
    }

    /** Every backend's address, {@code host:port, host:port}. */
    public String backendAddresses() {
        return backends.stream().map(b -> b.host() + ":" + b.port()).collect(Collectors.joining(", "));
    }

    /**
     * The event loops the proxy runs: {@link #ioThreads()}, or one per core when that is 0. One per core, as HAProxy
     * runs its threads: with more loops than cores, each loop is woken for fewer reads at a time and the threads take
     * turns on the cores, which cost about an eighth more CPU per relayed query with two loops per core
     * (docs/performance.md, "The relay's cost, lever by lever").
     */
    public int eventLoops() {
        return ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    }

    /** A builder holding the embedded defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder initialised from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.listenHost = listenHost;
        b.listenPort = listenPort;
        b.backendHost = backendHost;
        b.backendPort = backendPort;
        b.backends = backends;
        b.backendTls = backendTls;
        b.backendTlsVerify = backendTlsVerify;
        b.clientTls = clientTls;
        b.clientTlsCert = clientTlsCert;
        b.clientTlsKey = clientTlsKey;
        b.clientTlsRequired = clientTlsRequired;
        b.stateDir = stateDir;
        b.maxConnections = maxConnections;
        b.idleTimeout = idleTimeout;
        b.connectTimeout = connectTimeout;
        b.shutdownGrace = shutdownGrace;
        b.ioThreads = ioThreads;
        b.dialect = dialect;
        b.ai = ai;
        b.limits = limits;
        b.catalogUser = catalogUser;
        b.catalogPassword = catalogPassword;
        b.adminEnabled = adminEnabled;
        b.adminHost = adminHost;
        b.adminPort = adminPort;
        b.transport = transport;
        return b;
    }

    /** Mutable builder for {@link ProxyConfig}; defaults match {@code conf/ragproxy.toml}. */
    public static final class Builder {
        private String listenHost = "127.0.0.1";
        private int listenPort = 4306;
        private String backendHost = "127.0.0.1";
        private int backendPort = 3307;
        private List<ConfigLoader.HostPort> backends = List.of(new ConfigLoader.HostPort("127.0.0.1", 3307));
        private boolean backendTls;
        private boolean backendTlsVerify = true;
        private boolean clientTls = true;
        private Path clientTlsCert;
        private Path clientTlsKey;
        private boolean clientTlsRequired;
        private Path stateDir = Path.of(System.getProperty("user.home"), ".cache", "ragproxy");
        private int maxConnections = 1024;
        private Duration idleTimeout = Duration.ofHours(8);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration shutdownGrace = Duration.ofSeconds(30);
        private int ioThreads;
        private String dialect = "auto";
        private JsonNode ai = JsonNodeFactory.instance.objectNode();
        private SessionLimits limits = SessionLimits.DEFAULT;
        private String catalogUser = "root";
        private String catalogPassword = "";
        private boolean adminEnabled = true;
        private String adminHost = "127.0.0.1";
        private int adminPort = 4380;
        private String transport = "auto";

        private Builder() {}

        public Builder listen(String host, int port) {
            this.listenHost = host;
            this.listenPort = port;
            return this;
        }

        /** One backend (the simple case). */
        public Builder backend(String host, int port) {
            this.backendHost = host;
            this.backendPort = port;
            this.backends = List.of(new ConfigLoader.HostPort(host, port));
            return this;
        }

        /** Several backends; the first one also holds the proxy's catalog. */
        public Builder backends(List<ConfigLoader.HostPort> addresses) {
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("backend.addresses must name at least one backend");
            }
            this.backendHost = addresses.get(0).host();
            this.backendPort = addresses.get(0).port();
            this.backends = List.copyOf(addresses);
            return this;
        }

        public Builder backendTls(boolean enabled, boolean verify) {
            this.backendTls = enabled;
            this.backendTlsVerify = verify;
            return this;
        }

        public Builder clientTls(boolean enabled) {
            this.clientTls = enabled;
            return this;
        }

        /** Refuses clients that do not upgrade to TLS ({@code tls.required}). */
        public Builder clientTlsRequired(boolean required) {
            this.clientTlsRequired = required;
            return this;
        }

        public Builder clientTlsFiles(Path cert, Path key) {
            this.clientTlsCert = cert;
            this.clientTlsKey = key;
            return this;
        }

        public Builder stateDir(Path dir) {
            this.stateDir = dir;
            return this;
        }

        public Builder maxConnections(int n) {
            this.maxConnections = n;
            return this;
        }

        public Builder idleTimeout(Duration d) {
            this.idleTimeout = d;
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        public Builder shutdownGrace(Duration d) {
            this.shutdownGrace = d;
            return this;
        }

        /** The drain timeout; the same setting as {@link #shutdownGrace}. */
        public Builder drainTimeout(Duration d) {
            this.shutdownGrace = d;
            return this;
        }

        public Builder ioThreads(int n) {
            this.ioThreads = n;
            return this;
        }

        public Builder dialect(String d) {
            this.dialect = d;
            return this;
        }

        public Builder ai(JsonNode node) {
            this.ai = node;
            return this;
        }

        public Builder limits(SessionLimits l) {
            this.limits = l;
            return this;
        }

        /** The account the proxy keeps its catalog through ({@code root} with no password by default). */
        public Builder catalogAccount(String user, String password) {
            this.catalogUser = user;
            this.catalogPassword = password;
            return this;
        }

        public Builder admin(boolean enabled, String host, int port) {
            this.adminEnabled = enabled;
            this.adminHost = host;
            this.adminPort = port;
            return this;
        }

        /** {@code auto}, {@code nio} or {@code epoll}: see {@link ProxyConfig#transport()}. */
        public Builder transport(String t) {
            this.transport = t;
            return this;
        }

        public ProxyConfig build() {
            return new ProxyConfig(listenHost, listenPort, backendHost, backendPort, backends, backendTls, backendTlsVerify,
                    clientTls, clientTlsCert, clientTlsKey, clientTlsRequired, stateDir, maxConnections, idleTimeout, connectTimeout,
                    shutdownGrace, ioThreads, dialect, ai, limits, catalogUser, catalogPassword, adminEnabled, adminHost,
                    adminPort, transport);
        }
    }
}
