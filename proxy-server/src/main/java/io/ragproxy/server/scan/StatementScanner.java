package io.ragproxy.server.scan;

import static io.ragproxy.server.scan.SqlBytes.IDENT;
import static io.ragproxy.server.scan.SqlBytes.at;
import static io.ragproxy.server.scan.SqlBytes.equalsIgnoreCase;
import static io.ragproxy.server.scan.SqlBytes.keyword;
import static io.ragproxy.server.scan.SqlBytes.startsWithIgnoreCase;

import io.netty.buffer.ByteBuf;
import io.ragproxy.server.text.SqlMode;
import java.util.Objects;

/**
 * Decides, with one lexer-level pass over the bytes of a COM_QUERY, whether the statement needs the proxy's
 * pipeline or can be relayed unchanged.
 *
 * <p>The scan works on the raw bytes of any ASCII-compatible charset in which every byte of a multibyte character
 * is ≥ 0x80 (UTF-8, latin1, …). It is <em>not</em> safe for GBK, Big5 or SJIS, whose trailing bytes can be
 * {@code '\'} or a quote. It decodes no strings, uses no regular expressions and allocates nothing unless it
 * finds something; the only allocation on a hit is the {@link ScanResult}. It never throws on malformed input:
 * an unterminated string, quoted identifier or comment ends the scan, and invalid UTF-8 is just bytes.
 *
 * <h2>What the lexer skips</h2>
 * <ul>
 *   <li>string literals in {@code '…'} and {@code "…"}, with doubled quotes and, unless the session's
 *       {@link SqlMode} says {@code NO_BACKSLASH_ESCAPES}, backslash escapes. Under {@code ANSI_QUOTES}
 *       {@code "…"} is a quoted identifier instead (doubled {@code "}, no backslash escapes), read like
 *       {@code `…`} below;
 *   <li>quoted identifiers in {@code `…`} (doubled backtick). A backquoted catalog name followed by {@code (} is
 *       <em>not</em> a hit: MySQL resolves {@code `embed`(x)} to a stored function, and backquoting is how a user
 *       reaches a backend function that shares a name with the catalog;
 *   <li>comments: {@code #…} and {@code -- …} to the end of the line ({@code --} only when followed by whitespace,
 *       a control character or the end of input, otherwise it is two minus signs), {@code /* … *}{@code /}
 *       (not nested), including optimizer hints {@code /*+ … *}{@code /}.
 * </ul>
 * Executable comments {@code /*! … *}{@code /}, {@code /*!50100 … *}{@code /} and MariaDB's
 * {@code /*M! … *}{@code /}, {@code /*M!100100 … *}{@code /} are code: their content is scanned whatever the
 * version number says (a hit the server would not execute costs a parse, a missed one would send an AI call to
 * the backend).
 *
 * <h2>Function calls</h2>
 * A hit is an unquoted identifier equal (ignoring ASCII case) to a {@link FunctionNames} entry, followed by
 * optional whitespace and comments and then {@code (}. Identifier bytes are ASCII letters, digits, {@code _},
 * {@code $} and bytes ≥ 0x80, so {@code my_embed(} and {@code embedding} are other words. A name after {@code .}
 * ({@code db.embed(}, a stored function in {@code db}) or after {@code @} (a variable) is not a hit, except for the
 * names a scanner is given as qualified calls (the catalog's Aurora functions, {@code db.fn(}); a {@code .}
 * directly after an all-digit word is a decimal point and does not qualify what follows. The name being defined
 * by {@code CREATE FUNCTION name (} is not a call. Other look-alikes, such as a table named like a catalog
 * function in {@code INSERT INTO embed (a) …}, are hits: the pipeline's parser sorts them out, and a false hit
 * only costs a parse.
 *
 * <h2>Catalog tables</h2>
 * A scanner may also be given table names (see {@link #StatementScanner(FunctionNames, FunctionNames, FunctionNames)}):
 * MindsDB models, read after {@code FROM} or {@code JOIN}, and tables with auto-embedding columns, written after
 * {@code INTO}, {@code UPDATE}, {@code INSERT}, {@code REPLACE} or {@code TABLE}. The name may be backquoted or
 * qualified ({@code db.t}). A hit is reported like a function call ({@link ScanResult.Kind#FUNCTION_CALL} with the
 * table's name): the statement needs the pipeline. Without table names this costs nothing.
 *
 * <h2>Proxy statements</h2>
 * Recognized at the start of every statement (after leading whitespace and comments, and after each top-level
 * {@code ;}): see {@link ProxyStatementKind}. {@code SET} counts when any of its assignments is to a variable whose
 * name starts with {@code rag_}, written as {@code rag_x}, {@code SESSION rag_x} (or {@code GLOBAL},
 * {@code LOCAL}, {@code PERSIST}, {@code PERSIST_ONLY}), {@code @@rag_x} or {@code @@session.rag_x}, followed by
 * {@code =} or {@code :=}; {@code @rag_x} is a user variable and does not count. {@code CREATE FUNCTION} counts
 * when the keyword {@code ALIAS} appears outside parentheses before a {@code RETURN} or {@code BEGIN} that starts
 * an ordinary body.
 *
 * <p>Statements are split at every {@code ;} outside strings, quoted identifiers and comments. A compound body
 * ({@code BEGIN … ; … END}) of a stored program is therefore seen as several statements; that only makes
 * {@link ScanResult#multiStatement()} true for it.
 *
 * <h2>KILL</h2>
 * {@code KILL [HARD | SOFT] [TIDB] [CONNECTION | QUERY] <digits>} as the whole input (a trailing {@code ;} and
 * comments allowed) gives {@link ScanResult.Kind#KILL} with the id: the proxy relays it unchanged and, on the
 * backend's OK, stops that connection's running AI statement as well. Plain traffic pays one more 4-byte keyword
 * comparison for statements whose first word has four letters. {@code KILL QUERY ID <query id>},
 * {@code KILL USER …}, an id that is an expression ({@code KILL @id}) and a KILL among several statements are
 * plain: the backend alone acts on them.
 *
 * <h2>Result</h2>
 * If any statement is a proxy statement, the first one wins ({@code PROXY_STATEMENT}); otherwise the first
 * function call anywhere in the input gives {@code FUNCTION_CALL}; otherwise a lone KILL gives {@code KILL};
 * otherwise {@link ScanResult#PLAIN}.
 *
 * <h2>sql_mode</h2>
 * The scan methods that take a {@link SqlMode} read strings and {@code "…"} as the backend does in that mode; the
 * others read them in the server's default mode. A null mode means the session's mode is not known (it may have
 * changed since the proxy last read it): the result is then a hit if the statement has one in <em>any</em> mode. A
 * statement without a backslash or {@code "} reads alike in every mode and costs one pass; otherwise a plain result
 * costs up to two more passes (the readings that differ: {@code ANSI_QUOTES}, and {@code NO_BACKSLASH_ESCAPES} with
 * {@code ANSI_QUOTES}, which finds every hit {@code NO_BACKSLASH_ESCAPES} alone finds). Such a hit may be a false
 * one in the session's real mode; whoever acts on it scans again once the mode is known.
 *
 * <p>Instances are immutable and thread-safe; build a new one when the catalog's {@link FunctionNames} change.
 */
public final class StatementScanner {

    // Token types: a punctuation token is its own byte value (0x21..0x7F, never an identifier byte).
    private static final int T_WORD = -1;
    private static final int T_STRING = -2;
    private static final int T_QUOTED_IDENT = -3;

    // What the previous significant token means for a following word.
    private static final int PREV_OTHER = 0;
    /** A {@code .} qualifying the next word ({@code db.embed}). */
    private static final int PREV_QUALIFIER = 1;
    /** An {@code @}: the next word is a variable. */
    private static final int PREV_AT = 2;

    // States of the per-statement recognizer of proxy statements.
    private static final int S_START = 0;
    private static final int S_NONE = 1;
    private static final int S_SHOW = 2;
    private static final int S_EXPLAIN = 3;
    private static final int S_DROP = 4;
    /** After {@code CREATE}, {@code CREATE OR REPLACE}, {@code AGGREGATE} or a complete definer clause. */
    private static final int S_CREATE = 5;
    private static final int S_CREATE_OR = 6;
    private static final int S_DEFINER_EQ = 7;
    private static final int S_DEFINER_USER = 8;
    private static final int S_DEFINER_AFTER_USER = 9;
    private static final int S_DEFINER_HOST = 10;
    private static final int S_DEFINER_PARENS = 11;
    /** After {@code FUNCTION}: optional {@code IF NOT EXISTS}, then the name being defined. */
    private static final int S_FUNCTION_NAME = 12;
    /** Looking for a top-level {@code ALIAS} in a {@code CREATE FUNCTION}. */
    private static final int S_FUNCTION_ALIAS = 13;
    /** At the start of a {@code SET} assignment. */
    private static final int S_SET_VAR = 14;
    private static final int S_SET_SCOPE = 15;
    private static final int S_SET_AT1 = 16;
    private static final int S_SET_AT2 = 17;
    private static final int S_SET_AT_SCOPE = 18;
    private static final int S_SET_AT_DOT = 19;
    /** After a variable name starting with {@code rag_}; the assignment operator decides. */
    private static final int S_SET_NAME_RAG = 20;
    /** Skipping the rest of an assignment up to a top-level {@code ,}. */
    private static final int S_SET_SKIP = 21;
    /** After {@code KILL} and any of {@code HARD}, {@code SOFT}, {@code TIDB}: a mode keyword or the id follows. */
    private static final int S_KILL = 22;
    private static final int S_KILL_CONNECTION = 23;
    private static final int S_KILL_QUERY = 24;
    /** After the id of a {@code KILL [CONNECTION]}: the statement must end here. */
    private static final int S_KILL_CONNECTION_ID = 25;
    /** After the id of a {@code KILL QUERY}: the statement must end here. */
    private static final int S_KILL_QUERY_ID = 26;
    /** After {@code GRANT}, {@code GRANT RAG}, {@code REVOKE}, {@code REVOKE RAG}: {@code MODEL} makes it ours. */
    private static final int S_GRANT = 27;
    private static final int S_GRANT_RAG = 28;
    private static final int S_REVOKE = 29;
    private static final int S_REVOKE_RAG = 30;
    /** After {@code SHOW GLOBAL} or {@code SHOW SESSION}: {@code RAG} makes it a proxy statement. */
    private static final int S_SHOW_SCOPE = 31;
    /** After {@code FUNCTION IF}: {@code NOT} makes it {@code IF NOT EXISTS}, anything else makes IF the name. */
    private static final int S_FUNCTION_IF = 32;
    /** After {@code DESCRIBE} or {@code DESC}: {@code KNOWLEDGE_BASE} makes it a proxy statement. */
    private static final int S_DESCRIBE = 33;
    /** After {@code SET RAG}: {@code BUDGET} makes it {@code SET RAG BUDGET}, anything else an ordinary SET. */
    private static final int S_SET_RAG = 34;
    /** A recognizer step returns {@code HIT + kind.ordinal()} when it has recognized a proxy statement. */
    private static final int HIT = 1 << 16;

    private static final ProxyStatementKind[] PROXY_KINDS = ProxyStatementKind.values();

    private static final byte[] KW_SHOW = keyword("show");
    private static final byte[] KW_EXPLAIN = keyword("explain");
    private static final byte[] KW_RAG = keyword("rag");
    private static final byte[] KW_BUDGET = keyword("budget");
    private static final byte[] KW_SET = keyword("set");
    private static final byte[] KW_CREATE = keyword("create");
    private static final byte[] KW_DROP = keyword("drop");
    private static final byte[] KW_OR = keyword("or");
    private static final byte[] KW_REPLACE = keyword("replace");
    private static final byte[] KW_AGGREGATE = keyword("aggregate");
    private static final byte[] KW_DEFINER = keyword("definer");
    private static final byte[] KW_FUNCTION = keyword("function");
    private static final byte[] KW_MODEL = keyword("model");
    private static final byte[] KW_ML_ENGINE = keyword("ml_engine");
    private static final byte[] KW_KNOWLEDGE_BASE = keyword("knowledge_base");
    private static final byte[] KW_KNOWLEDGE_BASES = keyword("knowledge_bases");
    private static final byte[] KW_DESCRIBE = keyword("describe");
    private static final byte[] KW_DESC = keyword("desc");
    private static final byte[] KW_IF = keyword("if");
    private static final byte[] KW_NOT = keyword("not");
    private static final byte[] KW_EXISTS = keyword("exists");
    private static final byte[] KW_ALIAS = keyword("alias");
    private static final byte[] KW_RETURN = keyword("return");
    private static final byte[] KW_BEGIN = keyword("begin");
    private static final byte[] KW_GLOBAL = keyword("global");
    private static final byte[] KW_SESSION = keyword("session");
    private static final byte[] KW_LOCAL = keyword("local");
    private static final byte[] KW_PERSIST = keyword("persist");
    private static final byte[] KW_PERSIST_ONLY = keyword("persist_only");
    private static final byte[] PREFIX_RAG = keyword("rag_");
    private static final byte[] KW_KILL = keyword("kill");
    private static final byte[] KW_GRANT = keyword("grant");
    private static final byte[] KW_REVOKE = keyword("revoke");
    private static final byte[] KW_HARD = keyword("hard");
    private static final byte[] KW_SOFT = keyword("soft");
    private static final byte[] KW_TIDB = keyword("tidb");
    private static final byte[] KW_CONNECTION = keyword("connection");
    private static final byte[] KW_QUERY = keyword("query");
    /** Decimal digits of the largest thread id the proxy reads ({@code Long.MAX_VALUE} has 19). */
    private static final int MAX_KILL_ID_DIGITS = 18;

    /** MySQL writes 5 version digits, MariaDB 5 or 6. */
    private static final int MAX_VERSION_DIGITS = 6;

    // Table contexts: what the previous keyword makes of a following name.
    private static final int CTX_NONE = 0;
    private static final int CTX_READ = 1;
    private static final int CTX_WRITE = 2;
    private static final byte[] KW_FROM = keyword("from");
    private static final byte[] KW_JOIN = keyword("join");
    private static final byte[] KW_INTO = keyword("into");
    private static final byte[] KW_UPDATE = keyword("update");
    private static final byte[] KW_INSERT = keyword("insert");
    private static final byte[] KW_TABLE = keyword("table");

    private final FunctionNames functionNames;
    private final FunctionNames readTables;
    private final FunctionNames writeTables;
    private final boolean hasTables;
    /** Names that are also hits after a qualifier ({@code db.fn(}): the catalog's schema-scoped functions. */
    private final FunctionNames qualifiedCalls;

    /** Creates a scanner that looks for calls of {@code functionNames} and for proxy statements. */
    public StatementScanner(FunctionNames functionNames) {
        this(functionNames, FunctionNames.empty(), FunctionNames.empty());
    }

    /**
     * Creates a scanner that also flags catalog tables: {@code readTables} after FROM or JOIN (MindsDB models),
     * {@code writeTables} after INTO, UPDATE, INSERT, REPLACE or TABLE (tables with auto-embedding columns).
     */
    public StatementScanner(FunctionNames functionNames, FunctionNames readTables, FunctionNames writeTables) {
        this(functionNames, readTables, writeTables, FunctionNames.empty());
    }

    /**
     * Creates a scanner that also flags calls of {@code qualifiedCalls} after a qualifier ({@code db.fn(}): the
     * catalog's Aurora functions, which belong to a database.
     */
    public StatementScanner(FunctionNames functionNames, FunctionNames readTables, FunctionNames writeTables,
            FunctionNames qualifiedCalls) {
        this.qualifiedCalls = Objects.requireNonNull(qualifiedCalls, "qualifiedCalls");
        this.functionNames = Objects.requireNonNull(functionNames, "functionNames");
        this.readTables = Objects.requireNonNull(readTables, "readTables");
        this.writeTables = Objects.requireNonNull(writeTables, "writeTables");
        this.hasTables = readTables.size() + writeTables.size() > 0;
    }

    /** Returns the function names this scanner looks for. */
    public FunctionNames functionNames() {
        return functionNames;
    }

    /**
     * Scans {@code length} bytes of {@code sql} starting at {@code offset}; hit offsets are indices into
     * {@code sql}.
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code sql}
     */
    public ScanResult scan(byte[] sql, int offset, int length) {
        return scan(sql, offset, length, SqlMode.DEFAULT);
    }

    /**
     * Like {@link #scan(byte[], int, int)}, reading strings and {@code "…"} as {@code mode} does; a null mode means
     * the session's mode is not known (a hit in any mode is a hit).
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code sql}
     */
    public ScanResult scan(byte[] sql, int offset, int length, SqlMode mode) {
        Objects.checkFromIndexSize(offset, length, sql.length);
        return scan(sql, null, offset, offset + length, 0, mode);
    }

    /**
     * Scans {@code length} bytes of {@code buf} starting at buffer index {@code index}, without copying and without
     * changing the reader or writer index; hit offsets are buffer indices. A buffer with an accessible array is
     * scanned through the array, any other (direct, composite) through {@link ByteBuf#getByte(int)}.
     *
     * @throws IndexOutOfBoundsException if the range is not within the buffer's capacity
     */
    public ScanResult scan(ByteBuf buf, int index, int length) {
        return scan(buf, index, length, SqlMode.DEFAULT);
    }

    /**
     * Like {@link #scan(ByteBuf, int, int)}, reading strings and {@code "…"} as {@code mode} does; a null mode means
     * the session's mode is not known (a hit in any mode is a hit).
     *
     * @throws IndexOutOfBoundsException if the range is not within the buffer's capacity
     */
    public ScanResult scan(ByteBuf buf, int index, int length, SqlMode mode) {
        Objects.checkFromIndexSize(index, length, buf.capacity());
        if (buf.hasArray()) {
            int arrayOffset = buf.arrayOffset();
            return scan(buf.array(), null, arrayOffset + index, arrayOffset + index + length, arrayOffset, mode);
        }
        return scan(null, buf, index, index + length, 0, mode);
    }

    /** Scans in {@code mode}, or for a null mode in every reading that can differ (see the class comment). */
    private ScanResult scan(byte[] a, ByteBuf b, int start, int end, int delta, SqlMode mode) {
        if (mode != null) {
            return scan(a, b, start, end, delta, !mode.noBackslashEscapes(), mode.ansiQuotes());
        }
        ScanResult result = scan(a, b, start, end, delta, true, false);
        if (!result.isPlain()) {
            return result;
        }
        int sensitive = modeSensitive(a, b, start, end);
        if (sensitive == 0) {
            return result; // no backslash, no double quote: every mode reads it alike
        }
        // ANSI_QUOTES: "…" ends at its first lone '"' and may name a table. It finds every hit the default reading
        // of a statement without backslashes finds.
        result = scan(a, b, start, end, delta, true, true);
        if (result.isPlain() && (sensitive & HAS_BACKSLASH) != 0) {
            // NO_BACKSLASH_ESCAPES: strings end at their first lone quote; with ANSI_QUOTES it finds every hit of
            // NO_BACKSLASH_ESCAPES alone ("…" ends at the same byte and may also name a table).
            result = scan(a, b, start, end, delta, false, true);
        }
        return result;
    }

    private static final int HAS_DOUBLE_QUOTE = 1;
    private static final int HAS_BACKSLASH = 2;

    /** Which of the bytes whose reading depends on sql_mode occur in {@code [start, end)}. */
    private static int modeSensitive(byte[] a, ByteBuf b, int start, int end) {
        int found = 0;
        for (int i = start; i < end; i++) {
            int c = at(a, b, i);
            if (c == '"') {
                found |= HAS_DOUBLE_QUOTE;
            } else if (c == '\\') {
                found |= HAS_BACKSLASH;
            }
        }
        return found;
    }

    /**
     * The lexer. Exactly one of {@code a} and {@code b} is non-null; positions are in their coordinates and
     * {@code delta} is subtracted from reported offsets (a heap buffer's array offset).
     */
    private ScanResult scan(byte[] a, ByteBuf b, int start, int end, int delta, boolean backslashEscapes,
            boolean ansiQuotes) {
        FunctionNames names = functionNames;
        int pos = start;
        boolean inExecutableComment = false;

        // Statement recognizer.
        int state = S_START;
        int depth = 0;
        int statementStart = -1;
        boolean afterSemicolon = false;
        boolean multiStatement = false;

        // Context of the previous significant token.
        int prev = PREV_OTHER;
        int digitsEnd = -1; // end of the previous token if it was an all-digit word, else -1

        // A catalog name waiting for the next significant token to be '('.
        int pendingName = -1;
        int pendingOffset = -1;
        boolean pendingQualified = false;
        boolean functionQualified = false;

        // Catalog tables: the context a keyword set up, and the one a qualifier carries over its '.'.
        int tableContext = CTX_NONE;
        int carriedContext = CTX_NONE;
        String tableName = null;
        int tableOffset = -1;

        // Hits.
        int functionName = -1;
        int functionOffset = -1;
        int proxyKind = -1;
        int proxyOffset = -1;
        // A KILL statement of one connection id: where it starts, where its id is, and its mode (S_KILL_*_ID).
        int killOffset = -1;
        int killIdStart = -1;
        int killIdEnd = -1;
        int killMode = -1;

        scan:
        while (pos < end) {
            int c = at(a, b, pos);
            int type;
            int tokenStart = pos;
            if (c <= ' ') {
                pos++;
                continue;
            }
            if (IDENT[c]) {
                pos++;
                while (pos < end && IDENT[at(a, b, pos)]) {
                    pos++;
                }
                type = T_WORD;
            } else {
                switch (c) {
                    case '\'' -> {
                        pos = skipQuoted(a, b, pos + 1, end, c, backslashEscapes);
                        if (pos < 0) {
                            break scan;
                        }
                        type = T_STRING;
                    }
                    case '"' -> {
                        pos = skipQuoted(a, b, pos + 1, end, c, backslashEscapes && !ansiQuotes);
                        if (pos < 0) {
                            break scan;
                        }
                        type = ansiQuotes ? T_QUOTED_IDENT : T_STRING;
                    }
                    case '`' -> {
                        pos = skipQuoted(a, b, pos + 1, end, c, false);
                        if (pos < 0) {
                            break scan;
                        }
                        type = T_QUOTED_IDENT;
                    }
                    case '#' -> {
                        pos = skipLine(a, b, pos + 1, end);
                        continue;
                    }
                    case '-' -> {
                        if (pos + 1 < end && at(a, b, pos + 1) == '-'
                                && (pos + 2 == end || isSpaceOrControl(at(a, b, pos + 2)))) {
                            pos = skipLine(a, b, pos + 2, end);
                            continue;
                        }
                        pos++;
                        type = c;
                    }
                    case '/' -> {
                        if (pos + 1 < end && at(a, b, pos + 1) == '*') {
                            int marker = pos + 2;
                            if (marker < end && at(a, b, marker) == '!') {
                                pos = skipVersion(a, b, marker + 1, end);
                                inExecutableComment = true;
                                continue;
                            }
                            if (marker + 1 < end && at(a, b, marker) == 'M' && at(a, b, marker + 1) == '!') {
                                // MariaDB: exactly "M!"; anything else keeps it a comment, whose quotes mean nothing.
                                pos = skipVersion(a, b, marker + 2, end);
                                inExecutableComment = true;
                                continue;
                            }
                            pos = skipBlockComment(a, b, marker, end);
                            continue;
                        }
                        pos++;
                        type = c;
                    }
                    case '*' -> {
                        if (inExecutableComment && pos + 1 < end && at(a, b, pos + 1) == '/') {
                            // Closes the executable comment; the marker itself is not a token.
                            pos += 2;
                            inExecutableComment = false;
                            continue;
                        }
                        pos++;
                        type = c;
                    }
                    default -> {
                        pos++;
                        type = c;
                    }
                }
            }

            // A significant token [tokenStart, pos) of the given type.
            if (afterSemicolon && type != ';') {
                afterSemicolon = false;
                multiStatement = true;
                if (proxyKind >= 0) {
                    break; // nothing left to learn: the first proxy statement wins
                }
            }
            if (pendingName >= 0) {
                if (type == '(' && functionName < 0) {
                    functionName = pendingName;
                    functionOffset = pendingOffset;
                    functionQualified = pendingQualified;
                }
                pendingName = -1;
            }

            if (type == ';') {
                if (state == S_KILL_CONNECTION_ID || state == S_KILL_QUERY_ID) {
                    killMode = state;
                    killOffset = statementStart;
                }
                state = S_START;
                depth = 0;
                afterSemicolon = true;
                prev = PREV_OTHER;
                digitsEnd = -1;
                tableContext = CTX_NONE;
                carriedContext = CTX_NONE;
                continue;
            }

            if (hasTables && tableName == null) {
                int context = tableContext;
                tableContext = CTX_NONE;
                if (type == T_WORD || type == T_QUOTED_IDENT) {
                    int s = type == T_WORD ? tokenStart : tokenStart + 1;
                    int e = type == T_WORD ? pos : pos - 1;
                    FunctionNames tables = context == CTX_READ ? readTables : context == CTX_WRITE ? writeTables : null;
                    int index = tables == null || e <= s ? -1 : tables.indexOf(a, b, s, e);
                    if (index >= 0) {
                        tableName = tables.name(index);
                        tableOffset = tokenStart - delta;
                    } else if (type == T_WORD) {
                        tableContext = tableKeyword(a, b, s, e);
                    }
                    carriedContext = context; // a qualifier: the name after its '.' is in the same context
                } else {
                    if (type == '.') {
                        tableContext = carriedContext;
                    }
                    carriedContext = CTX_NONE;
                }
            }

            int stateBefore = state;
            if (state != S_NONE) {
                if (state == S_START) {
                    statementStart = tokenStart;
                    state = proxyKind >= 0 ? S_NONE : firstToken(a, b, type, tokenStart, pos);
                } else {
                    state = step(a, b, state, type, tokenStart, pos, depth);
                    if ((state == S_KILL_CONNECTION_ID || state == S_KILL_QUERY_ID) && killOffset < 0) {
                        killIdStart = tokenStart;
                        killIdEnd = pos;
                    }
                    if (state >= HIT) {
                        proxyKind = state - HIT;
                        proxyOffset = statementStart;
                        state = S_NONE;
                    }
                }
            }
            if (type == '(') {
                depth++;
            } else if (type == ')' && depth > 0) {
                depth--;
            }

            if (type == T_WORD) {
                if (prev == PREV_OTHER && functionName < 0 && proxyKind < 0 && stateBefore != S_FUNCTION_NAME) {
                    int index = names.indexOf(a, b, tokenStart, pos);
                    if (index >= 0) {
                        pendingName = index;
                        pendingOffset = tokenStart - delta;
                        pendingQualified = false;
                    }
                } else if (prev == PREV_QUALIFIER && functionName < 0 && proxyKind < 0 && qualifiedCalls.size() > 0) {
                    int index = qualifiedCalls.indexOf(a, b, tokenStart, pos);
                    if (index >= 0) {
                        pendingName = index;
                        pendingOffset = tokenStart - delta;
                        pendingQualified = true;
                    }
                }
                prev = PREV_OTHER;
                digitsEnd = isAllDigits(a, b, tokenStart, pos) ? pos : -1;
            } else {
                if (type == '.') {
                    prev = digitsEnd == tokenStart ? PREV_OTHER : PREV_QUALIFIER;
                } else if (type == '@') {
                    prev = PREV_AT;
                } else {
                    prev = PREV_OTHER;
                }
                digitsEnd = -1;
            }
        }

        if (proxyKind >= 0) {
            return ScanResult.proxyStatement(PROXY_KINDS[proxyKind], proxyOffset - delta, multiStatement);
        }
        if (functionName >= 0) {
            return ScanResult.functionCall((functionQualified ? qualifiedCalls : names).name(functionName),
                    functionOffset, multiStatement);
        }
        if (tableName != null) {
            return ScanResult.functionCall(tableName, tableOffset, multiStatement);
        }
        if (state == S_KILL_CONNECTION_ID || state == S_KILL_QUERY_ID) {
            killMode = state;
            killOffset = statementStart;
        }
        if (killOffset >= 0 && !multiStatement) {
            long id = digits(a, b, killIdStart, killIdEnd);
            if (id >= 0) {
                return ScanResult.kill(id, killMode == S_KILL_CONNECTION_ID, killOffset - delta);
            }
        }
        return ScanResult.PLAIN;
    }

    /** The table context a word sets up for the next name: FROM/JOIN read, INTO/UPDATE/INSERT/REPLACE/TABLE write. */
    private static int tableKeyword(byte[] a, ByteBuf b, int s, int e) {
        switch (e - s) {
            case 4:
                return equalsIgnoreCase(a, b, s, e, KW_FROM) ? CTX_READ : equalsIgnoreCase(a, b, s, e, KW_JOIN)
                        ? CTX_READ : equalsIgnoreCase(a, b, s, e, KW_INTO) ? CTX_WRITE : CTX_NONE;
            case 5:
                return equalsIgnoreCase(a, b, s, e, KW_TABLE) ? CTX_WRITE : CTX_NONE;
            case 6:
                return equalsIgnoreCase(a, b, s, e, KW_UPDATE) || equalsIgnoreCase(a, b, s, e, KW_INSERT) ? CTX_WRITE
                        : CTX_NONE;
            case 7:
                return equalsIgnoreCase(a, b, s, e, KW_REPLACE) ? CTX_WRITE : CTX_NONE;
            default:
                return CTX_NONE;
        }
    }

    /** Returns the recognizer state after the first token of a statement. */
    private static int firstToken(byte[] a, ByteBuf b, int type, int s, int e) {
        if (type != T_WORD) {
            return S_NONE;
        }
        // Dispatch on length first: nearly every statement starts with a word none of these can match.
        switch (e - s) {
            case 3:
                return equalsIgnoreCase(a, b, s, e, KW_SET) ? S_SET_VAR : S_NONE;
            case 4:
                if (equalsIgnoreCase(a, b, s, e, KW_SHOW)) {
                    return S_SHOW;
                }
                if (equalsIgnoreCase(a, b, s, e, KW_KILL)) {
                    return S_KILL;
                }
                if (equalsIgnoreCase(a, b, s, e, KW_DESC)) {
                    return S_DESCRIBE;
                }
                return equalsIgnoreCase(a, b, s, e, KW_DROP) ? S_DROP : S_NONE;
            case 5:
                return equalsIgnoreCase(a, b, s, e, KW_GRANT) ? S_GRANT : S_NONE;
            case 6:
                if (equalsIgnoreCase(a, b, s, e, KW_CREATE)) {
                    return S_CREATE;
                }
                return equalsIgnoreCase(a, b, s, e, KW_REVOKE) ? S_REVOKE : S_NONE;
            case 7:
                return equalsIgnoreCase(a, b, s, e, KW_EXPLAIN) ? S_EXPLAIN : S_NONE;
            case 8:
                return equalsIgnoreCase(a, b, s, e, KW_DESCRIBE) ? S_DESCRIBE : S_NONE;
            default:
                return S_NONE;
        }
    }

    /**
     * Advances the recognizer by one token; returns the next state, or {@code HIT + ordinal} of the recognized
     * {@link ProxyStatementKind}. {@code depth} is the parenthesis depth before this token.
     */
    private static int step(byte[] a, ByteBuf b, int state, int type, int s, int e, int depth) {
        boolean word = type == T_WORD;
        switch (state) {
            case S_SHOW:
                if (word && (equalsIgnoreCase(a, b, s, e, KW_GLOBAL) || equalsIgnoreCase(a, b, s, e, KW_SESSION))) {
                    return S_SHOW_SCOPE;
                }
                if (word && equalsIgnoreCase(a, b, s, e, KW_KNOWLEDGE_BASES)) {
                    return hit(ProxyStatementKind.SHOW_KNOWLEDGE_BASES);
                }
                return word && equalsIgnoreCase(a, b, s, e, KW_RAG) ? hit(ProxyStatementKind.SHOW_RAG) : S_NONE;
            case S_SHOW_SCOPE:
                return word && equalsIgnoreCase(a, b, s, e, KW_RAG) ? hit(ProxyStatementKind.SHOW_RAG) : S_NONE;
            case S_EXPLAIN:
                return word && equalsIgnoreCase(a, b, s, e, KW_RAG) ? hit(ProxyStatementKind.EXPLAIN_RAG) : S_NONE;
            case S_GRANT:
                return word && equalsIgnoreCase(a, b, s, e, KW_RAG) ? S_GRANT_RAG : S_NONE;
            case S_GRANT_RAG:
                return word && equalsIgnoreCase(a, b, s, e, KW_MODEL) ? hit(ProxyStatementKind.GRANT_RAG_MODEL) : S_NONE;
            case S_REVOKE:
                return word && equalsIgnoreCase(a, b, s, e, KW_RAG) ? S_REVOKE_RAG : S_NONE;
            case S_REVOKE_RAG:
                return word && equalsIgnoreCase(a, b, s, e, KW_MODEL) ? hit(ProxyStatementKind.REVOKE_RAG_MODEL)
                        : S_NONE;
            case S_DROP:
                if (word) {
                    if (equalsIgnoreCase(a, b, s, e, KW_FUNCTION)) {
                        return hit(ProxyStatementKind.DROP_FUNCTION);
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_MODEL)) {
                        return hit(ProxyStatementKind.DROP_MODEL);
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_ML_ENGINE)) {
                        return hit(ProxyStatementKind.DROP_ML_ENGINE);
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_KNOWLEDGE_BASE)) {
                        return hit(ProxyStatementKind.DROP_KNOWLEDGE_BASE);
                    }
                }
                return S_NONE;
            case S_CREATE:
                return createStep(a, b, type, s, e);
            case S_DESCRIBE:
                return word && equalsIgnoreCase(a, b, s, e, KW_KNOWLEDGE_BASE)
                        ? hit(ProxyStatementKind.DESCRIBE_KNOWLEDGE_BASE) : S_NONE;
            case S_CREATE_OR:
                return word && equalsIgnoreCase(a, b, s, e, KW_REPLACE) ? S_CREATE : S_NONE;
            case S_DEFINER_EQ:
                return type == '=' ? S_DEFINER_USER : S_NONE;
            case S_DEFINER_USER:
                return isName(type) ? S_DEFINER_AFTER_USER : S_NONE;
            case S_DEFINER_AFTER_USER:
                // user@host, CURRENT_USER(), or a bare user / CURRENT_USER followed by the next CREATE keyword.
                if (type == '@') {
                    return S_DEFINER_HOST;
                }
                if (type == '(') {
                    return S_DEFINER_PARENS;
                }
                return createStep(a, b, type, s, e);
            case S_DEFINER_HOST:
                return isName(type) ? S_CREATE : S_NONE;
            case S_DEFINER_PARENS:
                return type == ')' ? S_CREATE : S_NONE;
            case S_FUNCTION_NAME:
                if (word && equalsIgnoreCase(a, b, s, e, KW_IF)) {
                    return S_FUNCTION_IF;
                }
                if (word && (equalsIgnoreCase(a, b, s, e, KW_NOT) || equalsIgnoreCase(a, b, s, e, KW_EXISTS))) {
                    return S_FUNCTION_NAME;
                }
                return isName(type) ? S_FUNCTION_ALIAS : S_NONE;
            case S_FUNCTION_IF:
                if (word && equalsIgnoreCase(a, b, s, e, KW_NOT)) {
                    return S_FUNCTION_NAME;
                }
                // IF was the function's name: this token is its parameter list's "(" or a "." qualifying it.
                return S_FUNCTION_ALIAS;
            case S_FUNCTION_ALIAS:
                if (word && depth == 0) {
                    if (equalsIgnoreCase(a, b, s, e, KW_ALIAS)) {
                        return hit(ProxyStatementKind.CREATE_FUNCTION_ALIAS);
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_RETURN) || equalsIgnoreCase(a, b, s, e, KW_BEGIN)) {
                        return S_NONE; // an ordinary stored function body
                    }
                }
                return S_FUNCTION_ALIAS;
            case S_SET_VAR:
                if (word && equalsIgnoreCase(a, b, s, e, KW_RAG)) {
                    return S_SET_RAG;
                }
                if (word) {
                    return isScope(a, b, s, e) ? S_SET_SCOPE : setName(a, b, s, e);
                }
                return type == '@' ? S_SET_AT1 : S_SET_SKIP;
            case S_SET_SCOPE:
                return word ? setName(a, b, s, e) : S_SET_SKIP;
            case S_SET_AT1:
                return type == '@' ? S_SET_AT2 : S_SET_SKIP; // '@' then a word: a user variable
            case S_SET_AT2:
                if (word) {
                    return isScope(a, b, s, e) ? S_SET_AT_SCOPE : setName(a, b, s, e);
                }
                return S_SET_SKIP;
            case S_SET_AT_SCOPE:
                return type == '.' ? S_SET_AT_DOT : S_SET_SKIP;
            case S_SET_AT_DOT:
                return word ? setName(a, b, s, e) : S_SET_SKIP;
            case S_SET_NAME_RAG:
                if (type == '=') {
                    return hit(ProxyStatementKind.SET_RAG);
                }
                return type == ':' ? S_SET_NAME_RAG : S_SET_SKIP;
            case S_SET_RAG:
                if (word && equalsIgnoreCase(a, b, s, e, KW_BUDGET)) {
                    return hit(ProxyStatementKind.SET_RAG_BUDGET);
                }
                return type == ',' && depth == 0 ? S_SET_VAR : S_SET_SKIP;
            case S_SET_SKIP:
                return type == ',' && depth == 0 ? S_SET_VAR : S_SET_SKIP;
            case S_KILL:
                if (word) {
                    if (isAllDigits(a, b, s, e)) {
                        return S_KILL_CONNECTION_ID;
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_QUERY)) {
                        return S_KILL_QUERY;
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_CONNECTION)) {
                        return S_KILL_CONNECTION;
                    }
                    if (equalsIgnoreCase(a, b, s, e, KW_HARD) || equalsIgnoreCase(a, b, s, e, KW_SOFT)
                            || equalsIgnoreCase(a, b, s, e, KW_TIDB)) {
                        return S_KILL;
                    }
                }
                return S_NONE; // KILL USER …, KILL @var, KILL (expression): the backend's alone
            case S_KILL_CONNECTION:
                return word && isAllDigits(a, b, s, e) ? S_KILL_CONNECTION_ID : S_NONE;
            case S_KILL_QUERY:
                // KILL QUERY ID <query id> names a backend query, not a connection: the backend's alone.
                return word && isAllDigits(a, b, s, e) ? S_KILL_QUERY_ID : S_NONE;
            case S_KILL_CONNECTION_ID:
            case S_KILL_QUERY_ID:
                return S_NONE; // more than an id (KILL 5 + 1): an expression the proxy does not evaluate
            default:
                return S_NONE;
        }
    }

    /** A token in {@link #S_CREATE}: another prefix keyword, or the kind of object being created. */
    private static int createStep(byte[] a, ByteBuf b, int type, int s, int e) {
        if (type != T_WORD) {
            return S_NONE;
        }
        if (equalsIgnoreCase(a, b, s, e, KW_FUNCTION)) {
            return S_FUNCTION_NAME;
        }
        if (equalsIgnoreCase(a, b, s, e, KW_MODEL)) {
            return hit(ProxyStatementKind.CREATE_MODEL);
        }
        if (equalsIgnoreCase(a, b, s, e, KW_ML_ENGINE)) {
            return hit(ProxyStatementKind.CREATE_ML_ENGINE);
        }
        if (equalsIgnoreCase(a, b, s, e, KW_KNOWLEDGE_BASE)) {
            return hit(ProxyStatementKind.CREATE_KNOWLEDGE_BASE);
        }
        if (equalsIgnoreCase(a, b, s, e, KW_OR)) {
            return S_CREATE_OR;
        }
        if (equalsIgnoreCase(a, b, s, e, KW_AGGREGATE)) {
            return S_CREATE;
        }
        if (equalsIgnoreCase(a, b, s, e, KW_DEFINER)) {
            return S_DEFINER_EQ;
        }
        return S_NONE;
    }

    /** After a SET variable name: only a {@code rag_} name can still make the statement a proxy statement. */
    private static int setName(byte[] a, ByteBuf b, int s, int e) {
        return e - s > PREFIX_RAG.length && startsWithIgnoreCase(a, b, s, e, PREFIX_RAG) ? S_SET_NAME_RAG : S_SET_SKIP;
    }

    private static boolean isScope(byte[] a, ByteBuf b, int s, int e) {
        return equalsIgnoreCase(a, b, s, e, KW_SESSION) || equalsIgnoreCase(a, b, s, e, KW_GLOBAL)
                || equalsIgnoreCase(a, b, s, e, KW_LOCAL) || equalsIgnoreCase(a, b, s, e, KW_PERSIST)
                || equalsIgnoreCase(a, b, s, e, KW_PERSIST_ONLY);
    }

    /** A token that can name something: a word, a string or a quoted identifier. */
    private static boolean isName(int type) {
        return type == T_WORD || type == T_STRING || type == T_QUOTED_IDENT;
    }

    private static int hit(ProxyStatementKind kind) {
        return HIT + kind.ordinal();
    }

    /**
     * Skips a string or quoted identifier whose opening quote precedes {@code pos}; returns the position after
     * the closing quote, or -1 if the input ends first.
     */
    private static int skipQuoted(byte[] a, ByteBuf b, int pos, int end, int quote, boolean backslashEscapes) {
        while (pos < end) {
            int c = at(a, b, pos);
            if (c == quote) {
                if (pos + 1 < end && at(a, b, pos + 1) == quote) {
                    pos += 2; // doubled quote
                    continue;
                }
                return pos + 1;
            }
            pos += backslashEscapes && c == '\\' ? 2 : 1;
        }
        return -1;
    }

    /** Returns the position after the next {@code '\n'}, or {@code end}. */
    private static int skipLine(byte[] a, ByteBuf b, int pos, int end) {
        while (pos < end) {
            if (at(a, b, pos++) == '\n') {
                return pos;
            }
        }
        return end;
    }

    /** Returns the position after the {@code *}{@code /} that closes a comment whose body starts at {@code pos}. */
    private static int skipBlockComment(byte[] a, ByteBuf b, int pos, int end) {
        while (pos + 1 < end) {
            if (at(a, b, pos) == '*' && at(a, b, pos + 1) == '/') {
                return pos + 2;
            }
            pos++;
        }
        return end;
    }

    /** Skips the optional version number of an executable comment. */
    private static int skipVersion(byte[] a, ByteBuf b, int pos, int end) {
        int limit = Math.min(end, pos + MAX_VERSION_DIGITS);
        while (pos < limit && isDigit(at(a, b, pos))) {
            pos++;
        }
        return pos;
    }

    /** The value of the all-digit word {@code [s, e)}, or -1 when it has more digits than the proxy reads. */
    private static long digits(byte[] a, ByteBuf b, int s, int e) {
        while (s < e - 1 && at(a, b, s) == '0') {
            s++; // leading zeros
        }
        if (e - s > MAX_KILL_ID_DIGITS) {
            return -1;
        }
        long v = 0;
        for (int i = s; i < e; i++) {
            v = v * 10 + (at(a, b, i) - '0');
        }
        return v;
    }

    private static boolean isAllDigits(byte[] a, ByteBuf b, int s, int e) {
        for (int i = s; i < e; i++) {
            if (!isDigit(at(a, b, i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    /** MySQL ends a {@code --} comment marker at whitespace or any control character. */
    private static boolean isSpaceOrControl(int c) {
        return c <= ' ' || c == 0x7F;
    }
}
