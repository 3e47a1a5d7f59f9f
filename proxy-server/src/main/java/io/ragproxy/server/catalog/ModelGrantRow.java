package io.ragproxy.server.catalog;

import java.util.Objects;

/**
 * One row of {@code ragproxy.model_grants}: account {@code user@host} may call model {@code model} (a canonical id,
 * aliases resolved). Immutable.
 *
 * @param user the account's user name, as {@code CURRENT_USER()} reports it
 * @param host the account's host pattern, lower-cased
 * @param model the model id granted
 * @param grantedBy {@code CURRENT_USER()} of the session that ran the GRANT
 * @param grantedAt when, as the backend wrote it
 */
public record ModelGrantRow(String user, String host, String model, String grantedBy, String grantedAt) {
    public ModelGrantRow {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(model, "model");
    }
}
