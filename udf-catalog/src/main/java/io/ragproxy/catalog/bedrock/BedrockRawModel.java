package io.ragproxy.catalog.bedrock;

import io.ragproxy.catalog.model.RawModel;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelRequest;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * InvokeModel with a caller-written body (Aurora's {@code AWS_BEDROCK_INVOKE_MODEL} alias functions): the body
 * goes out as is, the response body comes back as is. Thread-safe.
 */
public final class BedrockRawModel implements RawModel {

    private final BedrockRuntimeAsyncClient client;
    private final String modelId;

    public BedrockRawModel(BedrockRuntimeAsyncClient client, String modelId) {
        this.client = Objects.requireNonNull(client, "client");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    @Override
    public String id() {
        return modelId;
    }

    @Override
    public CompletableFuture<byte[]> invoke(byte[] body, String contentType, String accept) {
        InvokeModelRequest req = InvokeModelRequest.builder()
                .modelId(modelId)
                .contentType(contentType == null ? "application/json" : contentType)
                .accept(accept == null ? "application/json" : accept)
                .body(SdkBytes.fromByteArray(body))
                .build();
        return BedrockCalls.call(modelId, () -> client.invokeModel(req), r -> r.body().asByteArray());
    }

    @Override
    public String toString() {
        return "BedrockRawModel[" + modelId + "]";
    }
}
