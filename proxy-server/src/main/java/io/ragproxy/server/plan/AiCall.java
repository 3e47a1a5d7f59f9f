package io.ragproxy.server.plan;

import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;

/**
 * One AI function call found in a parsed statement.
 *
 * @param node the parse-tree node (replaced when the statement is rendered)
 * @param function which AI function
 * @param arguments the call's arguments as written
 */
public record AiCall(Function node, AiFunction function, List<Expression> arguments) {

    public AiCall {
        arguments = List.copyOf(arguments);
    }

    /** The argument at {@code index}, or null when absent (optional) or the index is -1. */
    public Expression argument(int index) {
        return index >= 0 && index < arguments.size() ? arguments.get(index) : null;
    }

    /** The text argument. */
    public Expression text() {
        return argument(function.textArg());
    }

    /** The model argument, or null. */
    public Expression model() {
        return argument(function.modelArg());
    }

    /** The options argument, or null. */
    public Expression options() {
        return argument(function.optionsArg());
    }

    /** The vector argument of a distance function, or null. */
    public Expression vector() {
        return argument(function.vectorArg());
    }

    /** The arguments the proxy must evaluate before calling the model (all but the vector). */
    public List<Expression> modelInputs() {
        return java.util.stream.Stream.of(text(), model(), options()).filter(java.util.Objects::nonNull).toList();
    }
}
