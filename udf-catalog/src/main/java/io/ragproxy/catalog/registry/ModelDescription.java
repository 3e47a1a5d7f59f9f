package io.ragproxy.catalog.registry;

import java.util.List;

/**
 * One row of {@code SHOW RAG MODELS}.
 *
 * @param name       how to name the model in SQL: its first alias, or its id
 * @param kind       {@code embedding}, {@code text} or {@code raw}
 * @param provider   {@code bedrock} or {@code local}
 * @param modelId    the canonical id
 * @param dimensions vector length with the configured options (embedding models), else null
 * @param aliases    configured aliases of the model
 * @param isDefault  whether it is the default model of its kind
 * @param price      configured price, {@link ModelPrice#FREE} when none
 */
public record ModelDescription(String name, String kind, String provider, String modelId, Integer dimensions,
                               List<String> aliases, boolean isDefault, ModelPrice price) {

    public ModelDescription {
        aliases = List.copyOf(aliases);
    }
}
