package io.ragproxy.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bedrock Agent Runtime's Rerank API ({@code POST /rerank}) with a deterministic, documented score, so that a test
 * can compute the expected order on its own. Stateless and thread-safe.
 *
 * <p>Request, as the AWS SDK sends it: {@code queries} (exactly one, {@code type TEXT}, {@code textQuery.text}),
 * {@code sources} (1 to {@value #MAX_SOURCES}, {@code type INLINE}, {@code inlineDocumentSource} of {@code type TEXT}
 * with {@code textDocument.text}), {@code rerankingConfiguration} ({@code type BEDROCK_RERANKING_MODEL},
 * {@code bedrockRerankingConfiguration.modelConfiguration.modelArn} naming {@code cohere.rerank-v3-5:0} or
 * {@code amazon.rerank-v1:0}, optional {@code numberOfResults}). Anything else is a ValidationException (HTTP 400).
 *
 * <p>Response: {@code {"results":[{"index":i,"relevanceScore":s}, …]}}, the {@code numberOfResults} best sources (all
 * of them by default), highest score first, equal scores by index.
 *
 * <p><b>The score</b> of a source is the Jaccard similarity of the query's and the source's sets of words:
 * {@code |Q ∩ D| / |Q ∪ D|}, where a word is a run of letters or digits (or one CJK ideograph), lower-cased
 * ({@link #words(String)}); 0 when neither has a word. It is between 0 and 1, like Bedrock's relevance scores.
 */
final class Reranker {

    /** The API's limit on sources per request. */
    static final int MAX_SOURCES = 1000;

    private static final Pattern WORD = Pattern.compile("\\p{IsHan}|[\\p{L}\\p{N}]+");
    private static final Set<String> MODELS = Set.of("cohere.rerank-v3-5:0", "amazon.rerank-v1:0");

    private final ObjectMapper json = new ObjectMapper();

    /** The score of {@code document} for {@code query} (see the class comment). */
    static double score(String query, String document) {
        Set<String> q = words(query);
        Set<String> d = words(document);
        Set<String> union = new HashSet<>(q);
        union.addAll(d);
        if (union.isEmpty()) {
            return 0;
        }
        Set<String> both = new HashSet<>(q);
        both.retainAll(d);
        return (double) both.size() / union.size();
    }

    /** The distinct lower-case words of {@code text}: runs of letters or digits, and single ideographs. */
    static Set<String> words(String text) {
        Set<String> out = new HashSet<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** The model id of a rerank body's {@code modelArn} (its part after the last '/'), or "" when it has none. */
    static String modelIdOf(byte[] body) {
        try {
            JsonNode arn = new ObjectMapper().readTree(body).path("rerankingConfiguration")
                    .path("bedrockRerankingConfiguration").path("modelConfiguration").path("modelArn");
            String s = arn.asText("");
            return s.substring(s.lastIndexOf('/') + 1);
        } catch (Exception e) {
            return "";
        }
    }

    ModelResponder.Answer rerank(byte[] body) {
        JsonNode req;
        try {
            req = json.readTree(body);
        } catch (Exception e) {
            return invalid("request body is not JSON");
        }
        if (req == null || !req.isObject()) {
            return invalid("expected a JSON object");
        }
        JsonNode queries = req.path("queries");
        if (!queries.isArray() || queries.size() != 1) {
            return invalid("queries must hold exactly 1 query");
        }
        JsonNode query = queries.get(0);
        if (!"TEXT".equals(query.path("type").asText()) || !query.path("textQuery").path("text").isTextual()) {
            return invalid("a query must be of type TEXT with textQuery.text");
        }
        JsonNode sources = req.path("sources");
        if (!sources.isArray() || sources.isEmpty() || sources.size() > MAX_SOURCES) {
            return invalid("sources must hold 1 to " + MAX_SOURCES + " sources, got " + (sources.isArray() ? sources.size() : 0));
        }
        JsonNode config = req.path("rerankingConfiguration");
        if (!"BEDROCK_RERANKING_MODEL".equals(config.path("type").asText())) {
            return invalid("rerankingConfiguration.type must be BEDROCK_RERANKING_MODEL");
        }
        JsonNode bedrock = config.path("bedrockRerankingConfiguration");
        String arn = bedrock.path("modelConfiguration").path("modelArn").asText("");
        String model = arn.substring(arn.lastIndexOf('/') + 1);
        if (!arn.startsWith("arn:") || !MODELS.contains(model)) {
            return ModelResponder.Answer.error(EmulatedError.VALIDATION, "The provided model ARN " + arn
                    + " is not a supported reranking model; supported: " + MODELS);
        }
        int wanted = sources.size();
        if (bedrock.has("numberOfResults")) {
            wanted = bedrock.get("numberOfResults").asInt(-1);
            if (wanted < 1 || wanted > MAX_SOURCES) {
                return invalid("numberOfResults must be between 1 and " + MAX_SOURCES);
            }
        }
        String q = query.path("textQuery").path("text").asText();
        List<double[]> scored = new ArrayList<>(sources.size());
        for (int i = 0; i < sources.size(); i++) {
            JsonNode src = sources.get(i);
            JsonNode doc = src.path("inlineDocumentSource");
            if (!"INLINE".equals(src.path("type").asText()) || !"TEXT".equals(doc.path("type").asText())
                    || !doc.path("textDocument").path("text").isTextual()) {
                return invalid("source " + i + " must be of type INLINE with a TEXT inlineDocumentSource");
            }
            scored.add(new double[] {i, score(q, doc.path("textDocument").path("text").asText())});
        }
        scored.sort(Comparator.<double[]>comparingDouble(s -> -s[1]).thenComparingDouble(s -> s[0]));
        ObjectNode out = json.createObjectNode();
        ArrayNode results = out.putArray("results");
        for (double[] s : scored.subList(0, Math.min(wanted, scored.size()))) {
            ObjectNode r = results.addObject();
            r.put("index", (int) s[0]);
            r.put("relevanceScore", s[1]);
        }
        try {
            return new ModelResponder.Answer(200, null, json.writeValueAsBytes(out));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ModelResponder.Answer invalid(String what) {
        return ModelResponder.Answer.error(EmulatedError.VALIDATION, "1 validation error detected: " + what);
    }
}
