package io.ragproxy.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragproxy.catalog.bedrock.BedrockRerankModel;
import io.ragproxy.catalog.bedrock.BedrockRerankModelAccess;
import io.ragproxy.catalog.invoke.InvocationSettings;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.Rerankings;
import io.ragproxy.catalog.registry.ModelsConfig;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.emulator.EmulatedError;
import io.ragproxy.emulator.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rerankers: the Rerank request the SDK sends, the scores read back in input order, batching, cache, cost, errors. */
class RerankingTest {

    static EmulatorSupport env;

    @BeforeAll
    static void start() {
        env = new EmulatorSupport();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @BeforeEach
    void reset() {
        env.emulator.reset();
    }

    /** The emulator's documented score: Jaccard similarity of the lower-case word sets. */
    static double jaccard(String a, String b) {
        Set<String> x = new HashSet<>(Arrays.asList(a.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")));
        Set<String> y = new HashSet<>(Arrays.asList(b.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")));
        x.remove("");
        y.remove("");
        Set<String> union = new HashSet<>(x);
        union.addAll(y);
        x.retainAll(y);
        return union.isEmpty() ? 0 : (double) x.size() / union.size();
    }

    @Test
    void bedrockRerankSendsOneQueryWithEverySourceAndReadsScoresBackInInputOrder() {
        ModelInvoker invoker = env.invoker(ModelsConfig.DEFAULT);
        List<String> docs = List.of("Sourdough needs a starter", "TiDB scales out with TiKV nodes", "How TiDB scales");
        String query = "How does TiDB scale out";
        List<Double> scores = invoker.rerankAll("cohere-rerank-3-5", query, docs, null, null).join();
        for (int i = 0; i < docs.size(); i++) {
            assertEquals(jaccard(query, docs.get(i)), scores.get(i), 1e-6, docs.get(i));
        }
        List<RecordedRequest> sent = env.emulator.requests("cohere.rerank-v3-5:0", "rerank");
        assertEquals(1, sent.size());
        JsonNode body = sent.get(0).json();
        assertEquals(query, body.at("/queries/0/textQuery/text").asText());
        assertEquals("TEXT", body.at("/queries/0/type").asText());
        assertEquals(3, body.get("sources").size());
        assertEquals(docs.get(1), body.at("/sources/1/inlineDocumentSource/textDocument/text").asText());
        assertEquals("INLINE", body.at("/sources/1/type").asText());
        assertEquals("arn:aws:bedrock:us-east-1::foundation-model/cohere.rerank-v3-5:0",
                body.at("/rerankingConfiguration/bedrockRerankingConfiguration/modelConfiguration/modelArn").asText());
        assertEquals(3, body.at("/rerankingConfiguration/bedrockRerankingConfiguration/numberOfResults").asInt());
        // One query per 100 documents at $2 per 1,000 queries.
        assertEquals(0.002, invoker.counters("cohere.rerank-v3-5:0").estimatedCostUsd(), 1e-9);
    }

    @Test
    void scoresAreCachedPerQueryAndTextAndNullsCostNothing() {
        ModelInvoker invoker = env.invoker(ModelsConfig.DEFAULT);
        invoker.rerankAll("amazon-rerank", "tidb", List.of("a tidb", "b"), null, null).join();
        List<Double> again = invoker.rerankAll("amazon-rerank", "tidb", Arrays.asList("b", null, "", "a tidb", "c"), null, null).join();
        assertNull(again.get(1));
        assertNull(again.get(2));
        assertEquals(0.5, again.get(3), 1e-6);
        List<RecordedRequest> sent = env.emulator.requests("amazon.rerank-v1:0", "rerank");
        assertEquals(2, sent.size());
        assertEquals(1, sent.get(1).json().get("sources").size(), "only the new text is sent");
        invoker.rerankAll("amazon-rerank", "other query", List.of("a tidb"), null, null).join();
        assertEquals(3, env.emulator.requests("amazon.rerank-v1:0", "rerank").size(), "a score is the pair's");
        assertEquals(Arrays.asList(null, null), invoker.rerankAll("amazon-rerank", null, List.of("x", "y"), null, null).join());
    }

    @Test
    void aQuerysTextsGoInBatchedRequestsOfTheConfiguredSize() throws Exception {
        ModelsConfig config = ModelsConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"models\":{\"model\":{\"amazon-rerank\":{\"batch_size\":4}}}}"));
        ModelInvoker invoker = env.invoker(config);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            docs.add("document " + i);
        }
        List<Double> scores = invoker.rerankAll("amazon-rerank", "document 7", docs, null, null).join();
        assertEquals(1.0, scores.get(7), 1e-6);
        assertEquals(3, env.emulator.requests("amazon.rerank-v1:0", "rerank").size());
        assertEquals(4, invoker.rerankBatchSize("amazon-rerank"));
        assertEquals(BedrockRerankModel.MAX_SOURCES, invoker.rerankBatchSize("cohere.rerank-v3-5:0"));
    }

    @Test
    void throttlingIsRetriedAndAFailureIsAModelException() {
        ModelInvoker invoker = env.invoker(ModelsConfig.DEFAULT);
        env.emulator.failNext(2, EmulatedError.THROTTLING);
        assertEquals(1.0, invoker.rerankAll("amazon-rerank", "x", List.of("x"), null, null).join().get(0), 1e-6);
        assertEquals(2, invoker.counters("amazon.rerank-v1:0").throttles());
        env.emulator.failWhenInputContains("poison", EmulatedError.VALIDATION);
        CompletionException e = assertThrows(CompletionException.class,
                () -> invoker.rerankAll("amazon-rerank", "x", List.of("poison"), InvocationSettings.DEFAULT, null).join());
        ModelException me = ModelException.find(e);
        assertEquals(ModelException.Kind.CLIENT_ERROR, me.kind());
    }

    @Test
    void theLocalRerankerIsTheEmbeddingsCosineAndOtherKindsAreRefused() {
        ModelInvoker invoker = env.invoker(ModelsConfig.DEFAULT);
        // The fake local embedding puts each text on one axis: same text 1, other texts 0.
        List<Double> scores = invoker.rerankAll(null, "same", List.of("other", "same"), null, null).join();
        assertEquals(List.of(0.0, 1.0), scores);
        assertEquals(ModelsConfig.LOCAL_RERANK, invoker.registry().rerankingModel(null).id());
        assertEquals(0, env.emulator.requestCount());
        UnknownModelException wrong = assertThrows(UnknownModelException.class,
                () -> invoker.registry().rerankingModel("titan-v2"));
        assertTrue(wrong.getMessage().contains("reranking model"), wrong.getMessage());
        assertThrows(UnknownModelException.class, () -> invoker.registry().embeddingModel("cohere-rerank-3-5"));
        assertThrows(UnknownModelException.class, () -> invoker.registry().textModel("amazon.rerank-v1:0"));
    }

    @Test
    void aRerankAnswerMissingADocumentIsABadResponse() {
        Rerankings ok = BedrockRerankModelAccess.scores(2, new int[] {1, 0}, new float[] {0.9f, 0.1f});
        assertEquals(List.of((double) 0.1f, (double) 0.9f), ok.scores());
        assertEquals(1, ok.billedQueries());
        ModelException e = assertThrows(ModelException.class,
                () -> BedrockRerankModelAccess.scores(2, new int[] {1}, new float[] {0.9f}));
        assertEquals(ModelException.Kind.BAD_RESPONSE, e.kind());
    }

    @Test
    void aRerankAnswerWithANonFiniteMissingOrRepeatedScoreIsABadResponseNotANumber() {
        Object[][] broken = {
            {new Integer[] {0, 1}, new Float[] {Float.NaN, 0.5f}, "NaN"},
            {new Integer[] {0, 1}, new Float[] {0.5f, Float.POSITIVE_INFINITY}, "Infinity"},
            {new Integer[] {0, 1}, new Float[] {Float.NEGATIVE_INFINITY, 0.5f}, "Infinity"},
            {new Integer[] {0, 1}, new Float[] {0.5f, null}, "relevanceScore null"},
            {new Integer[] {0, 2}, new Float[] {0.5f, 0.4f}, "index 2"},
            {new Integer[] {-1, 0}, new Float[] {0.5f, 0.4f}, "index -1"},
            {new Integer[] {null, 0}, new Float[] {0.5f, 0.4f}, "index null"},
            {new Integer[] {1, 1}, new Float[] {0.5f, 0.4f}, "scored twice"},
            {new Integer[] {1, 0, 1}, new Float[] {0.5f, 0.4f, 0.3f}, "scored twice"},
        };
        for (Object[] b : broken) {
            ModelException e = assertThrows(ModelException.class,
                    () -> BedrockRerankModelAccess.scores(2, (Integer[]) b[0], (Float[]) b[1]), (String) b[2]);
            assertEquals(ModelException.Kind.BAD_RESPONSE, e.kind(), (String) b[2]);
            assertTrue(e.getMessage().contains((String) b[2]), e.getMessage());
        }
    }

    @Test
    void theDefaultRerankerIsConfigurable() throws Exception {
        ModelsConfig config = ModelsConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"models\":{\"default_reranking\":\"amazon-rerank\"}}"));
        assertEquals("amazon-rerank", config.defaultReranking());
        assertEquals(ModelsConfig.LOCAL_RERANK, ModelsConfig.DEFAULT.defaultReranking(), "offline by default");
        ModelInvoker invoker = env.invoker(config);
        assertEquals("amazon.rerank-v1:0", invoker.registry().rerankingModelId(null));
        assertEquals(1.0, invoker.rerankAll(null, "x", List.of("x"), null, null).join().get(0), 1e-6);
        assertEquals(1, env.emulator.requests("amazon.rerank-v1:0", "rerank").size(), "the configured one is called");
        assertTrue(invoker.registry().describe().stream().anyMatch(d -> d.modelId().equals("amazon.rerank-v1:0")
                && d.isDefault() && d.price().per1kQueries() == 1.0), invoker.registry().describe().toString());
        assertTrue(invoker.registry().describe().stream().noneMatch(d -> d.modelId().equals(ModelsConfig.LOCAL_RERANK)
                && d.isDefault()));
        assertEquals("amazon-rerank", config.withMaxInputChars(5).defaultReranking(), "kept by the other settings");
    }
}
