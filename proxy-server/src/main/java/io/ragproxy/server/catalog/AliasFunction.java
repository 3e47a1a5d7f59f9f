package io.ragproxy.server.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * An Aurora ML function, {@code CREATE FUNCTION f (arg TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID
 * '…'}: {@code f(body)} sends {@code body} to the model with InvokeModel and returns the raw response body. ragproxy
 * runs a call as the built-in {@code INVOKE_MODEL('<model id>', body, '<content type>', '<accept>')}.
 *
 * @param name the function's name (lower case)
 * @param schema the database it belongs to: called {@code f(…)} there and {@code schema.f(…)} anywhere (null only
 *     for a function created by an older ragproxy without a database: it is not callable)
 * @param parameter the parameter's name
 * @param parameterType the parameter's type as written, e.g. {@code TEXT}
 * @param returns the return type as written
 * @param modelId the Bedrock model id (or an alias the proxy's configuration knows)
 * @param contentType the body's media type ({@code application/json} by default, as on Aurora)
 * @param accept the media type asked for ({@code application/json} by default)
 * @param timeoutMs the per-call timeout ({@code TIMEOUT_MS}), or null for the session's {@code rag_inference_timeout_ms}
 * @param definer the DEFINER clause as written, or null (informational: the proxy calls models with its own identity)
 * @param sqlSecurity {@code DEFINER}, {@code INVOKER} or null (informational)
 */
public record AliasFunction(String name, String schema, String parameter, String parameterType, String returns,
        String modelId, String contentType, String accept, Integer timeoutMs, String definer, String sqlSecurity)
        implements CatalogObject {

    /** Aurora's default for CONTENT_TYPE and ACCEPT. */
    public static final String DEFAULT_MEDIA_TYPE = "application/json";

    public AliasFunction {
        name = CatalogObject.key(Objects.requireNonNull(name, "name"));
        Objects.requireNonNull(modelId, "modelId");
        contentType = contentType == null ? DEFAULT_MEDIA_TYPE : contentType;
        accept = accept == null ? DEFAULT_MEDIA_TYPE : accept;
    }

    @Override
    public Kind kind() {
        return Kind.FUNCTION;
    }

    @Override
    public String schemaName() {
        return schema == null ? "" : schema;
    }

    @Override
    public String qualifiedKey() {
        return key(schemaName(), name);
    }

    /** The key of function {@code name} of database {@code schema} (any case). */
    public static String key(String schema, String name) {
        return CatalogObject.key(schema == null ? "" : schema) + "." + CatalogObject.key(name);
    }

    @Override
    public ObjectNode definition() {
        ObjectNode d = JSON.createObjectNode();
        d.put("schema", schema);
        d.put("parameter", parameter);
        d.put("parameter_type", parameterType);
        d.put("returns", returns);
        d.put("alias", "AWS_BEDROCK_INVOKE_MODEL");
        d.put("model_id", modelId);
        d.put("content_type", contentType);
        d.put("accept", accept);
        if (timeoutMs != null) {
            d.put("timeout_ms", timeoutMs);
        }
        if (definer != null) {
            d.put("definer", definer);
        }
        if (sqlSecurity != null) {
            d.put("sql_security", sqlSecurity);
        }
        return d;
    }

    static AliasFunction fromDefinition(String name, JsonNode d) {
        JsonNode timeout = d.get("timeout_ms");
        return new AliasFunction(name, CatalogObject.text(d, "schema"), CatalogObject.text(d, "parameter"),
                CatalogObject.text(d, "parameter_type"), CatalogObject.text(d, "returns"),
                CatalogObject.text(d, "model_id"), CatalogObject.text(d, "content_type"),
                CatalogObject.text(d, "accept"), timeout == null || timeout.isNull() ? null : timeout.asInt(),
                CatalogObject.text(d, "definer"), CatalogObject.text(d, "sql_security"));
    }

    @Override
    public String signature() {
        return name + "(" + parameter + " " + parameterType + ") RETURNS " + returns;
    }

    /** The options JSON of the INVOKE_MODEL call, or null when there are none. */
    public String invokeOptions() {
        return timeoutMs == null ? null : "{\"timeout_ms\":" + timeoutMs + "}";
    }
}
