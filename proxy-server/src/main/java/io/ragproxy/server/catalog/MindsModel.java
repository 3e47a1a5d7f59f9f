package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A MindsDB model, {@code CREATE MODEL m PREDICT answer USING engine = …, prompt_template = '… {{question}} …'}:
 * a table-like name answering each input row with one generation. ragproxy runs it as the built-in
 * {@code GENERATE(<prompt>, '<model id>', '<options json>')}, the prompt built from the template (or from the
 * question and context columns, as MindsDB's Bedrock handler writes it: {@code Context: …\nQuestion: …\nAnswer: }).
 *
 * @param name the model's name (lower case)
 * @param predict the target column, e.g. {@code answer}
 * @param engine the engine it was created with ({@code bedrock} or an ML engine's name)
 * @param modelId the Bedrock model id, or null for the session's default text model
 * @param mode {@code default} (one answer per row) or {@code conversational} (one answer, in the last row)
 * @param promptTemplate the template with {@code {{column}}} placeholders, or null
 * @param questionColumn the question column when there is no template, else null
 * @param contextColumn the optional context column (with {@code questionColumn} only)
 * @param maxTokens GENERATE's {@code max_tokens}, or null
 * @param temperature GENERATE's {@code temperature}, or null
 * @param topP GENERATE's {@code top_p}, or null
 * @param stop GENERATE's {@code stop} sequences (empty for none)
 */
public record MindsModel(String name, String predict, String engine, String modelId, String mode,
        String promptTemplate, String questionColumn, String contextColumn, Integer maxTokens, Double temperature,
        Double topP, List<String> stop) implements CatalogObject {

    /** MindsDB's placeholder, {@code {{column}}}. */
    static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z0-9_$]+)\\s*}}");
    public static final String DEFAULT_MODE = "default";
    public static final String CONVERSATIONAL = "conversational";

    public MindsModel {
        name = CatalogObject.key(Objects.requireNonNull(name, "name"));
        mode = mode == null ? DEFAULT_MODE : mode.toLowerCase(Locale.ROOT);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    @Override
    public Kind kind() {
        return Kind.MODEL;
    }

    public boolean conversational() {
        return CONVERSATIONAL.equals(mode);
    }

    /** The columns a prediction reads, lower case, in the order they appear. */
    public List<String> inputColumns() {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        if (promptTemplate != null) {
            Matcher m = PLACEHOLDER.matcher(promptTemplate);
            while (m.find()) {
                out.add(CatalogObject.key(m.group(1)));
            }
        } else {
            out.add(CatalogObject.key(questionColumn));
            if (contextColumn != null) {
                out.add(CatalogObject.key(contextColumn));
            }
        }
        return List.copyOf(out);
    }

    /**
     * The prompt as a SQL expression, each input column written as {@code column.apply(name)} (a column reference
     * or a constant expression). NULL input makes the prompt NULL, and GENERATE then answers NULL without a call.
     */
    public String promptSql(Function<String, String> column) {
        List<String> parts = new ArrayList<>();
        if (promptTemplate != null) {
            Matcher m = PLACEHOLDER.matcher(promptTemplate);
            int last = 0;
            while (m.find()) {
                if (m.start() > last) {
                    parts.add(Sql.quote(promptTemplate.substring(last, m.start())));
                }
                parts.add(column.apply(CatalogObject.key(m.group(1))));
                last = m.end();
            }
            if (last < promptTemplate.length()) {
                parts.add(Sql.quote(promptTemplate.substring(last)));
            }
        } else if (contextColumn != null) {
            parts.add(Sql.quote("Context: "));
            parts.add(column.apply(CatalogObject.key(contextColumn)));
            parts.add(Sql.quote("\nQuestion: "));
            parts.add(column.apply(CatalogObject.key(questionColumn)));
            parts.add(Sql.quote("\nAnswer: "));
        } else {
            return column.apply(CatalogObject.key(questionColumn));
        }
        return parts.size() == 1 ? parts.get(0) : "CONCAT(" + String.join(", ", parts) + ")";
    }

    /** The prompt of one row from its values (null when an input is null, as {@link #promptSql} gives NULL). */
    public String promptText(Map<String, String> values) {
        StringBuilder b = new StringBuilder();
        if (promptTemplate != null) {
            Matcher m = PLACEHOLDER.matcher(promptTemplate);
            int last = 0;
            while (m.find()) {
                String v = values.get(CatalogObject.key(m.group(1)));
                if (v == null) {
                    return null;
                }
                b.append(promptTemplate, last, m.start()).append(v);
                last = m.end();
            }
            return b.append(promptTemplate.substring(last)).toString();
        }
        String q = values.get(CatalogObject.key(questionColumn));
        if (contextColumn == null) {
            return q;
        }
        String c = values.get(CatalogObject.key(contextColumn));
        return q == null || c == null ? null : "Context: " + c + "\nQuestion: " + q + "\nAnswer: ";
    }

    /** GENERATE's options JSON from the model's parameters, or null when it has none. */
    public String optionsJson() {
        ObjectNode o = JSON.createObjectNode();
        if (maxTokens != null) {
            o.put("max_tokens", maxTokens);
        }
        if (temperature != null) {
            o.put("temperature", temperature);
        }
        if (topP != null) {
            o.put("top_p", topP);
        }
        if (!stop.isEmpty()) {
            ArrayNode a = o.putArray("stop");
            stop.forEach(a::add);
        }
        return o.isEmpty() ? null : o.toString();
    }

    /** The built-in call answering {@code promptSql}. */
    public String generateSql(String promptSql) {
        String options = optionsJson();
        return "GENERATE(" + promptSql + ", " + Sql.quote(modelId) + (options == null ? "" : ", " + Sql.quote(options))
                + ")";
    }

    @Override
    public ObjectNode definition() {
        ObjectNode d = JSON.createObjectNode();
        d.put("predict", predict);
        d.put("engine", engine);
        d.put("model_id", modelId);
        d.put("mode", mode);
        if (promptTemplate != null) {
            d.put("prompt_template", promptTemplate);
        }
        if (questionColumn != null) {
            d.put("question_column", questionColumn);
        }
        if (contextColumn != null) {
            d.put("context_column", contextColumn);
        }
        if (maxTokens != null) {
            d.put("max_tokens", maxTokens);
        }
        if (temperature != null) {
            d.put("temperature", temperature);
        }
        if (topP != null) {
            d.put("top_p", topP);
        }
        if (!stop.isEmpty()) {
            ArrayNode a = d.putArray("stop");
            stop.forEach(a::add);
        }
        return d;
    }

    static MindsModel fromDefinition(String name, JsonNode d) {
        List<String> stop = new ArrayList<>();
        d.path("stop").forEach(s -> stop.add(s.asText()));
        return new MindsModel(name, CatalogObject.text(d, "predict"), CatalogObject.text(d, "engine"),
                CatalogObject.text(d, "model_id"), CatalogObject.text(d, "mode"),
                CatalogObject.text(d, "prompt_template"), CatalogObject.text(d, "question_column"),
                CatalogObject.text(d, "context_column"), d.hasNonNull("max_tokens") ? d.get("max_tokens").asInt() : null,
                d.hasNonNull("temperature") ? d.get("temperature").asDouble() : null,
                d.hasNonNull("top_p") ? d.get("top_p").asDouble() : null, stop);
    }

    @Override
    public String signature() {
        String inputs = String.join(", ", inputColumns());
        return "SELECT " + inputs + ", " + predict + " FROM " + name + " WHERE " + inputColumns().get(0)
                + " = …  |  SELECT … FROM t JOIN " + name + " (" + mode + " mode; reads " + inputs + ")";
    }
}
