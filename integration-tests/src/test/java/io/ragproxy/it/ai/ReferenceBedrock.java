package io.ragproxy.it.ai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.emulator.RecordedRequest;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A second, private Bedrock emulator that the tests ask directly over plain HTTP (no SDK, no proxy): the
 * emulator's deterministic answer for a body — the expected vector of a text, or the token counts of a recorded
 * request replayed. Independent of the proxy under test and of the emulator it talks to.
 */
final class ReferenceBedrock implements AutoCloseable {
    private final BedrockEmulator emulator = BedrockEmulator.builder().start();
    private final HttpClient http = HttpClient.newHttpClient();
    /**
     * Requests in flight at once: thousands of simultaneous connections overrun the emulator's accept backlog and
     * some are reset ("header parser received no bytes"), which says nothing about the proxy.
     */
    private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(64);

    /** The emulator's answer to {@code body} on {@code /model/{modelId}/{route}}; fails unless HTTP 200. */
    CompletableFuture<JsonNode> post(String modelId, String route, byte[] body) {
        URI uri = emulator.endpoint().resolve("/model/" + URLEncoder.encode(modelId, StandardCharsets.UTF_8) + "/" + route);
        HttpRequest req = HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        inFlight.acquireUninterruptibly();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray())
                .whenComplete((r, e) -> inFlight.release())
                .thenApply(r -> {
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("reference emulator answered " + r.statusCode() + ": "
                                + new String(r.body(), StandardCharsets.UTF_8));
                    }
                    try {
                        return AiProxy.JSON.readTree(r.body());
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    /** Titan V2's vector of {@code text} with 512 dimensions, normalized (the seed's request). */
    CompletableFuture<float[]> titan512(String text) {
        ObjectNode body = AiProxy.JSON.createObjectNode();
        body.put("inputText", text);
        body.put("dimensions", 512);
        body.put("normalize", true);
        try {
            return post(AiProxy.TITAN_V2, "invoke", AiProxy.JSON.writeValueAsBytes(body))
                    .thenApply(n -> AiProxy.vectorOf(n.get("embedding")));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a Converse call of {@code modelId} answers to the single user message {@code prompt}. */
    CompletableFuture<String> converse(String modelId, String prompt) {
        ObjectNode body = AiProxy.JSON.createObjectNode();
        body.putArray("messages").addObject().put("role", "user").putArray("content").addObject().put("text", prompt);
        try {
            return post(modelId, "converse", AiProxy.JSON.writeValueAsBytes(body))
                    .thenApply(n -> n.at("/output/message/content/0/text").asText());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Input and output tokens that the emulator reports for the successful requests in {@code record}, replayed. */
    long[] tokens(List<RecordedRequest> record) {
        List<CompletableFuture<long[]>> all = new ArrayList<>();
        for (RecordedRequest r : record) {
            if (r.response() != 200) {
                continue;
            }
            all.add(post(r.modelId(), r.route(), r.body()).thenApply(n -> {
                if (n.has("inputTextTokenCount")) {
                    return new long[] {n.get("inputTextTokenCount").asLong(), 0};
                }
                if (n.has("usage")) {
                    return new long[] {n.get("usage").path("inputTokens").asLong(), n.get("usage").path("outputTokens").asLong()};
                }
                throw new IllegalStateException("no token counts in the answer to " + r + ": " + n);
            }));
        }
        long[] sum = new long[2];
        for (CompletableFuture<long[]> f : all) {
            long[] t = f.join();
            sum[0] += t[0];
            sum[1] += t[1];
        }
        return sum;
    }

    @Override
    public void close() {
        emulator.close();
    }
}
