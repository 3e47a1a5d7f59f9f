package io.ragproxy.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * One request the emulator received, recorded before any fault was injected, so tests can assert the exact
 * bodies a client sent.
 *
 * @param modelId  the URL-decoded model id from the path
 * @param route    {@code invoke}, {@code converse}, or whatever followed the model id
 * @param method   the HTTP method
 * @param headers  request headers, names in lower case
 * @param body     the raw request body
 * @param response the HTTP status the emulator answered with (0 while the request is still in flight
 *                 is never observed: requests are recorded when answered)
 * @param answeredNanos {@link System#nanoTime()} when the emulator answered, for rates over time
 */
public record RecordedRequest(String modelId, String route, String method, Map<String, List<String>> headers,
                              byte[] body, int response, long answeredNanos) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The body decoded as UTF-8. */
    public String bodyString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The body parsed as JSON. */
    public JsonNode json() {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("request body is not JSON: " + bodyString(), e);
        }
    }

    /** The first value of a header (name case-insensitive), or null. */
    public String header(String name) {
        List<String> v = headers.get(name.toLowerCase(java.util.Locale.ROOT));
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override
    public String toString() {
        return "RecordedRequest[" + route + " " + modelId + " -> " + response + ": " + bodyString() + "]";
    }
}
