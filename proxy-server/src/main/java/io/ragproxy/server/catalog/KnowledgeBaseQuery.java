package io.ragproxy.server.catalog;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.plan.FunctionCollector;
import io.ragproxy.server.plan.StatementAnalysis;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;

/**
 * Rewrites a read of a knowledge base, {@code SELECT … FROM kb WHERE content = 'question' [AND …] [LIMIT n]}, into a
 * vector search of its storage table: {@code kb} becomes a derived table with the columns {@code id, chunk_id,
 * chunk_content, metadata, distance, relevance} and one column per metadata field the statement names, where
 * {@code distance} is the cosine distance between a chunk's embedding and the question's ({@code EMBED_TEXT}, which
 * the literal plan evaluates once, cached) and {@code relevance = 1 - distance}; the {@code content = …} condition is
 * taken out, the rows are ordered by distance (unless the statement orders them) and limited to
 * {@value #DEFAULT_LIMIT} unless it says otherwise. Every other condition ({@code author = 'Jane'},
 * {@code relevance >= 0.5}) applies to those columns as written. Stateless.
 */
final class KnowledgeBaseQuery {
    /** Rows a search returns without a LIMIT. */
    static final int DEFAULT_LIMIT = 10;
    /** The column the question is given in. */
    static final String CONTENT = "content";
    static final String DISTANCE = "distance";
    static final String RELEVANCE = "relevance";
    /** Columns every knowledge base has (so no metadata field may take these names). */
    static final List<String> RESERVED = List.of(KnowledgeBase.ID, KnowledgeBase.CHUNK_ID, KnowledgeBase.CHUNK_CONTENT,
            KnowledgeBase.METADATA, DISTANCE, RELEVANCE, CONTENT);
    /** MindsDB's search options ragproxy does not implement yet. */
    private static final Set<String> NOT_YET = Set.of("hybrid_search", "hybrid_search_alpha", "reranking");

    private KnowledgeBaseQuery() {}

    /** Rewrites {@code select}, whose FROM item is {@code table}, a read of {@code kb}, in place. */
    static void rewrite(PlainSelect select, KnowledgeBase kb, Table table) {
        if (select.getJoins() != null && !select.getJoins().isEmpty()) {
            throw query(kb, "it is read on its own; join its results as a subquery: … FROM (SELECT … FROM " + kb.name()
                    + " WHERE content = '…' LIMIT n) AS k JOIN …");
        }
        String self = table.getAlias() != null ? Sql.unquote(table.getAlias().getName()) : Sql.unquote(table.getName());
        Expression question = null;
        List<Expression> kept = new ArrayList<>();
        if (select.getWhere() != null) {
            for (Expression condition : conjuncts(select.getWhere())) {
                Expression value = questionOf(condition, self, kb);
                if (value == null) {
                    kept.add(condition);
                    continue;
                }
                if (question != null) {
                    throw query(kb, "give content = '…' once");
                }
                if (StatementAnalysis.firstColumn(value) != null) {
                    throw query(kb, "content = … takes a constant question, not " + value);
                }
                question = value;
            }
        }
        Expression where = null;
        for (Expression e : kept) {
            where = where == null ? e : new AndExpression(where, e);
        }
        select.setWhere(where);
        // The metadata fields the statement names, besides the declared ones.
        Set<String> fields = new LinkedHashSet<>(kb.metadataColumns());
        for (Column c : FunctionCollector.collect(select, Column.class)) {
            if (!refersTo(c, self, kb)) {
                continue;
            }
            String name = Sql.unquote(c.getColumnName()).toLowerCase(Locale.ROOT);
            if (NOT_YET.contains(name)) {
                throw new ProxyException(ProxyError.FEATURE_NOT_AVAILABLE, name + " is not available yet: ragproxy's"
                        + " knowledge bases search by vector only (no hybrid full-text search, no reranking); leave"
                        + " it out");
            }
            if (name.equals(CONTENT)) {
                throw query(kb, "content = '…' is the question, given once as a condition of WHERE joined by AND;"
                        + " the chunks' text is chunk_content");
            }
            if (!RESERVED.contains(name)) {
                fields.add(name);
            }
        }
        String distance = question == null ? "NULL" : "VEC_COSINE_DISTANCE(" + Sql.ident(KnowledgeBase.EMBEDDING)
                + ", EMBED_TEXT(" + Sql.quote(kb.embeddingModel()) + ", " + question + "))";
        StringBuilder inner = new StringBuilder("SELECT ").append(Sql.ident(KnowledgeBase.ID)).append(", ")
                .append(Sql.ident(KnowledgeBase.CHUNK_ID)).append(", ").append(Sql.ident(KnowledgeBase.CHUNK_CONTENT))
                .append(", ").append(Sql.ident(KnowledgeBase.METADATA)).append(", ").append(distance).append(" AS ")
                .append(DISTANCE).append(", ").append(question == null ? "NULL" : "1 - " + distance).append(" AS ")
                .append(RELEVANCE);
        for (String field : fields) {
            inner.append(", JSON_UNQUOTE(JSON_EXTRACT(").append(Sql.ident(KnowledgeBase.METADATA)).append(", ")
                    .append(Sql.quote("$.\"" + field + "\"")).append(")) AS ").append(Sql.ident(field));
        }
        inner.append(" FROM ").append(kb.storageSql());
        ParenthesedSelect derived = new ParenthesedSelect();
        derived.setSelect(parse(inner.toString()));
        derived.setAlias(new Alias(Sql.ident(self), true));
        select.setFromItem(derived);
        if (question != null && (select.getOrderByElements() == null || select.getOrderByElements().isEmpty())) {
            OrderByElement byDistance = new OrderByElement();
            byDistance.setExpression(new Column(DISTANCE));
            select.setOrderByElements(List.of(byDistance));
        }
        if (question != null && select.getLimit() == null && select.getFetch() == null) {
            select.setLimit(new Limit().withRowCount(new LongValue(DEFAULT_LIMIT)));
        }
    }

    /** The question of {@code content = <value>} (either way round), or null for another condition. */
    private static Expression questionOf(Expression condition, String self, KnowledgeBase kb) {
        if (!(condition instanceof EqualsTo eq)) {
            return null;
        }
        if (isContent(eq.getLeftExpression(), self, kb)) {
            return eq.getRightExpression();
        }
        return isContent(eq.getRightExpression(), self, kb) ? eq.getLeftExpression() : null;
    }

    private static boolean isContent(Expression e, String self, KnowledgeBase kb) {
        return e instanceof Column c && refersTo(c, self, kb)
                && Sql.unquote(c.getColumnName()).equalsIgnoreCase(CONTENT);
    }

    private static boolean refersTo(Column c, String self, KnowledgeBase kb) {
        Table t = c.getTable();
        if (t == null || t.getName() == null) {
            return true; // unqualified: the knowledge base's, in a statement that reads only it
        }
        String name = Sql.unquote(t.getName());
        return name.equalsIgnoreCase(self) || name.equalsIgnoreCase(kb.name());
    }

    private static List<Expression> conjuncts(Expression e) {
        List<Expression> out = new ArrayList<>();
        if (e instanceof AndExpression and) {
            out.addAll(conjuncts(and.getLeftExpression()));
            out.addAll(conjuncts(and.getRightExpression()));
        } else if (e instanceof ParenthesedExpressionList<?> p && p.size() == 1) {
            out.addAll(conjuncts((Expression) p.get(0)));
        } else {
            out.add(e);
        }
        return out;
    }

    private static Select parse(String sql) {
        try {
            return (Select) CCJSqlParserUtil.parse(sql, p -> p.withBackslashEscapeCharacter(true));
        } catch (JSQLParserException e) {
            throw new ProxyException(ProxyError.INTERNAL, "ragproxy wrote a search it cannot parse: " + sql, e);
        }
    }

    private static ProxyException query(KnowledgeBase kb, String what) {
        return new ProxyException(ProxyError.KNOWLEDGE_BASE_QUERY, "ragproxy answers the knowledge base " + kb.name()
                + " as SELECT id, chunk_id, chunk_content, metadata, distance, relevance FROM " + kb.name()
                + " WHERE content = 'question' [AND <metadata or relevance conditions>] [LIMIT n]: " + what);
    }
}
