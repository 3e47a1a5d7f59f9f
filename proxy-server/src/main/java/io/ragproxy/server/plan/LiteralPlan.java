package io.ragproxy.server.plan;

import java.util.List;

/**
 * A planned statement whose AI calls were all replaced by literals.
 *
 * @param backendSql the plain statement the backend runs
 * @param modelInputs how many distinct model inputs the statement needed (each at most one model call; cached ones none)
 * @param models the ids of the models involved
 */
public record LiteralPlan(String backendSql, int modelInputs, List<String> models) {
    public LiteralPlan {
        models = List.copyOf(models);
    }
}
