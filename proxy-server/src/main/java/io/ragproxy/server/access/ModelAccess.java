package io.ragproxy.server.access;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A snapshot of who may call which model, and the decision for one call. Immutable.
 *
 * <p>Under {@code [access] default = "allow"} (the default, so that an upgrade changes nothing) local models are
 * open to every account, and so are Bedrock models until the first grant exists: from then on a Bedrock model
 * needs a grant to the calling account. Under {@code "deny"} every model, local ones included, needs a grant.
 *
 * @param mode   the configured default
 * @param grants model ids granted, by account
 */
public record ModelAccess(Mode mode, Map<Account, Set<String>> grants) {

    /** {@code [access] default}. */
    public enum Mode {
        ALLOW, DENY;

        /** Reads {@code "allow"} or {@code "deny"} (any case). */
        public static Mode parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "allow" -> ALLOW;
                case "deny" -> DENY;
                default -> throw new IllegalArgumentException("[access] default must be \"allow\" or \"deny\", got \"" + s + "\"");
            };
        }
    }

    /** No grants under {@code [access] default = "allow"}: every call allowed. */
    public static final ModelAccess OPEN = new ModelAccess(Mode.ALLOW, Map.of());

    public ModelAccess {
        Map<Account, Set<String>> copy = new LinkedHashMap<>();
        grants.forEach((a, models) -> {
            if (!models.isEmpty()) {
                copy.put(a, Set.copyOf(models));
            }
        });
        grants = Map.copyOf(copy);
    }

    /**
     * Whether {@code account} may call {@code modelId}: a grant to the account itself counts, and so does a grant to
     * the same user at host {@code '%'} (so {@code GRANT … TO 'app'@'%'} covers a session {@code CURRENT_USER()}
     * reports as {@code app@localhost}).
     *
     * @param modelId the resolved model id (aliases resolved, as grants store them)
     * @param local   whether it is a local model ({@code local:…})
     */
    public boolean allows(Account account, String modelId, boolean local) {
        if (grants.getOrDefault(account, Set.of()).contains(modelId)
                || grants.getOrDefault(new Account(account.user(), "%"), Set.of()).contains(modelId)) {
            return true;
        }
        return mode == Mode.ALLOW && (local || grants.isEmpty());
    }

    /** The decision of {@code mode} over the rows of {@code ragproxy.model_grants}. */
    public static ModelAccess of(Mode mode, java.util.List<io.ragproxy.server.catalog.ModelGrantRow> rows) {
        Map<Account, Set<String>> grants = new LinkedHashMap<>();
        for (io.ragproxy.server.catalog.ModelGrantRow row : rows) {
            grants.computeIfAbsent(new Account(row.user(), row.host()), a -> new TreeSet<>()).add(row.model());
        }
        return new ModelAccess(mode, grants);
    }

    /** Whether every call is allowed whatever the account: {@code allow} and no grant at all. */
    public boolean open() {
        return mode == Mode.ALLOW && grants.isEmpty();
    }

    /** The models granted to {@code account}, sorted. */
    public Set<String> modelsOf(Account account) {
        return new TreeSet<>(grants.getOrDefault(account, Set.of()));
    }

    /** This with {@code models} granted to {@code account} as well. */
    public ModelAccess grant(Account account, Set<String> models) {
        Map<Account, Set<String>> next = new LinkedHashMap<>(grants);
        Set<String> now = new TreeSet<>(next.getOrDefault(account, Set.of()));
        now.addAll(models);
        next.put(account, now);
        return new ModelAccess(mode, next);
    }

    /** This with {@code models} no longer granted to {@code account}. */
    public ModelAccess revoke(Account account, Set<String> models) {
        Map<Account, Set<String>> next = new LinkedHashMap<>(grants);
        Set<String> now = new TreeSet<>(next.getOrDefault(account, Set.of()));
        now.removeAll(models);
        next.put(account, now);
        return new ModelAccess(mode, next);
    }
}
