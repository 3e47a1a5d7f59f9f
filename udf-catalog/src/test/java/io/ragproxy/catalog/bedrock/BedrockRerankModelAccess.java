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
        Integer[] i = new Integer[indexes.length];
        Float[] s = new Float[scores.length];
        for (int n = 0; n < indexes.length; n++) {
            i[n] = indexes[n];
            s[n] = scores[n];
        }
        return scores(count, i, s);
    }

    /** Parses results {@code (indexes[i], scores[i])} for {@code count} documents; a null is a missing field. */
    public static Rerankings scores(int count, Integer[] indexes, Float[] scores) {
        List<RerankResult> results = new ArrayList<>();
        for (int i = 0; i < indexes.length; i++) {
            results.add(RerankResult.builder().index(indexes[i]).relevanceScore(scores[i]).build());
        }
        return BedrockRerankModel.scores("amazon.rerank-v1:0", count, RerankResponse.builder().results(results).build());
    }
}
