package io.ragproxy.server.plan;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.dialect.Dialect;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.upsert.Upsert;

/**
 * A flagged statement parsed with JSqlParser: its AI calls and the TiDB vector spellings the backend's dialect
 * needs translated. The parse tree is mutable and belongs to one plan.
 */
public final class StatementAnalysis {
    private final Statement statement;
    private final List<AiCall> calls;
    private final List<Function> vectorFunctions;
    private final String suffix;
    private final java.util.Set<Function> stored;
    private JsonTables jsonTables;

    private StatementAnalysis(Statement statement, List<AiCall> calls, List<Function> vectorFunctions, String suffix) {
        this.statement = statement;
        this.calls = calls;
        this.vectorFunctions = vectorFunctions;
        this.suffix = suffix;
        this.stored = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (statement instanceof Update update) {
            stored.addAll(FunctionCollector.collect(update.getUpdateSets()));
        } else if (statement instanceof Insert || statement instanceof Upsert) {
            stored.addAll(FunctionCollector.collect(statement));
        }
    }

    /** A trailing {@code INTO @var [, @var]} (MySQL's SELECT … INTO), which JSqlParser does not read. */
    private static final java.util.regex.Pattern INTO_VARIABLES = java.util.regex.Pattern.compile(
            "(?is)\\s+INTO\\s+@[A-Za-z0-9_$.]+(\\s*,\\s*@[A-Za-z0-9_$.]+)*\\s*;?\\s*$");

    /**
     * Parses {@code sql}.
     *
     * @param parser runs JSqlParser with the statement's deadline, after the nesting check
     * @throws ProxyException PARSE_ERROR with the parser's position, BAD_ARGUMENTS for a wrong argument count,
     *     STATEMENT_TOO_DEEP or PARSE_TIMEOUT
     */
    public static StatementAnalysis parse(String sql, BoundedParser parser) {
        Statement statement;
        String suffix = "";
        java.util.regex.Matcher into = INTO_VARIABLES.matcher(sql);
        if (into.find() && sql.trim().regionMatches(true, 0, "SELECT", 0, 6)) {
            suffix = sql.substring(into.start()).trim().replaceFirst(";\\s*$", "");
            sql = sql.substring(0, into.start());
        }
        JsonTables jsonTables = JsonTables.hide(sql);
        try {
            statement = parser.parse(jsonTables.parsed());
        } catch (JSQLParserException e) {
            throw new ProxyException(ProxyError.PARSE_ERROR, "ragproxy cannot parse this statement, which it must"
                    + " rewrite because it calls an AI function: " + parserMessage(e)
                    + "; check the syntax near that position (the statement was not sent to the backend)");
        }
        List<AiCall> calls = new ArrayList<>();
        List<Function> vectorFunctions = new ArrayList<>();
        for (Function function : FunctionCollector.collect(statement)) {
            List<String> parts = function.getMultipartName();
            if (parts == null || parts.size() != 1) {
                continue; // db.embed(...) is a stored function of that database
            }
            AiFunction ai = AiFunction.named(function.getName());
            if (ai != null) {
                calls.add(call(function, ai));
            } else if (isTidbVectorFunction(function.getName())) {
                vectorFunctions.add(function);
            }
        }
        StatementAnalysis analysis = new StatementAnalysis(statement, calls, vectorFunctions, suffix);
        analysis.jsonTables = jsonTables;
        return analysis;
    }

    /**
     * {@code sql} rendered from this statement's tree with the text the parser was not shown put back
     * ({@code JSON_TABLE}'s path and COLUMNS clause, see {@link JsonTables}).
     */
    String restoreHidden(String sql) {
        return jsonTables == null ? sql : jsonTables.restore(sql);
    }

    /** Whether part of the statement's text was hidden from the parser (and is put back into the rendering). */
    boolean hidesText() {
        return jsonTables != null && !jsonTables.hidesNothing();
    }

    private static boolean isTidbVectorFunction(String name) {
        return Dialect.MARIADB.translateFunction(name) != null;
    }

    private static AiCall call(Function function, AiFunction ai) {
        List<Expression> args = new ArrayList<>();
        if (function.getParameters() != null) {
            for (Object o : function.getParameters()) {
                args.add((Expression) o);
            }
        }
        if (function.isDistinct() || function.isAllColumns() || args.size() < ai.minArgs() || args.size() > ai.maxArgs()) {
            throw new ProxyException(ProxyError.BAD_ARGUMENTS, ai.name() + "() takes " + ai.signature() + "; got "
                    + args.size() + " argument" + (args.size() == 1 ? "" : "s") + " in " + function);
        }
        return new AiCall(function, ai, args);
    }

    private static String parserMessage(JSQLParserException e) {
        String m = e.getMessage() == null ? "syntax error" : e.getMessage();
        int nl = m.indexOf('\n');
        String first = (nl < 0 ? m : m.substring(0, nl)).trim();
        java.util.regex.Matcher at = java.util.regex.Pattern.compile("at line (\\d+), column (\\d+)").matcher(m);
        if (at.find() && !first.contains("line " + at.group(1))) {
            first = first + " (line " + at.group(1) + ", column " + at.group(2) + ")";
        }
        return first;
    }

    /** The parsed statement (mutated by rendering). */
    public Statement statement() {
        return statement;
    }

    /** AI calls in the order the parser met them (outer calls before the calls nested in their arguments). */
    public List<AiCall> calls() {
        return calls;
    }

    /** TiDB-spelled vector functions ({@code VEC_COSINE_DISTANCE}, …) that a MariaDB backend needs renamed. */
    public List<Function> vectorFunctions() {
        return vectorFunctions;
    }

    /**
     * Whether the call's result is stored (a value of INSERT, REPLACE or UPDATE … SET): its text is a document;
     * any other text (in a WHERE or ORDER BY, in a SELECT) is a query.
     */
    public boolean stored(AiCall call) {
        return stored.contains(call.node()) && call.function().vectorArg() < 0; // a distance's text is a query
    }

    /** Text the parser does not read but the backend must get back, after the rendered statement (SELECT … INTO @v). */
    public String suffix() {
        return suffix;
    }

    /**
     * The first column an expression reads, or null when it is constant (literals, user variables and functions
     * of them). A subquery counts as reading columns.
     */
    public static String firstColumn(Expression e) {
        String[] found = new String[1];
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(Column column, S context) {
                if (found[0] == null && !ConstantValues.isDoubleQuotedString(column)) {
                    found[0] = column.getFullyQualifiedName();
                }
                return null;
            }

            @Override
            public <S> Void visit(ParenthesedSelect select, S context) {
                if (found[0] == null) {
                    found[0] = "(subquery)";
                }
                return null;
            }

            @Override
            public <S> Void visit(Select select, S context) {
                if (found[0] == null) {
                    found[0] = "(subquery)";
                }
                return null;
            }
        }, null);
        return found[0];
    }
}
