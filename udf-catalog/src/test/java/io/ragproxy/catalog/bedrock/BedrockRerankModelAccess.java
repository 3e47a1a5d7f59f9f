package io.ragproxy.catalog.bedrock;

import io.ragproxy.catalog.model.Rerankings;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankResponse;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankResult;

import java.util.ArrayList;
import java.util.List;

/** Test access to {@link BedrockRerankModel}'s response parsing. */
public final class BedrockRerankModelAccess {
    private BedrockRerankModelAccess() {}

    /** Parses results {@code (indexes[i], scores[i])} for {@code count} documents. */
    public static Rerankings scores(int count, int[] indexes, float[] scores) {
        List<RerankResult> results = new ArrayList<>();
        for (int i = 0; i < indexes.length; i++) {
            results.add(RerankResult.builder().index(indexes[i]).relevanceScore(scores[i]).build());
        }
        return BedrockRerankModel.scores("amazon.rerank-v1:0", count, RerankResponse.builder().results(results).build());
    }
}
