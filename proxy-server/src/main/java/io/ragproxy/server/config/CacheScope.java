package io.ragproxy.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Who shares a cached model result ({@code [cache] scope} in ragproxy.toml). {@link #GLOBAL} shares every result
 * with every account: the fewest model calls, but a cache hit (its counter, its latency) tells an account that some
 * other account already sent the same input. {@link #ACCOUNT} keys the cache by the session's {@code CURRENT_USER()}
 * as well: no account learns anything of another's inputs, at the cost of one model call per account for the same
 * input.
 */
public enum CacheScope {
    /** One cache for every account (the default). */
    GLOBAL,
    /** One cache per account ({@code CURRENT_USER()}). */
    ACCOUNT;

    /**
     * The scope in the {@code cache} table of {@code ai} (the AI tables of the configuration, as
     * {@link ProxyConfig#ai()} holds them); {@link #GLOBAL} when it is not set.
     *
     * @throws IllegalArgumentException for another value
     */
    public static CacheScope of(JsonNode ai) {
        JsonNode scope = ai.path("cache").path("scope");
        if (scope.isMissingNode() || scope.isNull()) {
            return GLOBAL;
        }
        return switch (scope.asText().toLowerCase(Locale.ROOT)) {
            case "global" -> GLOBAL;
            case "account" -> ACCOUNT;
            default -> throw new IllegalArgumentException("cache.scope must be \"global\" or \"account\", got \""
                    + scope.asText() + "\"");
        };
    }
}
