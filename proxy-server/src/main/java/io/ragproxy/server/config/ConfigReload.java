package io.ragproxy.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.ModelsConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A configuration reload (SIGHUP): reads the configuration again and applies what can change while connections stay
 * open, the {@code [models]} table's aliases, default models, per-model settings ({@code [models.model."…"]}),
 * prices, policy and {@code max_input_chars}, through {@link ModelRegistry#reconfigure}; it names what changed but
 * takes effect only after a restart (listen address, backends, TLS, accounts, the admin endpoint, limits, {@code
 * [access]}, {@code [cache]}, {@code [models.bedrock]}, {@code cache_mb}, {@code [models.invocation]},
 * {@code model_max_concurrency}). A model's own {@code max_concurrency} applies to models not called yet.
 * A file that does not load is refused as a whole and the running configuration stays.
 *
 * <p>One instance per proxy; {@link #reload()} is synchronized (two signals in a row reload one after the other).
 */
public final class ConfigReload {
    /** What one reload did. */
    public record Outcome(List<String> applied, List<String> restartOnly, String error) {
        /** Whether the file loaded (else {@link #error()} says why and nothing changed). */
        public boolean loaded() {
            return error == null;
        }
    }

    private final Supplier<ProxyConfig> load;
    private final ModelRegistry registry;
    /** The configuration the process started with: what cannot change live is compared with it. */
    private final ProxyConfig started;
    /** The {@code [models]} keys a reload applies; the others of that table need a restart. */
    private static final List<String> LIVE_KEYS = List.of("default_embedding", "default_text", "default_reranking", "aliases", "model",
            "prices", "max_input_chars", "allow_any_model_id", "rag_max_calls_ceiling", "rag_concurrency_ceiling");
    private static final List<String> RESTART_KEYS = List.of("bedrock", "cache_mb", "invocation",
            "model_max_concurrency");

    /** The raw configuration tables applied last (the start's, then each reload's). */
    private JsonNode appliedAi;

    /**
     * @param load reads the file, environment and flags again (as at start); throws {@link IllegalArgumentException}
     *     on a bad file
     * @param started the configuration the proxy runs with
     * @param registry the models the running pipeline uses
     */
    public ConfigReload(Supplier<ProxyConfig> load, ProxyConfig started, ModelRegistry registry) {
        this.load = load;
        this.started = started;
        this.registry = registry;
        this.appliedAi = started.ai();
    }

    /** Reads the configuration again and applies what can change live. */
    public synchronized Outcome reload() {
        ProxyConfig next;
        ModelsConfig models;
        try {
            next = load.get();
            models = ModelsConfig.fromJson(next.ai());
        } catch (IllegalArgumentException e) {
            return new Outcome(List.of(), List.of(), e.getMessage());
        }
        List<String> applied = new ArrayList<>();
        JsonNode was = appliedAi.path("models");
        JsonNode now = next.ai().path("models");
        for (String key : LIVE_KEYS) {
            changed(applied, "models." + key, was.path(key), now.path(key));
        }
        // What needs a restart stays as it is: the Bedrock client, the cache's size, the invocation defaults the
        // sessions derive from, the per-model limiters' ceiling.
        ModelsConfig running = registry.config();
        registry.reconfigure(new ModelsConfig(models.defaultEmbedding(), models.defaultText(), models.aliases(),
                models.models(), models.prices(), running.bedrock(), running.cacheBytes(), running.invocation(),
                running.modelMaxConcurrency(), models.policy(), models.maxInputChars(), models.defaultReranking()));
        appliedAi = next.ai();

        List<String> restart = new ArrayList<>();
        JsonNode first = started.ai().path("models");
        for (String key : RESTART_KEYS) {
            changed(restart, "models." + key, first.path(key), now.path(key));
        }
        changed(restart, "proxy.listen", started.listenAddress(), next.listenAddress());
        changed(restart, "backend.address / addresses", started.backends(), next.backends());
        changed(restart, "backend.tls / tls_verify", List.of(started.backendTls(), started.backendTlsVerify()),
                List.of(next.backendTls(), next.backendTlsVerify()));
        changed(restart, "backend.connect_timeout_ms", started.connectTimeout(), next.connectTimeout());
        changed(restart, "backend.dialect", started.dialect(), next.dialect());
        changed(restart, "[tls]", List.of(started.clientTls(), String.valueOf(started.clientTlsCert()),
                String.valueOf(started.clientTlsKey())), List.of(next.clientTls(), String.valueOf(next.clientTlsCert()),
                String.valueOf(next.clientTlsKey())));
        changed(restart, "proxy.max_connections", started.maxConnections(), next.maxConnections());
        changed(restart, "proxy.idle_timeout_s", started.idleTimeout(), next.idleTimeout());
        changed(restart, "proxy.io_threads", started.ioThreads(), next.ioThreads());
        changed(restart, "proxy.drain_timeout_s", started.drainTimeout(), next.drainTimeout());
        changed(restart, "proxy.state_dir", started.stateDir(), next.stateDir());
        changed(restart, "proxy limits (parse_timeout_ms, max_ai_statement_bytes, login_timeout_s, planner_threads,"
                + " plan_cache_size)", started.limits(), next.limits());
        changed(restart, "[catalog] account", List.of(started.catalogUser(), started.catalogPassword()),
                List.of(next.catalogUser(), next.catalogPassword()));
        changed(restart, "[admin]", List.of(started.adminEnabled(), started.adminAddress()),
                List.of(next.adminEnabled(), next.adminAddress()));
        changed(restart, "[access]", started.ai().path("access"), next.ai().path("access"));
        changed(restart, "[cache]", started.ai().path("cache"), next.ai().path("cache"));
        return new Outcome(List.copyOf(applied), List.copyOf(restart), null);
    }

    private static void changed(List<String> out, String what, Object before, Object after) {
        if (!Objects.equals(before, after)) {
            out.add(what);
        }
    }
}
