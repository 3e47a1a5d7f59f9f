package io.ragproxy.catalog.bedrock;

import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.ModelException.Kind;
import io.ragproxy.catalog.model.RerankingModel;
import io.ragproxy.catalog.model.Rerankings;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockagentruntime.BedrockAgentRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockagentruntime.model.BedrockRerankingConfiguration;
import software.amazon.awssdk.services.bedrockagentruntime.model.BedrockRerankingModelConfiguration;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankDocument;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankDocumentType;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankQuery;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankQueryContentType;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankRequest;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankResponse;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankResult;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankSource;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankSourceType;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankTextDocument;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankingConfiguration;
import software.amazon.awssdk.services.bedrockagentruntime.model.RerankingConfigurationType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A Bedrock reranker ({@code cohere.rerank-v3-5:0}, {@code amazon.rerank-v1:0}) through Bedrock Agent Runtime's Rerank
 * API: one query and up to {@value #MAX_SOURCES} text sources per call, {@code numberOfResults} = all of them, so every
 * document gets its score. The answer lists the sources by {@code index}, best first; they are put back in input
 * order. The model is named by its foundation-model ARN in the client's region (an ARN given as the id is used as it
 * is). Billed as one query per {@value #DOCUMENTS_PER_QUERY} documents, rounded up. Thread-safe.
 */
public final class BedrockRerankModel implements RerankingModel {

    /** The Rerank API's limit on sources per request. */
    public static final int MAX_SOURCES = 1000;
    /** Bedrock bills a Rerank request as one query per this many documents. */
    public static final int DOCUMENTS_PER_QUERY = 100;

    private final BedrockAgentRuntimeAsyncClient client;
    private final String modelId;
    private final String modelArn;

    public BedrockRerankModel(BedrockAgentRuntimeAsyncClient client, String modelId) {
        this.client = Objects.requireNonNull(client, "client");
        this.modelId = Objects.requireNonNull(modelId, "modelId");
        this.modelArn = modelArn(modelId, client.serviceClientConfiguration().region());
    }

    /** Whether the id names a Bedrock reranking model ({@code cohere.rerank-*}, {@code amazon.rerank-*}). */
    public static boolean isRerank(String modelId) {
        String b = BedrockModelIds.baseModelId(modelId);
        return b.startsWith("cohere.rerank") || b.startsWith("amazon.rerank");
    }

    /** The foundation-model ARN the Rerank API takes for {@code modelId} in {@code region}. */
    static String modelArn(String modelId, Region region) {
        if (modelId.startsWith("arn:")) {
            return modelId;
        }
        String r = region == null ? Region.US_WEST_2.id() : region.id();
        return "arn:aws:bedrock:" + r + "::foundation-model/" + BedrockModelIds.baseModelId(modelId);
    }

    @Override
    public String id() {
        return modelId;
    }

    @Override
    public int maxBatchSize() {
        return MAX_SOURCES;
    }

    @Override
    public CompletableFuture<Rerankings> rerank(String query, List<String> documents) {
        if (documents.isEmpty() || documents.size() > MAX_SOURCES) {
            return CompletableFuture.failedFuture(new ModelException(Kind.CLIENT_ERROR, modelId, "model '" + modelId
                    + "' takes 1 to " + MAX_SOURCES + " documents per call, got " + documents.size()));
        }
        RerankRequest request = request(modelArn, query, documents);
        return BedrockCalls.call(modelId, () -> client.rerank(request), r -> scores(modelId, documents.size(), r));
    }

    /** The Rerank request for {@code documents}, asking for every document's score. */
    static RerankRequest request(String modelArn, String query, List<String> documents) {
        List<RerankSource> sources = new ArrayList<>(documents.size());
        for (String d : documents) {
            sources.add(RerankSource.builder().type(RerankSourceType.INLINE)
                    .inlineDocumentSource(RerankDocument.builder().type(RerankDocumentType.TEXT)
                            .textDocument(RerankTextDocument.builder().text(d).build()).build())
                    .build());
        }
        return RerankRequest.builder()
                .queries(RerankQuery.builder().type(RerankQueryContentType.TEXT)
                        .textQuery(RerankTextDocument.builder().text(query).build()).build())
                .sources(sources)
                .rerankingConfiguration(RerankingConfiguration.builder()
                        .type(RerankingConfigurationType.BEDROCK_RERANKING_MODEL)
                        .bedrockRerankingConfiguration(BedrockRerankingConfiguration.builder()
                                .numberOfResults(documents.size())
                                .modelConfiguration(BedrockRerankingModelConfiguration.builder().modelArn(modelArn).build())
                                .build())
                        .build())
                .build();
    }

    /**
     * The scores of {@code count} documents in input order, from results listed best first by index. Every document
     * must have exactly one finite score: a result without an index, with an index out of range or seen before, or
     * with a missing, NaN or infinite {@code relevanceScore} is a {@code BAD_RESPONSE}, as is a document left
     * without a score (a NaN would otherwise sort and compare silently wrong).
     */
    static Rerankings scores(String modelId, int count, RerankResponse response) {
        Double[] scores = new Double[count];
        List<RerankResult> results = response.results();
        for (int n = 0; n < results.size(); n++) {
            RerankResult r = results.get(n);
            Integer i = r == null ? null : r.index();
            if (i == null || i < 0 || i >= count) {
                throw BedrockCalls.badResponse(modelId, "result " + n + " has index " + i + ", expected 0 to "
                        + (count - 1), null);
            }
            if (scores[i] != null) {
                throw BedrockCalls.badResponse(modelId, "document " + i + " is scored twice", null);
            }
            Float score = r.relevanceScore();
            if (score == null || !Float.isFinite(score)) {
                throw BedrockCalls.badResponse(modelId, "document " + i + " has relevanceScore " + score
                        + ", expected a finite number", null);
            }
            scores[i] = score.doubleValue();
        }
        if (Arrays.asList(scores).contains(null)) {
            throw BedrockCalls.badResponse(modelId, "expected a score for each of the " + count + " documents, got "
                    + results.size(), null);
        }
        return new Rerankings(Arrays.asList(scores), (count + DOCUMENTS_PER_QUERY - 1) / DOCUMENTS_PER_QUERY);
    }

    @Override
    public String toString() {
        return "BedrockRerankModel[" + modelId + "]";
    }
}
