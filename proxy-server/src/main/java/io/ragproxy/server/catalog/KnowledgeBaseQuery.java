package io.ragproxy.server.catalog;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.dialect.Dialect;
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
 * {@code relevance >= 0.5}) applies to those columns as written.
 *
 * <p>With a {@code reranking_model} (and no {@code reranking = false} in the query) the search takes the
 * {@value #DEFAULT_CANDIDATES} best candidates ({@code reranking_candidates = n} in the query), nearest first (the
 * fused ranking's best, for a hybrid search), after the conditions that do not name {@code relevance}; {@code relevance}
 * is then the reranker's score of each candidate's chunk ({@code RERANK_SCORE}, which the materialized plan computes in
 * one batched request), the rows are ordered by it, highest first, and conditions on {@code relevance} apply to it.
 * Stateless.
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
    /** {@code reranking = false}: no reranking in this query, though the knowledge base has a reranking model. */
    static final String RERANKING = "reranking";
    /** {@code reranking_candidates = n}: how many of the search's best rows the reranker scores. */
    static final String CANDIDATES = "reranking_candidates";
    static final int DEFAULT_CANDIDATES = 50;
    /** The most candidates one query may ask to rerank (the Rerank API's sources per request). */
    static final int MAX_CANDIDATES = 1000;
    /** The search's options, given as {@code name = value} conditions of WHERE. */
    private static final Set<String> OPTIONS = Set.of("hybrid_search", "hybrid_search_alpha", RERANKING, CANDIDATES);
    /** {@code hybrid_search = true}: fuse the full-text ranking with the vector ranking. */
    static final String HYBRID = "hybrid_search";
    /** {@code hybrid_search_alpha = x}: the vector ranking's weight in the fusion, 0 to 1. */
    static final String HYBRID_ALPHA = "hybrid_search_alpha";
    static final double DEFAULT_ALPHA = 0.5;
    /** Reciprocal rank fusion's constant: a row ranked r contributes 1 / (k + r). */
    static final int RRF_K = 60;

    private KnowledgeBaseQuery() {}

    /**
     * The fewest candidates a vector search of a knowledge base weighs on MariaDB ({@code mhnsw_ef_search}, whose
     * default of 20 found the right document in the best 5 for 0.80 to 0.92 of KnowledgeBaseScaleTest's questions,
     * 0.95 to 0.98 at 80).
     */
    static final int SEARCH_WIDTH_FLOOR = 80;

    /**
     * The fewest chunks each ranking of a hybrid search lists before the fusion: the vector search's nearest and the
     * full-text search's best matches.
     */
    static final int HYBRID_LIST_FLOOR = 100;

    /**
     * Rewrites {@code select}, whose FROM item is {@code table}, a read of {@code kb}, in place; {@code dialect}
     * spells a hybrid search's full-text score.
     *
     * @return how many candidates its vector index search should weigh: the rows it takes (its LIMIT and OFFSET,
     *     or the reranking candidates), at least {@value #SEARCH_WIDTH_FLOOR} ({@value #HYBRID_LIST_FLOOR} for a hybrid
     *     search, whose vector ranking lists that many); 0 when it reads no vector index (no question)
     */
    static int rewrite(PlainSelect select, KnowledgeBase kb, Table table, Dialect dialect) {
        if (select.getJoins() != null && !select.getJoins().isEmpty()) {
            throw query(kb, "it is read on its own; join its results as a subquery: … FROM (SELECT … FROM " + kb.name()
                    + " WHERE content = '…' LIMIT n) AS k JOIN …");
        }
        String self = table.getAlias() != null ? Sql.unquote(table.getAlias().getName()) : Sql.unquote(table.getName());
        Expression question = null;
        Boolean hybrid = null;
        Double alpha = null;
        Boolean reranking = null;
        Integer candidates = null;
        List<Expression> kept = new ArrayList<>();
        if (select.getWhere() != null) {
            for (Expression condition : conjuncts(select.getWhere())) {
                Expression option = optionOf(condition, HYBRID, self, kb);
                if (option != null) {
                    hybrid = flag(option, HYBRID, kb);
                    continue;
                }
                option = optionOf(condition, HYBRID_ALPHA, self, kb);
                if (option != null) {
                    alpha = fraction(option, kb);
                    continue;
                }
                option = optionOf(condition, RERANKING, self, kb);
                if (option != null) {
                    reranking = flag(option, RERANKING, kb);
                    continue;
                }
                option = optionOf(condition, CANDIDATES, self, kb);
                if (option != null) {
                    candidates = candidates(option, kb);
                    continue;
                }
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
        if (Boolean.TRUE.equals(reranking) && kb.rerankingModel() == null) {
            throw query(kb, "reranking = true needs a reranking model; the knowledge base has none (create it with"
                    + " reranking_model = 'cohere-rerank-3-5', or another reranking model)");
        }
        boolean rerank = kb.rerankingModel() != null && !Boolean.FALSE.equals(reranking) && question != null;
        if (candidates != null && !rerank) {
            throw query(kb, CANDIDATES + " needs reranking: a question and a knowledge base with a reranking_model");
        }
        // Reranked, the conditions that do not read the reranker's score choose the candidates; the others apply after.
        List<Expression> before = new ArrayList<>();
        List<Expression> after = new ArrayList<>();
        for (Expression e : kept) {
            boolean readsRelevance = FunctionCollector.collect(e, Column.class).stream().anyMatch(c -> refersTo(c, self, kb)
                    && Sql.unquote(c.getColumnName()).equalsIgnoreCase(RELEVANCE));
            (rerank && !readsRelevance ? before : after).add(e);
        }
        Expression where = null;
        for (Expression e : after) {
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
            if (OPTIONS.contains(name)) {
                throw query(kb, name + " = … is an option, given once as a condition of WHERE joined by AND");
            }
            if (name.equals(CONTENT)) {
                throw query(kb, "content = '…' is the question, given once as a condition of WHERE joined by AND;"
                        + " the chunks' text is chunk_content");
            }
            if (!RESERVED.contains(name)) {
                fields.add(name);
            }
        }
        if ((Boolean.TRUE.equals(hybrid) || alpha != null) && question == null) {
            throw query(kb, "hybrid_search needs the question: content = '…'");
        }
        // The query's option overrides the knowledge base's setting either way; without a question there is no ranking.
        boolean fused = question != null && (hybrid != null ? hybrid : kb.hybridSearch());
        // How many chunks each of a hybrid search's two rankings lists: the rows the statement takes (or the reranking
        // candidates), at least HYBRID_LIST_FLOOR.
        long taken = rerank ? (candidates == null ? DEFAULT_CANDIDATES : candidates)
                : select.getLimit() == null && select.getFetch() == null ? DEFAULT_LIMIT
                : rowsTaken(select.getLimit(), select.getOffset());
        int listLength = (int) Math.min(MAX_SEARCH_WIDTH, Math.max(HYBRID_LIST_FLOOR, taken));
        String distance = question == null ? "NULL" : "VEC_COSINE_DISTANCE(" + Sql.ident(KnowledgeBase.EMBEDDING)
                + ", EMBED_TEXT(" + Sql.quote(kb.embeddingModel()) + ", " + question + "))";
        String common = Sql.ident(KnowledgeBase.ID) + ", " + Sql.ident(KnowledgeBase.CHUNK_ID) + ", "
                + Sql.ident(KnowledgeBase.CHUNK_CONTENT) + ", " + Sql.ident(KnowledgeBase.METADATA);
        StringBuilder fieldColumns = new StringBuilder();
        StringBuilder fieldNames = new StringBuilder();
        for (String field : fields) {
            fieldColumns.append(", JSON_UNQUOTE(JSON_EXTRACT(").append(Sql.ident(KnowledgeBase.METADATA)).append(", ")
                    .append(Sql.quote("$.\"" + field + "\"")).append(")) AS ").append(Sql.ident(field));
            fieldNames.append(", ").append(Sql.ident(field));
        }
        String inner;
        if (!fused) {
            inner = "SELECT " + common + ", " + distance + " AS " + DISTANCE + ", "
                    + (question == null ? "NULL" : "1 - " + distance) + " AS " + RELEVANCE + fieldColumns + " FROM "
                    + kb.storageSql();
        } else {
            // Reciprocal rank fusion of the vector search's best `lists` chunks (the vector index) and the full-text
            // search's best `lists` (the FULLTEXT index), weighted by alpha: 1 is vector only, 0 full-text only. A
            // chunk gets a term from each list it is in, and chunks in neither list are not candidates: ranking every
            // chunk by both (as the first version did) read the whole table, 2.9 s p50 on 50,000 chunks.
            double a = alpha != null ? alpha : kb.hybridSearchAlpha() != null ? kb.hybridSearchAlpha() : DEFAULT_ALPHA;
            String rowId = Sql.ident(KnowledgeBase.ROW_ID);
            String score = dialect.fullTextScore(Sql.ident(KnowledgeBase.CHUNK_CONTENT), question.toString());
            String lists = "SELECT " + rowId + ", ROW_NUMBER() OVER (ORDER BY ragproxy_d) AS ragproxy_vector_rank,"
                    + " NULL AS ragproxy_text_rank FROM (SELECT " + rowId + ", " + distance + " AS ragproxy_d FROM "
                    + kb.storageSql() + " ORDER BY ragproxy_d LIMIT " + listLength + ") AS ragproxy_v UNION ALL SELECT "
                    + rowId + ", NULL, ROW_NUMBER() OVER (ORDER BY ragproxy_s DESC) FROM (SELECT " + rowId + ", " + score
                    + " AS ragproxy_s FROM " + kb.storageSql() + " WHERE " + score + " ORDER BY ragproxy_s DESC LIMIT "
                    + listLength + ") AS ragproxy_t";
            String chunk = "ragproxy_chunk.";
            inner = "SELECT " + common + ", " + DISTANCE + ", CASE WHEN ragproxy_vector_rank IS NULL THEN 0 ELSE " + a
                    + " / (" + RRF_K + " + ragproxy_vector_rank) END + CASE WHEN ragproxy_text_rank IS NULL THEN 0 ELSE "
                    + (1 - a) + " / (" + RRF_K + " + ragproxy_text_rank) END AS " + RELEVANCE + fieldNames
                    + " FROM (SELECT " + chunk + Sql.ident(KnowledgeBase.ID) + ", " + chunk
                    + Sql.ident(KnowledgeBase.CHUNK_ID) + ", " + chunk + Sql.ident(KnowledgeBase.CHUNK_CONTENT) + ", "
                    + chunk + Sql.ident(KnowledgeBase.METADATA) + ", " + distance + " AS " + DISTANCE
                    + ", ragproxy_vector_rank, ragproxy_text_rank" + fieldColumns + " FROM (SELECT " + rowId
                    + ", MIN(ragproxy_vector_rank) AS ragproxy_vector_rank, MIN(ragproxy_text_rank) AS ragproxy_text_rank"
                    + " FROM (" + lists + ") AS ragproxy_lists GROUP BY " + rowId + ") AS ragproxy_best JOIN "
                    + kb.storageSql() + " AS ragproxy_chunk ON " + chunk + rowId + " = ragproxy_best." + rowId
                    + ") AS ragproxy_ranked";
        }
        if (rerank) {
            StringBuilder chosen = new StringBuilder();
            for (Expression e : before) {
                chosen.append(chosen.length() == 0 ? " WHERE " : " AND ").append('(').append(e).append(')');
            }
            String best = "SELECT " + common + ", " + DISTANCE + fieldNames + " FROM (" + inner + ") AS " + Sql.ident(self)
                    + chosen + " ORDER BY " + (fused ? RELEVANCE + " DESC" : DISTANCE) + " LIMIT "
                    + (candidates == null ? DEFAULT_CANDIDATES : candidates);
            inner = "SELECT " + common + ", " + DISTANCE + ", RERANK_SCORE(" + question + ", "
                    + Sql.ident(KnowledgeBase.CHUNK_CONTENT) + ", " + Sql.quote(kb.rerankingModel()) + ") AS " + RELEVANCE
                    + fieldNames + " FROM (" + best + ") AS ragproxy_candidates";
        }
        ParenthesedSelect derived = new ParenthesedSelect();
        derived.setSelect(parse(inner));
        derived.setAlias(new Alias(Sql.ident(self), true));
        select.setFromItem(derived);
        if (question != null && (select.getOrderByElements() == null || select.getOrderByElements().isEmpty())) {
            OrderByElement order = new OrderByElement();
            order.setExpression(new Column(fused || rerank ? RELEVANCE : DISTANCE));
            order.setAsc(!(fused || rerank));
            select.setOrderByElements(List.of(order));
        }
        if (question != null && select.getLimit() == null && select.getFetch() == null) {
            select.setLimit(new Limit().withRowCount(new LongValue(DEFAULT_LIMIT)));
        }
        if (question == null) {
            return 0;
        }
        if (fused) {
            return listLength;
        }
        long rows = rerank ? (candidates == null ? DEFAULT_CANDIDATES : candidates)
                : rowsTaken(select.getLimit(), select.getOffset());
        return (int) Math.min(MAX_SEARCH_WIDTH, Math.max(SEARCH_WIDTH_FLOOR, rows));
    }

    /** MariaDB's largest {@code mhnsw_ef_search}. */
    static final int MAX_SEARCH_WIDTH = 10000;

    /**
     * The rows a LIMIT takes counting those it skips ({@code LIMIT o, n} or {@code LIMIT n OFFSET o}), or 0 when they
     * are not constants (or there is no LIMIT).
     */
    private static long rowsTaken(Limit limit, net.sf.jsqlparser.statement.select.Offset offset) {
        if (limit == null || !(limit.getRowCount() instanceof LongValue count)) {
            return 0;
        }
        long skipped = limit.getOffset() instanceof LongValue o ? o.getValue()
                : offset != null && offset.getOffset() instanceof LongValue o ? o.getValue() : 0;
        return count.getValue() + skipped;
    }

    /** The value of {@code name = <value>} (either way round), or null for another condition. */
    private static Expression optionOf(Expression condition, String name, String self, KnowledgeBase kb) {
        if (!(condition instanceof EqualsTo eq)) {
            return null;
        }
        if (named(eq.getLeftExpression(), name, self, kb)) {
            return eq.getRightExpression();
        }
        return named(eq.getRightExpression(), name, self, kb) ? eq.getLeftExpression() : null;
    }

    private static boolean named(Expression e, String name, String self, KnowledgeBase kb) {
        return e instanceof Column c && refersTo(c, self, kb) && Sql.unquote(c.getColumnName()).equalsIgnoreCase(name);
    }

    private static boolean flag(Expression value, String name, KnowledgeBase kb) {
        String v = value.toString().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("1")) {
            return true;
        }
        if (v.equals("false") || v.equals("0")) {
            return false;
        }
        throw query(kb, name + " takes true or false, not " + value);
    }

    private static int candidates(Expression value, KnowledgeBase kb) {
        try {
            int n = Integer.parseInt(value.toString());
            if (n >= 1 && n <= MAX_CANDIDATES) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw query(kb, CANDIDATES + " takes a whole number of rows from 1 to " + MAX_CANDIDATES + ", not " + value);
    }

    private static double fraction(Expression value, KnowledgeBase kb) {
        try {
            double a = Double.parseDouble(value.toString());
            if (a >= 0 && a <= 1) {
                return a;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw query(kb, HYBRID_ALPHA + " takes a number from 0 (full-text only) to 1 (vector only), not " + value);
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

    /** The terms of {@code e}'s top-level {@code AND}s, parentheses around one term looked through. */
    static List<Expression> conjuncts(Expression e) {
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
