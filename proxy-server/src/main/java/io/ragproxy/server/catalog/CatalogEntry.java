package io.ragproxy.server.catalog;

import java.util.Objects;

/**
 * A catalog object with who made it and when, as the backend recorded them.
 *
 * @param object the object
 * @param owner the creator's {@code CURRENT_USER()}
 * @param created when it was created, as the backend writes a TIMESTAMP
 */
public record CatalogEntry(CatalogObject object, String owner, String created) {
    public CatalogEntry {
        Objects.requireNonNull(object, "object");
    }
}
