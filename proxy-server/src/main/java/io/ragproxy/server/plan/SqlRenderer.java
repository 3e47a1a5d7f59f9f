package io.ragproxy.server.plan;

import io.ragproxy.server.dialect.Dialect;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;

/**
 * Writes a planned statement back to SQL: AI calls become their replacements and TiDB vector spellings become
 * the backend's.
 *
 * <p>JSqlParser deparses the tree; a replacement is spliced in through a placeholder function name that cannot
 * occur in user SQL, so replacements may hold any text (vector literals, quoted strings) and calls nested in
 * other calls' arguments resolve too.
 */
final class SqlRenderer {
    /** Marks, in a distance call's replacement, where the (rendered) vector argument goes. */
    static final String VECTOR_ARGUMENT = "\u0000vector\u0000";
    /** The longest label a rewritten select-list item gets (MySQL's names of unaliased columns are as long). */
    static final int MAXIMUM_LABEL_LENGTH = 256;

    private final StatementAnalysis analysis;
    private final Dialect dialect;
    private final String prefix;
    private final Map<AiCall, String> placeholders = new java.util.IdentityHashMap<>();
    private final Map<AiCall, String> vectors = new java.util.IdentityHashMap<>();
    private final List<String> labels;

    /**
     * Prepares {@code analysis} for rendering: labels rewritten select-list columns, translates TiDB vector
     * spellings and replaces every AI call node with its placeholder. From then on any part of the tree renders
     * (with {@code toString()}) to SQL in which {@link #expand} can substitute the calls' replacements.
     */
    SqlRenderer(StatementAnalysis analysis, Dialect dialect) {
        this.analysis = analysis;
        this.dialect = dialect;
        this.labels = labelRewrittenColumns(analysis);
        for (Function f : analysis.vectorFunctions()) {
            translate(f, dialect);
        }
        this.prefix = "ragproxy_literal_" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + "_";
        List<AiCall> calls = analysis.calls();
        for (int i = 0; i < calls.size(); i++) {
            Function node = calls.get(i).node();
            node.setName(prefix + i);
            node.setParameters(new ExpressionList<>());
            placeholders.put(calls.get(i), prefix + i + "()");
        }
        for (AiCall call : calls) {
            Expression vector = call.vector(); // rendered after the renaming, so calls inside it are placeholders
            if (vector != null) {
                vectors.put(call, vectorArgument(vector, dialect));
            }
        }
    }

    static String render(StatementAnalysis analysis, Map<AiCall, String> replacements, Dialect dialect) {
        return new SqlRenderer(analysis, dialect).render(replacements);
    }

    /** The whole statement with every call replaced; each call must have a replacement. */
    String render(Map<AiCall, String> replacements) {
        return render(analysis.statement().toString(), replacements);
    }

    /**
     * {@link #render(Map)} of {@code rendered}, the prepared tree's {@code toString()} computed earlier (a
     * {@link LiteralTemplate}'s): only reads this renderer, so plans on several threads may share it.
     */
    String render(String rendered, Map<AiCall, String> replacements) {
        for (AiCall call : analysis.calls()) {
            if (!replacements.containsKey(call)) {
                throw new IllegalStateException("no replacement for " + call.function());
            }
        }
        String sql = expand(rendered, replacements);
        return analysis.suffix().isEmpty() ? sql : sql + " " + analysis.suffix();
    }

    /**
     * {@code sql} (rendered from part of the prepared tree) with the placeholders of the calls in
     * {@code replacements} substituted, including placeholders inside replacements (nested calls). Placeholders of
     * other calls stay; {@link #resolved} tells whether any is left.
     */
    String expand(String sql, Map<AiCall, String> replacements) {
        if (!sql.contains(prefix)) {
            return analysis.restoreHidden(sql);
        }
        // One pass over the text (a 1,000-row bulk INSERT has 1,000 calls in a text of megabytes: replacing
        // placeholder by placeholder copied the whole text once per call). Replacements may hold placeholders of
        // nested calls; they are expanded where they are spliced in.
        StringBuilder out = new StringBuilder(sql.length() + replacements.size() * 64);
        expandInto(out, sql, replacements, analysis.calls().size() + 1);
        return analysis.restoreHidden(out.toString());
    }

    private void expandInto(StringBuilder out, String sql, Map<AiCall, String> replacements, int depth) {
        List<AiCall> calls = analysis.calls();
        int at = 0;
        int p;
        while ((p = sql.indexOf(prefix, at)) >= 0) {
            int digits = p + prefix.length();
            int end = digits;
            while (end < sql.length() && Character.isDigit(sql.charAt(end))) {
                end++;
            }
            String replacement = null;
            AiCall call = null;
            if (end > digits && end - digits < 10 && sql.startsWith("()", end)) {
                int index = Integer.parseInt(sql, digits, end, 10);
                if (index < calls.size()) {
                    call = calls.get(index);
                    replacement = replacements.get(call);
                }
            }
            if (replacement == null) {
                // Not a placeholder, or one of a call without a replacement: it stays (see resolved()).
                int keep = end > digits && sql.startsWith("()", end) ? end + 2 : digits;
                out.append(sql, at, keep);
                at = keep;
                continue;
            }
            out.append(sql, at, p);
            String vector = vectors.get(call);
            if (vector != null) {
                replacement = replacement.replace(VECTOR_ARGUMENT, vector);
            }
            if (depth > 0 && replacement.contains(prefix)) {
                expandInto(out, replacement, replacements, depth - 1);
            } else {
                out.append(replacement);
            }
            at = end + 2;
        }
        out.append(sql, at, sql.length());
    }

    /** The start of every call placeholder's name: {@code <prefix><index>()} stands for call {@code index}. */
    String prefix() {
        return prefix;
    }

    /**
     * The labels given to select-list items ({@link #labelRewrittenColumns}), each the item's text in full (the
     * alias holds at most its first {@link #MAXIMUM_LABEL_LENGTH} characters), in the order given.
     */
    List<String> labels() {
        return labels;
    }

    /** The alias a label becomes: its first {@link #MAXIMUM_LABEL_LENGTH} characters, backquoted. */
    static String labelAlias(String label) {
        String kept = label.length() > MAXIMUM_LABEL_LENGTH ? label.substring(0, MAXIMUM_LABEL_LENGTH) : label;
        return "`" + kept.replace("`", "``") + "`";
    }

    /** Whether {@code expanded} (from {@link #expand}) holds no call placeholder any more. */
    boolean resolved(String expanded) {
        return !expanded.contains(prefix);
    }

    /**
     * Gives each select-list item that is about to be rewritten, and has no alias, the label the client's text
     * would have had: MySQL names an unaliased column by its expression, and clients read columns by that name.
     */
    private static List<String> labelRewrittenColumns(StatementAnalysis analysis) {
        List<String> labels = new ArrayList<>();
        java.util.Set<Function> rewritten = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        analysis.calls().forEach(c -> rewritten.add(c.node()));
        rewritten.addAll(analysis.vectorFunctions());
        for (SelectItem<?> item : FunctionCollector.collect(analysis.statement(), SelectItem.class)) {
            if (item.getAlias() != null || item.getExpression() == null) {
                continue;
            }
            boolean touches = FunctionCollector.collect(item.getExpression()).stream().anyMatch(rewritten::contains);
            if (touches) {
                String label = item.getExpression().toString();
                labels.add(label);
                item.setAlias(new Alias(labelAlias(label), true));
            }
        }
        return labels;
    }

    /** Renames a TiDB vector function for the backend and turns its string-literal vectors into vector literals. */
    private static void translate(Function f, Dialect dialect) {
        String original = f.getName();
        String translated = dialect.translateFunction(original);
        if (translated == null) {
            return;
        }
        if (Dialect.isTidbDistanceFunction(original) && f.getParameters() != null) {
            @SuppressWarnings("unchecked")
            ExpressionList<Expression> params = (ExpressionList<Expression>) f.getParameters();
            for (int i = 0; i < params.size(); i++) {
                if (params.get(i) instanceof StringValue s && s.getValue().trim().startsWith("[")) {
                    Function fromText = new Function();
                    fromText.setName("VEC_FromText");
                    fromText.setParameters(new ExpressionList<>(s));
                    params.set(i, fromText);
                }
            }
        }
        f.setName(translated);
    }

    private static String vectorArgument(Expression vector, Dialect dialect) {
        if (vector instanceof StringValue s && s.getValue().trim().startsWith("[")) {
            return dialect.vectorLiteralOfText(s.getValue().trim());
        }
        return vector.toString();
    }
}
