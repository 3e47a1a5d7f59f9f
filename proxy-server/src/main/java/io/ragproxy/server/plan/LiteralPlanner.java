package io.ragproxy.server.plan;

import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;

/**
 * The <em>literal</em> plan of DESIGN.md §3: every AI call's arguments are constants, so the proxy evaluates
 * them (literals locally, anything else with one {@code SELECT} on the session's backend connection), calls the
 * models concurrently, de-duplicated and cached, and substitutes the results as literals in the backend's
 * dialect. The backend then runs one plain statement.
 */
public final class LiteralPlanner {
    private final ModelInvoker invoker;
    private final ExecutorService parserExecutor;

    public LiteralPlanner(ModelInvoker invoker, ExecutorService parserExecutor) {
        this.invoker = invoker;
        this.parserExecutor = parserExecutor;
    }

    /**
     * Plans {@code sql}.
     *
     * @param dryRun true for EXPLAIN RAG: count the model calls but make none; results are shown elided
     * @return the plan, with the SQL the backend gets
     */
    public CompletableFuture<LiteralPlan> plan(StatementSession session, String sql, Dialect dialect,
            RagSettings settings, boolean dryRun) {
        return plan(session, parse(sql), dialect, settings, dryRun);
    }

    /** Parses {@code sql} with this planner's parser executor. */
    public StatementAnalysis parse(String sql) {
        return StatementAnalysis.parse(sql, parserExecutor);
    }

    /** Plans an already parsed statement (which the plan then owns and mutates). */
    public CompletableFuture<LiteralPlan> plan(StatementSession session, StatementAnalysis analysis, Dialect dialect,
            RagSettings settings, boolean dryRun) {
        for (AiCall call : analysis.calls()) {
            if (call.function() == AiFunction.ANSWER) {
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "ANSWER() is an aggregate: it works as a"
                        + " whole item of the outer SELECT list (SELECT ANSWER(q, content) FROM (…) t [GROUP BY …]),"
                        + " not inside another expression, a subquery, HAVING or ORDER BY yet");
            }
            for (Expression input : call.modelInputs()) {
                for (Function inner : FunctionCollector.collect(input)) {
                    if (AiFunction.named(inner.getName()) != null && inner.getMultipartName().size() == 1) {
                        throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "an AI call inside another AI"
                                + " call's arguments (" + inner.getName() + " inside " + call.function() + ") is not"
                                + " available yet; compute the inner one first, e.g. SET @v = (SELECT …)");
                    }
                }
                String column = StatementAnalysis.firstColumn(input);
                if (column != null) {
                    throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, call.function() + "() over columns"
                            + " (here: " + column + ") is not available in this build yet: its arguments must be"
                            + " constants (literals, @user variables, or functions of them)");
                }
            }
        }
        return evaluateArguments(session, analysis).thenCompose(values -> {
            List<ModelInput> inputs = new ArrayList<>();
            for (AiCall call : analysis.calls()) {
                inputs.add(input(call, values, settings, analysis.stored(call)));
            }
            int distinct = countDistinct(inputs);
            if (distinct > settings.maxCalls()) {
                throw new ProxyException(ProxyError.TOO_MANY_CALLS, "the statement needs " + distinct
                        + " distinct model inputs, more than rag_max_calls = " + settings.maxCalls()
                        + "; raise it with SET rag_max_calls = " + distinct + " if that is intended");
            }
            CompletableFuture<Map<AiCall, String>> replacements = dryRun
                    ? CompletableFuture.completedFuture(elided(analysis, inputs, dialect))
                    : invoke(analysis, inputs, dialect, settings, session.cancellation());
            return replacements.thenApply(r -> new LiteralPlan(
                    SqlRenderer.render(analysis, r, dialect), distinct, inputs.stream().map(ModelInput::modelId)
                            .distinct().toList()));
        });
    }

    /** Values of every model input expression that is not a plain literal, from one backend SELECT. */
    private static CompletableFuture<Map<Expression, String>> evaluateArguments(StatementSession session,
            StatementAnalysis analysis) {
        Map<Expression, String> values = new IdentityHashMap<>();
        List<Expression> toAsk = new ArrayList<>();
        for (AiCall call : analysis.calls()) {
            for (Expression e : call.modelInputs()) {
                Object literal = ConstantValues.literal(e);
                if (literal == ConstantValues.NOT_LITERAL) {
                    toAsk.add(e);
                } else {
                    values.put(e, (String) literal);
                }
            }
        }
        if (toAsk.isEmpty()) {
            return CompletableFuture.completedFuture(values);
        }
        StringBuilder select = new StringBuilder("SELECT ");
        for (int i = 0; i < toAsk.size(); i++) {
            select.append(i == 0 ? "" : ", ").append(toAsk.get(i));
        }
        return session.query(select.toString()).thenApply(result -> {
            List<String> row = result.first().rows().get(0);
            for (int i = 0; i < toAsk.size(); i++) {
                values.put(toAsk.get(i), row.get(i));
            }
            return values;
        });
    }

    private ModelInput input(AiCall call, Map<Expression, String> values, RagSettings settings, boolean stored) {
        String text = values.get(call.text());
        String model = call.model() == null ? null : values.get(call.model());
        String options = call.options() == null ? null : values.get(call.options());
        return resolve(call, text, model, options, settings, stored);
    }

    /** Resolves a call's model and options (evaluated to text) for {@code text}. */
    ModelInput resolve(AiCall call, String text, String model, String options, RagSettings settings, boolean stored) {
        try {
            if (call.function().embeds()) {
                String name = model != null ? model : settings.embeddingModel();
                var embeddingModel = invoker.registry().embeddingModel(name);
                String id = embeddingModel.id();
                EmbedOptions opts = options == null || options.isBlank() ? EmbedOptions.DEFAULT : EmbedOptions.fromJson(options);
                if (embeddingModel.distinguishesInputPurpose() && (options == null || !options.contains("input_type"))) {
                    // Stored text is a document; text a statement only compares against is a query.
                    opts = opts.withInputPurpose(stored ? EmbedOptions.InputPurpose.DOCUMENT
                            : EmbedOptions.InputPurpose.QUERY);
                }
                return new ModelInput(call, id, name, text, opts, null);
            }
            String name = model != null ? model : settings.textModel();
            String id = invoker.registry().textModel(name).id();
            GenerateOptions opts = options == null || options.isBlank() ? GenerateOptions.DEFAULT
                    : GenerateOptions.fromJson(options);
            return new ModelInput(call, id, name, text, null, opts);
        } catch (UnknownModelException e) {
            throw new ProxyException(ProxyError.UNKNOWN_MODEL, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ProxyException(ProxyError.BAD_OPTIONS, call.function() + "() options: " + e.getMessage());
        }
    }

    private static int countDistinct(List<ModelInput> inputs) {
        Set<String> keys = new LinkedHashSet<>();
        for (ModelInput in : inputs) {
            if (in.text() != null && !in.text().isEmpty()) {
                keys.add(in.groupKey() + "\u0000" + in.text());
            }
        }
        return keys.size();
    }

    private CompletableFuture<Map<AiCall, String>> invoke(StatementAnalysis analysis, List<ModelInput> inputs,
            Dialect dialect, RagSettings settings, CompletableFuture<Void> cancellation) {
        Map<String, List<ModelInput>> groups = new LinkedHashMap<>();
        for (ModelInput in : inputs) {
            groups.computeIfAbsent(in.groupKey(), k -> new ArrayList<>()).add(in);
        }
        Map<AiCall, String> replacements = new IdentityHashMap<>();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (List<ModelInput> group : groups.values()) {
            ModelInput head = group.get(0);
            List<String> texts = group.stream().map(ModelInput::text).toList();
            all.add(results(head, texts, settings, cancellation).thenAccept(results -> {
                for (int i = 0; i < group.size(); i++) {
                    AiCall call = group.get(i).call();
                    String r = results.get(i);
                    put(replacements, call, head.embedOptions() != null ? embeddingOfText(call, r, dialect)
                            : r == null ? "NULL" : ConstantValues.quote(r));
                }
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> replacements);
    }

    /**
     * The model's results for {@code texts} with {@code head}'s model and options, in order: a vector's text form
     * ({@code [0.1,…]}) for embeddings, the text for generation; null for NULL or empty input, and (with
     * rag_on_error = 'null') for failed calls. Concurrent, de-duplicated and cached by the invoker.
     */
    CompletableFuture<List<String>> results(ModelInput head, List<String> texts, RagSettings settings) {
        return results(head, texts, settings, new CompletableFuture<>());
    }

    /**
     * {@link #results(ModelInput, List, RagSettings)}, whose model calls are cancelled when {@code cancellation}
     * completes (the statement was killed, or its plan stops): the future then fails.
     */
    CompletableFuture<List<String>> results(ModelInput head, List<String> texts, RagSettings settings,
            CompletableFuture<Void> cancellation) {
        String model = head.modelName();
        if (head.embedOptions() != null) {
            EmbedOptions opts = head.embedOptions();
            return cancelledBy(cancellation, invoker.embedAll(model, texts, opts, settings.invocation()))
                    .exceptionallyCompose(error -> retryEachOrFail(head, texts, error, settings, cancellation,
                            text -> cancelledBy(cancellation, invoker.embedAll(model,
                                    java.util.Collections.singletonList(text), opts, settings.invocation()))
                                    .thenApply(one -> one.get(0))))
                    .thenApply(vectors -> vectors.stream().map(v -> v == null ? null : Dialect.vectorText(v)).toList());
        }
        GenerateOptions opts = head.generateOptions();
        return cancelledBy(cancellation, invoker.generateAll(model, texts, opts, settings.invocation()))
                .exceptionallyCompose(error -> retryEachOrFail(head, texts, error, settings, cancellation,
                        text -> cancelledBy(cancellation, invoker.generateAll(model,
                                java.util.Collections.singletonList(text), opts, settings.invocation()))
                                .thenApply(one -> one.get(0))));
    }

    /**
     * {@code calls}, cancelled (which cancels their model calls) when {@code cancellation} completes: off the thread
     * that completes it, often an event loop, as cancelling hundreds of queued calls takes a while.
     */
    private <T> CompletableFuture<T> cancelledBy(CompletableFuture<Void> cancellation, CompletableFuture<T> calls) {
        cancellation.thenRunAsync(() -> calls.cancel(true), parserExecutor);
        return calls;
    }

    private static void put(Map<AiCall, String> replacements, AiCall call, String replacement) {
        synchronized (replacements) {
            replacements.put(call, replacement);
        }
    }

    /**
     * After a group's batch failed: with rag_on_error = 'error' the statement fails with the model's error; with
     * 'null' each text is asked for on its own (those that succeeded come from the cache), and only the ones that
     * fail again become NULL.
     */
    private static <T> CompletableFuture<List<T>> retryEachOrFail(ModelInput head, List<String> texts, Throwable error,
            RagSettings settings, CompletableFuture<Void> cancellation,
            java.util.function.Function<String, CompletableFuture<T>> single) {
        if (!settings.nullOnError() || cancellation.isDone()) {
            return CompletableFuture.failedFuture(ModelErrors.toProxy(head.call().function(), head.modelId(), error));
        }
        List<CompletableFuture<T>> each = new ArrayList<>();
        for (String text : texts) {
            each.add(single.apply(text).exceptionally(e -> null));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            if (cancellation.isDone()) {
                throw new java.util.concurrent.CancellationException("the statement was interrupted");
            }
            return each.stream().map(CompletableFuture::join).toList();
        });
    }

    /** The replacement of an embedding call: the vector literal, or the distance to it. */
    static String embeddingOfText(AiCall call, String vectorText, Dialect dialect) {
        String literal = vectorText == null ? "NULL" : dialect.vectorLiteralOfText(vectorText);
        return switch (call.function()) {
            case VEC_EMBED_COSINE_DISTANCE -> dialect.cosineDistance() + "(" + SqlRenderer.VECTOR_ARGUMENT + ", "
                    + literal + ")";
            case VEC_EMBED_L2_DISTANCE -> dialect.l2Distance() + "(" + SqlRenderer.VECTOR_ARGUMENT + ", " + literal + ")";
            default -> literal;
        };
    }

    /** EXPLAIN RAG's stand-ins: what would be substituted, with vectors and texts elided. */
    private Map<AiCall, String> elided(StatementAnalysis analysis, List<ModelInput> inputs, Dialect dialect) {
        Map<AiCall, String> replacements = new IdentityHashMap<>();
        for (ModelInput in : inputs) {
            if (in.text() == null || in.text().isEmpty()) {
                replacements.put(in.call(), embeddingOrNull(in, dialect));
            } else if (in.embedOptions() != null) {
                int dims = invoker.dimensions(in.modelName(), in.embedOptions());
                replacements.put(in.call(), embeddingOfText(in.call(), "[…" + dims + " floats from " + in.modelId()
                        + "…]", dialect));
            } else {
                replacements.put(in.call(), "'…text from " + in.modelId() + "…'");
            }
        }
        return replacements;
    }

    private static String embeddingOrNull(ModelInput in, Dialect dialect) {
        return in.embedOptions() != null ? embeddingOfText(in.call(), null, dialect) : "NULL";
    }

    /** One call's resolved model input. */
    record ModelInput(AiCall call, String modelId, String modelName, String text, EmbedOptions embedOptions,
            GenerateOptions generateOptions) {
        String groupKey() {
            return (embedOptions != null ? "e:" + embedOptions.cacheKey() : "g:" + generateOptions.cacheKey())
                    + "@" + modelId.toLowerCase(Locale.ROOT);
        }
    }
}
