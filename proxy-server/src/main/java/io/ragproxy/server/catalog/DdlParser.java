package io.ragproxy.server.catalog;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.text.SqlMode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.scan.FunctionNames;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Recursive-descent parser of the catalog DDL JSqlParser does not read: Aurora's {@code CREATE FUNCTION … ALIAS
 * AWS_BEDROCK_INVOKE_MODEL} and {@code DROP FUNCTION}, MindsDB's {@code CREATE/DROP MODEL} and
 * {@code CREATE/DROP ML_ENGINE}. Errors are ERR 7002 naming the line and column, e.g.
 * {@code line 1, column 42: expected MODEL after ALIAS AWS_BEDROCK_INVOKE_MODEL, found MODE}.
 */
final class DdlParser {

    /** A parsed catalog statement. */
    sealed interface Ddl permits CreateFunction, Drop, CreateModel, CreateMlEngine {}

    /** {@code CREATE [OR REPLACE] FUNCTION [IF NOT EXISTS] … ALIAS AWS_BEDROCK_INVOKE_MODEL …}. */
    record CreateFunction(AliasFunction function, boolean orReplace, boolean ifNotExists) implements Ddl {}

    /**
     * {@code DROP FUNCTION|MODEL|ML_ENGINE [IF EXISTS] [qualifier.]name}.
     *
     * @param qualifier the database (FUNCTION) or MindsDB project (MODEL) written before the name, or null
     */
    record Drop(CatalogObject.Kind kind, String qualifier, String name, boolean ifExists) implements Ddl {}

    /**
     * {@code CREATE [OR REPLACE] MODEL [IF NOT EXISTS] m PREDICT … USING …}.
     *
     * @param enginePosition where the engine's value is, for a message when no such engine exists
     */
    record CreateModel(MindsModel model, boolean orReplace, boolean ifNotExists, String enginePosition) implements Ddl {}

    /** {@code CREATE ML_ENGINE [IF NOT EXISTS] e FROM bedrock [USING …]}. */
    record CreateMlEngine(MlEngine engine, boolean ifNotExists) implements Ddl {}

    /** MindsDB's default project, accepted as a qualifier of model names. */
    static final String MINDSDB_PROJECT = "mindsdb";

    private static final Set<String> MODEL_PARAMETERS = Set.of("engine", "model_id", "mode", "prompt_template",
            "question_column", "context_column", "max_tokens", "temperature", "top_p", "stop");
    private static final Set<String> ENGINE_PARAMETERS = Set.of("region_name");
    private static final String CREDENTIALS_ADVICE = "ragproxy never takes AWS credentials in SQL (they would travel"
            + " in statements and land in the catalog); remove it from the statement and give the proxy its"
            + " credentials through the AWS default credentials provider chain (AWS_PROFILE, AWS_ACCESS_KEY_ID /"
            + " AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in the proxy's environment, SSO, or an instance or"
            + " container role)";

    private final String sql;
    private final TokenCursor t;

    private DdlParser(String sql, SqlMode mode) {
        this.sql = sql;
        this.t = new TokenCursor(sql, mode);
    }

    /** Parses one catalog statement. */
    static Ddl parse(String sql) {
        return parse(sql, SqlMode.DEFAULT);
    }

    /**
     * Parses one catalog statement whose strings and {@code "…"} read as the backend reads them under the session's
     * {@code mode}: under NO_BACKSLASH_ESCAPES {@code 'C:\new'} is five characters, under ANSI_QUOTES {@code "x"}
     * is a name, not a string.
     */
    static Ddl parse(String sql, SqlMode mode) {
        return new DdlParser(sql, mode).statement();
    }

    private Ddl statement() {
        if (t.accept("DROP")) {
            Token what = t.take();
            CatalogObject.Kind kind = what.is("FUNCTION") ? CatalogObject.Kind.FUNCTION
                    : what.is("MODEL") ? CatalogObject.Kind.MODEL
                    : what.is("ML_ENGINE") ? CatalogObject.Kind.ML_ENGINE : null;
            if (kind == null) {
                throw t.error(what, "expected FUNCTION, MODEL or ML_ENGINE after DROP, found " + what.describe());
            }
            return drop(kind);
        }
        t.expect("CREATE", "the start of the statement");
        boolean orReplace = false;
        if (t.accept("OR")) {
            t.expect("REPLACE", "CREATE OR");
            orReplace = true;
        }
        String definer = null;
        if (t.peek().is("DEFINER")) {
            definer = definer();
        }
        if (t.peek().is("AGGREGATE")) {
            throw t.error(t.peek(), "an AWS_BEDROCK_INVOKE_MODEL function cannot be AGGREGATE");
        }
        if (t.accept("FUNCTION")) {
            return createFunction(orReplace, definer);
        }
        if (definer == null && t.accept("MODEL")) {
            return createModel(orReplace);
        }
        if (definer == null && !orReplace && t.accept("ML_ENGINE")) {
            return createMlEngine();
        }
        throw t.expected(definer == null ? "FUNCTION, MODEL or ML_ENGINE" : "FUNCTION", t.previous().upper());
    }

    // ---------------------------------------------------------------------------------------- Aurora functions

    private CreateFunction createFunction(boolean orReplace, String definerBefore) {
        boolean ifNotExists = ifNotExists("FUNCTION");
        Token first = t.expectName("the function's name", "CREATE FUNCTION");
        String schema = null;
        Token nameToken = first;
        if (t.acceptSymbol('.')) {
            schema = first.text();
            nameToken = t.expectName("the function's name", first.text() + ".");
        }
        String name = functionName(nameToken);
        t.expectSymbol('(', "the function name " + nameToken.text());
        if (t.peek().isSymbol(')')) {
            throw t.error(t.peek(), "an AWS_BEDROCK_INVOKE_MODEL function takes exactly one parameter, the request"
                    + " body, e.g. (request_body TEXT)");
        }
        Token parameter = t.expectName("the parameter's name", "(");
        String parameterType = type("the parameter's type", parameter.text());
        if (t.peek().isSymbol(',')) {
            throw t.error(t.peek(), "an AWS_BEDROCK_INVOKE_MODEL function takes exactly one parameter, the request"
                    + " body; found a second one");
        }
        t.expectSymbol(')', parameter.text() + " " + parameterType);
        String definer = definerBefore;
        if (t.peek().is("DEFINER")) {
            definer = definer();
        }
        t.expect("RETURNS", ")");
        Token returnsAt = t.peek();
        String returns = type("the return type", "RETURNS");
        if (returns.equalsIgnoreCase("JSON")) {
            throw t.error(returnsAt, "Amazon Bedrock functions do not return JSON (as on Aurora): write RETURNS TEXT"
                    + " and read the result with JSON_EXTRACT, or CAST it");
        }
        String sqlSecurity = null;
        while (!t.peek().is("ALIAS")) {
            if (t.accept("SQL")) {
                t.expect("SECURITY", "SQL");
                Token s = t.take();
                if (!s.is("DEFINER") && !s.is("INVOKER")) {
                    throw t.error(s, "expected DEFINER or INVOKER after SQL SECURITY, found " + s.describe());
                }
                sqlSecurity = s.upper();
            } else if (t.accept("COMMENT")) {
                t.expectString("the comment", "COMMENT");
            } else {
                throw t.expected("ALIAS", "RETURNS " + returns + (sqlSecurity == null ? "" : " SQL SECURITY " + sqlSecurity));
            }
        }
        t.take();
        Token alias = t.expectName("AWS_BEDROCK_INVOKE_MODEL", "ALIAS");
        if (!alias.is("AWS_BEDROCK_INVOKE_MODEL")) {
            if (alias.upper().startsWith("AWS_")) {
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "line " + alias.line() + ", column "
                        + alias.column() + ": ragproxy runs AWS_BEDROCK_INVOKE_MODEL alias functions only, not "
                        + alias.text());
            }
            throw t.error(alias, "expected AWS_BEDROCK_INVOKE_MODEL after ALIAS, found " + alias.describe());
        }
        t.expect("MODEL", "ALIAS AWS_BEDROCK_INVOKE_MODEL");
        t.expect("ID", "MODEL");
        String modelId = t.expectString("the Bedrock model id", "MODEL ID").text().trim();
        if (modelId.isEmpty()) {
            throw t.error(t.previous(), "the model id is empty");
        }
        String contentType = null;
        String accept = null;
        Integer timeoutMs = null;
        String after = "MODEL ID '" + modelId + "'";
        while (t.peek().type() != Type.END && !t.peek().isSymbol(';')) {
            Token option = t.take();
            if (option.is("CONTENT_TYPE") && contentType == null) {
                contentType = t.expectString("the content type", "CONTENT_TYPE").text();
                after = "CONTENT_TYPE";
            } else if (option.is("ACCEPT") && accept == null) {
                accept = t.expectString("the accepted media type", "ACCEPT").text();
                after = "ACCEPT";
            } else if (option.is("TIMEOUT_MS") && timeoutMs == null) {
                Token n = t.take();
                if (n.type() != Type.NUMBER || !n.text().matches("\\d{1,9}") || Integer.parseInt(n.text()) == 0) {
                    throw t.error(n, "expected a positive number of milliseconds after TIMEOUT_MS, found " + n.describe());
                }
                timeoutMs = Integer.parseInt(n.text());
                after = "TIMEOUT_MS";
            } else {
                throw t.error(option, "expected CONTENT_TYPE, ACCEPT, TIMEOUT_MS (each at most once) or the end of the"
                        + " statement after " + after + ", found " + option.describe());
            }
        }
        t.expectEnd(after);
        AliasFunction f = new AliasFunction(name, schema, parameter.text(), parameterType, returns, modelId,
                contentType, accept, timeoutMs, definer, sqlSecurity);
        return new CreateFunction(f, orReplace, ifNotExists);
    }

    /** A function name the scanner can find in calls: an identifier it reads as one word. */
    private static String functionName(Token token) {
        try {
            FunctionNames.of(token.text());
        } catch (IllegalArgumentException e) {
            throw SqlLexer.error(token, "ragproxy finds calls of user functions by their unquoted name, so '"
                    + token.text() + "' must be a plain identifier (letters, digits, _ and $)");
        }
        if (token.text().chars().allMatch(Character::isDigit)) {
            throw SqlLexer.error(token, "a function name cannot be a number");
        }
        return token.text();
    }

    /** A data type as written: {@code TEXT}, {@code VARCHAR(2000)}, {@code TEXT CHARACTER SET utf8mb4}. */
    private String type(String what, String after) {
        Token start = t.expectName(what, after);
        Token end = start;
        if (t.acceptSymbol('(')) {
            while (!t.peek().isSymbol(')')) {
                Token x = t.take();
                if (x.type() == Type.END) {
                    throw t.expected("')'", start.text() + "(");
                }
            }
            end = t.take();
        }
        while (true) {
            if (t.peek().is("CHARACTER") && t.peek(1).is("SET")) {
                t.take();
                t.take();
                end = t.expectName("a character set", "CHARACTER SET");
            } else if (t.peek().is("CHARSET")) {
                t.take();
                end = t.expectName("a character set", "CHARSET");
            } else if (t.peek().is("COLLATE")) {
                t.take();
                end = t.expectName("a collation", "COLLATE");
            } else {
                break;
            }
        }
        return sql.substring(start.start(), end.end());
    }

    /** {@code DEFINER = user}, returned as written. */
    private String definer() {
        Token d = t.take();
        t.expectSymbol('=', "DEFINER");
        Token user = t.peek();
        if (user.is("CURRENT_USER")) {
            t.take();
            if (t.acceptSymbol('(')) {
                t.expectSymbol(')', "CURRENT_USER(");
            }
        } else {
            if (user.type() != Type.STRING && !user.isName()) {
                throw t.expected("a user ('name'@'host' or CURRENT_USER)", "DEFINER =");
            }
            t.take();
            if (t.acceptSymbol('@')) {
                Token host = t.peek();
                if (host.type() != Type.STRING && !host.isName()) {
                    throw t.expected("a host", "@");
                }
                t.take();
            }
        }
        return sql.substring(d.start(), t.previous().end());
    }

    private boolean ifNotExists(String after) {
        // IF NOT EXISTS; IF followed by anything else is the object's name (CREATE FUNCTION if (…), refused later).
        if (t.peek().is("IF") && t.peek(1).is("NOT")) {
            t.take();
            t.expect("NOT", "IF");
            t.expect("EXISTS", "IF NOT");
            return true;
        }
        return false;
    }

    private Drop drop(CatalogObject.Kind kind) {
        String after = "DROP " + kind.keyword();
        boolean ifExists = false;
        if (t.accept("IF")) {
            t.expect("EXISTS", "IF");
            ifExists = true;
            after += " IF EXISTS";
        }
        Token first = t.expectName("the name", after);
        String qualifier = null;
        Token name = first;
        if (kind != CatalogObject.Kind.ML_ENGINE && t.acceptSymbol('.')) {
            qualifier = first.text();
            name = t.expectName("the name", first.text() + ".");
        }
        t.expectEnd(name.text());
        return new Drop(kind, qualifier, name.text(), ifExists);
    }

    // ---------------------------------------------------------------------------------------- MindsDB

    private CreateModel createModel(boolean orReplace) {
        boolean ifNotExists = ifNotExists("MODEL");
        Token name = modelName("CREATE MODEL");
        if (t.peek().is("FROM")) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "line " + t.peek().line() + ", column "
                    + t.peek().column() + ": a Bedrock model is not trained on data; leave out FROM … and write"
                    + " CREATE MODEL " + name.text() + " PREDICT <column> USING engine = …");
        }
        t.expect("PREDICT", name.text());
        Token predict = t.expectName("the predicted column", "PREDICT");
        t.expect("USING", "PREDICT " + predict.text());
        Map<String, Parameter> using = using("CREATE MODEL", MODEL_PARAMETERS);
        t.expectEnd("the USING parameters");

        Parameter engine = using.get("engine");
        if (engine == null) {
            throw SqlLexer.error(t.previous(), "CREATE MODEL needs engine = '<ML engine>' (an engine made with"
                    + " CREATE ML_ENGINE … FROM bedrock, or 'bedrock')");
        }
        String mode = text(using, "mode");
        if (mode != null && !mode.equalsIgnoreCase(MindsModel.DEFAULT_MODE)
                && !mode.equalsIgnoreCase(MindsModel.CONVERSATIONAL)) {
            throw using.get("mode").error("mode must be 'default' or 'conversational', not '" + mode + "'");
        }
        String template = text(using, "prompt_template");
        String question = text(using, "question_column");
        String context = text(using, "context_column");
        if ((template == null) == (question == null) || (context != null && question == null)) {
            Token at = using.containsKey("prompt_template") ? using.get("prompt_template").key() : predict;
            throw SqlLexer.error(at, "give either prompt_template, or question_column with an optional context_column"
                    + " (as MindsDB's Bedrock handler takes them)");
        }
        if (template != null && !MindsModel.PLACEHOLDER.matcher(template).find()) {
            throw using.get("prompt_template").error("prompt_template has no {{column}} placeholder: name the input"
                    + " column in it, e.g. 'Answer this: {{question}}'");
        }
        List<String> stop = new ArrayList<>();
        Parameter stopParam = using.get("stop");
        if (stopParam != null) {
            if (stopParam.value().isArray()) {
                stopParam.value().forEach(s -> stop.add(s.asText()));
            } else if (stopParam.value().isTextual()) {
                stop.add(stopParam.value().asText());
            } else {
                throw stopParam.error("stop must be a string or a list of strings");
            }
        }
        MindsModel model = new MindsModel(name.text(), predict.text(), engine.textValue(), text(using, "model_id"),
                mode, template, question, context, integer(using, "max_tokens"), number(using, "temperature"),
                number(using, "top_p"), stop);
        return new CreateModel(model, orReplace, ifNotExists, "line " + engine.key().line() + ", column "
                + engine.key().column());
    }

    private Token modelName(String after) {
        Token first = t.expectName("the model's name", after);
        if (t.acceptSymbol('.')) {
            if (!first.text().equalsIgnoreCase(MINDSDB_PROJECT)) {
                throw t.error(first, "ragproxy keeps models in one project, mindsdb; write " + MINDSDB_PROJECT
                        + ".<name> or just the name");
            }
            return t.expectName("the model's name", first.text() + ".");
        }
        return first;
    }

    private CreateMlEngine createMlEngine() {
        boolean ifNotExists = ifNotExists("ML_ENGINE");
        Token name = t.expectName("the engine's name", "CREATE ML_ENGINE");
        t.expect("FROM", name.text());
        Token handler = t.expectName("the handler", "FROM");
        if (!handler.is("bedrock")) {
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "line " + handler.line() + ", column "
                    + handler.column() + ": ragproxy runs ML engines FROM bedrock only, not " + handler.text());
        }
        Map<String, Parameter> using = new LinkedHashMap<>();
        if (t.accept("USING")) {
            using = using("CREATE ML_ENGINE", ENGINE_PARAMETERS);
        }
        t.expectEnd(using.isEmpty() ? handler.text() : "the USING parameters");
        Map<String, JsonNode> values = new LinkedHashMap<>();
        using.forEach((k, v) -> values.put(k, v.value()));
        return new CreateMlEngine(new MlEngine(name.text(), "bedrock", values), ifNotExists);
    }

    /** A USING parameter: its key token (for positions) and its value. */
    private record Parameter(Token key, JsonNode value) {
        ProxyException error(String message) {
            return SqlLexer.error(key, message);
        }

        String textValue() {
            return value.isNull() ? null : value.asText();
        }
    }

    /** {@code key = value [, key = value]*}; credentials are refused, unknown keys are errors. */
    private Map<String, Parameter> using(String statement, Set<String> known) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        do {
            Token key = t.expectName("a parameter name", out.isEmpty() ? "USING" : ",");
            String k = key.text().toLowerCase(Locale.ROOT);
            if (isCredential(k)) {
                throw new ProxyException(ProxyError.CREDENTIALS_IN_SQL, "line " + key.line() + ", column "
                        + key.column() + ": " + statement + " got " + k + "; " + CREDENTIALS_ADVICE);
            }
            if (!known.contains(k)) {
                throw t.error(key, statement + " takes " + String.join(", ", known.stream().sorted().toList())
                        + "; not " + key.text());
            }
            if (out.containsKey(k)) {
                throw t.error(key, k + " is given twice");
            }
            t.expectSymbol('=', k);
            out.put(k, new Parameter(key, value(k)));
        } while (t.acceptSymbol(','));
        return out;
    }

    static boolean isCredential(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.startsWith("aws_access_key") || k.startsWith("aws_secret") || k.equals("aws_session_token")
                || k.contains("secret") || k.contains("password") || k.equals("api_key") || k.endsWith("_api_key")
                || k.equals("session_token");
    }

    private JsonNode value(String key) {
        Token v = t.take();
        if (v.type() == Type.STRING) {
            return CatalogObject.JSON.getNodeFactory().textNode(v.text());
        }
        if (v.isSymbol('-') && t.peek().type() == Type.NUMBER) {
            return number(t.take(), true);
        }
        if (v.type() == Type.NUMBER) {
            return number(v, false);
        }
        if (v.is("TRUE") || v.is("FALSE")) {
            return CatalogObject.JSON.getNodeFactory().booleanNode(v.is("TRUE"));
        }
        if (v.is("NULL")) {
            return CatalogObject.JSON.getNodeFactory().nullNode();
        }
        if (v.isSymbol('[')) {
            ArrayNode a = CatalogObject.JSON.createArrayNode();
            if (!t.acceptSymbol(']')) {
                do {
                    a.add(value(key));
                } while (t.acceptSymbol(','));
                t.expectSymbol(']', "the list of " + key);
            }
            return a;
        }
        if (v.type() == Type.WORD) {
            return CatalogObject.JSON.getNodeFactory().textNode(v.text());
        }
        throw t.error(v, "expected a value (a quoted string, a number or a [list]) after " + key + " =, found "
                + v.describe());
    }

    private JsonNode number(Token n, boolean negative) {
        try {
            BigDecimal d = new BigDecimal(n.text());
            return CatalogObject.JSON.getNodeFactory().numberNode(negative ? d.negate() : d);
        } catch (NumberFormatException e) {
            throw t.error(n, "not a number: " + n.text());
        }
    }

    private static String text(Map<String, Parameter> using, String key) {
        Parameter p = using.get(key);
        if (p == null || p.value().isNull()) {
            return null;
        }
        if (!p.value().isTextual() && !p.value().isNumber()) {
            throw p.error(key + " must be a string");
        }
        return p.value().asText();
    }

    private static Integer integer(Map<String, Parameter> using, String key) {
        Parameter p = using.get(key);
        if (p == null || p.value().isNull()) {
            return null;
        }
        if (!p.value().isNumber() || !p.value().canConvertToInt() || p.value().decimalValue().scale() > 0
                || p.value().asInt() < 1) {
            throw p.error(key + " must be a positive whole number");
        }
        return p.value().asInt();
    }

    private static Double number(Map<String, Parameter> using, String key) {
        Parameter p = using.get(key);
        if (p == null || p.value().isNull()) {
            return null;
        }
        if (!p.value().isNumber()) {
            throw p.error(key + " must be a number");
        }
        return p.value().asDouble();
    }
}
