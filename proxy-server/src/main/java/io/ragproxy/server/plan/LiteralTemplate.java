package io.ragproxy.server.plan;

import io.ragproxy.server.dialect.Dialect;
import java.util.Map;

/**
 * A literal-plan statement parsed and prepared once: its analysis, whose tree is already rendered for one dialect
 * with every AI call as a placeholder, and that rendering as a template. A plan of it evaluates the calls'
 * arguments, calls the models and fills the template with the results: no parse, no deparse.
 *
 * <p>Immutable once built, so that plans on several planner threads may share it: the tree is only read
 * (the calls' arguments, which the preparation does not touch) and the template only copied.
 */
public final class LiteralTemplate {
    private final StatementAnalysis analysis;
    private final Dialect dialect;
    private final SqlRenderer renderer;
    private final String template;

    LiteralTemplate(StatementAnalysis analysis, Dialect dialect) {
        this.analysis = analysis;
        this.dialect = dialect;
        this.renderer = new SqlRenderer(analysis, dialect); // renames the calls' nodes: the tree is the template's
        this.template = analysis.statement().toString();
    }

    /** The analysis (read only: its tree is prepared for rendering). */
    public StatementAnalysis analysis() {
        return analysis;
    }

    /** The dialect the template is rendered in. */
    public Dialect dialect() {
        return dialect;
    }

    /** The backend's statement with every call replaced by {@code replacements}' text. */
    String fill(Map<AiCall, String> replacements) {
        return renderer.render(template, replacements);
    }
}
