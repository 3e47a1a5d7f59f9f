package io.ragproxy.server.access;

import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.catalog.AccountPrivileges;
import io.ragproxy.server.catalog.Catalog;
import io.ragproxy.server.catalog.CatalogSnapshot;
import io.ragproxy.server.catalog.ModelGrantRow;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.wire.Packets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Runs {@code GRANT RAG MODEL}, {@code REVOKE RAG MODEL} and {@code SHOW RAG GRANTS}: privileges are checked through
 * the user's own session ({@link AccountPrivileges}), grants are written to {@code ragproxy.model_grants} through the
 * catalog's account with a version bump, so every proxy instance enforces them after its next version check.
 */
public final class ModelAccessStatements {
    /** The schema whose grant option lets an account manage model access. */
    static final String SCHEMA = "ragproxy";
    private static final List<String> COLUMNS = List.of("Account", "Model", "Granted_by", "Granted_at");

    private final Catalog catalog;
    private final ModelRegistry registry;

    public ModelAccessStatements(Catalog catalog, ModelRegistry registry) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Runs one statement (as {@link ModelAccessStatement#parse} reads it). */
    public CompletableFuture<PipelineResult> execute(StatementSession session, String sql) {
        ModelAccessStatement statement = ModelAccessStatement.parse(sql);
        return AccountPrivileges.of(session).thenCompose(privileges -> {
            Account caller = Account.ofCurrentUser(privileges.user());
            session.currentUser(privileges.user());
            if (statement instanceof ModelAccessStatement.ShowGrants show) {
                Account whose = show.account() == null ? caller : show.account();
                if (!whose.equals(caller)) {
                    requireManager(privileges, "SHOW RAG GRANTS FOR " + whose);
                }
                return catalog.refresh(session).thenApply(snapshot -> table(session, rows(snapshot, whose,
                        show.account() == null)));
            }
            if (statement instanceof ModelAccessStatement.Grant grant) {
                requireManager(privileges, "GRANT RAG MODEL");
                List<String> ids = new ArrayList<>();
                for (String model : grant.models()) {
                    ids.add(knownModelId(model));
                }
                return write(session, grant.account(), ids, List.of(), privileges.user());
            }
            ModelAccessStatement.Revoke revoke = (ModelAccessStatement.Revoke) statement;
            requireManager(privileges, "REVOKE RAG MODEL");
            List<String> ids = new ArrayList<>();
            for (String model : revoke.models()) {
                ids.add(registry.canonicalId(model)); // a model no longer configured can still be revoked
            }
            return write(session, revoke.account(), List.of(), ids, privileges.user());
        });
    }

    private CompletableFuture<PipelineResult> write(StatementSession session, Account account, List<String> granted,
            List<String> revoked, String by) {
        List<String> grant = List.copyOf(new LinkedHashSet<>(granted));
        List<String> revoke = List.copyOf(new LinkedHashSet<>(revoked));
        return catalog.writeModelGrants(session, account.user(), account.host(), grant, revoke, by)
                .thenApply(counts -> PipelineResult.reply(Packets.ok(session.alloc(), 1, counts.get(0) + counts.get(1),
                        0, session.serverStatus(), 0, null, session.sessionTrack())));
    }

    /** The id grants store for {@code model}: as the planner resolves it (aliases, {@code local:…}, Bedrock ids). */
    private String knownModelId(String model) {
        try {
            return registry.embeddingModel(model).id();
        } catch (UnknownModelException notEmbedding) {
            try {
                return registry.textModel(model).id();
            } catch (UnknownModelException notText) {
                try {
                    return registry.rerankingModel(model).id();
                } catch (UnknownModelException notReranking) {
                    // a Bedrock id of another family: below
                }
                try {
                    registry.rawModel(model);
                    return registry.canonicalId(model);
                } catch (UnknownModelException e) {
                    throw new ProxyException(ProxyError.UNKNOWN_MODEL, "GRANT RAG MODEL: '" + model + "' is not a"
                            + " configured model; SHOW RAG MODELS lists them");
                }
            }
        }
    }

    /**
     * Managing model access needs, globally or on schema {@code ragproxy}, the GRANT OPTION with a privilege
     * ({@link AccountPrivileges#mayGrantOn}); budgets (SET RAG BUDGET) need the same.
     */
    public static void requireManager(AccountPrivileges privileges, String what) {
        if (!privileges.mayGrantOn(SCHEMA)) {
            throw new ProxyException(ProxyError.CATALOG_ACCESS_DENIED, what + " needs the GRANT OPTION with a"
                    + " privilege on schema " + SCHEMA + " (or globally), which " + privileges.user() + " does not have;"
                    + " ask an administrator for GRANT SELECT ON " + SCHEMA + ".* TO " + Account.ofCurrentUser(
                    privileges.user()) + " WITH GRANT OPTION");
        }
    }

    /** The grants of {@code account}; with {@code effective}, also those of its user at host {@code %}. */
    private static List<List<String>> rows(CatalogSnapshot snapshot, Account account, boolean effective) {
        Set<Account> accounts = new java.util.HashSet<>(List.of(account));
        if (effective) {
            accounts.add(new Account(account.user(), "%"));
        }
        List<List<String>> rows = new ArrayList<>();
        for (ModelGrantRow row : snapshot.modelGrants()) {
            Account a = new Account(row.user(), row.host());
            if (accounts.contains(a)) {
                rows.add(Arrays.asList(a.toString(), row.model(), row.grantedBy(), row.grantedAt()));
            }
        }
        return rows;
    }

    private static PipelineResult table(StatementSession session, List<List<String>> rows) {
        return PipelineResult.reply(session.resultSetWriter().write(session.alloc(), COLUMNS, rows,
                session.serverStatus()));
    }
}
