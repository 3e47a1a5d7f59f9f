package io.ragproxy.server.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.catalog.invoke.AsyncLimiter;
import io.ragproxy.catalog.model.GroundedPrompt;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * The plan for {@code ANSWER(question, context [, model [, options_json]])}, an aggregate: the backend groups the
 * rows and gathers each group's context values with {@code JSON_ARRAYAGG} (in the order the rows arrive, so a
 * subquery's {@code ORDER BY … LIMIT} decides the sources' order); the proxy then asks the text model once per
 * group with a grounded prompt whose numbered sources are those values, and returns the answers in place of the
 * ANSWER columns. With {@code {"citations": true}} an answer is JSON {@code {"answer": …, "sources": [1, 3]}}.
 *
 * <p>Taken when ANSWER calls are whole items of the outer SELECT's list (HAVING and ORDER BY cannot use them yet)
 * and every other AI call has constant arguments. The reply is composed by the proxy: the other columns keep the
 * backend's column definitions (type, length, flags, character set), and an ANSWER column is LONGTEXT.
 */
public final class AnswerPlanner {
    /** The instruction that heads every grounded prompt; the local extractive model skips it. */
    static final String INSTRUCTION = "Answer the question using only the numbered sources below. If they do not"
            + " contain the answer, say that they do not. Cite the sources you use as [n].";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CITATION = Pattern.compile("\\[(\\d{1,4})]");
    /** The fewest words of a source's sentence found in an answer that make the source cited. */
    private static final int QUOTED_WORDS = 3;

    private final LiteralPlanner literals;

    public AnswerPlanner(LiteralPlanner literals) {
        this.literals = literals;
    }

    /** Whether this plan takes {@code analysis} (see the class comment). */
    public static boolean applies(StatementAnalysis analysis) {
        if (!(analysis.statement() instanceof PlainSelect select) || !analysis.suffix().isEmpty()) {
            return false;
        }
        Set<Function> items = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (SelectItem<?> item : select.getSelectItems()) {
            if (item.getExpression() instanceof Function f) {
                items.add(f);
            }
        }
        boolean any = false;
        for (AiCall call : analysis.calls()) {
            if (call.function() == AiFunction.ANSWER) {
                if (!items.contains(call.node())) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }

    /**
     * The answer rows.
     *
     * @param columns the original select list's labels
     * @param definitions per column, the backend's column definition payload for a column the backend computed, or
     *     null for an ANSWER column (text); empty when the backend's definitions are not known
     * @param rows the values, answers filled in
     * @param modelInputs the model inputs the answers took
     */
    public record Answers(List<String> columns, List<byte[]> definitions, List<List<String>> rows, int modelInputs) {}

    /**
     * EXPLAIN RAG's row for an ANSWER statement: plan, model inputs (the constant calls' and one per group, which
     * only the backend's run counts), models, and the grouping query the backend runs (other calls' results elided).
     * Calls no model and runs nothing.
     */
    public CompletableFuture<List<String>> explain(StatementSession session, StatementAnalysis analysis,
            Dialect dialect, RagSettings settings) {
        Prepared prepared = prepare(analysis, settings);
        Set<String> models = new LinkedHashSet<>();
        return literals.plan(session, analysis.restoreHidden(analysis.statement().toString()), dialect, settings, true).thenApply(plan -> {
            models.addAll(plan.models());
            prepared.calls().forEach(c -> models.add(c.input().modelId()));
            return List.of("answer", plan.modelInputs() + " + ? (one per group and ANSWER call)",
                    String.join(", ", models), plan.backendSql());
        });
    }

    /** The statement's select list rewritten for the backend: what each original item reads, and the ANSWER calls. */
    private record Prepared(List<String> labels, List<int[]> sourceColumns, List<AnswerCall> calls) {}

    /** Runs the statement and answers each group. */
    public CompletableFuture<Answers> run(StatementSession session, StatementAnalysis analysis, Dialect dialect,
            RagSettings settings) {
        Prepared prepared = prepare(analysis, settings);
        return literals.plan(session, analysis.restoreHidden(analysis.statement().toString()), dialect, settings, false)
                .thenCompose(plan -> session.query(plan.backendSql()))
                .thenCompose(result -> answer(result.first(), prepared.labels(), prepared.sourceColumns(),
                        prepared.calls(), settings, session));
    }

    /** Rewrites the select list (each ANSWER call becomes its question and a JSON_ARRAYAGG of its contexts). */
    private Prepared prepare(StatementAnalysis analysis, RagSettings settings) {
        PlainSelect select = (PlainSelect) analysis.statement();
        List<String> labels = new ArrayList<>();
        List<int[]> sourceColumns = new ArrayList<>(); // per original item: {column} or {question, contexts}
        List<AnswerCall> answerCalls = new ArrayList<>();
        List<SelectItem<?>> rewritten = new ArrayList<>();
        Map<Function, AiCall> answers = new IdentityHashMap<>();
        for (AiCall call : analysis.calls()) {
            if (call.function() == AiFunction.ANSWER) {
                answers.put(call.node(), call);
            }
        }
        for (SelectItem<?> item : select.getSelectItems()) {
            Expression e = item.getExpression();
            labels.add(item.getAlias() != null ? ConstantValues.unquoteIdentifier(item.getAlias().getName()) : String.valueOf(e));
            AiCall call = e instanceof Function f ? answers.get(f) : null;
            if (call == null) {
                sourceColumns.add(new int[] {rewritten.size()});
                rewritten.add(item);
                continue;
            }
            sourceColumns.add(new int[] {rewritten.size(), rewritten.size() + 1});
            answerCalls.add(answerCall(call, settings, answerCalls.size(), sourceColumns.size() - 1));
            rewritten.add(SelectItem.from(call.argument(0)));
            Function gather = new Function();
            gather.setName("JSON_ARRAYAGG");
            gather.setParameters(new ExpressionList<>(call.argument(1)));
            rewritten.add(SelectItem.from(gather));
        }
        select.setSelectItems(rewritten);
        return new Prepared(labels, sourceColumns, answerCalls);
    }

    private CompletableFuture<Answers> answer(QueryResult.ResultSet result, List<String> labels,
            List<int[]> sourceColumns, List<AnswerCall> calls, RagSettings settings, StatementSession session) {
        CompletableFuture<Void> cancellation = session.cancellation();
        List<List<String>> rows = result.rows();
        List<byte[]> definitions = new ArrayList<>();
        if (!result.definitions().isEmpty()) {
            for (int[] cols : sourceColumns) {
                definitions.add(cols.length == 1 ? result.definitions().get(cols[0]) : null);
            }
        }
        if (rows.size() * (long) calls.size() > settings.maxCalls()) {
            throw new ProxyException(ProxyError.TOO_MANY_CALLS, "the statement has " + rows.size() + " groups to"
                    + " answer, more than rag_max_calls = " + settings.maxCalls() + "; raise it with SET rag_max_calls = "
                    + rows.size() * (long) calls.size() + " if that is intended");
        }
        List<CompletableFuture<List<String>>> perCall = new ArrayList<>();
        List<List<List<String>>> sourcesPerCall = new ArrayList<>();
        AsyncLimiter statementLimiter = LiteralPlanner.statementLimiter(session, settings);
        for (AnswerCall call : calls) {
            int[] cols = sourceColumns.get(call.item());
            List<String> prompts = new ArrayList<>();
            List<List<String>> sources = new ArrayList<>();
            for (List<String> row : rows) {
                List<String> s = contexts(row.get(cols[1]));
                sources.add(s);
                String question = row.get(cols[0]);
                prompts.add(question == null || question.isBlank() || s.isEmpty() ? null
                        : INSTRUCTION + "\n" + new GroundedPrompt(question, s).format());
            }
            sourcesPerCall.add(sources);
            perCall.add(literals.results(call.input(), prompts, settings, ModelWarnings.NONE, cancellation, // KILL cancels the calls
                    statementLimiter));
        }
        return CompletableFuture.allOf(perCall.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<List<String>> out = new ArrayList<>();
            for (int r = 0; r < rows.size(); r++) {
                List<String> row = new ArrayList<>();
                for (int item = 0; item < sourceColumns.size(); item++) {
                    int[] cols = sourceColumns.get(item);
                    if (cols.length == 1) {
                        row.add(rows.get(r).get(cols[0]));
                        continue;
                    }
                    int c = indexOf(calls, item);
                    String text = perCall.get(c).join().get(r);
                    row.add(text != null && calls.get(c).citations()
                            ? citations(text, sourcesPerCall.get(c).get(r)) : text);
                }
                out.add(row);
            }
            int inputs = (int) perCall.stream().mapToLong(f -> f.join().stream().filter(x -> x != null).count()).sum();
            return new Answers(labels, definitions, out, inputs);
        });
    }

    private static int indexOf(List<AnswerCall> calls, int item) {
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).item() == item) {
                return i;
            }
        }
        throw new IllegalStateException("no ANSWER call for item " + item);
    }

    /** One ANSWER call: its resolved model and options, whether it wants citations, and its select-list position. */
    private record AnswerCall(LiteralPlanner.ModelInput input, boolean citations, int index, int item) {}

    private AnswerCall answerCall(AiCall call, RagSettings settings, int index, int item) {
        String model = constant(call, call.model(), "model");
        String options = constant(call, call.options(), "options_json");
        boolean citations = false;
        if (options != null && !options.isBlank()) {
            try {
                JsonNode node = JSON.readTree(options);
                if (node instanceof ObjectNode o && o.has("citations")) {
                    citations = o.get("citations").asBoolean(false);
                    o.remove("citations");
                    options = o.toString();
                }
            } catch (java.io.IOException e) {
                throw new ProxyException(ProxyError.BAD_OPTIONS, "ANSWER() options_json is not JSON: " + e.getMessage());
            }
        }
        return new AnswerCall(literals.resolve(call, null, model, options, settings, false), citations, index, item);
    }

    private static String constant(AiCall call, Expression e, String what) {
        if (e == null) {
            return null;
        }
        Object v = ConstantValues.literal(e);
        if (v == ConstantValues.NOT_LITERAL) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "ANSWER()'s " + what + " must be a literal"
                    + " (got " + e + ")");
        }
        return (String) v;
    }

    /** The group's context values, from JSON_ARRAYAGG's array; NULL values are left out. */
    private static List<String> contexts(String array) {
        List<String> out = new ArrayList<>();
        if (array == null) {
            return out;
        }
        try {
            for (JsonNode v : JSON.readTree(array)) {
                if (!v.isNull()) {
                    out.add(v.isTextual() ? v.asText() : v.toString());
                }
            }
        } catch (java.io.IOException e) {
            throw new ProxyException(ProxyError.INTERNAL, "the backend's JSON_ARRAYAGG result is not JSON: "
                    + e.getMessage());
        }
        return out;
    }

    /**
     * {@code {"answer": …, "sources": [n, …]}}: the sources the answer cites as [n], or else those containing a
     * sentence of the answer (what an extractive model returns).
     */
    static String citations(String answer, List<String> sources) {
        Set<Integer> used = new TreeSet<>();
        Matcher m = CITATION.matcher(answer);
        while (m.find()) {
            int n = Integer.parseInt(m.group(1));
            if (n >= 1 && n <= sources.size()) {
                used.add(n);
            }
        }
        if (used.isEmpty()) {
            Set<String> sentences = new LinkedHashSet<>();
            for (String s : answer.split("(?<=[.!?。！？])\\s*")) {
                if (!s.isBlank()) {
                    sentences.add(s.trim().toLowerCase(Locale.ROOT));
                }
            }
            String text = answer.toLowerCase(Locale.ROOT);
            for (int i = 0; i < sources.size(); i++) {
                String source = sources.get(i).toLowerCase(Locale.ROOT);
                if (sentences.stream().anyMatch(source::contains) || quoted(text, source)) {
                    used.add(i + 1);
                }
            }
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("answer", answer);
        used.forEach(o.putArray("sources")::add);
        return o.toString();
    }

    /**
     * Whether {@code answer} holds a whole sentence or line of {@code source} of at least {@value #QUOTED_WORDS}
     * words. Sources without a final full stop (a knowledge base's chunks, titles, list items) are joined by the
     * extractive model into one run of text the split at full stops cannot take apart again.
     */
    private static boolean quoted(String answer, String source) {
        for (String sentence : source.split("(?<=[.!?。！？])\\s+|\\n+")) {
            String s = sentence.strip();
            if (s.split("\\s+").length >= QUOTED_WORDS && answer.contains(s)) {
                return true;
            }
        }
        return false;
    }
}
