package io.ragproxy.catalog.bedrock;

import java.util.Set;
import java.util.regex.Pattern;

/** Recognises Bedrock model ids and tells model families apart. */
public final class BedrockModelIds {

    /** Cross-region inference profile prefixes, e.g. {@code us.meta.llama3-2-3b-instruct-v1:0}. */
    private static final Set<String> PROFILE_PREFIXES = Set.of("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au");

    /** {@code provider.model[-version][:n]}, optionally behind a profile prefix, or a Bedrock ARN. */
    private static final Pattern ID = Pattern.compile(
            "^(?:[a-z-]{2,6}\\.)?[a-z0-9][a-z0-9-]*\\.[A-Za-z0-9][A-Za-z0-9._-]*(?::[A-Za-z0-9._:-]+)?$"
                    + "|^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]*:[A-Za-z-]+/[A-Za-z0-9._:/-]+$");

    private BedrockModelIds() {
    }

    /** Whether {@code name} has the shape of a Bedrock model id, inference profile id or ARN. */
    public static boolean looksLikeBedrockId(String name) {
        return name != null && !name.startsWith("local:") && ID.matcher(name).matches();
    }

    /** The id without an inference-profile prefix or ARN path, e.g. {@code meta.llama3-2-3b-instruct-v1:0}. */
    public static String baseModelId(String modelId) {
        String id = modelId;
        int slash = id.lastIndexOf('/');
        if (id.startsWith("arn:") && slash >= 0) {
            id = id.substring(slash + 1);
        }
        int dot = id.indexOf('.');
        if (dot > 0 && PROFILE_PREFIXES.contains(id.substring(0, dot))) {
            return id.substring(dot + 1);
        }
        return id;
    }

    /** Whether the id names an embedding model (Titan Embeddings, Cohere Embed). */
    public static boolean isEmbedding(String modelId) {
        String b = baseModelId(modelId);
        return b.startsWith("amazon.titan-embed") || b.startsWith("cohere.embed");
    }

    /** Whether the id names an embedding model this proxy can call (Titan text V1/V2, Cohere v3). */
    public static boolean isSupportedEmbedding(String modelId) {
        return TitanEmbeddingModel.versionOf(modelId) != null || CohereEmbeddingModel.isCohereEmbed(modelId);
    }
}
