package io.ragproxy.catalog.bedrock;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.http.SdkHttpFullResponse;
import software.amazon.awssdk.http.async.AsyncExecuteRequest;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;

/**
 * An HTTP client for the AWS SDK that sends nothing: it answers every request itself, an InvokeModel with an embedding
 * of one dimension and a Converse with a one-word reply. A Bedrock client built on it runs the whole call path of a
 * model (request body, marshalling, signing, unmarshalling, the model's parsing) without a network or a cost, which
 * is what warming that path up at start needs ({@link io.ragproxy.catalog.registry.ModelRegistry#warmUp()}).
 */
public final class CannedHttpClient implements SdkAsyncHttpClient {
    private static final byte[] EMBEDDING = ("{\"embedding\":[0.0],\"embeddings\":[[0.0]],\"inputTextTokenCount\":1,"
            + "\"texts\":[\"\"],\"id\":\"warm-up\",\"response_type\":\"embeddings_floats\"}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] CONVERSE = ("{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":"
            + "\"ok\"}]}},\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":1,\"outputTokens\":1,\"totalTokens\":2},"
            + "\"metrics\":{\"latencyMs\":1}}").getBytes(StandardCharsets.UTF_8);

    @Override
    public CompletableFuture<Void> execute(AsyncExecuteRequest request) {
        byte[] body = request.request().encodedPath().endsWith("/converse") ? CONVERSE : EMBEDDING;
        request.responseHandler().onHeaders(SdkHttpFullResponse.builder()
                .statusCode(200)
                .putHeader("Content-Type", "application/json")
                .putHeader("Content-Length", Integer.toString(body.length))
                .putHeader("x-amzn-RequestId", "warm-up")
                .build());
        request.responseHandler().onStream(AsyncRequestBody.fromBytes(body));
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public String clientName() {
        return "ragproxy-canned";
    }

    @Override
    public void close() {
        // holds nothing
    }
}
