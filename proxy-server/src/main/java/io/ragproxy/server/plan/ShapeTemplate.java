package io.ragproxy.server.plan;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.text.SqlMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.schema.Column;

/**
 * A literal template's rendering cut at the literals of the statement it was made from, so that any statement of
 * the same {@link StatementShape} fills it slot by slot instead of being parsed.
 *
 * <p>A template is cut only when the cut is verified against the statement it was made from ({@link #of}): the
 * rendering holds every literal token of the statement outside the AI calls' arguments verbatim and in order, each
 * once; each argument of each AI call is either one string slot (whose value a fill reads from the slot) or holds no
 * literal at all (so it means the same for every statement of the shape); a column label the renderer wrote from an
 * item's text is cut at that item's slots too. Anything the preparation reads from a literal's <em>value</em> fails
 * the check: a TiDB distance function's string argument (translated only when it reads as a vector), a distance
 * call's vector argument (rendered once), text hidden from the parser. A statement that fails keeps its template
 * under its exact text, as before.
 *
 * <p>When the statement's literals all differ, matching them verbatim and in order proves that each cut is the slot
 * of the same place in every statement of the shape. When two are equal, the check cannot tell them apart (the
 * renderer might have swapped them), so the template fills only statements whose literals at those slots are equal
 * too ({@link #fits}); any other is parsed, and its template (with fewer or no equal literals) takes the place.
 *
 * <p>Immutable; a fill reads only this object and the statement's shape.
 */
final class ShapeTemplate {
    /** The rendering's fixed text around the cuts: one more piece than cuts. */
    private final String[] pieces;
    /** Each cut: an {@link Integer} slot, or a {@link Label}. */
    private final Object[] cuts;
    /** The AI calls' arguments that are string slots, by identity. */
    private final Map<Expression, Integer> argumentSlots;
    /** The slots that held equal literals in the statement the cut was verified against ({@link StatementShape#repeats}). */
    private final int[] repeats;

    /** A column label written from an item's text: its fixed text around its slots. */
    private record Label(String[] pieces, int[] slots) {
        String fill(StatementShape shape) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < slots.length; i++) {
                out.append(pieces[i]).append(shape.literal(slots[i]));
            }
            return SqlRenderer.labelAlias(out.append(pieces[slots.length]).toString());
        }
    }

    private ShapeTemplate(String[] pieces, Object[] cuts, Map<Expression, Integer> argumentSlots, int[] repeats) {
        this.pieces = pieces;
        this.cuts = cuts;
        this.argumentSlots = argumentSlots;
        this.repeats = repeats;
    }

    /**
     * The cut of {@code rendered} (the prepared tree's rendering, whose calls are placeholders), verified against
     * {@code shape}, the shape of the statement {@code analysis} was parsed from; null when it does not verify.
     * Call {@link #preparationReadsValues} before the preparation.
     */
    static ShapeTemplate of(String rendered, SqlRenderer renderer, StatementAnalysis analysis, StatementShape shape,
            SqlMode mode) {
        if (shape == null || analysis.hidesText() || hasLiteral(analysis.suffix(), mode)) {
            return null;
        }
        List<Token> tokens = lex(rendered, mode);
        if (tokens == null) {
            return null;
        }
        Map<String, Integer> labelsLeft = new HashMap<>();
        Map<String, String> labelByAlias = new HashMap<>();
        for (String label : renderer.labels()) {
            String alias = SqlRenderer.labelAlias(label);
            labelsLeft.merge(alias, 1, Integer::sum);
            labelByAlias.put(alias, label);
        }
        List<AiCall> calls = analysis.calls();
        boolean[] seen = new boolean[calls.size()];
        List<String> pieces = new ArrayList<>();
        List<Object> cuts = new ArrayList<>();
        Map<Expression, Integer> argumentSlots = new IdentityHashMap<>();
        int slot = 0;
        int copied = 0;
        for (int t = 0; t < tokens.size(); t++) {
            Token token = tokens.get(t);
            String text = rendered.substring(token.start(), token.end());
            if (token.type() == SqlLexer.Type.STRING || token.type() == SqlLexer.Type.NUMBER) {
                if (slot >= shape.size() || !text.equals(shape.literal(slot))) {
                    return null;
                }
                pieces.add(rendered.substring(copied, token.start()));
                cuts.add(slot++);
                copied = token.end();
            } else if (token.type() == SqlLexer.Type.WORD && token.text().startsWith(renderer.prefix())) {
                int call = callIndex(token.text(), renderer.prefix(), calls.size());
                if (call < 0 || seen[call]) {
                    return null;
                }
                seen[call] = true;
                AiCall c = calls.get(call);
                for (int a = 0; a < c.arguments().size(); a++) {
                    Expression argument = c.arguments().get(a);
                    List<Token> inside = literals(argument.toString(), mode);
                    if (inside == null) {
                        return null;
                    }
                    if (inside.isEmpty()) {
                        continue; // means the same in every statement of the shape
                    }
                    if (a == c.function().vectorArg() || inside.size() != 1 || !isString(argument)
                            || slot >= shape.size() || !shape.isString(slot)) {
                        return null;
                    }
                    Token only = inside.get(0);
                    String written = argument.toString().substring(only.start(), only.end());
                    if (!written.equals(shape.literal(slot))
                            || !Objects.equals(ConstantValues.literal(argument), shape.stringValue(slot))) {
                        return null;
                    }
                    argumentSlots.put(argument, slot++);
                }
            } else if (token.type() == SqlLexer.Type.QUOTED_IDENT && labelsLeft.containsKey(text)) {
                if (t == 0 || !tokens.get(t - 1).is("AS") || labelsLeft.merge(text, -1, Integer::sum) < 0) {
                    return null; // the user's own identifier reads like a label: not told apart, not shared
                }
                Label label = label(labelByAlias.get(text), shape, slot, mode);
                if (label == null) {
                    return null;
                }
                pieces.add(rendered.substring(copied, token.start()));
                cuts.add(label);
                copied = token.end();
            }
        }
        for (boolean s : seen) {
            if (!s) {
                return null;
            }
        }
        if (slot != shape.size() || labelsLeft.values().stream().anyMatch(n -> n != 0)) {
            return null;
        }
        pieces.add(rendered.substring(copied));
        return new ShapeTemplate(pieces.toArray(String[]::new), cuts.toArray(), argumentSlots, shape.repeats());
    }

    /**
     * Whether preparing {@code analysis} for rendering (not yet done) reads a literal's value: a TiDB distance
     * function's string argument is translated only when it reads as a vector.
     */
    static boolean preparationReadsValues(StatementAnalysis analysis) {
        for (Function f : analysis.vectorFunctions()) {
            if (f.getParameters() != null && f.getParameters().stream().anyMatch(p -> p instanceof StringValue)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A label's cut: its literals are those of its item, the last ones met before it ({@code expr AS `label`}), so
     * they must be the slots just before {@code next}, verbatim.
     */
    private static Label label(String label, StatementShape shape, int next, SqlMode mode) {
        List<Token> inside = literals(label, mode);
        if (inside == null || inside.size() > next) {
            return null;
        }
        String[] pieces = new String[inside.size() + 1];
        int[] slots = new int[inside.size()];
        int copied = 0;
        for (int i = 0; i < inside.size(); i++) {
            Token token = inside.get(i);
            int slot = next - inside.size() + i;
            if (!label.substring(token.start(), token.end()).equals(shape.literal(slot))) {
                return null;
            }
            pieces[i] = label.substring(copied, token.start());
            slots[i] = slot;
            copied = token.end();
        }
        pieces[inside.size()] = label.substring(copied);
        return new Label(pieces, slots);
    }

    /** The placeholder's call index, or -1. */
    private static int callIndex(String word, String prefix, int calls) {
        String digits = word.substring(prefix.length());
        if (digits.isEmpty() || digits.length() > 9 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        int index = Integer.parseInt(digits);
        return index < calls ? index : -1;
    }

    /** Whether a fill reads this argument's value from its slot: a quoted string, which the parser keeps verbatim. */
    private static boolean isString(Expression e) {
        return e instanceof StringValue || e instanceof Column c && ConstantValues.isDoubleQuotedString(c);
    }

    private static boolean hasLiteral(String sql, SqlMode mode) {
        List<Token> inside = literals(sql, mode);
        return inside == null || !inside.isEmpty();
    }

    /** The string and number tokens of {@code sql}, or null when it does not lex. */
    private static List<Token> literals(String sql, SqlMode mode) {
        List<Token> tokens = lex(sql, mode);
        return tokens == null ? null : tokens.stream().filter(t -> t.type() == SqlLexer.Type.STRING
                || t.type() == SqlLexer.Type.NUMBER).toList();
    }

    private static List<Token> lex(String sql, SqlMode mode) {
        try {
            return SqlLexer.tokenize(sql, mode);
        } catch (ProxyException e) {
            return null;
        }
    }

    /** Whether {@code shape} (a statement of this template's shape) may fill it: see the class comment. */
    boolean fits(StatementShape shape) {
        return shape.repeatsAlike(repeats);
    }

    /** The rendering for {@code shape} (a statement of this template's shape that {@link #fits}): each cut filled. */
    String fill(StatementShape shape) {
        StringBuilder out = new StringBuilder(shape.sql().length() + pieces[pieces.length - 1].length() + 64);
        for (int i = 0; i < cuts.length; i++) {
            out.append(pieces[i]);
            out.append(cuts[i] instanceof Integer slot ? shape.literal(slot) : ((Label) cuts[i]).fill(shape));
        }
        return out.append(pieces[cuts.length]).toString();
    }

    /** The values of the AI calls' string-slot arguments in {@code shape}, by identity. */
    Map<Expression, String> argumentValues(StatementShape shape) {
        Map<Expression, String> values = new IdentityHashMap<>();
        argumentSlots.forEach((argument, slot) -> values.put(argument, shape.stringValue(slot)));
        return values;
    }
}
