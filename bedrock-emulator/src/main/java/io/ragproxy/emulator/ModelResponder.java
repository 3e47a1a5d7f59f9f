package io.ragproxy.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * Builds the emulator's answers: for each model family the JSON shape Bedrock returns, with deterministic
 * content. Stateless and thread-safe.
 *
 * <p>What it returns:
 * <ul>
 *   <li>Titan Text Embeddings V2 ({@code amazon.titan-embed-text-v2*}): {@code embedding} of
 *       {@code dimensions} (256/512/1024, default 1024) floats, unit length unless {@code normalize} is
 *       false, plus {@code embeddingsByType.float} and {@code inputTextTokenCount}.</li>
 *   <li>Titan V1 ({@code amazon.titan-embed-text-v1}, {@code amazon.titan-embed-g1-text-02}): 1536 floats;
 *       any key other than {@code inputText} is a ValidationException, as on Bedrock.</li>
 *   <li>Cohere Embed v3 ({@code cohere.embed-*}): {@code embeddings} (1024 floats each), {@code id},
 *       {@code texts}, {@code response_type: embeddings_floats}; more than 96 texts or a missing
 *       {@code input_type} is a ValidationException.</li>
 *   <li>Converse (any non-embedding model): {@code "echo: "} + the first 200 characters of the last user
 *       message's text, cut at the first stop sequence ({@code stopReason stop_sequence}) or to
 *       {@code maxTokens} words ({@code max_tokens}), else {@code end_turn}; usage counts words.</li>
 *   <li>Raw invoke of chat models: Anthropic Messages ({@code content[0].text}), Meta ({@code generation}),
 *       Titan Text ({@code results[0].outputText}), Mistral ({@code outputs[0].text}), with the same echo text.</li>
 * </ul>
 * Vectors come from {@link FakeVectors}: same text, same vector.
 */
final class ModelResponder {

    static final int TITAN_V1_DIMENSIONS = 1536;
    static final int TITAN_V2_DEFAULT_DIMENSIONS = 1024;
    static final int COHERE_DIMENSIONS = 1024;
    static final int COHERE_MAX_TEXTS = 96;
    static final int ECHO_CHARS = 200;

    private static final Set<Integer> TITAN_V2_DIMENSIONS = Set.of(256, 512, 1024);

    private final ObjectMapper json = new ObjectMapper();

    /** An answer: status, error type header (null for success) and body. */
    record Answer(int status, String errorType, byte[] body) {
        static Answer error(EmulatedError e, String message) {
            return new Answer(e.status(), e.errorType(), ("{\"message\":" + quote(message) + "}").getBytes(StandardCharsets.UTF_8));
        }

        static Answer error(EmulatedError e) {
            if (e == EmulatedError.MALFORMED_RESPONSE) {
                return new Answer(200, null, e.message().getBytes(StandardCharsets.UTF_8));
            }
            return error(e, e.message());
        }
    }

    private static String quote(String s) {
        return new ObjectMapper().getNodeFactory().textNode(s).toString();
    }

    /** Strips a cross-region inference profile prefix ({@code us.}, {@code eu.}, {@code apac.}, {@code global.}...). */
    static String baseModelId(String modelId) {
        String id = modelId;
        int slash = id.lastIndexOf('/');
        if (id.startsWith("arn:") && slash >= 0) {
            id = id.substring(slash + 1);
        }
        int dot = id.indexOf('.');
        if (dot > 0) {
            String first = id.substring(0, dot);
            if (Set.of("us", "eu", "apac", "global", "us-gov", "ca", "jp", "au").contains(first)) {
                return id.substring(dot + 1);
            }
        }
        return id;
    }

    static boolean isEmbeddingModel(String modelId) {
        String id = baseModelId(modelId);
        return id.startsWith("amazon.titan-embed") || id.startsWith("cohere.embed");
    }

    Answer invoke(String modelId, byte[] body) {
        String id = baseModelId(modelId).toLowerCase(Locale.ROOT);
        JsonNode req;
        try {
            req = json.readTree(body);
        } catch (Exception e) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: request body is not JSON");
        }
        if (req == null || !req.isObject()) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: expected a JSON object");
        }
        if (id.startsWith("amazon.titan-embed-text-v2")) {
            return titanV2(req);
        }
        if (id.startsWith("amazon.titan-embed-text-v1") || id.startsWith("amazon.titan-embed-g1-text")) {
            return titanV1(req);
        }
        if (id.startsWith("cohere.embed")) {
            return cohere(req);
        }
        if (id.startsWith("anthropic.")) {
            return anthropic(modelId, req);
        }
        if (id.startsWith("meta.")) {
            String prompt = req.path("prompt").asText(null);
            if (prompt == null) {
                return Answer.error(EmulatedError.VALIDATION, "Malformed input request: required key [prompt] not found");
            }
            String text = echo(prompt);
            ObjectNode out = json.createObjectNode();
            out.put("generation", text);
            out.put("prompt_token_count", FakeVectors.tokenCount(prompt));
            out.put("generation_token_count", FakeVectors.tokenCount(text));
            out.put("stop_reason", "stop");
            return ok(out);
        }
        if (id.startsWith("amazon.titan-text") || id.startsWith("amazon.titan-tg1")) {
            String prompt = req.path("inputText").asText(null);
            if (prompt == null) {
                return Answer.error(EmulatedError.VALIDATION, "Malformed input request: required key [inputText] not found");
            }
            String text = echo(prompt);
            ObjectNode out = json.createObjectNode();
            out.put("inputTextTokenCount", FakeVectors.tokenCount(prompt));
            ObjectNode r = out.putArray("results").addObject();
            r.put("tokenCount", FakeVectors.tokenCount(text));
            r.put("outputText", text);
            r.put("completionReason", "FINISH");
            return ok(out);
        }
        if (id.startsWith("mistral.")) {
            String prompt = req.path("prompt").asText(null);
            if (prompt == null) {
                return Answer.error(EmulatedError.VALIDATION, "Malformed input request: required key [prompt] not found");
            }
            ObjectNode out = json.createObjectNode();
            ObjectNode o = out.putArray("outputs").addObject();
            o.put("text", echo(prompt));
            o.put("stop_reason", "stop");
            return ok(out);
        }
        return Answer.error(EmulatedError.VALIDATION, "The provided model identifier is invalid.");
    }

    private Answer titanV2(JsonNode req) {
        for (var it = req.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!Set.of("inputText", "dimensions", "normalize", "embeddingTypes").contains(k)) {
                return Answer.error(EmulatedError.VALIDATION, "Malformed input request: extraneous key [" + k + "] is not permitted");
            }
        }
        String text = req.path("inputText").isTextual() ? req.get("inputText").asText() : null;
        if (text == null) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: required key [inputText] not found");
        }
        if (text.isEmpty()) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: expected minLength: 1, actual: 0");
        }
        int dims = TITAN_V2_DEFAULT_DIMENSIONS;
        if (req.has("dimensions")) {
            dims = req.get("dimensions").asInt(-1);
            if (!TITAN_V2_DIMENSIONS.contains(dims)) {
                return Answer.error(EmulatedError.VALIDATION, "Malformed input request: dimensions must be one of 256, 512, 1024");
            }
        }
        boolean normalize = !req.has("normalize") || req.get("normalize").asBoolean(true);
        float[] v = FakeVectors.embed(text, dims, normalize);
        ObjectNode out = json.createObjectNode();
        putVector(out.putArray("embedding"), v);
        putVector(out.putObject("embeddingsByType").putArray("float"), v);
        out.put("inputTextTokenCount", FakeVectors.tokenCount(text));
        return ok(out);
    }

    private Answer titanV1(JsonNode req) {
        for (var it = req.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("inputText")) {
                return Answer.error(EmulatedError.VALIDATION, "Malformed input request: extraneous key [" + k + "] is not permitted");
            }
        }
        String text = req.path("inputText").isTextual() ? req.get("inputText").asText() : null;
        if (text == null || text.isEmpty()) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: required key [inputText] not found or empty");
        }
        ObjectNode out = json.createObjectNode();
        putVector(out.putArray("embedding"), FakeVectors.embed(text, TITAN_V1_DIMENSIONS, false));
        out.put("inputTextTokenCount", FakeVectors.tokenCount(text));
        return ok(out);
    }

    private Answer cohere(JsonNode req) {
        JsonNode texts = req.get("texts");
        if (texts == null || !texts.isArray()) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: required key [texts] not found");
        }
        if (texts.size() > COHERE_MAX_TEXTS) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: expected maxItems: 96, actual: " + texts.size());
        }
        String inputType = req.path("input_type").asText(null);
        if (inputType == null || !Set.of("search_document", "search_query", "classification", "clustering").contains(inputType)) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: input_type must be one of search_document, search_query, classification, clustering");
        }
        ObjectNode out = json.createObjectNode();
        ArrayNode embs = out.putArray("embeddings");
        ArrayNode echoed = json.createArrayNode();
        StringBuilder all = new StringBuilder();
        for (JsonNode t : texts) {
            String s = t.asText();
            putVector(embs.addArray(), FakeVectors.embed(s, COHERE_DIMENSIONS, true));
            echoed.add(s);
            all.append(s).append('\u0000');
        }
        out.put("id", UUID.nameUUIDFromBytes(all.toString().getBytes(StandardCharsets.UTF_8)).toString());
        out.set("texts", echoed);
        out.put("response_type", "embeddings_floats");
        return ok(out);
    }

    private Answer anthropic(String modelId, JsonNode req) {
        JsonNode messages = req.get("messages");
        if (!req.has("anthropic_version") || messages == null || !messages.isArray() || messages.isEmpty()) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: anthropic_version and messages are required");
        }
        String prompt = lastUserText(messages);
        String text = echo(prompt);
        ObjectNode out = json.createObjectNode();
        out.put("id", "msg_bdrk_" + Long.toHexString(FakeVectors.seed(prompt)));
        out.put("type", "message");
        out.put("role", "assistant");
        out.put("model", baseModelId(modelId));
        ObjectNode c = out.putArray("content").addObject();
        c.put("type", "text");
        c.put("text", text);
        out.put("stop_reason", "end_turn");
        out.putNull("stop_sequence");
        ObjectNode u = out.putObject("usage");
        u.put("input_tokens", FakeVectors.tokenCount(prompt));
        u.put("output_tokens", FakeVectors.tokenCount(text));
        return ok(out);
    }

    Answer converse(String modelId, byte[] body, long latencyMs) {
        if (isEmbeddingModel(modelId)) {
            return Answer.error(EmulatedError.VALIDATION, "This action doesn't support the model that you provided. Try again with a supported text or chat model.");
        }
        JsonNode req;
        try {
            req = json.readTree(body);
        } catch (Exception e) {
            return Answer.error(EmulatedError.VALIDATION, "Malformed input request: request body is not JSON");
        }
        JsonNode messages = req == null ? null : req.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            return Answer.error(EmulatedError.VALIDATION, "A conversation must start with a user message.");
        }
        String prompt = lastUserText(messages);
        StringBuilder allInput = new StringBuilder(prompt);
        for (JsonNode s : req.path("system")) {
            allInput.append(' ').append(s.path("text").asText(""));
        }
        String text = echo(prompt);
        String stopReason = "end_turn";
        JsonNode cfg = req.path("inferenceConfig");
        for (JsonNode stop : cfg.path("stopSequences")) {
            int at = stop.asText().isEmpty() ? -1 : text.indexOf(stop.asText());
            if (at >= 0) {
                text = text.substring(0, at);
                stopReason = "stop_sequence";
            }
        }
        if (cfg.has("maxTokens")) {
            int max = cfg.get("maxTokens").asInt();
            List<String> words = new ArrayList<>(List.of(text.split(" ")));
            if (words.size() > max) {
                text = String.join(" ", words.subList(0, Math.max(max, 0)));
                stopReason = "max_tokens";
            }
        }
        ObjectNode out = json.createObjectNode();
        ObjectNode msg = out.putObject("output").putObject("message");
        msg.put("role", "assistant");
        msg.putArray("content").addObject().put("text", text);
        out.put("stopReason", stopReason);
        ObjectNode u = out.putObject("usage");
        int in = FakeVectors.tokenCount(allInput.toString());
        int o = FakeVectors.tokenCount(text);
        u.put("inputTokens", in);
        u.put("outputTokens", o);
        u.put("totalTokens", in + o);
        out.putObject("metrics").put("latencyMs", latencyMs);
        return ok(out);
    }

    /** The text of the last user message; content may be a string or a list of blocks with {@code text}. */
    private static String lastUserText(JsonNode messages) {
        String last = "";
        for (JsonNode m : messages) {
            if (!"user".equals(m.path("role").asText("user"))) {
                continue;
            }
            JsonNode content = m.path("content");
            if (content.isTextual()) {
                last = content.asText();
            } else {
                StringBuilder sb = new StringBuilder();
                for (JsonNode block : content) {
                    if (block.has("text")) {
                        sb.append(block.get("text").asText());
                    }
                }
                last = sb.toString();
            }
        }
        return last;
    }

    static String echo(String prompt) {
        // Count code points, not chars, so a cut never splits a surrogate pair (CJK extension, emoji).
        int cps = prompt.codePointCount(0, prompt.length());
        int end = cps <= ECHO_CHARS ? prompt.length() : prompt.offsetByCodePoints(0, ECHO_CHARS);
        return "echo: " + prompt.substring(0, end);
    }

    /** The text a request carries (for marker-based fault injection): its raw body as UTF-8. */
    static String inputOf(byte[] body) {
        return new String(body, StandardCharsets.UTF_8);
    }

    private static void putVector(ArrayNode arr, float[] v) {
        for (float f : v) {
            arr.add(f);
        }
    }

    private Answer ok(ObjectNode out) {
        try {
            return new Answer(200, null, json.writeValueAsBytes(out));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
