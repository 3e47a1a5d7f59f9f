package io.ragproxy.server.scan;

/**
 * A statement the proxy answers or interprets itself instead of relaying it, as recognized by
 * {@link StatementScanner} from the first few tokens of a statement.
 *
 * <p>Recognition is lexical: the scanner reports the form, the pipeline parses the statement and may still
 * reject it (for example a {@link #DROP_FUNCTION} whose name is not a catalog function is relayed).
 */
public enum ProxyStatementKind {
    /** {@code SHOW RAG …} (models, functions, status, grants, budgets, usage). */
    SHOW_RAG("show rag"),
    /** {@code EXPLAIN RAG <statement>}. */
    EXPLAIN_RAG("explain rag"),
    /** {@code SET} of at least one variable whose name starts with {@code rag_}, in any scope spelling. */
    SET_RAG("set rag"),
    /** Aurora ML {@code CREATE [DEFINER = …] FUNCTION name (…) RETURNS type … ALIAS AWS_… }. */
    CREATE_FUNCTION_ALIAS("create function alias"),
    /** {@code DROP FUNCTION [IF EXISTS] name}: the proxy decides whether {@code name} is a catalog function. */
    DROP_FUNCTION("drop function"),
    /** MindsDB {@code CREATE MODEL …}. */
    CREATE_MODEL("create model"),
    /** MindsDB {@code DROP MODEL …}. */
    DROP_MODEL("drop model"),
    /** MindsDB {@code CREATE ML_ENGINE …}. */
    CREATE_ML_ENGINE("create ml_engine"),
    /** MindsDB {@code DROP ML_ENGINE …}. */
    DROP_ML_ENGINE("drop ml_engine"),
    /** {@code GRANT RAG MODEL … TO account}: model access (a plain {@code GRANT rag TO …} of a role is not this). */
    GRANT_RAG_MODEL("grant rag model"),
    /** {@code REVOKE RAG MODEL … FROM account}. */
    REVOKE_RAG_MODEL("revoke rag model"),
    /** MindsDB {@code CREATE [OR REPLACE] KNOWLEDGE_BASE …}. */
    CREATE_KNOWLEDGE_BASE("create knowledge_base"),
    /** MindsDB {@code DROP KNOWLEDGE_BASE …}. */
    DROP_KNOWLEDGE_BASE("drop knowledge_base"),
    /** MindsDB {@code DESCRIBE KNOWLEDGE_BASE …} (or {@code DESC}). */
    DESCRIBE_KNOWLEDGE_BASE("describe knowledge_base"),
    /** MindsDB {@code SHOW KNOWLEDGE_BASES}. */
    SHOW_KNOWLEDGE_BASES("show knowledge_bases"),
    /** {@code SET RAG BUDGET FOR account = …}: a budget ({@code SET rag_x = …} is {@link #SET_RAG}). */
    SET_RAG_BUDGET("set rag budget");

    private final String phrase;

    ProxyStatementKind(String phrase) {
        this.phrase = phrase;
    }

    /**
     * Returns the lower-case keyword phrase that identifies this form, e.g. {@code "drop function"}; this is
     * the {@link ScanResult#name()} of a {@link ScanResult.Kind#PROXY_STATEMENT} result.
     */
    public String phrase() {
        return phrase;
    }
}
