package io.ragproxy.server.access;

import io.ragproxy.catalog.registry.ModelRegistry;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.catalog.CatalogSnapshot;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.plan.AiCall;
import io.ragproxy.server.plan.ConstantValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import net.sf.jsqlparser.expression.Expression;

/**
 * Decides, before a statement's first model call, whether the session's account may call every model the statement
 * names: the grants of the current catalog snapshot under {@code [access] default}. The account is the session's
 * {@code CURRENT_USER()}, read once per session (and again after COM_CHANGE_USER). Under {@code allow} with no grant
 * at all it costs nothing. Thread-safe.
 */
public final class ModelAccessCheck {
    private final ModelAccess.Mode mode;
    private final ModelRegistry registry;
    /** The decision of the last snapshot seen: snapshots are immutable, so it is built once per catalog change. */
    private volatile Decision last = new Decision(null, null);

    private record Decision(CatalogSnapshot snapshot, ModelAccess access) {}

    /**
     * @param mode {@code [access] default}
     * @param registry resolves model names (aliases, defaults) to the ids grants name
     */
    public ModelAccessCheck(ModelAccess.Mode mode, ModelRegistry registry) {
        this.mode = Objects.requireNonNull(mode, "mode");
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** {@code [access] default}. */
    public ModelAccess.Mode mode() {
        return mode;
    }

    /** The decision for {@code snapshot}'s grants. */
    public ModelAccess access(CatalogSnapshot snapshot) {
        Decision d = last;
        if (d.snapshot() != snapshot) {
            d = new Decision(snapshot, ModelAccess.of(mode, snapshot.modelGrants()));
            last = d;
        }
        return d.access();
    }

    /**
     * Completes when the session's account may call every model of {@code calls}; fails with
     * {@link ProxyError#MODEL_NOT_GRANTED} naming the first model refused and the account otherwise. Calls whose model
     * is unknown are left to the planner (which refuses them before any call, with the configured models).
     */
    public CompletableFuture<Void> check(StatementSession session, CatalogSnapshot snapshot, List<AiCall> calls,
            RagSettings settings) {
        return check(session, snapshot, calls, settings, java.util.Map.of());
    }

    /**
     * {@link #check(StatementSession, CatalogSnapshot, List, RagSettings)}, the calls' model names taken from
     * {@code known} (by identity) where it has them: a shared template's calls name the models of the statement it
     * was made from, {@code known} those of the statement at hand.
     */
    public CompletableFuture<Void> check(StatementSession session, CatalogSnapshot snapshot, List<AiCall> calls,
            RagSettings settings, java.util.Map<Expression, String> known) {
        ModelAccess access = access(snapshot);
        if (access.open() || calls.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        List<Expression> models = new ArrayList<>();
        for (AiCall call : calls) {
            models.add(call.model());
        }
        return ConstantValues.evaluate(session, models, known).thenCompose(values -> account(session).thenAccept(account -> {
            for (AiCall call : calls) {
                String name = call.model() == null ? null : values.get(call.model());
                String id = modelId(call, name, settings);
                if (id != null && !access.allows(account, id, id.startsWith("local:"))) {
                    throw refused(account, id, name);
                }
            }
        }));
    }

    /** The id a call's model resolves to, as the planner resolves it; null when unknown. */
    private String modelId(AiCall call, String name, RagSettings settings) {
        try {
            if (call.function().raw()) {
                return name == null || name.isBlank() ? null : registry.canonicalId(name);
            }
            if (call.function().embeds()) {
                return registry.embeddingModel(name != null ? name : settings.embeddingModel()).id();
            }
            if (call.function().reranks()) {
                return registry.rerankingModel(name).id();
            }
            return registry.textModel(name != null ? name : settings.textModel()).id();
        } catch (UnknownModelException e) {
            return null;
        }
    }

    private ProxyException refused(Account account, String id, String name) {
        String model = "'" + id + "'" + (name != null && !name.equals(id) ? " ('" + name + "')" : "");
        String why = mode == ModelAccess.Mode.DENY ? "[access] default = \"deny\" and it has no grant for it"
                : "once any GRANT RAG MODEL exists a Bedrock model needs a grant,"
                + " and it has none for this one";
        return new ProxyException(ProxyError.MODEL_NOT_GRANTED, "account " + account + " may not call model " + model
                + " through ragproxy: " + why + ". Ask an administrator for GRANT RAG MODEL '" + id + "' TO " + account
                + ", or use a model SHOW RAG GRANTS lists; no model was called");
    }

    /** The session's account: remembered, or read with {@code SELECT CURRENT_USER()} and remembered. */
    public static CompletableFuture<Account> account(StatementSession session) {
        String known = session.currentUser();
        if (known != null) {
            return CompletableFuture.completedFuture(Account.ofCurrentUser(known));
        }
        return session.query("SELECT CURRENT_USER()").thenApply(r -> {
            String current = r.first().rows().get(0).get(0);
            session.currentUser(current);
            return Account.ofCurrentUser(current);
        });
    }
}
