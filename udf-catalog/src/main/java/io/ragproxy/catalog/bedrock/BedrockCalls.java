package io.ragproxy.catalog.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.ModelException.Kind;
import io.ragproxy.catalog.model.Usage;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelRequest;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelResponse;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/** Plumbing shared by the Bedrock models: issuing a call, mapping its errors, keeping it cancellable. */
final class BedrockCalls {

    static final ObjectMapper JSON = new ObjectMapper();

    private BedrockCalls() {
    }

    /**
     * Starts {@code call} and returns a future of {@code parse} applied to its result. Failures (of the call
     * or of parsing) become {@link ModelException}s; cancelling the returned future cancels the SDK call,
     * which aborts the HTTP request.
     */
    static <R, T> CompletableFuture<T> call(String modelId, Supplier<CompletableFuture<R>> call, Function<R, T> parse) {
        CompletableFuture<R> sdk;
        try {
            sdk = call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(BedrockErrors.map(e, modelId));
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        sdk.whenComplete((r, t) -> {
            if (t != null) {
                out.completeExceptionally(BedrockErrors.map(t, modelId));
                return;
            }
            try {
                out.complete(parse.apply(r));
            } catch (ModelException e) {
                out.completeExceptionally(e);
            } catch (RuntimeException e) {
                out.completeExceptionally(badResponse(modelId, e.getMessage(), e));
            }
        });
        out.whenComplete((r, t) -> {
            if (out.isCancelled()) {
                sdk.cancel(true);
            }
        });
        return out;
    }

    /** InvokeModel with a JSON body, parsed to a JSON tree. */
    static CompletableFuture<InvokeResult> invokeJson(BedrockRuntimeAsyncClient client, String modelId, JsonNode body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(new ModelException(Kind.CLIENT_ERROR, modelId, "could not write the request body", e));
        }
        InvokeModelRequest req = InvokeModelRequest.builder()
                .modelId(modelId)
                .contentType("application/json")
                .accept("application/json")
                .body(SdkBytes.fromByteArrayUnsafe(bytes))
                .build();
        return call(modelId, () -> client.invokeModel(req), r -> new InvokeResult(parseJson(modelId, r), headerUsage(r)));
    }

    /** A parsed InvokeModel answer and the token counts from Bedrock's response headers. */
    record InvokeResult(JsonNode body, Usage headerUsage) {
    }

    private static JsonNode parseJson(String modelId, InvokeModelResponse r) {
        try {
            JsonNode n = JSON.readTree(r.body().asByteArrayUnsafe());
            if (n == null || !n.isObject()) {
                throw badResponse(modelId, "expected a JSON object", null);
            }
            return n;
        } catch (java.io.IOException e) {
            throw badResponse(modelId, "the response is not JSON", e);
        }
    }

    /** Bedrock reports token counts of InvokeModel calls in {@code X-Amzn-Bedrock-*-Token-Count} headers. */
    private static Usage headerUsage(InvokeModelResponse r) {
        if (r.sdkHttpResponse() == null) {
            return Usage.NONE;
        }
        long in = r.sdkHttpResponse().firstMatchingHeader("X-Amzn-Bedrock-Input-Token-Count").map(BedrockCalls::parseLong).orElse(0L);
        long out = r.sdkHttpResponse().firstMatchingHeader("X-Amzn-Bedrock-Output-Token-Count").map(BedrockCalls::parseLong).orElse(0L);
        return in == 0 && out == 0 ? Usage.NONE : new Usage(in, out);
    }

    private static long parseLong(String s) {
        try {
            return Math.max(0, Long.parseLong(s.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static ModelException badResponse(String modelId, String what, Throwable cause) {
        return new ModelException(Kind.BAD_RESPONSE, modelId, "model '" + modelId + "': could not read Bedrock's response ("
                + what + "); check that the model id names the intended model family", cause);
    }

    /** Reads a JSON array of numbers as a float vector; anything else is a BAD_RESPONSE. */
    static float[] vector(String modelId, JsonNode arr, String field) {
        if (arr == null || !arr.isArray() || arr.isEmpty()) {
            throw badResponse(modelId, "missing '" + field + "'", null);
        }
        float[] v = new float[arr.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode n = arr.get(i);
            if (!n.isNumber()) {
                throw badResponse(modelId, "'" + field + "' holds a non-number", null);
            }
            v[i] = n.floatValue();
        }
        return v;
    }

    /** Scales {@code v} to unit length in place (a zero vector stays zero). */
    static float[] normalizeInPlace(float[] v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        if (s > 0) {
            double inv = 1 / Math.sqrt(s);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (v[i] * inv);
            }
        }
        return v;
    }
}
