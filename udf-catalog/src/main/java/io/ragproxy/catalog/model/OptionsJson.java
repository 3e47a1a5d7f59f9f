package io.ragproxy.catalog.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Parsing helpers shared by {@link EmbedOptions#fromJson} and {@link GenerateOptions#fromJson}. */
final class OptionsJson {

    /** A private mapper: ObjectMapper is thread-safe once configured and holds no external resources. */
    static final ObjectMapper MAPPER = new ObjectMapper();

    private OptionsJson() {
    }

    /** Parses {@code json} as an object; null or blank → null. */
    static ObjectNode parseObject(String json, String what) {
        if (json == null || json.isBlank()) {
            return null;
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + " options must be a JSON object, e.g. "
                    + example(what) + "; could not parse: " + e.getOriginalMessage());
        }
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(what + " options must be a JSON object, e.g. " + example(what));
        }
        return (ObjectNode) node;
    }

    private static String example(String what) {
        return what.equals("EMBED") ? "{\"dimensions\":512,\"normalize\":true}" : "{\"max_tokens\":256,\"temperature\":0.2}";
    }

    static Integer positiveInt(JsonNode v, String key, String what) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToInt() || !(v.isIntegralNumber() || (v.isNumber() && v.asDouble() == Math.rint(v.asDouble())))
                || v.asInt() <= 0) {
            throw new IllegalArgumentException(what + " option '" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    static Double number(JsonNode v, String key, String what, double min, double max) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
            throw new IllegalArgumentException(what + " option '" + key + "' must be a number between "
                    + fmt(min) + " and " + fmt(max) + ", got " + v);
        }
        return v.asDouble();
    }

    static Boolean bool(JsonNode v, String key, String what) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException(what + " option '" + key + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    static String text(JsonNode v, String key, String what) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(what + " option '" + key + "' must be a string, got " + v);
        }
        return v.asText();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
