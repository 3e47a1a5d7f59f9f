package io.ragproxy.emulator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local HTTP server that speaks Amazon Bedrock Runtime's REST routes — {@code POST /model/{modelId}/invoke}
 * and {@code POST /model/{modelId}/converse}, and an empty {@code GET /async-invoke} — and Bedrock Agent Runtime's
 * {@code POST /rerank} (see {@link Reranker} for its scores), so the real AWS SDK clients can be tested offline
 * (point their {@code endpointOverride} at {@link #endpoint()}; any credentials are accepted,
 * signatures are not checked).
 *
 * <p>Answers are deterministic per input (see {@link ModelResponder} for what each model family returns).
 * Faults can be injected: latency (fixed + jitter), throttling (a fraction of requests, a
 * requests-per-minute quota, or a token-bucket quota in requests per second), any {@link EmulatedError} by rate, for requests whose body contains a marker,
 * or for the next N requests. Every request is recorded ({@link #requests()}) with its headers and body.
 *
 * <p>Thread-safe. Requests are served by a fixed pool (256 threads by default) so that latency tests can run
 * at high concurrency; {@link #maxInFlight()} reports the highest number of requests served at once.
 *
 * <pre>{@code
 * try (BedrockEmulator emu = BedrockEmulator.builder().latency(Duration.ofMillis(20)).start()) {
 *     client = BedrockRuntimeAsyncClient.builder().endpointOverride(emu.endpoint())...;
 * }
 * }</pre>
 */
public final class BedrockEmulator implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService pool;
    private final ModelResponder responder = new ModelResponder();
    private final Reranker reranker = new Reranker();

    private final ConcurrentLinkedQueue<RecordedRequest> requests = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedDeque<EmulatedError> failNext = new ConcurrentLinkedDeque<>();
    private final Map<String, EmulatedError> markers = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<EmulatedError, Double> errorRates = Collections.synchronizedMap(new EnumMap<>(EmulatedError.class));
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger asyncInvokeListings = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicLong served = new AtomicLong();
    /** Requests still answered before every later one fails with {@link #failAfterKind}; negative: no such fault. */
    private final AtomicLong failAfterLeft = new AtomicLong(-1);
    private volatile EmulatedError failAfterKind;

    private volatile long latencyMs;
    private volatile long jitterMs;
    private volatile double throttleRate;
    private volatile int throttleRpm;
    /** The requests-per-second quota, or null for none. */
    private volatile TokenBucket quota;
    /** Request times (ms) within the last minute, for the requests-per-minute quota. */
    private final ConcurrentLinkedDeque<Long> window = new ConcurrentLinkedDeque<>();

    private BedrockEmulator(Builder b) throws IOException {
        this.latencyMs = b.latencyMs;
        this.jitterMs = b.jitterMs;
        this.throttleRate = b.throttleRate;
        this.throttleRpm = b.throttleRpm;
        this.quota = b.quotaRps > 0 ? new TokenBucket(b.quotaRps, Math.max(1, b.quotaRps)) : null;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(b.threads, r -> {
            Thread t = new Thread(r, "bedrock-emulator-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        // The JDK server leaves Nagle's algorithm on, which stalls each answer on a kept-alive connection by a
        // delayed ACK (about 40 ms); Bedrock does not, so turn it off before the server is made.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        this.server = HttpServer.create(new InetSocketAddress(b.host, b.port), 1024);
        server.createContext("/", this::handle);
        server.setExecutor(pool);
        server.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The base URI to use as the SDK's {@code endpointOverride}, e.g. {@code http://127.0.0.1:53121}. */
    public URI endpoint() {
        InetSocketAddress a = server.getAddress();
        return URI.create("http://" + a.getHostString() + ":" + a.getPort());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Every request received so far, in arrival-completion order (a snapshot copy). */
    public List<RecordedRequest> requests() {
        return new ArrayList<>(requests);
    }

    /**
     * The recorded requests for one model id and route ({@code invoke}, {@code converse}, or {@code rerank}, whose
     * model id is the one its body's {@code modelArn} names).
     */
    public List<RecordedRequest> requests(String modelId, String route) {
        List<RecordedRequest> out = new ArrayList<>();
        for (RecordedRequest r : requests) {
            if (r.modelId().equals(modelId) && r.route().equals(route)) {
                out.add(r);
            }
        }
        return out;
    }

    /**
     * The ListAsyncInvokes requests ({@code GET /async-invoke}) received since the emulator started, which a client
     * sends to warm up; they call no model, so {@link #requests()} leaves them out and {@link #reset()} keeps this.
     */
    public int asyncInvokeListings() {
        return asyncInvokeListings.get();
    }

    /** Number of requests received so far. */
    public int requestCount() {
        return requests.size();
    }

    /** The highest number of requests that were being served at the same time since the last reset. */
    public int maxInFlight() {
        return maxInFlight.get();
    }

    /** The number of requests being served now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Forgets recorded requests and every injected fault; latency and throttling go back to none. */
    public void reset() {
        requests.clear();
        failNext.clear();
        failAfterLeft.set(-1);
        markers.clear();
        errorRates.clear();
        window.clear();
        maxInFlight.set(inFlight.get());
        latencyMs = 0;
        jitterMs = 0;
        throttleRate = 0;
        throttleRpm = 0;
        quota = null;
    }

    /** Forgets recorded requests only (faults stay). */
    public void clearRequests() {
        requests.clear();
        maxInFlight.set(inFlight.get());
    }

    /** Every answer is delayed by {@code fixed} plus a uniformly random extra of up to {@code jitter}. */
    public BedrockEmulator setLatency(Duration fixed, Duration jitter) {
        this.latencyMs = fixed.toMillis();
        this.jitterMs = jitter == null ? 0 : jitter.toMillis();
        return this;
    }

    public BedrockEmulator setLatency(Duration fixed) {
        return setLatency(fixed, Duration.ZERO);
    }

    /** A fraction (0..1) of requests is answered with 429 ThrottlingException. */
    public BedrockEmulator setThrottleRate(double fraction) {
        if (fraction < 0 || fraction > 1) {
            throw new IllegalArgumentException("throttle rate must be between 0 and 1");
        }
        this.throttleRate = fraction;
        return this;
    }

    /** Requests beyond {@code rpm} in any sliding minute are answered with 429 ThrottlingException; 0 = no quota. */
    public BedrockEmulator setThrottleRpm(int rpm) {
        this.throttleRpm = Math.max(rpm, 0);
        window.clear();
        return this;
    }

    /**
     * A token-bucket quota, as Bedrock enforces its requests-per-minute quotas: {@code requestsPerSecond} requests
     * per second on average, bursts of up to one second's worth after a quiet spell, every request beyond it
     * answered with 429 ThrottlingException (throttled requests take no token); 0 = no quota.
     */
    public BedrockEmulator setThrottleQuota(double requestsPerSecond) {
        this.quota = requestsPerSecond > 0 ? new TokenBucket(requestsPerSecond, Math.max(1, requestsPerSecond)) : null;
        return this;
    }

    /** A fraction (0..1) of requests fails with {@code kind}. */
    public BedrockEmulator setErrorRate(EmulatedError kind, double fraction) {
        if (fraction <= 0) {
            errorRates.remove(kind);
        } else {
            errorRates.put(kind, fraction);
        }
        return this;
    }

    /** The next {@code n} requests fail with {@code kind} (queued after any earlier failNext). */
    public BedrockEmulator failNext(int n, EmulatedError kind) {
        for (int i = 0; i < n; i++) {
            failNext.addLast(kind);
        }
        return this;
    }

    /**
     * The next {@code k} requests are answered as usual, every request after them fails with {@code kind} (until
     * {@link #reset}): a model that breaks down in the middle of a long statement.
     */
    public BedrockEmulator failAfter(int k, EmulatedError kind) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be 0 or more");
        }
        failAfterKind = kind;
        failAfterLeft.set(k);
        return this;
    }

    /** Every request whose body contains {@code marker} fails with {@code kind}. */
    public BedrockEmulator failWhenInputContains(String marker, EmulatedError kind) {
        markers.put(marker, kind);
        return this;
    }

    /** Stops the server and its threads. */
    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String rawPath = ex.getRequestURI().getRawPath();
            String[] parts = rawPath.split("/");
            // "/model/{id}/{route}" splits into ["", "model", id, route]
            if (rawPath.equals("/async-invoke") && ex.getRequestMethod().equals("GET")) {
                asyncInvokeListings.incrementAndGet();
                send(ex, 200, null, "{\"asyncInvokeSummaries\":[]}".getBytes(StandardCharsets.UTF_8));
                return;
            }
            boolean rerank = rawPath.equals("/rerank");
            if (!rerank && (parts.length != 4 || !parts[1].equals("model"))) {
                record(null, rawPath, ex, body, 404);
                send(ex, 404, "UnknownOperationException", ("{\"message\":\"Unknown route " + rawPath + "\"}").getBytes(StandardCharsets.UTF_8));
                return;
            }
            // A rerank request names its model in the body (an ARN); it is recorded under the model's id.
            String modelId = rerank ? Reranker.modelIdOf(body) : URLDecoder.decode(parts[2], StandardCharsets.UTF_8);
            String route = rerank ? "rerank" : parts[3];
            long delay = latencyMs + (jitterMs > 0 ? ThreadLocalRandom.current().nextLong(jitterMs + 1) : 0);
            if (delay > 0) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            ModelResponder.Answer answer = answer(modelId, route, ex.getRequestMethod(), body, delay);
            record(modelId, route, ex, body, answer.status());
            served.incrementAndGet();
            send(ex, answer.status(), answer.errorType(), answer.body());
        } finally {
            inFlight.decrementAndGet();
            ex.close();
        }
    }

    private ModelResponder.Answer answer(String modelId, String route, String method, byte[] body, long latency) {
        if (!"POST".equals(method)) {
            return ModelResponder.Answer.error(EmulatedError.VALIDATION, "Only POST is supported");
        }
        EmulatedError injected = injectedFault(body);
        if (injected != null) {
            return ModelResponder.Answer.error(injected);
        }
        return switch (route) {
            case "invoke" -> responder.invoke(modelId, body);
            case "converse" -> responder.converse(modelId, body, latency);
            case "rerank" -> reranker.rerank(body);
            default -> ModelResponder.Answer.error(EmulatedError.VALIDATION,
                    "The emulator does not support /model/{modelId}/" + route);
        };
    }

    private EmulatedError injectedFault(byte[] body) {
        EmulatedError next = failNext.pollFirst();
        if (next != null) {
            return next;
        }
        if (failAfterLeft.get() >= 0 && failAfterLeft.getAndUpdate(left -> left > 0 ? left - 1 : left) == 0) {
            return failAfterKind;
        }
        if (!markers.isEmpty()) {
            String text = ModelResponder.inputOf(body);
            synchronized (markers) {
                for (Map.Entry<String, EmulatedError> m : markers.entrySet()) {
                    if (text.contains(m.getKey())) {
                        return m.getValue();
                    }
                }
            }
        }
        int rpm = throttleRpm;
        if (rpm > 0) {
            long nowMs = System.currentTimeMillis();
            synchronized (window) {
                while (!window.isEmpty() && window.peekFirst() < nowMs - 60_000) {
                    window.pollFirst();
                }
                if (window.size() >= rpm) {
                    return EmulatedError.THROTTLING;
                }
                window.addLast(nowMs);
            }
        }
        TokenBucket q = quota;
        if (q != null && !q.tryTake()) {
            return EmulatedError.THROTTLING;
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        if (throttleRate > 0 && rnd.nextDouble() < throttleRate) {
            return EmulatedError.THROTTLING;
        }
        synchronized (errorRates) {
            for (Map.Entry<EmulatedError, Double> e : errorRates.entrySet()) {
                if (rnd.nextDouble() < e.getValue()) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    private void record(String modelId, String route, HttpExchange ex, byte[] body, int status) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
        requests.add(new RecordedRequest(modelId, route, ex.getRequestMethod(), Collections.unmodifiableMap(headers), body, status,
                System.nanoTime()));
    }

    private static void send(HttpExchange ex, int status, String errorType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.getResponseHeaders().set("x-amzn-RequestId", java.util.UUID.randomUUID().toString());
        if (errorType != null) {
            ex.getResponseHeaders().set("x-amzn-ErrorType", errorType);
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Configures and starts a {@link BedrockEmulator}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 0;
        private int threads = 256;
        private long latencyMs;
        private long jitterMs;
        private double throttleRate;
        private int throttleRpm;
        private double quotaRps;

        private Builder() {
        }

        /** Address to bind; default 127.0.0.1 (loopback only). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** Port to bind; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Size of the request-serving pool, i.e. the most requests answered at once; default 256. */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1");
            }
            this.threads = threads;
            return this;
        }

        public Builder latency(Duration fixed) {
            this.latencyMs = fixed.toMillis();
            return this;
        }

        public Builder jitter(Duration jitter) {
            this.jitterMs = jitter.toMillis();
            return this;
        }

        public Builder throttleRate(double fraction) {
            this.throttleRate = fraction;
            return this;
        }

        public Builder throttleRpm(int rpm) {
            this.throttleRpm = rpm;
            return this;
        }

        /** See {@link BedrockEmulator#setThrottleQuota(double)}. */
        public Builder throttleQuota(double requestsPerSecond) {
            this.quotaRps = requestsPerSecond;
            return this;
        }

        public BedrockEmulator start() {
            try {
                return new BedrockEmulator(this);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("could not start the Bedrock emulator on " + host + ":" + port, e);
            }
        }
    }
}
