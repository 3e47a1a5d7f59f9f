package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.ProxyProcess;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 17.5: a freshly started proxy (its own JVM, nothing of the AWS SDK loaded yet) readies its Bedrock client in
 * the background at start, with one ListAsyncInvokes request and no model call, so that the first statement's model
 * call keeps a tight {@code rag_inference_timeout_ms} instead of spending it on about 2 s of SDK warm-up.
 */
class BedrockWarmUpTest {
    private static final String DB = "ragproxy_it_ai_warm_up";
    /** Below the SDK's cold first request (about 2 s), well above an emulator call on a warm client. */
    private static final int TIGHT_TIMEOUT_MS = 1000;

    @Test
    void aFreshProxyWarmsItsBedrockClientAtStartSoTheFirstCallKeepsATightDeadline() throws Exception {
        LocalBackend backend = LocalBackend.get();
        backend.recreateDatabase(DB);
        try (BedrockEmulator emulator = BedrockEmulator.builder().start()) {
            warmUp(emulator); // the emulator's own first answer is not the proxy's to pay for
            String toml = """
                    [backend]
                    address = "%s:%d"
                    [tls]
                    enabled = false
                    [models]
                    default_embedding = "titan-v2"
                    [models.bedrock]
                    region = "us-east-1"
                    endpoint_override = "%s"
                    [models.model."amazon.titan-embed-text-v2:0"]
                    dimensions = 512
                    """.formatted(backend.host(), backend.port(), emulator.endpoint());
            try (ProxyProcess proxy = ProxyProcess.start(List.of(), toml,
                    Map.of("AWS_ACCESS_KEY_ID", "AKIDRAGPROXYTEST", "AWS_SECRET_ACCESS_KEY", "ragproxy-test-secret"))) {
                long deadline = System.nanoTime() + 60_000_000_000L; // a bound on waiting, not on the warm-up
                while (emulator.asyncInvokeListings() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(1, emulator.asyncInvokeListings(), "the warm-up request reached Bedrock at start, before"
                        + " any statement; proxy output:\n" + proxy.output());
                assertEquals(0, emulator.requestCount(), "the warm-up calls no model: " + emulator.requests());
                try (Connection c = Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), DB, LocalBackend.USER,
                        LocalBackend.PASSWORD, false)) {
                    exec(c, "SET rag_inference_timeout_ms = " + TIGHT_TIMEOUT_MS);
                    String vector = scalar(c, "SELECT VEC_AS_TEXT(EMBED('the first statement after start'))");
                    assertTrue(vector != null && vector.startsWith("["), "the first call answered in time: " + vector);
                    assertEquals(1, emulator.requestCount(), "one model call: " + emulator.requests());
                }
            }
        } finally {
            backend.dropDatabase(DB);
        }
    }

    /** One InvokeModel sent to {@code emulator} directly, then forgotten. */
    private static void warmUp(BedrockEmulator emulator) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        emulator.endpoint().resolve("/model/amazon.titan-embed-text-v2:0/invoke"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputText\":\"emulator warm-up\",\"dimensions\":512}"))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        emulator.reset();
    }
}
