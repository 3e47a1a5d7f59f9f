package io.ragproxy.server.command;

/**
 * ragproxy's own error numbers and SQLSTATEs, sent in ERR packets. Numbers are in the 7000 range, clear of
 * MySQL's and MariaDB's server errors; docs/errors.md lists them.
 */
public enum ProxyError {
    /** A statement uses something this build does not implement. */
    FEATURE_NOT_AVAILABLE(7001, "0A000"),
    /** The statement could not be parsed. */
    PARSE_ERROR(7002, "42000"),
    /** The proxy failed unexpectedly; the statement was not (fully) run. */
    INTERNAL(7000, "HY000"),
    /** The backend cannot be reached. */
    BACKEND_UNREACHABLE(2003, "08S01"),
    /**
     * The backend connection ended under a statement the proxy was running (a backend restart, a KILL sent to the
     * backend directly); MySQL's CR_SERVER_LOST. The message says what was committed.
     */
    BACKEND_LOST(2013, "08S01"),
    /** The proxy's connection limit is reached. */
    TOO_MANY_CONNECTIONS(1040, "08004"),
    /** The connection is in a state in which the proxy cannot run its own statements. */
    CONNECTION_BUSY(7003, "HY000"),
    /** SET names a rag_ setting that does not exist. */
    UNKNOWN_SETTING(7004, "HY000"),
    /** SET gives a rag_ setting a value it does not take. */
    BAD_SETTING(7005, "42000"),
    /** An AI function got the wrong number or kind of arguments. */
    BAD_ARGUMENTS(7010, "42000"),
    /** A model name that is not configured. */
    UNKNOWN_MODEL(7011, "42000"),
    /** Options JSON the model does not take. */
    BAD_OPTIONS(7012, "22023"),
    /** The statement needs more model calls than rag_max_calls allows. */
    TOO_MANY_CALLS(7013, "54000"),
    /** The statement was killed (KILL QUERY) or its client went away; MySQL's ER_QUERY_INTERRUPTED. */
    QUERY_INTERRUPTED(1317, "70100"),
    /** CREATE of a catalog object (function, model, ML engine) whose name is taken. */
    OBJECT_EXISTS(7020, "42000"),
    /** DROP of a catalog object that does not exist. */
    UNKNOWN_OBJECT(7021, "42000"),
    /** AWS credentials written in SQL (CREATE ML_ENGINE … USING aws_secret_access_key = …): refused. */
    CREDENTIALS_IN_SQL(7022, "42000"),
    /** A query of a MindsDB model in a form the proxy does not answer (the message shows the forms it takes). */
    MODEL_QUERY(7023, "42000"),
    /**
     * The account lacks the backend privilege (or the ownership) a catalog statement needs; the message names the
     * privilege and the GRANT that gives it.
     */
    CATALOG_ACCESS_DENIED(7024, "42000"),
    /** A function or model named like a built-in function of MySQL, MariaDB or TiDB: refused. */
    RESERVED_NAME(7025, "42000"),
    /** SHOW GLOBAL RAG STATUS without the PROCESS privilege. */
    STATUS_ACCESS_DENIED(7027, "42000"),
    /** A catalog object changed between the proxy's ownership check and its write: nothing written, run it again. */
    CATALOG_CHANGED(7028, "40001"),
    /** The proxy cannot reach its catalog through its own account ({@code [catalog] user}). */
    CATALOG_UNAVAILABLE(7026, "HY000"),
    /** A statement nested deeper than the proxy reads (parentheses), refused before it is parsed. */
    STATEMENT_TOO_DEEP(7030, "54001"),
    /** A statement with an AI call longer than proxy.max_ai_statement_bytes, refused as its first frame arrives. */
    STATEMENT_TOO_LARGE(7031, "54000"),
    /** The parse of a statement took longer than proxy.parse_timeout_ms and was stopped. */
    PARSE_TIMEOUT(7032, "54001"),
    /** The account has too many statements waiting to be planned; retry when its earlier ones finish. */
    PLANNER_BUSY(7033, "53000"),
    /** A login packet larger than the proxy accepts (64 kB); the connection is closed. */
    LOGIN_PACKET_TOO_LARGE(7034, "08S01"),
    /** A login not finished within proxy.login_timeout_s; the connection is closed. */
    LOGIN_TIMEOUT(7035, "08S01"),
    /** An AI statement in a session whose character_set_client or character_set_results ragproxy does not handle. */
    UNSUPPORTED_CHARSET(7040, "HY000"),
    /** A prepared statement's execute got parameters that do not fit it; MySQL's ER_WRONG_ARGUMENTS. */
    WRONG_ARGUMENTS(1210, "HY000"),
    /** A COM_STMT_* command names a statement the connection has not prepared; MySQL's ER_UNKNOWN_STMT_HANDLER. */
    UNKNOWN_STATEMENT(1243, "HY000"),
    /** A KILL names a connection of this proxy on another backend (MariaDB and MySQL number connections per server). */
    KILL_ON_OTHER_BACKEND(7041, "HY000"),
    /** A MariaDB bulk execute of an AI statement that is not an INSERT or REPLACE with one VALUES row. */
    BULK_NOT_SUPPORTED(7050, "0A000"),
    /** COM_STMT_FETCH on an AI prepared statement with no open cursor (none asked for, all fetched, or reset). */
    NO_OPEN_CURSOR(7051, "HY000"),
    /** An AI prepared statement's execute asked for a cursor and its rows exceed what the proxy keeps for one. */
    CURSOR_TOO_LARGE(7052, "HY000"),
    /** The proxy is draining for shutdown: the connection takes no new command and closes. */
    SHUTTING_DOWN(7060, "08S01"),
    /** CHUNK_TEXT() options_json that is not valid (unknown key, size or overlap out of range, bad unit). */
    BAD_CHUNK_OPTIONS(7070, "22023"),
    /** CREATE KNOWLEDGE_BASE with a definition ragproxy cannot use (no content column, a reserved column name …). */
    KNOWLEDGE_BASE_DEFINITION(7071, "42000"),
    /** INSERT INTO a knowledge base whose columns do not give the id and content columns it was created with. */
    KNOWLEDGE_BASE_INSERT(7072, "42000"),
    /** A SELECT of a knowledge base in a form ragproxy does not answer (a join, an unknown column in WHERE …). */
    KNOWLEDGE_BASE_QUERY(7073, "42000"),
    /** UPDATE of a knowledge base: its chunks change only by INSERT (an upsert) or DELETE. */
    KNOWLEDGE_BASE_UPDATE(7074, "0A000"),
    /** A model call failed (after retries). */
    MODEL_FAILED(7100, "HY000"),
    /** A model call was throttled on every attempt. */
    MODEL_THROTTLED(7101, "HY000"),
    /** A model call took longer than rag_inference_timeout_ms. */
    MODEL_TIMEOUT(7102, "HYT00"),
    /** The AWS credentials may not call the model. */
    MODEL_ACCESS_DENIED(7103, "28000"),
    /** The model rejected the request (input too long, bad options). */
    MODEL_REJECTED(7104, "22023"),
    /** A model input is longer than [models] max_input_chars; refused before any model call. */
    INPUT_TOO_LONG(7105, "22001"),
    /**
     * The session's account has no GRANT RAG MODEL for a model the statement calls; refused before any model call.
     * The message names the model and the account.
     */
    MODEL_NOT_GRANTED(7110, "42000"),
    /**
     * The statement's estimate (EXPLAIN RAG's) does not fit what is left of the account's SET RAG BUDGET this period;
     * refused before any model call. The message names the estimate, the budget and what was spent.
     */
    BUDGET_EXCEEDED(7111, "42000"),
    /**
     * {@code tls.required = true} and the client logged in without TLS (MySQL's require_secure_transport, its error
     * 3159); the connection is closed.
     */
    TLS_REQUIRED(7112, "08004");

    private final int code;
    private final String sqlState;

    ProxyError(int code, String sqlState) {
        this.code = code;
        this.sqlState = sqlState;
    }

    /** The MySQL error number. */
    public int code() {
        return code;
    }

    /** The five-character SQLSTATE. */
    public String sqlState() {
        return sqlState;
    }
}
