package io.ragproxy.catalog.bedrock;

import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.TextModel;
import io.ragproxy.catalog.model.Usage;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ConversationRole;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseRequest;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseResponse;
import software.amazon.awssdk.services.bedrockruntime.model.InferenceConfiguration;
import software.amazon.awssdk.services.bedrockruntime.model.Message;
import software.amazon.awssdk.services.bedrockruntime.model.SystemContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.TokenUsage;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Any Bedrock chat model (Llama 3.x, Claude 3+, Nova, Titan Text, Mistral…) through the Converse API, so one
 * code path serves every model family: the prompt becomes one user message, {@link GenerateOptions#system()}
 * the system prompt, and maxTokens / temperature / topP / stopSequences the {@code inferenceConfig} (each
 * sent only when set). The answer is the concatenated text blocks of the output message. Thread-safe.
 */
public final class ConverseTextModel implements TextModel {

    private final BedrockRuntimeAsyncClient client;
    private final String modelId;

    public ConverseTextModel(BedrockRuntimeAsyncClient client, String modelId) {
        this.client = Objects.requireNonNull(client, "client");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
    }

    @Override
    public String id() {
        return modelId;
    }

    @Override
    public CompletableFuture<Generation> generate(String prompt, GenerateOptions options) {
        GenerateOptions o = options == null ? GenerateOptions.DEFAULT : options;
        ConverseRequest.Builder req = ConverseRequest.builder()
                .modelId(modelId)
                .messages(Message.builder().role(ConversationRole.USER).content(ContentBlock.fromText(prompt)).build());
        if (o.system() != null && !o.system().isEmpty()) {
            req.system(SystemContentBlock.fromText(o.system()));
        }
        if (o.maxTokens() != null || o.temperature() != null || o.topP() != null || o.stopSequences() != null) {
            InferenceConfiguration.Builder ic = InferenceConfiguration.builder();
            if (o.maxTokens() != null) {
                ic.maxTokens(o.maxTokens());
            }
            if (o.temperature() != null) {
                ic.temperature(o.temperature().floatValue());
            }
            if (o.topP() != null) {
                ic.topP(o.topP().floatValue());
            }
            if (o.stopSequences() != null) {
                ic.stopSequences(o.stopSequences());
            }
            req.inferenceConfig(ic.build());
        }
        ConverseRequest built = req.build();
        return BedrockCalls.call(modelId, () -> client.converse(built), this::parse);
    }

    private Generation parse(ConverseResponse r) {
        if (r.output() == null || r.output().message() == null) {
            throw BedrockCalls.badResponse(modelId, "no output message", null);
        }
        StringBuilder text = new StringBuilder();
        for (ContentBlock b : r.output().message().content()) {
            if (b.text() != null) {
                text.append(b.text());
            }
        }
        TokenUsage u = r.usage();
        Usage usage = u == null ? Usage.NONE
                : new Usage(u.inputTokens() == null ? 0 : u.inputTokens(), u.outputTokens() == null ? 0 : u.outputTokens());
        return new Generation(text.toString(), usage, r.stopReasonAsString());
    }

    @Override
    public String toString() {
        return "ConverseTextModel[" + modelId + "]";
    }
}
