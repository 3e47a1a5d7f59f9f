package io.ragproxy.server.ops;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import io.ragproxy.catalog.invoke.InvocationCounters;
import io.ragproxy.catalog.invoke.InvocationListener;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.server.balance.BackendPool;
import io.ragproxy.server.balance.BackendServer;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's Prometheus metrics (namespace {@code ragproxy_}), in a registry of their own that the admin endpoint
 * exposes. The counters the relay bumps for every statement are {@link LongAdder}s read at scrape time, so the hot
 * path pays one uncontended add and nothing else; model metrics come from the {@link ModelInvoker}'s listener and
 * counters.
 *
 * <p>Thread-safe. One instance per proxy; a server built without one gets a private instance nobody scrapes.
 */
public final class ProxyMetrics implements InvocationListener {
    /** Why a client connection was refused, the {@code reason} label of {@code ragproxy_client_connections_refused_total}. */
    public enum Refusal { TOO_MANY_CONNECTIONS, BACKEND_UNREACHABLE, DRAINING }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final LongAdder connectionsOpened = new LongAdder();
    private final LongAdder connectionsClosed = new LongAdder();
    private final LongAdder[] refused = new LongAdder[Refusal.values().length];
    private final LongAdder statementsRelayed = new LongAdder();
    private final LongAdder statementsRewritten = new LongAdder();
    private final LongAdder backfillRows = new LongAdder();
    private final Histogram proxySeconds;
    /** The socket transport in use; null until the server starts. */
    private volatile String transport;
    private final Counter modelRequests;
    private final Histogram modelSeconds;
    private volatile List<BackendServer> backends = List.of();

    public ProxyMetrics() {
        for (int i = 0; i < refused.length; i++) {
            refused[i] = new LongAdder();
        }
        GaugeWithCallback.builder().name("ragproxy_client_connections")
                .help("Client connections open now")
                .callback(cb -> cb.call(connectionsOpened.sum() - connectionsClosed.sum()))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_client_connections_opened")
                .help("Client connections accepted (a backend connection was opened for each)")
                .callback(cb -> cb.call(connectionsOpened.sum()))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_client_connections_refused")
                .help("Client connections refused, by reason")
                .labelNames("reason")
                .callback(cb -> {
                    for (Refusal r : Refusal.values()) {
                        cb.call(refused[r.ordinal()].sum(), r.name().toLowerCase(Locale.ROOT));
                    }
                })
                .register(registry);
        GaugeWithCallback.builder().name("ragproxy_transport_info")
                .help("The socket transport the event loops use: epoll (Netty's native transport) or nio")
                .labelNames("transport")
                .callback(cb -> {
                    String name = transport;
                    if (name != null) {
                        cb.call(1, name);
                    }
                })
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_statements_relayed")
                .help("Statements (COM_QUERY, COM_STMT_EXECUTE) relayed to the backend unchanged")
                .callback(cb -> cb.call(statementsRelayed.sum()))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_statements_rewritten")
                .help("Statements the proxy ran through its AI pipeline (AI functions, proxy statements, TiDB"
                        + " vector spellings on MariaDB)")
                .callback(cb -> cb.call(statementsRewritten.sum()))
                .register(registry);
        proxySeconds = Histogram.builder().name("ragproxy_statement_proxy_seconds")
                .help("The proxy's own time per rewritten statement: parse, plan, model calls and the proxy's own"
                        + " backend queries, until the reply is composed or the rewritten statement is sent")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicExponentialUpperBounds(0.0005, 2, 18)
                .withoutExemplars()
                .register(registry);
        modelRequests = Counter.builder().name("ragproxy_model_requests")
                .help("Requests (attempts, retries included) sent to a model, by model and outcome")
                .labelNames("model", "outcome")
                .withoutExemplars()
                .register(registry);
        modelSeconds = Histogram.builder().name("ragproxy_model_request_seconds")
                .help("Latency of a model request, by model and outcome")
                .labelNames("model", "outcome")
                .unit(Unit.SECONDS)
                .classicOnly()
                .classicExponentialUpperBounds(0.005, 2, 14)
                .withoutExemplars()
                .register(registry);
        GaugeWithCallback.builder().name("ragproxy_backend_up")
                .help("1 when the backend passes its health check (connect and read its handshake, every 3 s), else 0")
                .labelNames("backend")
                .callback(cb -> backends.forEach(b -> cb.call(b.up() ? 1 : 0, b.address())))
                .register(registry);
        GaugeWithCallback.builder().name("ragproxy_backend_connections")
                .help("Client connections the backend holds now (a new connection goes to the healthy backend with the"
                        + " fewest)")
                .labelNames("backend")
                .callback(cb -> backends.forEach(b -> cb.call(b.connections(), b.address())))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_backfill_rows")
                .help("Rows written and committed by backfills (large UPDATE ... SET v = EMBED(c)) and ingestions")
                .callback(cb -> cb.call(backfillRows.sum()))
                .register(registry);
    }

    /** The registry the admin endpoint exposes. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** Exposes {@code invoker}'s token, cost and cache counters (read at scrape time). Call once. */
    public void watch(ModelInvoker invoker) {
        CounterWithCallback.builder().name("ragproxy_model_input_tokens")
                .help("Input tokens the models reported, by model")
                .labelNames("model")
                .callback(cb -> invoker.countersByModel().forEach((m, c) -> cb.call(c.inputTokens(), m)))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_model_output_tokens")
                .help("Output tokens the models reported, by model")
                .labelNames("model")
                .callback(cb -> invoker.countersByModel().forEach((m, c) -> cb.call(c.outputTokens(), m)))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_model_estimated_cost_usd")
                .help("Estimated cost in US dollars from the configured price table, by model")
                .labelNames("model")
                .callback(cb -> invoker.countersByModel().forEach((m, c) -> cb.call(c.estimatedCostUsd(), m)))
                .register(registry);
        InvocationCounters total = invoker.counters();
        CounterWithCallback.builder().name("ragproxy_cache_hits")
                .help("Model inputs answered by the result cache (or by a call already in flight)")
                .callback(cb -> cb.call(total.cacheHits()))
                .register(registry);
        CounterWithCallback.builder().name("ragproxy_cache_misses")
                .help("Model inputs the cache did not have")
                .callback(cb -> cb.call(total.cacheMisses()))
                .register(registry);
        GaugeWithCallback.builder().name("ragproxy_cache_entries")
                .help("Entries in the result cache")
                .callback(cb -> cb.call(invoker.cache().size()))
                .register(registry);
        GaugeWithCallback.builder().name("ragproxy_cache_bytes")
                .help("Estimated bytes held by the result cache")
                .unit(Unit.BYTES)
                .callback(cb -> cb.call(invoker.cache().weightedSize()))
                .register(registry);
    }

    /** Exposes {@code cache}'s lookups by what they found and its size (read at scrape time). Call once. */
    public void watch(io.ragproxy.server.plan.PlanCache cache) {
        CounterWithCallback.builder().name("ragproxy_plan_cache_lookups")
                .help("AI statements looked up in the plan cache, by what was found: a template kept for the"
                        + " statement's shape, one kept for its text, or none (the statement was parsed)")
                .labelNames("found")
                .callback(cb -> {
                    io.ragproxy.server.plan.PlanCache.Counts c = cache.counts();
                    cb.call(c.shapeHits(), "shape");
                    cb.call(c.textHits(), "text");
                    cb.call(c.misses(), "none");
                })
                .register(registry);
        GaugeWithCallback.builder().name("ragproxy_plan_cache_entries")
                .help("Templates in the plan cache")
                .callback(cb -> cb.call(cache.size()))
                .register(registry);
    }

    /** Records the socket transport the server started with ({@code epoll} or {@code nio}). */
    public void transport(String name) {
        transport = name;
    }

    /**
     * Exposes {@code pool}'s backends: {@code ragproxy_backend_up} and {@code ragproxy_backend_connections}, labelled
     * {@code backend="host:port"}. A later call replaces the pool (a server restarted in the same process).
     */
    public void watchBackends(BackendPool pool) {
        backends = pool.servers();
    }

    // ---- events -----------------------------------------------------------------------------------------

    /** A client connection was accepted and given a slot. */
    public void connectionOpened() {
        connectionsOpened.increment();
    }

    /** A connection counted by {@link #connectionOpened()} closed. */
    public void connectionClosed() {
        connectionsClosed.increment();
    }

    /** A client connection was refused. */
    public void connectionRefused(Refusal reason) {
        refused[reason.ordinal()].increment();
    }

    /** A statement was relayed to the backend unchanged. */
    public void statementRelayed() {
        statementsRelayed.increment();
    }

    /** The pipeline finished a statement after {@code nanos} of the proxy's own time. */
    public void statementRewritten(long nanos) {
        statementsRewritten.increment();
        proxySeconds.observe(nanos / 1e9);
    }

    /** A backfill or ingestion committed {@code rows} more rows. */
    public void backfillRows(long rows) {
        backfillRows.add(rows);
    }

    @Override
    public void attemptEnded(String modelId, Outcome outcome, long nanos) {
        String o = outcome.name().toLowerCase(Locale.ROOT);
        modelRequests.labelValues(modelId, o).inc();
        modelSeconds.labelValues(modelId, o).observe(nanos / 1e9);
    }
}
