package io.ragproxy.server;

import io.ragproxy.server.config.ConfigLoader;
import io.ragproxy.server.config.ConfigReload;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.ops.AdminEndpoint;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.pipeline.RagPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Command-line entry point: {@code ragproxy [--config FILE] [--listen HOST:PORT] [--backend HOST:PORT]}. */
@Command(name = "ragproxy", mixinStandardHelpOptions = true, version = "ragproxy 0.1.0",
        description = "A MySQL-protocol proxy that puts retrieval-augmented generation inside SQL.")
public final class RagProxyMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RagProxyMain.class);

    @Option(names = "--config", paramLabel = "FILE",
            description = "TOML configuration (default: conf/ragproxy.toml when it exists)")
    private Path config;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "address to listen on (default 127.0.0.1:4306)")
    private String listen;

    @Option(names = "--backend", paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "the TiDB or MariaDB backend, or several, comma-separated (default 127.0.0.1:3307, the local"
                    + " backend)")
    private String backend;

    @Option(names = "--admin-listen", paramLabel = "HOST:PORT",
            description = "address of the admin HTTP endpoint (/metrics, /health, /ready; default 127.0.0.1:4380),"
                    + " or 'off'")
    private String adminListen;

    @Override
    public Integer call() throws Exception {
        Path file = config;
        if (file == null && Files.isRegularFile(Path.of("conf", "ragproxy.toml"))) {
            file = Path.of("conf", "ragproxy.toml");
        }
        ProxyConfig resolved;
        try {
            resolved = new ConfigLoader(System.getenv()).load(file, listen, backend, adminListen);
        } catch (IllegalArgumentException e) {
            System.err.println("ragproxy: " + e.getMessage());
            return 2;
        }
        ProxyMetrics metrics = new ProxyMetrics();
        RagPipeline pipeline;
        try {
            pipeline = RagPipeline.create(resolved, metrics);
        } catch (IllegalArgumentException e) {
            System.err.println("ragproxy: " + e.getMessage());
            return 2;
        }
        metrics.watch(pipeline.invoker());
        metrics.watch(pipeline.planCache());
        pipeline.catalog().refreshIfDue(); // read at start, through the catalog's own account, for /ready
        RagProxyServer server = new RagProxyServer(resolved, pipeline, metrics);
        AdminEndpoint admin = null;
        try {
            server.start();
            if (resolved.adminEnabled()) {
                admin = new AdminEndpoint(resolved.adminHost(), resolved.adminPort(), metrics,
                        () -> AdminEndpoint.Readiness.of(server.backends(), () -> catalogRead(pipeline)));
                System.out.println("ragproxy admin endpoint: http://" + resolved.adminHost() + ":" + admin.port()
                        + "/ (/metrics, /health, /ready)");
            }
        } catch (IllegalStateException e) {
            System.err.println("ragproxy: " + e.getMessage());
            server.close();
            pipeline.close();
            return 1;
        }
        AdminEndpoint adminEndpoint = admin;
        Path configFile = file;
        ConfigReload reload = new ConfigReload(() -> new ConfigLoader(System.getenv()).load(configFile, listen, backend,
                adminListen), resolved, pipeline.invoker().registry());
        onSighup(() -> reload(reload, configFile));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutting down");
            if (adminEndpoint != null) {
                adminEndpoint.close();
            }
            server.close();
            pipeline.close();
            stopped.countDown();
        }, "ragproxy-shutdown"));
        var address = server.localAddress();
        System.out.println("ragproxy is ready. Connect with:  mysql -h" + address.getHostString() + " -P"
                + address.getPort() + " -uroot");
        stopped.await();
        return 0;
    }

    /** Runs {@code action} on a thread of its own at each SIGHUP (where the JVM lets the process handle it). */
    @SuppressWarnings("restriction")
    private static void onSighup(Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                Thread t = new Thread(action, "ragproxy-reload");
                t.setDaemon(true);
                t.start();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGHUP cannot reload the configuration here ({}); restart the proxy to apply changes",
                    e.getMessage());
        }
    }

    /** A SIGHUP: re-reads the configuration, applies what can change live, logs the rest. */
    private static void reload(ConfigReload reload, Path file) {
        if (file == null) {
            log.info("SIGHUP: no configuration file to re-read (give one with --config FILE)");
        }
        ConfigReload.Outcome outcome = reload.reload();
        if (!outcome.loaded()) {
            log.error("SIGHUP: the configuration {} does not load, the running one stays: {}", file,
                    outcome.error());
            return;
        }
        log.info("SIGHUP: configuration {} re-read; applied: {}", file,
                outcome.applied().isEmpty() ? "nothing changed that applies live" : String.join(", ",
                        outcome.applied()));
        if (!outcome.restartOnly().isEmpty()) {
            log.warn("SIGHUP: changed but applied only after a restart: {}", String.join(", ",
                    outcome.restartOnly()));
        }
    }

    /** Whether the catalog was read once; if not, reads it again when a check is due (no client session needed). */
    private static boolean catalogRead(RagPipeline pipeline) {
        if (!pipeline.catalog().read()) {
            pipeline.catalog().refreshIfDue();
        }
        return pipeline.catalog().read();
    }

    public static void main(String[] args) {
        int code = new CommandLine(new RagProxyMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
