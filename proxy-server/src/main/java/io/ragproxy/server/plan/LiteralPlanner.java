package io.ragproxy.server.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragproxy.catalog.chunk.ChunkOptions;
import io.ragproxy.catalog.chunk.TextChunker;
import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.catalog.invoke.ModelInvoker;
import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.local.MiniLmTokenCounter;
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
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;

/**
 * The <em>literal</em> plan of DESIGN.md §3: every AI call's arguments are constants, so the proxy evaluates
 * them (literals locally, anything else with one {@code SELECT} on the session's backend connection), calls the
 * models concurrently, de-duplicated and cached, and substitutes the results as literals in the backend's
 * dialect. The backend then runs one plain statement.
 */
public final class LiteralPlanner {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The model id CHUNK_TEXT's inputs carry: EXPLAIN RAG and plans name it among the models "called". */
    static final String CHUNK_TEXT_ID = "ragproxy:chunk_text";
    private final ModelInvoker invoker;
    private final BoundedParser parser;
    private final TextChunker chunker;
    private final Executor chunkExecutor;

    /**
     * A planner whose CHUNK_TEXT counts tokens with the local model's WordPiece tokenizer and chunks on the common
     * fork-join pool (off the event loops).
     *
     * @param parser parses statements with a deadline, on the calling (planner) thread
     */
    public LiteralPlanner(ModelInvoker invoker, BoundedParser parser) {
        this(invoker, parser, new TextChunker(new MiniLmTokenCounter()), ForkJoinPool.commonPool());
    }

    /**
     * @param parser parses statements with a deadline, on the calling (planner) thread
     * @param chunker computes CHUNK_TEXT
     * @param chunkExecutor runs CHUNK_TEXT's chunking (never an event loop: a long text takes milliseconds)
     */
    public LiteralPlanner(ModelInvoker invoker, BoundedParser parser, TextChunker chunker, Executor chunkExecutor) {
        this.invoker = invoker;
        this.parser = parser;
        this.chunker = chunker;
        this.chunkExecutor = chunkExecutor;
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

    /**
     * {@code sql} spelled so that the parser and the backend read the same values whatever the session's sql_mode
     * and character set (see {@link NeutralSql}); parse the result.
     */
    public String neutral(String sql, io.ragproxy.server.text.SessionText text) {
        return NeutralSql.of(sql, text);
    }

    /** Parses {@code sql} with this planner's bounded parser, on the calling thread (a planner thread). */
    public StatementAnalysis parse(String sql) {
        return StatementAnalysis.parse(sql, parser);
    }

    /** Plans an already parsed statement (which the plan then owns and mutates). */
    public CompletableFuture<LiteralPlan> plan(StatementSession session, StatementAnalysis analysis, Dialect dialect,
            RagSettings settings, boolean dryRun) {
        checkCalls(analysis);
        return plan(session, analysis, dialect, settings, dryRun, Map.of(),
                replacements -> SqlRenderer.render(analysis, replacements, dialect));
    }

    /**
     * {@code analysis} (a statement the literal plan applies to, parsed for this call) prepared as a template that
     * plans of the same text may share ({@link #plan(StatementSession, LiteralTemplate, RagSettings, boolean)}).
     *
     * @return the template, or null when the statement cannot be shared: a call's arguments hold a TiDB vector
     *     function, which the preparation translates for the backend while the arguments are still to be evaluated
     * @throws ProxyException as a plan would, for calls the literal plan cannot run
     */
    public LiteralTemplate template(StatementAnalysis analysis, Dialect dialect) {
        return template(analysis, dialect, null, null);
    }

    /**
     * {@link #template(StatementAnalysis, Dialect)}, shared by every statement of {@code shape} when it verifies
     * against it ({@link LiteralTemplate#sharedByShape()}).
     *
     * @param shape the shape of the statement {@code analysis} was parsed from (null: kept for its text only)
     * @param mode the session's sql_mode
     */
    public LiteralTemplate template(StatementAnalysis analysis, Dialect dialect, StatementShape shape,
            io.ragproxy.server.text.SqlMode mode) {
        checkCalls(analysis);
        Set<Function> vectorFunctions = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        vectorFunctions.addAll(analysis.vectorFunctions());
        for (AiCall call : analysis.calls()) {
            for (Expression input : call.modelInputs()) {
                if (FunctionCollector.collect(input).stream().anyMatch(vectorFunctions::contains)) {
                    return null;
                }
            }
        }
        return new LiteralTemplate(analysis, dialect, shape, mode);
    }

    /** Plans a prepared template: its calls' arguments evaluated, the models called, the template filled. */
    public CompletableFuture<LiteralPlan> plan(StatementSession session, LiteralTemplate template,
            RagSettings settings, boolean dryRun) {
        return plan(session, template, template.asParsed(), settings, dryRun);
    }

    /**
     * Plans one instance of a prepared template (a statement of its shape): the calls' arguments read from the
     * instance's literals or evaluated, the models called, the instance's rendering filled.
     */
    public CompletableFuture<LiteralPlan> plan(StatementSession session, LiteralTemplate template,
            LiteralTemplate.Fill instance, RagSettings settings, boolean dryRun) {
        return plan(session, template.analysis(), template.dialect(), settings, dryRun, instance.argumentValues(),
                replacements -> template.fill(instance, replacements));
    }

    /** Refuses calls the literal plan cannot run; reads the tree only. */
    private static void checkCalls(StatementAnalysis analysis) {
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
    }

    /**
     * @param known values of the calls' arguments given by the statement rather than by the tree (a shared
     *     template's instance: the tree holds another statement's literals), by identity
     */
    private CompletableFuture<LiteralPlan> plan(StatementSession session, StatementAnalysis analysis, Dialect dialect,
            RagSettings settings, boolean dryRun, Map<Expression, String> known,
            java.util.function.Function<Map<AiCall, String>, String> render) {
        return evaluateArguments(session, analysis, known).thenCompose(values -> {
            List<ModelInput> inputs = new ArrayList<>();
            for (AiCall call : analysis.calls()) {
                inputs.add(input(call, values, settings, analysis.stored(call), known));
            }
            int distinct = countDistinct(inputs);
            if (distinct > settings.maxCalls()) {
                throw new ProxyException(ProxyError.TOO_MANY_CALLS, "the statement needs " + distinct
                        + " distinct model inputs, more than rag_max_calls = " + settings.maxCalls()
                        + "; raise it with SET rag_max_calls = " + distinct + " if that is intended");
            }
            CompletableFuture<Map<AiCall, String>> replacements = dryRun
                    ? CompletableFuture.completedFuture(elided(analysis, inputs, dialect))
                    : invoke(analysis, inputs, dialect, settings, (text, code, message) -> session.warn(code, message),
                            session.cancellation(), statementLimiter(session, settings));
            return replacements.thenApply(r -> new LiteralPlan(
                    render.apply(r), distinct, inputs.stream().map(ModelInput::modelId)
                            .distinct().toList()));
        });
    }

    /** Values of every model input expression that is not a plain literal, from one backend SELECT. */
    private static CompletableFuture<Map<Expression, String>> evaluateArguments(StatementSession session,
            StatementAnalysis analysis, Map<Expression, String> known) {
        List<Expression> inputs = new ArrayList<>();
        for (AiCall call : analysis.calls()) {
            inputs.addAll(call.modelInputs());
        }
        return ConstantValues.evaluate(session, inputs, known);
    }

    private ModelInput input(AiCall call, Map<Expression, String> values, RagSettings settings, boolean stored,
            Map<Expression, String> known) {
        String text = values.get(call.text());
        String model = call.model() == null ? null : values.get(call.model());
        String options = call.options() == null ? null : values.get(call.options());
        return resolve(call, text, model, options, settings, stored, known);
    }

    /**
     * Resolves the models and options that {@code analysis}'s calls name as string literals (or leave to the
     * session's defaults), as a plan would: an unknown model fails with 7011, bad options with 7012, before any
     * parameter is known. Calls whose model or options are not literals (a parameter, an expression) are left to
     * the plan.
     */
    public void checkLiteralModels(StatementAnalysis analysis, RagSettings settings) {
        for (AiCall call : analysis.calls()) {
            // Only string literals count: a parameter stands in as NULL or 0.
            boolean modelFixed = call.model() == null ? !call.function().raw()
                    : call.model() instanceof net.sf.jsqlparser.expression.StringValue;
            boolean optionsFixed = call.options() == null
                    || call.options() instanceof net.sf.jsqlparser.expression.StringValue;
            Object model = modelFixed && call.model() != null ? ConstantValues.literal(call.model()) : null;
            Object options = optionsFixed && call.options() != null ? ConstantValues.literal(call.options()) : null;
            if (modelFixed && optionsFixed) {
                resolve(call, null, (String) model, (String) options, settings, false);
            }
        }
    }

    /**
     * {@code analysis} (a SELECT or WITH, parsed for this call: it is mutated) as a probe of its result's column
     * definitions: each AI call replaced by a value of its result's type (a one-character string for text, a zero vector of
     * the model's dimensions for an embedding, the distance to it for a distance) and {@code LIMIT 0}, so that the
     * backend describes the columns the execute's result will have without a model call or a row. Null where the
     * types are not fixed by the text: an ANSWER, an embedding whose model or options are not string literals, a
     * SELECT … INTO, or a statement that is not one SELECT.
     */
    public String typedShape(StatementAnalysis analysis, RagSettings settings, Dialect dialect) {
        if (!(analysis.statement() instanceof net.sf.jsqlparser.statement.select.Select select)
                || analysis.calls().isEmpty()) {
            return null;
        }
        Map<AiCall, String> replacements = new IdentityHashMap<>();
        for (AiCall call : analysis.calls()) {
            if (call.function() == AiFunction.ANSWER) {
                return null;
            }
            if (call.function().reranks()) {
                replacements.put(call, scoreSql("0"));
                continue;
            }
            if (!call.function().embeds()) {
                // Not '': drivers read a VARCHAR of length 0 as LONGVARCHAR; an answer's text reads as VARCHAR.
                replacements.put(call, ConstantValues.quote("x"));
                continue;
            }
            boolean modelFixed = call.model() == null
                    || call.model() instanceof net.sf.jsqlparser.expression.StringValue;
            boolean optionsFixed = call.options() == null
                    || call.options() instanceof net.sf.jsqlparser.expression.StringValue;
            if (!modelFixed || !optionsFixed) {
                return null;
            }
            ModelInput in = resolve(call, null, call.model() == null ? null
                    : (String) ConstantValues.literal(call.model()), call.options() == null ? null
                    : (String) ConstantValues.literal(call.options()), settings, analysis.stored(call));
            int dimensions = invoker.dimensions(in.modelName(), in.embedOptions());
            StringBuilder zero = new StringBuilder("[");
            for (int i = 0; i < dimensions; i++) {
                zero.append(i == 0 ? "0" : ",0");
            }
            replacements.put(call, embeddingOfText(call, zero.append(']').toString(), dialect));
        }
        select.setLimit(new net.sf.jsqlparser.statement.select.Limit()
                .withRowCount(new net.sf.jsqlparser.expression.LongValue(0)));
        select.setOffset(null);
        select.setFetch(null);
        String shape = SqlRenderer.render(analysis, replacements, dialect);
        // INTO writes variables or files even for no rows; its result has no columns anyway.
        return shape.toUpperCase(Locale.ROOT).contains(" INTO ") ? null : shape;
    }

    /** Resolves a call's model and options (evaluated to text) for {@code text}. */
    ModelInput resolve(AiCall call, String text, String model, String options, RagSettings settings, boolean stored) {
        return resolve(call, text, model, options, settings, stored, Map.of());
    }

    /** {@link #resolve(AiCall, String, String, String, RagSettings, boolean)}, reading literal arguments from {@code known} first. */
    private ModelInput resolve(AiCall call, String text, String model, String options, RagSettings settings,
            boolean stored, Map<Expression, String> known) {
        if (call.function().local()) {
            try {
                ChunkOptions chunk = ChunkOptions.fromJson(options);
                return new ModelInput(call, CHUNK_TEXT_ID, CHUNK_TEXT_ID, text, null, null, null, chunk);
            } catch (IllegalArgumentException e) {
                throw new ProxyException(ProxyError.BAD_CHUNK_OPTIONS, "CHUNK_TEXT() options: " + e.getMessage());
            }
        }
        try {
            if (call.function().raw()) {
                return raw(call, text, model, options, known);
            }
            if (call.function().reranks()) {
                String id = invoker.registry().rerankingModel(model).id();
                return new ModelInput(call, id, model, text, null, null, null, null, new RerankRequest(options));
            }
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

    /**
     * INVOKE_MODEL's input: a Bedrock model id (or an alias of one), the content type and accept as string literals
     * (Aurora's CONTENT_TYPE and ACCEPT, {@code application/json} when absent), options {@code {"timeout_ms": n}}.
     */
    private ModelInput raw(AiCall call, String text, String model, String options, Map<Expression, String> known) {
        if (model == null || model.isBlank()) {
            throw new ProxyException(ProxyError.BAD_ARGUMENTS, "INVOKE_MODEL() needs a Bedrock model id as its first"
                    + " argument: " + AiFunction.INVOKE_MODEL.signature());
        }
        String contentType = mediaType(call, AiFunction.CONTENT_TYPE_ARG, "content_type", known);
        String accept = mediaType(call, AiFunction.ACCEPT_ARG, "accept", known);
        Long timeoutMs = null;
        if (options != null && !options.isBlank()) {
            JsonNode o;
            try {
                o = JSON.readTree(options);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("options_json is not valid JSON: " + e.getOriginalMessage());
            }
            if (o == null || !o.isObject()) {
                throw new IllegalArgumentException("options_json must be a JSON object, e.g. {\"timeout_ms\": 30000}");
            }
            for (var e : o.properties()) {
                if (!e.getKey().equals("timeout_ms") || !e.getValue().canConvertToLong() || e.getValue().asLong() < 1) {
                    throw new IllegalArgumentException("the only option is timeout_ms, a positive number of"
                            + " milliseconds; got " + e.getKey() + " = " + e.getValue());
                }
                timeoutMs = e.getValue().asLong();
            }
        }
        String id = invoker.registry().rawModel(model).id();
        return new ModelInput(call, id, model, text, null, null, new RawRequest(contentType, accept, timeoutMs));
    }

    private static String mediaType(AiCall call, int index, String name, Map<Expression, String> known) {
        Expression e = call.argument(index);
        if (e == null) {
            return "application/json";
        }
        Object v = known.containsKey(e) ? known.get(e) : ConstantValues.literal(e);
        if (!(v instanceof String s) || s.isBlank()) {
            throw new ProxyException(ProxyError.BAD_ARGUMENTS, "INVOKE_MODEL()'s " + name + " must be a quoted string"
                    + " such as 'application/json'; got " + e);
        }
        return s;
    }

    /**
     * The model requests the inputs cost: a distinct input each, but a reranker's distinct texts for one query
     * {@link #requests(ModelInput, long) batched}.
     */
    private int countDistinct(List<ModelInput> inputs) {
        Map<String, Set<String>> byGroup = new LinkedHashMap<>();
        Map<String, ModelInput> heads = new LinkedHashMap<>();
        for (ModelInput in : inputs) {
            if (in.chunk() == null && in.text() != null && !in.text().isEmpty()) {
                byGroup.computeIfAbsent(in.groupKey(), k -> new LinkedHashSet<>()).add(in.text());
                heads.putIfAbsent(in.groupKey(), in);
            }
        }
        long total = 0;
        for (Map.Entry<String, Set<String>> e : byGroup.entrySet()) {
            total += requests(heads.get(e.getKey()), e.getValue().size());
        }
        return (int) Math.min(Integer.MAX_VALUE, total);
    }

    private CompletableFuture<Map<AiCall, String>> invoke(StatementAnalysis analysis, List<ModelInput> inputs,
            Dialect dialect, RagSettings settings, ModelWarnings warnings, CompletableFuture<Void> cancellation,
            AsyncLimiter statementLimiter) {
        Map<String, List<ModelInput>> groups = new LinkedHashMap<>();
        for (ModelInput in : inputs) {
            groups.computeIfAbsent(in.groupKey(), k -> new ArrayList<>()).add(in);
        }
        Map<AiCall, String> replacements = new IdentityHashMap<>();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (List<ModelInput> group : groups.values()) {
            ModelInput head = group.get(0);
            List<String> texts = group.stream().map(ModelInput::text).toList();
            all.add(results(head, texts, settings, warnings, cancellation, statementLimiter).thenAccept(results -> {
                for (int i = 0; i < group.size(); i++) {
                    AiCall call = group.get(i).call();
                    String r = results.get(i);
                    put(replacements, call, head.embedOptions() != null ? embeddingOfText(call, r, dialect)
                            : head.rerank() != null ? scoreSql(r == null ? "NULL" : ConstantValues.quote(r))
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
        return results(head, texts, settings, ModelWarnings.NONE, new CompletableFuture<>(), statementLimiter(settings));
    }

    /** {@link #results(ModelInput, List, RagSettings)}, reporting each distinct input that became NULL to {@code warnings}. */
    CompletableFuture<List<String>> results(ModelInput head, List<String> texts, RagSettings settings,
            ModelWarnings warnings) {
        return results(head, texts, settings, warnings, new CompletableFuture<>(), statementLimiter(settings));
    }

    /**
     * A limiter for all model calls of one statement, {@code rag_concurrency} wide: a plan with several
     * requests in flight at once (columns, rounds, a backfill's next page, a stream's next batch) passes the same one
     * to each, so the setting bounds the statement rather than each request.
     */
    static AsyncLimiter statementLimiter(RagSettings settings) {
        return new AsyncLimiter(settings.invocation().maxConcurrency());
    }

    /** {@link #statementLimiter(RagSettings)} from {@code session}, which counts its permits as the statement's calls. */
    static AsyncLimiter statementLimiter(StatementSession session, RagSettings settings) {
        return session.statementLimiter(settings.invocation().maxConcurrency());
    }

    /**
     * {@link #results(ModelInput, List, RagSettings, ModelWarnings)}, whose model calls are cancelled when
     * {@code cancellation} completes (the statement was killed, or its plan stops): the future then fails.
     */
    CompletableFuture<List<String>> results(ModelInput head, List<String> texts, RagSettings settings,
            ModelWarnings warnings, CompletableFuture<Void> cancellation, AsyncLimiter statementLimiter) {
        // A stopped statement starts none of its queued calls, whichever request they belong to.
        cancellation.thenRunAsync(statementLimiter::close);
        if (head.raw() != null) {
            return cancelledBy(cancellation, rawResults(head, texts, settings, statementLimiter));
        }
        if (head.chunk() != null) {
            return chunks(head.chunk(), texts);
        }
        String model = head.modelName();
        if (head.rerank() != null) {
            String query = head.rerank().query();
            return request(head, texts, settings, warnings, cancellation,
                    some -> invoker.rerankAll(model, query, some, settings.invocation(), statementLimiter))
                    .thenApply(scores -> scores.stream().map(v -> v == null ? null : Double.toString(v)).toList());
        }
        if (head.embedOptions() != null) {
            EmbedOptions opts = head.embedOptions();
            return request(head, texts, settings, warnings, cancellation,
                    some -> invoker.embedAll(model, some, opts, settings.invocation(), statementLimiter))
                    .thenApply(vectors -> vectors.stream().map(v -> v == null ? null : Dialect.vectorText(v)).toList());
        }
        GenerateOptions opts = head.generateOptions();
        return request(head, texts, settings, warnings, cancellation,
                some -> invoker.generateAll(model, some, opts, settings.invocation(), statementLimiter));
    }

    /**
     * One request for {@code texts} through {@code call} (the invoker's batch method for the model and options),
     * cancelled with the statement; after a failure, {@link #retryEachOrFail} asks again text by text through the
     * same {@code call} when {@code rag_on_error = 'null'}.
     */
    private <T> CompletableFuture<List<T>> request(ModelInput head, List<String> texts, RagSettings settings,
            ModelWarnings warnings, CompletableFuture<Void> cancellation,
            java.util.function.Function<List<String>, CompletableFuture<List<T>>> call) {
        return cancelledBy(cancellation, call.apply(texts))
                .exceptionallyCompose(error -> retryEachOrFail(head, texts, error, settings, warnings, cancellation,
                        text -> cancelledBy(cancellation, call.apply(java.util.Collections.singletonList(text)))
                                .thenApply(one -> one.get(0))));
    }

    /**
     * {@code calls}, cancelled (which cancels their model calls) when {@code cancellation} completes: off the thread
     * that completes it, often an event loop, as cancelling hundreds of queued calls takes a while.
     */
    private <T> CompletableFuture<T> cancelledBy(CompletableFuture<Void> cancellation, CompletableFuture<T> calls) {
        cancellation.thenRunAsync(() -> calls.cancel(true));
        return calls;
    }

    /**
     * CHUNK_TEXT's results, computed here: each distinct text's chunks as a JSON array; NULL for NULL or empty text
     * (as the model functions answer).
     */
    private CompletableFuture<List<String>> chunks(ChunkOptions options, List<String> texts) {
        return CompletableFuture.supplyAsync(() -> {
            Map<String, String> done = new java.util.HashMap<>();
            List<String> out = new ArrayList<>(texts.size());
            for (String text : texts) {
                out.add(text == null || text.isEmpty() ? null
                        : done.computeIfAbsent(text, t -> chunker.chunksJson(t, options)));
            }
            return out;
        }, chunkExecutor);
    }

    /**
     * INVOKE_MODEL's responses, decoded as UTF-8: one InvokeModel call per distinct non-empty body of the request,
     * concurrently. The invoker does not cache raw bodies (they often ask for sampled output), so the same body in a
     * later statement is sent again.
     */
    private CompletableFuture<List<String>> rawResults(ModelInput head, List<String> texts, RagSettings settings,
            AsyncLimiter statementLimiter) {
        RawRequest raw = head.raw();
        var invocation = raw.timeoutMs() == null ? settings.invocation()
                : settings.invocation().withTimeoutMs(raw.timeoutMs());
        Map<String, CompletableFuture<String>> calls = new LinkedHashMap<>();
        for (String text : texts) {
            if (text != null && !text.isEmpty() && !calls.containsKey(text)) {
                CompletableFuture<String> call = invoker.invokeRaw(head.modelId(),
                        text.getBytes(java.nio.charset.StandardCharsets.UTF_8), raw.contentType(), raw.accept(), invocation,
                        statementLimiter)
                        .thenApply(body -> new String(body, java.nio.charset.StandardCharsets.UTF_8));
                if (settings.nullOnError()) {
                    call = call.exceptionally(e -> null);
                }
                calls.put(text, call);
            }
        }
        CompletableFuture<List<String>> out = new CompletableFuture<>();
        CompletableFuture.allOf(calls.values().toArray(CompletableFuture[]::new)).whenComplete((v, error) -> {
            if (error != null) {
                out.completeExceptionally(ModelErrors.toProxy(AiFunction.INVOKE_MODEL, head.modelId(), error));
                return;
            }
            List<String> results = new ArrayList<>(texts.size());
            for (String text : texts) {
                results.add(text == null || text.isEmpty() ? null : calls.get(text).join());
            }
            out.complete(results);
        });
        // Fail fast: the first failure fails the statement without waiting for the other bodies.
        if (!settings.nullOnError()) {
            calls.values().forEach(c -> c.whenComplete((v, e) -> {
                if (e != null) {
                    out.completeExceptionally(ModelErrors.toProxy(AiFunction.INVOKE_MODEL, head.modelId(), e));
                }
            }));
        }
        return out;
    }

    private static void put(Map<AiCall, String> replacements, AiCall call, String replacement) {
        synchronized (replacements) {
            replacements.put(call, replacement);
        }
    }

    /**
     * After a group's batch failed: with rag_on_error = 'error' the statement fails with the model's error; with
     * 'null' each distinct text is asked for on its own (those that succeeded come from the cache), and only the ones
     * that fail again become NULL, each with one warning.
     */
    private static <T> CompletableFuture<List<T>> retryEachOrFail(ModelInput head, List<String> texts, Throwable error,
            RagSettings settings, ModelWarnings warnings, CompletableFuture<Void> cancellation,
            java.util.function.Function<String, CompletableFuture<T>> single) {
        if (!settings.nullOnError() || cancellation.isDone()) {
            return CompletableFuture.failedFuture(ModelErrors.toProxy(head.call().function(), head.modelId(), error));
        }
        Map<String, CompletableFuture<T>> each = new LinkedHashMap<>();
        Map<String, Throwable> failed = new java.util.concurrent.ConcurrentHashMap<>();
        for (String text : texts) {
            if (text != null && !each.containsKey(text)) {
                each.put(text, againIfCancelled(single, text).exceptionally(e -> {
                    failed.put(text, e);
                    return null;
                }));
            }
        }
        return CompletableFuture.allOf(each.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            if (cancellation.isDone()) {
                throw new java.util.concurrent.CancellationException("the statement was interrupted");
            }
            for (String text : each.keySet()) { // warnings in the inputs' order, not the calls' completion order
                Throwable e = failed.get(text);
                if (e != null) {
                    ProxyException warning = nullWarning(head, text, e);
                    warnings.failed(text, warning.code(), warning.getMessage());
                }
            }
            return texts.stream().map(t -> t == null ? (T) null : each.get(t).join()).toList();
        });
    }

    /**
     * {@code single.apply(text)}, asked once more if it failed only because it had joined a call of the failed batch
     * that the invoker then cancelled (a batch's first failure cancels its other calls): that text did not fail.
     */
    private static <T> CompletableFuture<T> againIfCancelled(java.util.function.Function<String, CompletableFuture<T>> single,
            String text) {
        return single.apply(text).exceptionallyCompose(e -> {
            ModelException me = ModelException.find(e);
            return me != null && me.kind() == ModelException.Kind.CANCELLED
                    ? single.apply(text) : CompletableFuture.failedFuture(e);
        });
    }

    /** The warning for an input that became NULL: the error it would have raised, said as a warning. */
    static ProxyException nullWarning(ModelInput head, String text, Throwable error) {
        ProxyException e = ModelErrors.toProxy(head.call().function(), head.modelId(), error);
        String message = e.getMessage().replaceFirst("; nothing was written$", "");
        String input = text.length() <= 40 ? text : text.substring(0, 40) + "…";
        return new ProxyException(e.code(), e.sqlState(), message + "; the result for '" + input.replace('\n', ' ')
                + "' is NULL (rag_on_error = 'null')", e);
    }

    /** The replacement of an embedding call: the vector literal, or the distance to it. */
    static String embeddingOfText(AiCall call, String vectorText, Dialect dialect) {
        return embeddingOrDistance(call, vectorText == null ? "NULL" : dialect.vectorLiteralOfText(vectorText), dialect);
    }

    /** {@code vector} (SQL yielding the call's embedding) for an embedding call, or the distance to it. */
    static String embeddingOrDistance(AiCall call, String vector, Dialect dialect) {
        return switch (call.function()) {
            case VEC_EMBED_COSINE_DISTANCE -> dialect.cosineDistance() + "(" + SqlRenderer.VECTOR_ARGUMENT + ", "
                    + vector + ")";
            case VEC_EMBED_L2_DISTANCE -> dialect.l2Distance() + "(" + SqlRenderer.VECTOR_ARGUMENT + ", " + vector + ")";
            default -> vector;
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
            } else if (in.raw() != null) {
                replacements.put(in.call(), "'…response body from " + in.modelId() + "…'");
            } else if (in.chunk() != null) {
                replacements.put(in.call(), "'…chunks computed by the proxy…'");
            } else if (in.rerank() != null) {
                replacements.put(in.call(), scoreSql("'…score from " + in.modelId() + "…'"));
            } else {
                replacements.put(in.call(), "'…text from " + in.modelId() + "…'");
            }
        }
        return replacements;
    }

    private static String embeddingOrNull(ModelInput in, Dialect dialect) {
        return in.embedOptions() != null ? embeddingOfText(in.call(), null, dialect) : "NULL";
    }

    /**
     * One call's resolved model input: embedding options, generation options, a raw request, or chunking options
     * (CHUNK_TEXT, computed by the proxy).
     */
    record ModelInput(AiCall call, String modelId, String modelName, String text, EmbedOptions embedOptions,
            GenerateOptions generateOptions, RawRequest raw, ChunkOptions chunk, RerankRequest rerank) {
        ModelInput(AiCall call, String modelId, String modelName, String text, EmbedOptions embedOptions,
                GenerateOptions generateOptions) {
            this(call, modelId, modelName, text, embedOptions, generateOptions, null, null, null);
        }

        ModelInput(AiCall call, String modelId, String modelName, String text, EmbedOptions embedOptions,
                GenerateOptions generateOptions, RawRequest raw) {
            this(call, modelId, modelName, text, embedOptions, generateOptions, raw, null, null);
        }

        ModelInput(AiCall call, String modelId, String modelName, String text, EmbedOptions embedOptions,
                GenerateOptions generateOptions, RawRequest raw, ChunkOptions chunk) {
            this(call, modelId, modelName, text, embedOptions, generateOptions, raw, chunk, null);
        }

        String groupKey() {
            String kind = chunk != null ? "c:" + chunk : raw != null ? "r:" + raw.contentType() + "|" + raw.accept() + "|" + raw.timeoutMs()
                    : rerank != null ? "k:" + rerank.query()
                    : embedOptions != null ? "e:" + embedOptions.cacheKey() : "g:" + generateOptions.cacheKey();
            return kind + "@" + modelId.toLowerCase(Locale.ROOT);
        }
    }

    /** RERANK_SCORE's query (null: every score is NULL). */
    record RerankRequest(String query) {}

    /** SQL of a RERANK_SCORE result from SQL of its text ({@code NULL}, a quoted number, a lookup): a double. */
    static String scoreSql(String value) {
        return "CAST(" + value + " AS DOUBLE)";
    }

    /**
     * The model requests {@code distinct} non-empty texts of {@code in} cost: one each, but a reranker's texts for one
     * query go together, {@link io.ragproxy.catalog.invoke.ModelInvoker#rerankBatchSize} to a request.
     */
    long requests(ModelInput in, long distinct) {
        if (in.rerank() == null || distinct == 0) {
            return in.chunk() != null ? 0 : distinct;
        }
        long batch = invoker.rerankBatchSize(in.modelName());
        return (distinct + batch - 1) / batch;
    }

    /** How many texts of {@code in} the budget of {@code requests} model requests covers. */
    long textsWithin(ModelInput in, long requests) {
        return in.rerank() == null ? requests : requests * invoker.rerankBatchSize(in.modelName());
    }

    /** INVOKE_MODEL's request shape: media types and an optional per-call timeout. */
    record RawRequest(String contentType, String accept, Long timeoutMs) {}
}
