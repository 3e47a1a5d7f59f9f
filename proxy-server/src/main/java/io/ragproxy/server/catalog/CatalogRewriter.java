package io.ragproxy.server.catalog;

import io.ragproxy.server.scan.SqlLexer;
import io.ragproxy.server.scan.SqlLexer.Token;
import io.ragproxy.server.scan.SqlLexer.Type;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.dialect.Dialect;
import io.ragproxy.server.plan.FunctionCollector;
import io.ragproxy.server.plan.StatementAnalysis;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;
import net.sf.jsqlparser.statement.upsert.Upsert;

/**
 * Rewrites the user's catalog objects in a parsed statement into ragproxy's built-in AI SQL, which the planners
 * then run like any other statement:
 * <ul>
 *   <li>a call of an Aurora function {@code f(body)} → {@code INVOKE_MODEL('<model id>', body, '<content type>',
 *       '<accept>' [, '{"timeout_ms":n}'])};</li>
 *   <li>a MindsDB model read as a table: {@code SELECT * FROM m WHERE question = 'q'} → {@code SELECT 'q' AS
 *       question, GENERATE(<prompt>, …) AS answer}; {@code SELECT … FROM t AS d JOIN m} → {@code SELECT …,
 *       GENERATE(CONCAT(<template with d.column>), …) AS answer FROM t AS d} (conversational mode: the rows'
 *       prompts, read first, become one conversation answered in the last row);</li>
 *   <li>INSERT, REPLACE and UPDATE of the source of an auto-embedding column also set the column:
 *       {@code embedding = EMBED_TEXT('model', <the new source value>, '<options>')};</li>
 *   <li>{@code VEC_EMBED_COSINE_DISTANCE(column, 'text')} (or L2) over an auto-embedding column →
 *       {@code VEC_COSINE_DISTANCE(column, EMBED_TEXT('model', 'text', '<search options>'))}.</li>
 * </ul>
 * Unaliased select-list items that change keep the label the client wrote. Stateless and thread-safe.
 */
public final class CatalogRewriter {
    /** Words in a source expression that are SQL, not column names. */
    private static final Set<String> KEYWORDS = Set.of("null", "true", "false", "case", "when", "then", "else", "end",
            "and", "or", "not", "is", "in", "like", "as", "binary", "using", "interval", "div", "mod", "xor", "between",
            "separator", "distinct", "char", "collate", "escape", "regexp", "rlike", "sounds");

    /**
     * The statement with the catalog's objects rewritten, or null when it uses none of them.
     *
     * @param sql the statement as the client wrote it
     * @param analysis the statement parsed (its tree is changed in place)
     */
    public CompletableFuture<String> rewrite(StatementSession session, String sql, StatementAnalysis analysis,
            CatalogSnapshot snapshot) {
        return rewrite(session, sql, analysis, snapshot, Dialect.MARIADB, width -> { });
    }

    /**
     * The statement with the catalog's objects rewritten, or null when it uses none of them; {@code searchWidth}
     * hears, before the future completes, how many candidates the widest knowledge base vector search in it should
     * weigh (nothing when it has none): on MariaDB the statement runs with {@code mhnsw_ef_search} raised to it.
     * {@code dialect} spells what differs between backends (a hybrid search's full-text score).
     */
    public CompletableFuture<String> rewrite(StatementSession session, String sql, StatementAnalysis analysis,
            CatalogSnapshot snapshot, Dialect dialect, java.util.function.IntConsumer searchWidth) {
        if (!snapshot.mentionedIn(sql)) {
            return CompletableFuture.completedFuture(null);
        }
        Statement statement = analysis.statement();
        List<Table> tables = FunctionCollector.collect(statement, Table.class);
        boolean needDatabase = false;
        for (Table t : tables) {
            needDatabase |= t.getSchemaName() == null && snapshot.hasRulesForTableName(Sql.unquote(t.getName()));
        }
        if (!needDatabase && !snapshot.functionNames().isEmpty()) {
            for (net.sf.jsqlparser.expression.Function f : FunctionCollector.collect(statement)) {
                List<String> parts = f.getMultipartName();
                // An unqualified call of a name some database has a function of resolves in the current database.
                needDatabase |= parts != null && parts.size() == 1 && !f.getName().startsWith("`")
                        && snapshot.functionNames().contains(CatalogObject.key(Sql.unquote(f.getName())));
            }
        }
        CompletableFuture<String> database = needDatabase ? CatalogStore.currentDatabase(session)
                : CompletableFuture.completedFuture(null);
        return database.thenCompose(db -> {
            Rewrite r = new Rewrite(session, snapshot, db, statement, tables, dialect);
            return r.run().thenApply(changed -> {
                if (r.searchWidth > 0) {
                    searchWidth.accept(r.searchWidth);
                }
                return changed ? statement + (analysis.suffix().isEmpty() ? "" : " " + analysis.suffix()) : null;
            });
        });
    }

    /** One statement's rewrite. */
    private static final class Rewrite {
        final StatementSession session;
        final CatalogSnapshot snapshot;
        final String database;
        final Statement statement;
        final List<Table> tables;
        boolean changed;
        final Dialect dialect;
        /** The widest knowledge base vector search's candidates, 0 for none. */
        int searchWidth;

        Rewrite(StatementSession session, CatalogSnapshot snapshot, String database, Statement statement,
                List<Table> tables, Dialect dialect) {
            this.dialect = dialect;
            this.session = session;
            this.snapshot = snapshot;
            this.database = database;
            this.statement = statement;
            this.tables = tables;
        }

        CompletableFuture<Boolean> run() {
            functions();
            CompletableFuture<Void> models = CompletableFuture.completedFuture(null);
            for (PlainSelect select : FunctionCollector.collect(statement, PlainSelect.class)) {
                models = models.thenCompose(v -> model(select));
            }
            return models.thenCompose(v -> writes()).thenApply(v -> changed);
        }

        // ------------------------------------------------------------------------------------ function calls

        /** User function calls and distances over auto-embedding columns, rewritten in place. */
        void functions() {
            Map<net.sf.jsqlparser.expression.Function, Runnable> rewrites = new IdentityHashMap<>();
            for (net.sf.jsqlparser.expression.Function f : FunctionCollector.collect(statement)) {
                List<String> parts = f.getMultipartName();
                if (parts == null || parts.isEmpty() || parts.size() > 2) {
                    continue;
                }
                if (parts.size() == 2) {
                    // db.fn(…): the Aurora function fn of database db, from anywhere.
                    AliasFunction alias = parts.get(1).startsWith("`") ? null
                            : snapshot.function(Sql.unquote(parts.get(0)), Sql.unquote(parts.get(1)));
                    if (alias != null) {
                        rewrites.put(f, () -> invokeModel(f, alias));
                    }
                    continue;
                }
                String name = Sql.unquote(f.getName());
                AliasFunction alias = f.getName().startsWith("`") ? null : snapshot.function(database, name);
                if (alias != null) {
                    rewrites.put(f, () -> invokeModel(f, alias));
                    continue;
                }
                String upper = name.toUpperCase(Locale.ROOT);
                if ((upper.equals("VEC_EMBED_COSINE_DISTANCE") || upper.equals("VEC_EMBED_L2_DISTANCE"))
                        && arguments(f).size() == 2 && arguments(f).get(0) instanceof Column c) {
                    EmbeddingRule rule = ruleOf(c);
                    if (rule != null) {
                        rewrites.put(f, () -> distance(f, c, rule, upper.equals("VEC_EMBED_COSINE_DISTANCE")));
                    }
                }
            }
            if (rewrites.isEmpty()) {
                return;
            }
            keepLabels(rewrites.keySet());
            rewrites.values().forEach(Runnable::run);
            changed = true;
        }

        private void invokeModel(net.sf.jsqlparser.expression.Function f, AliasFunction alias) {
            List<Expression> args = arguments(f);
            if (args.size() != 1 || f.isDistinct() || f.isAllColumns()) {
                throw new ProxyException(ProxyError.BAD_ARGUMENTS, alias.name() + "() takes one argument ("
                        + alias.parameter() + " " + alias.parameterType() + "), the request body for "
                        + alias.modelId() + "; got " + args.size() + " in " + f);
            }
            List<Expression> call = new ArrayList<>(List.of(string(alias.modelId()), args.get(0),
                    string(alias.contentType()), string(alias.accept())));
            if (alias.invokeOptions() != null) {
                call.add(string(alias.invokeOptions()));
            }
            f.setName("INVOKE_MODEL");
            f.setParameters(new ExpressionList<>(call));
        }

        private void distance(net.sf.jsqlparser.expression.Function f, Column c, EmbeddingRule rule, boolean cosine) {
            Expression text = arguments(f).get(1);
            List<Expression> embed = new ArrayList<>(List.of(string(rule.model()), text));
            if (rule.searchOptions() != null) {
                embed.add(string(rule.searchOptions()));
            }
            net.sf.jsqlparser.expression.Function embedText = new net.sf.jsqlparser.expression.Function();
            embedText.setName("EMBED_TEXT");
            embedText.setParameters(new ExpressionList<>(embed));
            f.setName(cosine ? "VEC_COSINE_DISTANCE" : "VEC_L2_DISTANCE");
            f.setParameters(new ExpressionList<>(List.<Expression>of(c, embedText)));
        }

        /** The auto-embedding column a column reference names, through the statement's tables and aliases. */
        private EmbeddingRule ruleOf(Column c) {
            String column = Sql.unquote(c.getColumnName());
            String qualifier = c.getTable() == null || c.getTable().getName() == null ? null
                    : Sql.unquote(c.getTable().getName());
            for (Table t : tables) {
                if (qualifier != null && !qualifier.equalsIgnoreCase(t.getAlias() != null
                        ? Sql.unquote(t.getAlias().getName()) : Sql.unquote(t.getName()))) {
                    continue;
                }
                for (EmbeddingRule r : rulesOf(t)) {
                    if (r.column().equalsIgnoreCase(column)) {
                        return r;
                    }
                }
            }
            return null;
        }

        private List<EmbeddingRule> rulesOf(Table t) {
            String schema = t.getSchemaName() != null ? Sql.unquote(t.getSchemaName()) : database;
            return schema == null || t.getName() == null ? List.of() : snapshot.rules(schema, Sql.unquote(t.getName()));
        }

        /** Gives unaliased select items about to change the label the client's text had. */
        private void keepLabels(Set<net.sf.jsqlparser.expression.Function> changing) {
            for (SelectItem<?> item : FunctionCollector.collect(statement, SelectItem.class)) {
                if (item.getAlias() != null || item.getExpression() == null) {
                    continue;
                }
                if (FunctionCollector.collect(item.getExpression()).stream().anyMatch(changing::contains)) {
                    label(item, item.getExpression().toString());
                }
            }
        }

        // ------------------------------------------------------------------------------------ MindsDB models

        private CompletableFuture<Void> model(PlainSelect select) {
            if (select.getFromItem() instanceof Table from && knowledgeBaseOf(from) != null) {
                searchWidth = Math.max(searchWidth, KnowledgeBaseQuery.rewrite(select, knowledgeBaseOf(from), from,
                        dialect));
                changed = true;
                return CompletableFuture.completedFuture(null);
            }
            if (select.getJoins() != null) {
                for (Join j : select.getJoins()) {
                    if (j.getRightItem() instanceof Table t && knowledgeBaseOf(t) != null) {
                        throw new ProxyException(ProxyError.KNOWLEDGE_BASE_QUERY, "knowledge base " + t.getName()
                                + " is read on its own; join its results as a subquery: … JOIN (SELECT … FROM "
                                + t.getName() + " WHERE content = '…' LIMIT n) AS k ON …");
                    }
                }
            }
            MindsModel single = modelOf(select.getFromItem());
            if (single != null) {
                if (select.getJoins() != null && !select.getJoins().isEmpty()) {
                    throw modelQuery(single, "a model is read on its own (SELECT * FROM " + single.name()
                            + " WHERE …) or joined to a table (SELECT … FROM t AS d JOIN " + single.name() + ")");
                }
                singleRow(select, single, (Table) select.getFromItem());
                changed = true;
                return CompletableFuture.completedFuture(null);
            }
            if (select.getJoins() == null) {
                return CompletableFuture.completedFuture(null);
            }
            for (int i = 0; i < select.getJoins().size(); i++) {
                MindsModel joined = modelOf(select.getJoins().get(i).getRightItem());
                if (joined != null) {
                    changed = true;
                    return join(select, i, joined);
                }
            }
            return CompletableFuture.completedFuture(null);
        }

        /** The knowledge base a table reference names ({@code kb} or {@code mindsdb.kb}), or null. */
        private KnowledgeBase knowledgeBaseOf(Table t) {
            if (t.getName() == null || (t.getSchemaName() != null
                    && !Sql.unquote(t.getSchemaName()).equalsIgnoreCase(DdlParser.MINDSDB_PROJECT))) {
                return null;
            }
            return snapshot.knowledgeBase(Sql.unquote(t.getName()));
        }

        private MindsModel modelOf(FromItem item) {
            if (!(item instanceof Table t) || t.getName() == null) {
                return null;
            }
            if (t.getSchemaName() != null && !Sql.unquote(t.getSchemaName()).equalsIgnoreCase(DdlParser.MINDSDB_PROJECT)) {
                return null;
            }
            return snapshot.model(Sql.unquote(t.getName()));
        }

        /** {@code SELECT * FROM m WHERE question = 'q'}: one row, the inputs and the answer. */
        private void singleRow(PlainSelect select, MindsModel model, Table table) {
            String self = table.getAlias() != null ? Sql.unquote(table.getAlias().getName()) : Sql.unquote(table.getName());
            Map<String, Expression> given = new LinkedHashMap<>();
            if (select.getWhere() != null) {
                for (Expression condition : KnowledgeBaseQuery.conjuncts(select.getWhere())) {
                    if (!(condition instanceof EqualsTo eq)) {
                        throw modelQuery(model, "its WHERE gives the inputs as column = value joined by AND, not "
                                + condition);
                    }
                    Column column = eq.getLeftExpression() instanceof Column l && refersTo(l, self, model) ? l
                            : eq.getRightExpression() instanceof Column r && refersTo(r, self, model) ? r : null;
                    Expression value = column == eq.getLeftExpression() ? eq.getRightExpression() : eq.getLeftExpression();
                    String name = column == null ? null : Sql.unquote(column.getColumnName()).toLowerCase(Locale.ROOT);
                    if (name == null || !model.inputColumns().contains(name)
                            || StatementAnalysis.firstColumn(value) != null) {
                        throw modelQuery(model, "its WHERE gives the inputs (" + String.join(", ",
                                model.inputColumns()) + ") as column = constant, not " + condition);
                    }
                    given.put(name, value);
                }
            }
            List<String> missing = new ArrayList<>(model.inputColumns());
            missing.removeAll(given.keySet());
            if (!missing.isEmpty()) {
                throw modelQuery(model, "give every input in WHERE: " + String.join(" AND ", missing.stream()
                        .map(m -> m + " = '…'").toList()));
            }
            String answer = model.generateSql(model.promptSql(c -> operand(given.get(c))));
            List<SelectItem<?>> items = new ArrayList<>();
            for (SelectItem<?> item : select.getSelectItems()) {
                Expression e = item.getExpression();
                if (e instanceof AllColumns || (e instanceof AllTableColumns atc && refersTo(atc.getTable(), self, model))) {
                    given.forEach((name, value) -> items.add(item(value, name)));
                    items.add(item(parse(answer), model.predict()));
                } else if (e instanceof Column c && refersTo(c, self, model)) {
                    String name = Sql.unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
                    String label = item.getAlias() != null ? item.getAlias().getName() : Sql.unquote(c.getColumnName());
                    if (name.equalsIgnoreCase(model.predict())) {
                        items.add(item(parse(answer), label));
                    } else if (given.containsKey(name)) {
                        items.add(item(given.get(name), label));
                    } else {
                        throw modelQuery(model, "it has the columns " + String.join(", ", model.inputColumns()) + " and "
                                + model.predict() + ", not " + c.getColumnName());
                    }
                } else if (StatementAnalysis.firstColumn(e) == null) {
                    items.add(item);
                } else {
                    throw modelQuery(model, "select its columns (" + String.join(", ", model.inputColumns()) + ", "
                            + model.predict() + ") or *, not " + e);
                }
            }
            select.setSelectItems(items);
            select.setFromItem(null);
            select.setWhere(null);
        }

        /** {@code SELECT … FROM t AS d JOIN m}: the answer of every row of t. */
        private CompletableFuture<Void> join(PlainSelect select, int index, MindsModel model) {
            Join join = select.getJoins().get(index);
            Table table = (Table) join.getRightItem();
            String self = table.getAlias() != null ? Sql.unquote(table.getAlias().getName()) : Sql.unquote(table.getName());
            for (Expression on : join.getOnExpressions()) {
                if (mentions(on, self, model)) {
                    throw modelQuery(model, "a joined model takes no ON condition on its columns; filter the rows of"
                            + " the table in WHERE");
                }
                select.setWhere(select.getWhere() == null ? on : new AndExpression(select.getWhere(), on));
            }
            if (join.getUsingColumns() != null && !join.getUsingColumns().isEmpty()) {
                throw modelQuery(model, "a joined model takes no USING (…)");
            }
            select.getJoins().remove(index);
            if (select.getJoins().isEmpty()) {
                select.setJoins(null);
            }
            String qualifier = null;
            if (select.getJoins() == null) {
                FromItem from = select.getFromItem();
                qualifier = from.getAlias() != null ? from.getAlias().getName() : from instanceof Table t ? t.toString()
                        : null;
            }
            String q = qualifier;
            Function<String, String> column = name -> (q == null ? "" : q + ".") + Sql.ident(name);
            CompletableFuture<String> answer = model.conversational() ? conversation(select, model, column)
                    : CompletableFuture.completedFuture(model.generateSql(model.promptSql(column)));
            return answer.thenAccept(sql -> {
                Expression generated = parse(sql);
                List<SelectItem<?>> items = new ArrayList<>();
                for (SelectItem<?> item : select.getSelectItems()) {
                    Expression e = item.getExpression();
                    if (e instanceof AllColumns && !(e instanceof AllTableColumns)) {
                        items.add(item);
                        items.add(item(parse(sql), model.predict()));
                    } else if (e instanceof AllTableColumns atc && refersTo(atc.getTable(), self, model)) {
                        items.add(item(parse(sql), model.predict()));
                    } else if (e instanceof Column c && (refersTo(c, self, model) || (c.getTable() == null
                            && Sql.unquote(c.getColumnName()).equalsIgnoreCase(model.predict())))) {
                        String name = Sql.unquote(c.getColumnName());
                        String label = item.getAlias() != null ? item.getAlias().getName() : name;
                        if (name.equalsIgnoreCase(model.predict())) {
                            items.add(item(generated == null ? parse(sql) : generated, label));
                            generated = null;
                        } else if (model.inputColumns().contains(name.toLowerCase(Locale.ROOT))) {
                            items.add(item(parse(column.apply(name)), label));
                        } else {
                            throw modelQuery(model, "it has the columns " + String.join(", ", model.inputColumns())
                                    + " and " + model.predict() + ", not " + c);
                        }
                    } else {
                        items.add(item);
                    }
                }
                select.setSelectItems(items);
                for (Column c : FunctionCollector.collect(select, Column.class)) {
                    if (refersTo(c, self, model)) {
                        throw modelQuery(model, "refer to " + self + "." + model.predict() + " in the select list"
                                + " only; filter or sort on it in an outer query");
                    }
                }
            });
        }

        /**
         * Conversational mode: the rows' prompts, read first in the statement's order, are one conversation; the
         * answer to it goes in the last row, the other rows get NULL (as MindsDB documents it).
         */
        private CompletableFuture<String> conversation(PlainSelect select, MindsModel model,
                Function<String, String> column) {
            if (select.getGroupBy() != null || select.getDistinct() != null || select.getLimit() != null
                    || select.getOffset() != null || select.getHaving() != null) {
                throw modelQuery(model, "a conversational model answers all the rows as one conversation; leave out"
                        + " GROUP BY, DISTINCT, LIMIT and HAVING");
            }
            List<String> inputs = model.inputColumns();
            StringBuilder read = new StringBuilder("SELECT ");
            for (int i = 0; i < inputs.size(); i++) {
                read.append(i == 0 ? "" : ", ").append(column.apply(inputs.get(i)));
            }
            read.append(" FROM ").append(select.getFromItem());
            if (select.getJoins() != null) {
                select.getJoins().forEach(j -> read.append(' ').append(j));
            }
            if (select.getWhere() != null) {
                read.append(" WHERE ").append(select.getWhere());
            }
            String order = select.getOrderByElements() == null ? "" : "ORDER BY " + String.join(", ",
                    select.getOrderByElements().stream().map(Object::toString).toList());
            if (!order.isEmpty()) {
                read.append(' ').append(order);
            }
            return session.query(read.toString()).thenApply(result -> {
                List<String> turns = new ArrayList<>();
                for (List<String> row : result.first().rows()) {
                    Map<String, String> values = new LinkedHashMap<>();
                    for (int i = 0; i < inputs.size(); i++) {
                        values.put(inputs.get(i), row.get(i));
                    }
                    String prompt = model.promptText(values);
                    if (prompt != null) {
                        turns.add(prompt);
                    }
                }
                String answer = turns.isEmpty() ? "NULL" : model.generateSql(Sql.quote(String.join("\n", turns)));
                return "CASE WHEN ROW_NUMBER() OVER (" + order + ") = COUNT(*) OVER () THEN " + answer + " END";
            });
        }

        private static boolean refersTo(Column c, String self, MindsModel model) {
            return refersTo(c.getTable(), self, model);
        }

        private static boolean refersTo(Table t, String self, MindsModel model) {
            if (t == null || t.getName() == null) {
                return true; // unqualified: the model's, in a statement that reads only the model
            }
            String name = Sql.unquote(t.getName());
            return name.equalsIgnoreCase(self) || name.equalsIgnoreCase(model.name());
        }

        private static boolean mentions(Expression e, String self, MindsModel model) {
            for (Column c : FunctionCollector.collect(e, Column.class)) {
                if (c.getTable() != null && c.getTable().getName() != null && refersTo(c, self, model)) {
                    return true;
                }
            }
            return false;
        }

        private static ProxyException modelQuery(MindsModel model, String what) {
            return new ProxyException(ProxyError.MODEL_QUERY, "ragproxy answers the model " + model.name() + " as"
                    + " SELECT * FROM " + model.name() + " WHERE " + model.inputColumns().get(0) + " = '…' or SELECT"
                    + " d.…, m." + model.predict() + " FROM <table> AS d JOIN " + model.name() + " AS m: " + what);
        }

        // ------------------------------------------------------------------------------------ auto-embedding

        private CompletableFuture<Void> writes() {
            if (statement instanceof Update update) {
                update(update);
                return CompletableFuture.completedFuture(null);
            }
            Table table;
            ExpressionList<Column> columns;
            Select source;
            boolean set;
            List<UpdateSet> duplicate;
            if (statement instanceof Insert insert) {
                table = insert.getTable();
                columns = insert.getColumns();
                source = insert.getSelect();
                set = insert.getSetUpdateSets() != null && !insert.getSetUpdateSets().isEmpty();
                duplicate = insert.getDuplicateUpdateSets();
            } else if (statement instanceof Upsert upsert) {
                table = upsert.getTable();
                columns = upsert.getColumns();
                source = upsert.getSelect();
                set = upsert.getUpdateSets() != null && !upsert.getUpdateSets().isEmpty();
                duplicate = upsert.getDuplicateUpdateSets();
            } else {
                return CompletableFuture.completedFuture(null);
            }
            List<EmbeddingRule> rules = rulesOf(table);
            if (rules.isEmpty()) {
                return CompletableFuture.completedFuture(null);
            }
            if (set || source == null) {
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, table + " has the auto-embedding column "
                        + rules.get(0).column() + "; write INSERT INTO " + table + " (columns) VALUES (…) or"
                        + " INSERT … SELECT so that ragproxy can fill it");
            }
            CompletableFuture<List<String>> names = columns != null
                    ? CompletableFuture.completedFuture(columns.stream().map(c -> Sql.unquote(c.getColumnName())).toList())
                    : tableColumns(table);
            return names.thenAccept(list -> {
                ExpressionList<Column> target = columns;
                if (target == null) {
                    target = new ParenthesedExpressionList<>();
                    for (String n : list) {
                        target.add(new Column(Sql.ident(n)));
                    }
                    if (statement instanceof Insert insert) {
                        insert.setColumns(target);
                    } else {
                        ((Upsert) statement).setColumns(target);
                    }
                }
                List<String> lower = new ArrayList<>(list.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList());
                for (EmbeddingRule rule : rules) {
                    if (fillRows(rule, source, target, lower)) {
                        changed = true;
                    }
                    if (duplicate != null && assign(duplicate, rule, null, c -> true)) {
                        changed = true;
                    }
                }
            });
        }

        /**
         * Adds (or fills a DEFAULT/NULL) value of the rule's column to every row, and its source hash when the table
         * tracks staleness and the statement does not give the hash itself (a vector given by the statement is taken
         * as the embedding of the row's text); false when nothing changed.
         */
        private boolean fillRows(EmbeddingRule rule, Select source, ExpressionList<Column> target, List<String> lower) {
            int index = lower.indexOf(rule.column().toLowerCase(Locale.ROOT));
            boolean addHash = rule.tracksStaleness() && !lower.contains(rule.sourceHash().toLowerCase(Locale.ROOT));
            if (source instanceof Values values) {
                ExpressionList<?> expressions = values.getExpressions();
                List<ExpressionList<Expression>> rows = new ArrayList<>();
                if (expressions instanceof ParenthesedExpressionList<?>) {
                    rows.add(cast(expressions));
                } else {
                    for (Object row : expressions) {
                        if (!(row instanceof ExpressionList<?> list)) {
                            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "write the rows of an INSERT"
                                    + " into a table with auto-embedding columns as (…), (…)");
                        }
                        rows.add(cast(list));
                    }
                }
                boolean any = false;
                for (ExpressionList<Expression> row : rows) {
                    Map<String, String> values1 = new LinkedHashMap<>();
                    for (int i = 0; i < lower.size() && i < row.size(); i++) {
                        values1.put(lower.get(i), operand(row.get(i)));
                    }
                    String text = substitute(rule.source(), name -> values1.containsKey(name) ? values1.get(name)
                            : "NULL");
                    Expression embed = parse(rule.embedSql(text, false));
                    if (index < 0) {
                        row.add(embed);
                        any = true;
                    } else if (index < row.size() && isDefault(row.get(index))) {
                        row.set(index, embed);
                        any = true;
                    }
                    if (addHash) {
                        row.add(parse(EmbeddingRule.hashSql(text)));
                    }
                }
                if (index < 0 && any) {
                    target.add(new Column(Sql.ident(rule.column())));
                    lower.add(rule.column().toLowerCase(Locale.ROOT));
                }
                if (addHash && !rows.isEmpty()) {
                    addColumn(target, lower, rule.sourceHash());
                }
                return any || (addHash && !rows.isEmpty());
            }
            if (source instanceof PlainSelect select) {
                List<SelectItem<?>> items = select.getSelectItems();
                boolean oneForOne = items.size() == lower.size()
                        && items.stream().noneMatch(i -> i.getExpression() instanceof AllColumns);
                if (index >= 0) {
                    // The SELECT gives the column a value of its own; its hash, when the items can be read one for
                    // one (else the row counts as stale in SHOW RAG PENDING until refreshed).
                    if (!addHash || !oneForOne) {
                        return false;
                    }
                } else if (!oneForOne) {
                    throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "INSERT … SELECT into a table with the"
                            + " auto-embedding column " + rule.column() + " needs the INSERT's column list and the"
                            + " SELECT's columns written out (no *), one for one");
                }
                Map<String, String> values1 = new LinkedHashMap<>();
                for (int i = 0; i < lower.size(); i++) {
                    values1.put(lower.get(i), operand(items.get(i).getExpression()));
                }
                String text = substitute(rule.source(), name -> values1.containsKey(name) ? values1.get(name) : "NULL");
                if (index < 0) {
                    select.addSelectItems(parse(rule.embedSql(text, false)));
                    addColumn(target, lower, rule.column());
                }
                if (addHash) {
                    select.addSelectItems(parse(EmbeddingRule.hashSql(text)));
                    addColumn(target, lower, rule.sourceHash());
                }
                return true;
            }
            throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, "INSERT … SELECT into a table with the"
                    + " auto-embedding column " + rule.column() + " takes a single SELECT (no UNION), so that ragproxy"
                    + " can add the column");
        }

        private static void addColumn(ExpressionList<Column> target, List<String> lower, String name) {
            target.add(new Column(Sql.ident(name)));
            lower.add(name.toLowerCase(Locale.ROOT));
        }

        private static boolean isDefault(Expression e) {
            return e instanceof NullValue || (e instanceof Column c && c.getTable() == null
                    && c.getColumnName().equalsIgnoreCase("DEFAULT"));
        }

        @SuppressWarnings("unchecked")
        private static ExpressionList<Expression> cast(ExpressionList<?> list) {
            return (ExpressionList<Expression>) list;
        }

        /** UPDATE of a source column also sets the auto-embedding column, from the new value. */
        private void update(Update update) {
            List<Table> targets = new ArrayList<>();
            targets.add(update.getTable());
            if (update.getJoins() != null) {
                update.getJoins().stream().map(Join::getRightItem).filter(Table.class::isInstance)
                        .map(Table.class::cast).forEach(targets::add);
            }
            if (update.getStartJoins() != null) {
                update.getStartJoins().stream().map(Join::getRightItem).filter(Table.class::isInstance)
                        .map(Table.class::cast).forEach(targets::add);
            }
            boolean single = targets.size() == 1;
            for (Table t : targets) {
                String self = t.getAlias() != null ? Sql.unquote(t.getAlias().getName()) : Sql.unquote(t.getName());
                for (EmbeddingRule rule : rulesOf(t)) {
                    Function<Column, Boolean> mine = c -> c.getTable() == null || c.getTable().getName() == null
                            ? single : Sql.unquote(c.getTable().getName()).equalsIgnoreCase(self);
                    if (assign(update.getUpdateSets(), rule, single ? null : self, mine)) {
                        changed = true;
                    }
                }
            }
        }

        /**
         * When {@code sets} assign a source column of {@code rule} but not its column, puts {@code column =
         * EMBED_TEXT(…)} first, its source written with the assigned values (MySQL runs single-table assignments
         * left to right, so first means: from the values the other assignments start with), and, when the table
         * tracks staleness, the source hash of the same text second. When they assign the column itself (the refresh
         * statement of SHOW RAG PENDING, or a vector of the user's) without the hash, the hash of the row's final
         * text goes last: the vector written is taken as that text's embedding.
         */
        private boolean assign(List<UpdateSet> sets, EmbeddingRule rule, String qualifier, Function<Column, Boolean> mine) {
            Map<String, String> assigned = new LinkedHashMap<>();
            boolean vectorAssigned = false;
            boolean hashAssigned = false;
            for (UpdateSet set : sets) {
                for (int i = 0; i < set.getColumns().size(); i++) {
                    Column c = set.getColumns().get(i);
                    if (!mine.apply(c)) {
                        continue;
                    }
                    String name = Sql.unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
                    vectorAssigned |= name.equalsIgnoreCase(rule.column());
                    hashAssigned |= rule.tracksStaleness() && name.equalsIgnoreCase(rule.sourceHash());
                    Expression value = i < set.getValues().size() ? set.getValues().get(i) : null;
                    if (value != null) {
                        // In terms of the values before the UPDATE: earlier assignments substituted.
                        Map<String, String> before = new LinkedHashMap<>(assigned);
                        assigned.put(name, substitute(operand(value), n -> before.get(n)));
                    }
                }
            }
            Function<String, String> qualified = n -> qualifier == null ? null : Sql.ident(qualifier) + "." + Sql.ident(n);
            String prefix = qualifier == null ? "" : Sql.ident(qualifier) + ".";
            if (vectorAssigned) {
                if (!rule.tracksStaleness() || hashAssigned) {
                    return false;
                }
                sets.add(new UpdateSet(new Column(prefix + Sql.ident(rule.sourceHash())),
                        parse(EmbeddingRule.hashSql(substitute(rule.source(), qualified)))));
                return true;
            }
            List<String> read = identifiers(rule.source());
            if (read.stream().noneMatch(assigned::containsKey)) {
                return false;
            }
            String source = substitute(rule.source(), n -> assigned.containsKey(n) ? assigned.get(n) : qualified.apply(n));
            sets.add(0, new UpdateSet(new Column(prefix + Sql.ident(rule.column())), parse(rule.embedSql(source, false))));
            if (rule.tracksStaleness() && !hashAssigned) {
                sets.add(1, new UpdateSet(new Column(prefix + Sql.ident(rule.sourceHash())),
                        parse(EmbeddingRule.hashSql(source))));
            }
            return true;
        }

        /** The column names in the table, in order (for an INSERT without a column list). */
        private CompletableFuture<List<String>> tableColumns(Table table) {
            String schema = table.getSchemaName() != null ? Sql.unquote(table.getSchemaName()) : database;
            return session.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                    + CatalogStore.literal(schema) + " AND TABLE_NAME = " + CatalogStore.literal(Sql.unquote(table.getName()))
                    + " AND EXTRA NOT LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION")
                    .thenApply(r -> r.first().rows().stream().map(row -> row.get(0)).toList());
        }
    }

    // ---------------------------------------------------------------------------------------- helpers

    /** A statement's first keyword, upper case, after white space and comments. */
    public static String firstKeyword(String sql) {
        return SqlLexer.firstWord(sql);
    }

    /**
     * {@code expression} with each column name (a word not followed by {@code (} nor after {@code .}, not an SQL
     * keyword) replaced by {@code replacement.apply(lower-case name)}, or kept when that is null.
     */
    static String substitute(String expression, Function<String, String> replacement) {
        List<Token> tokens = SqlLexer.tokenize(expression);
        StringBuilder b = new StringBuilder();
        int at = 0;
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (!isColumn(tokens, i)) {
                continue;
            }
            String r = replacement.apply(t.text().toLowerCase(Locale.ROOT));
            if (r != null) {
                b.append(expression, at, t.start()).append(r);
                at = t.end();
            }
        }
        return b.append(expression.substring(at)).toString();
    }

    /** The column names an expression reads, lower case. */
    static List<String> identifiers(String expression) {
        List<Token> tokens = SqlLexer.tokenize(expression);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (isColumn(tokens, i)) {
                out.add(tokens.get(i).text().toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    private static boolean isColumn(List<Token> tokens, int i) {
        Token t = tokens.get(i);
        if (t.type() != Type.WORD && t.type() != Type.QUOTED_IDENT) {
            return false;
        }
        if (i + 1 < tokens.size() && (tokens.get(i + 1).isSymbol('(') || tokens.get(i + 1).isSymbol('.'))) {
            return false;
        }
        if (i > 0 && (tokens.get(i - 1).isSymbol('.') || tokens.get(i - 1).isSymbol('@'))) {
            return false;
        }
        return t.type() == Type.QUOTED_IDENT || !KEYWORDS.contains(t.text().toLowerCase(Locale.ROOT));
    }

    /**
     * An expression as an operand in a source expression: as written when it is a single term (a literal, a column,
     * a variable, a call), else in parentheses. Keeping literals bare keeps the call's arguments literal, so the
     * literal plan needs no query to evaluate them.
     */
    private static String operand(Expression e) {
        boolean single = e instanceof StringValue || e instanceof net.sf.jsqlparser.expression.LongValue
                || e instanceof net.sf.jsqlparser.expression.DoubleValue || e instanceof NullValue || e instanceof Column
                || e instanceof net.sf.jsqlparser.expression.Function
                || e instanceof net.sf.jsqlparser.expression.UserVariable;
        return single ? e.toString() : "(" + e + ")";
    }

    private static List<Expression> arguments(net.sf.jsqlparser.expression.Function f) {
        List<Expression> args = new ArrayList<>();
        if (f.getParameters() != null) {
            for (Object o : f.getParameters()) {
                args.add((Expression) o);
            }
        }
        return args;
    }

    private static StringValue string(String value) {
        return new StringValue(Sql.escaped(value)); // a model input: read by the proxy, never sent as written
    }

    private static SelectItem<Expression> item(Expression e, String label) {
        SelectItem<Expression> item = new SelectItem<>(e);
        label(item, Sql.unquote(label));
        return item;
    }

    private static void label(SelectItem<?> item, String label) {
        // Line breaks become spaces: the rewritten statement is parsed again, and quoted names cannot hold them.
        String l = label.replaceAll("[\\r\\n\\t]", " ");
        l = l.length() > 256 ? l.substring(0, 256) : l;
        item.setAlias(new Alias(Sql.ident(l), true));
    }

    private static Expression parse(String expression) {
        try {
            return CCJSqlParserUtil.parseExpression(expression, true, p -> p.withBackslashEscapeCharacter(true));
        } catch (JSQLParserException e) {
            throw new ProxyException(ProxyError.INTERNAL, "ragproxy wrote an expression it cannot parse: " + expression,
                    e);
        }
    }
}
