package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A MindsDB ML engine, {@code CREATE ML_ENGINE e FROM bedrock [USING region_name = …]}: a name models refer to with
 * {@code engine = 'e'}. The proxy calls Bedrock with its own configuration and the AWS default credentials
 * provider chain; the parameters are kept for {@code SHOW RAG FUNCTIONS}, never credentials.
 *
 * @param name the engine's name (lower case)
 * @param handler the handler it was created {@code FROM}; only {@code bedrock}
 * @param parameters the {@code USING} parameters (credentials are refused before an engine is made)
 */
public record MlEngine(String name, String handler, Map<String, JsonNode> parameters) implements CatalogObject {

    public MlEngine {
        name = CatalogObject.key(Objects.requireNonNull(name, "name"));
        parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    @Override
    public Kind kind() {
        return Kind.ML_ENGINE;
    }

    @Override
    public ObjectNode definition() {
        ObjectNode d = JSON.createObjectNode();
        d.put("handler", handler);
        ObjectNode using = d.putObject("using");
        parameters.forEach(using::set);
        return d;
    }

    static MlEngine fromDefinition(String name, JsonNode d) {
        Map<String, JsonNode> using = new LinkedHashMap<>();
        d.path("using").properties().forEach(e -> using.put(e.getKey(), e.getValue()));
        return new MlEngine(name, CatalogObject.text(d, "handler"), using);
    }

    @Override
    public String signature() {
        return "CREATE MODEL … USING engine = '" + name + "'";
    }
}
