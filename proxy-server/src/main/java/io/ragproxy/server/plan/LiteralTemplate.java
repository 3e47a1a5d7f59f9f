package io.ragproxy.server.plan;

import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.text.SqlMode;
import java.util.Map;
import net.sf.jsqlparser.expression.Expression;

/**
 * A literal-plan statement parsed and prepared once: its analysis, whose tree is already rendered for one dialect
 * with every AI call as a placeholder, and that rendering as a template. A plan of it evaluates the calls'
 * arguments, calls the models and fills the template with the results: no parse, no deparse.
 *
 * <p>A template made with the statement's {@link StatementShape} may also be <em>shared by shape</em>
 * ({@link #sharedByShape()}): then any statement of that shape fills it ({@link #fill(StatementShape)}), its
 * literals taking the place of the first statement's, and the calls' arguments read from its own literals.
 *
 * <p>Immutable once built, so that plans on several planner threads may share it: the tree is only read
 * (the calls' arguments, which the preparation does not touch) and the template only copied.
 */
public final class LiteralTemplate {
    private final StatementAnalysis analysis;
    private final Dialect dialect;
    private final SqlRenderer renderer;
    private final String template;
    private final ShapeTemplate shape;

    LiteralTemplate(StatementAnalysis analysis, Dialect dialect) {
        this(analysis, dialect, null, null);
    }

    /**
     * @param statementShape the shape of the statement {@code analysis} was parsed from, or null: the template is
     *     shared by shape when its rendering verifies against it ({@link ShapeTemplate})
     * @param mode the session's sql_mode, as the backend reads the rendering
     */
    LiteralTemplate(StatementAnalysis analysis, Dialect dialect, StatementShape statementShape, SqlMode mode) {
        this.analysis = analysis;
        this.dialect = dialect;
        boolean readsValues = statementShape != null && ShapeTemplate.preparationReadsValues(analysis);
        this.renderer = new SqlRenderer(analysis, dialect); // renames the calls' nodes: the tree is the template's
        this.template = analysis.statement().toString();
        this.shape = statementShape == null || readsValues ? null
                : ShapeTemplate.of(template, renderer, analysis, statementShape, mode);
    }

    /**
     * One statement's instance of a template: the rendering with its literals, and the values of the calls'
     * arguments that its literals give (the others are evaluated from the tree).
     */
    public record Fill(String rendering, Map<Expression, String> argumentValues) {}

    /** The analysis (read only: its tree is prepared for rendering). */
    public StatementAnalysis analysis() {
        return analysis;
    }

    /** The dialect the template is rendered in. */
    public Dialect dialect() {
        return dialect;
    }

    /** Whether every statement of the shape it was made with may fill this template. */
    public boolean sharedByShape() {
        return shape != null;
    }

    /**
     * Whether {@code statement}, a statement of the shape, may fill this template: always when the statement it
     * was made from had no two equal literals, else when {@code statement} has equal literals at those slots too.
     */
    public boolean fits(StatementShape statement) {
        return shape != null && shape.fits(statement);
    }

    /** The instance of the statement the template was parsed from. */
    public Fill asParsed() {
        return new Fill(template, Map.of());
    }

    /**
     * The instance of {@code statement}, a statement of the shape this template is shared by.
     *
     * @throws IllegalStateException when the template is not shared by shape or the statement does not fit it
     */
    public Fill fill(StatementShape statement) {
        if (shape == null) {
            throw new IllegalStateException("this template is kept for its statement's text only");
        }
        if (!shape.fits(statement)) {
            throw new IllegalStateException("this template was made from equal literals that differ here");
        }
        return new Fill(shape.fill(statement), shape.argumentValues(statement));
    }

    /** The backend's statement with every call replaced by {@code replacements}' text. */
    String fill(Fill instance, Map<AiCall, String> replacements) {
        return renderer.render(instance.rendering(), replacements);
    }
}
