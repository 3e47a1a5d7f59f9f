package io.ragproxy.server.scan;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class StatementScannerTest {

    static final FunctionNames CATALOG = FunctionNames.of("EMBED", "EMBED_TEXT", "GENERATE", "ANSWER",
            "VEC_EMBED_COSINE_DISTANCE", "VEC_EMBED_L2_DISTANCE");
    static final StatementScanner SCANNER = new StatementScanner(CATALOG);

    static ScanResult scan(String sql) {
        byte[] bytes = sql.getBytes(UTF_8);
        return SCANNER.scan(bytes, 0, bytes.length);
    }

    static void assertPlain(String sql) {
        assertSame(ScanResult.PLAIN, scan(sql), sql);
    }

    static ScanResult assertCall(String sql, String name) {
        ScanResult result = scan(sql);
        assertEquals(ScanResult.Kind.FUNCTION_CALL, result.kind(), sql);
        assertEquals(name, result.name(), sql);
        assertNull(result.proxyStatementKind(), sql);
        return result;
    }

    /** Asserts a call whose name starts at the first occurrence of {@code marker} (byte offset). */
    static void assertCallAt(String sql, String name, String marker) {
        ScanResult result = assertCall(sql, name);
        assertEquals(byteIndexOf(sql, marker), result.offset(), sql);
    }

    static ScanResult assertProxy(String sql, ProxyStatementKind kind) {
        ScanResult result = scan(sql);
        assertEquals(ScanResult.Kind.PROXY_STATEMENT, result.kind(), sql);
        assertEquals(kind, result.proxyStatementKind(), sql);
        assertEquals(kind.phrase(), result.name(), sql);
        return result;
    }

    static int byteIndexOf(String sql, String marker) {
        int charIndex = sql.indexOf(marker);
        assertTrue(charIndex >= 0, marker);
        return sql.substring(0, charIndex).getBytes(UTF_8).length;
    }

    @Nested
    class PlainStatements {

        @Test
        void ordinarySqlIsPlainAndSharesTheConstant() {
            assertPlain("SELECT 1");
            assertPlain("SELECT id, title FROM docs WHERE id = 42 ORDER BY id LIMIT 10");
            assertPlain("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')");
            assertPlain("UPDATE t SET a = a + 1 WHERE b IN (SELECT c FROM u)");
            assertPlain("");
            assertPlain("   \n\t  ");
            assertPlain(";");
        }

        @Test
        void builtinFunctionsAreNotHits() {
            assertPlain("SELECT CONCAT(a, b), COUNT(*), NOW() FROM t");
            assertPlain("SELECT VEC_COSINE_DISTANCE(v, '[1,2]') FROM t");
        }

        @Test
        void columnNamedLikeAFunctionWithoutParenIsNotAHit() {
            assertPlain("SELECT embed FROM t");
            assertPlain("SELECT embed, generate FROM t WHERE answer = 1");
            assertPlain("SELECT embed + 1 FROM t");
        }

        @Test
        void longerIdentifiersAreOtherWords() {
            assertPlain("SELECT my_embed('x')");
            assertPlain("SELECT embedding('x')");
            assertPlain("SELECT embed2('x')");
            assertPlain("SELECT $embed('x')");
            assertPlain("SELECT embed$('x')");
            assertPlain("SELECT 1embed('x')");
            assertPlain("SELECT embedding FROM t");
        }

        @Test
        void qualifiedNamesAreStoredFunctionsNotHits() {
            assertPlain("SELECT db.embed('x')");
            assertPlain("SELECT db . embed ('x')");
            assertPlain("SELECT `db`.embed('x')");
            assertPlain("SELECT db./* c */embed('x')");
        }

        @Test
        void variablesNamedLikeAFunctionAreNotHits() {
            assertPlain("SELECT @embed (1)");
            assertPlain("SELECT @@embed (1)");
        }
    }

    @Nested
    class FunctionCalls {

        @Test
        void callIsFoundWithItsLowerCaseNameAndByteOffset() {
            assertCallAt("SELECT EMBED('hello')", "embed", "EMBED");
            assertCallAt("SELECT id FROM t WHERE x = generate('p')", "generate", "generate");
            assertCallAt("SELECT VEC_EMBED_COSINE_DISTANCE(v, 'q') FROM t", "vec_embed_cosine_distance", "VEC_");
        }

        @Test
        void caseIsIgnored() {
            assertCall("select embed('x')", "embed");
            assertCall("SELECT EMBED('x')", "embed");
            assertCall("SeLeCt EmBeD_tExT('m', 'x')", "embed_text");
            assertCall("select Vec_Embed_L2_Distance(v, 'x') from t", "vec_embed_l2_distance");
        }

        @Test
        void whitespaceAndCommentsMayStandBetweenNameAndParen() {
            assertCall("SELECT EMBED ('x')", "embed");
            assertCall("SELECT EMBED \n\t ('x')", "embed");
            assertCall("SELECT EMBED /* why not */ ('x')", "embed");
            assertCall("SELECT EMBED # line\n('x')", "embed");
            assertCall("SELECT EMBED -- line\n('x')", "embed");
            assertPlain("SELECT EMBED /* ( */ FROM t");
        }

        @Test
        void firstCallWinsAndItsOffsetIsReported() {
            ScanResult result = assertCall("SELECT generate('a'), embed('b')", "generate");
            assertEquals(7, result.offset());
            assertFalse(result.multiStatement());
        }

        @Test
        void callsAtStartAndEndOfInput() {
            assertCallAt("embed(", "embed", "embed");
            assertPlain("SELECT embed");
            assertPlain("SELECT embed ");
        }

        @Test
        void callInsideExpressionsAndSubqueries() {
            assertCall("SELECT * FROM t ORDER BY VEC_EMBED_L2_DISTANCE(v, 'q') LIMIT 3", "vec_embed_l2_distance");
            assertCall("UPDATE docs SET v = EMBED(body) WHERE v IS NULL", "embed");
            assertCall("SELECT (SELECT answer(q, c) FROM k GROUP BY q)", "answer");
            assertCall("SELECT 1--embed('x')", "embed"); // '--' without a following space is two minus signs
            assertCall("SELECT 1---embed('x')", "embed");
        }

        @Test
        void decimalPointDoesNotQualifyTheNextWord() {
            assertCall("SELECT 1.5*embed('x')", "embed");
            assertCall("SELECT 1.embed('x')", "embed");
        }

        @Test
        void utf8TextAroundTheCall() {
            String sql = "SELECT '中文字符', embed('检索增强生成') AS 向量 FROM 文档 WHERE 标题 = '标题'";
            assertCallAt(sql, "embed", "embed");
            assertPlain("SELECT '中文', 中embed('x'), embed中('x') FROM 文档");
            assertCall("SELECT 标题, embed(标题) FROM 文档", "embed");
        }

        @Test
        void emptyCatalogOnlyFindsProxyStatements() {
            StatementScanner scanner = new StatementScanner(FunctionNames.empty());
            byte[] call = "SELECT embed('x')".getBytes(UTF_8);
            byte[] show = "SHOW RAG STATUS".getBytes(UTF_8);
            assertSame(ScanResult.PLAIN, scanner.scan(call, 0, call.length));
            assertEquals(ScanResult.Kind.PROXY_STATEMENT, scanner.scan(show, 0, show.length).kind());
        }

        @Test
        void userDefinedNamesFromANewCatalog() {
            StatementScanner scanner = new StatementScanner(FunctionNames.of("summarize", "classify"));
            byte[] sql = "SELECT Summarize(body), embed(x) FROM t".getBytes(UTF_8);
            ScanResult result = scanner.scan(sql, 0, sql.length);
            assertEquals("summarize", result.name());
            assertEquals(7, result.offset());
        }
    }

    @Nested
    class StringsQuotedIdentifiersAndComments {

        @Test
        void namesInStringLiteralsAreNotHits() {
            assertPlain("SELECT 'embed(x)'");
            assertPlain("SELECT \"embed(x)\"");
            assertPlain("SELECT 'it\\'s embed('");
            assertPlain("SELECT 'a''embed('");
            assertPlain("SELECT \"a\"\"embed(\"");
            assertPlain("SELECT \"say \\\"embed(\\\"\"");
            assertPlain("SELECT _utf8mb4'embed(' COLLATE utf8mb4_bin");
        }

        @Test
        void escapesEndCorrectlySoCodeAfterTheStringIsScanned() {
            assertCallAt("SELECT 'it\\'s', embed('x')", "embed", "embed");
            assertCallAt("SELECT 'a''b', embed('x')", "embed", "embed");
            assertCallAt("SELECT 'C:\\\\', embed('x')", "embed", "embed"); // 'C:\\' is a complete literal
            assertCallAt("SELECT '', embed('')", "embed", "embed");
        }

        @Test
        void backquotedNamesAreNotHits() {
            assertPlain("SELECT `embed`('x')");
            assertPlain("SELECT `embed` ('x')");
            assertPlain("SELECT `a``embed(`");
            assertCallAt("SELECT `a``b`, embed('x')", "embed", "embed");
        }

        @Test
        void namesInCommentsAreNotHits() {
            assertPlain("SELECT 1 # embed('x')");
            assertPlain("SELECT 1 -- embed('x')");
            assertPlain("SELECT 1 --\tembed('x')");
            assertPlain("SELECT 1 /* embed('x') */");
            assertPlain("SELECT 1 /* embed('x') ");
            assertPlain("SELECT 1 /*+ embed() */");
            assertPlain("SELECT /*+ BKA(t) embed(1) */ 1 FROM t");
            assertPlain("SELECT 1 /*M embed(1) */");
            assertPlain("SELECT 1 /*m! embed(1) */"); // MariaDB only knows upper-case M!
        }

        @Test
        void quotesInsideCommentsDoNotOpenStrings() {
            assertCall("SELECT 1 /* don't */, embed('x')", "embed");
            assertCall("SELECT 1 # it's\n, embed('x')", "embed");
            assertCall("SELECT 1 /*+ NO_ICP(`t) */ embed('x')", "embed");
        }

        @Test
        void commentsEndWhereMySqlEndsThem() {
            assertCall("SELECT 1 # c\nembed('x')", "embed");
            assertCall("SELECT 1 -- c\nembed('x')", "embed");
            assertCall("SELECT 1 /* c */ embed('x')", "embed");
            assertCall("SELECT 1 /* /* not nested */ embed('x')", "embed");
            assertCall("SELECT 1 /**/ embed('x')", "embed");
        }

        @Test
        void executableCommentsAreCode() {
            assertCallAt("SELECT /*! embed('x') */", "embed", "embed");
            assertCallAt("SELECT /*!80000 embed('x') */", "embed", "embed");
            assertCallAt("SELECT /*!50100embed('x')*/", "embed", "embed");
            assertCallAt("SELECT /*M! embed('x') */", "embed", "embed");
            assertCallAt("SELECT /*M!100100 embed('x') */", "embed", "embed");
            assertCall("SELECT /*!embed*/ ('x')", "embed");
        }

        @Test
        void executableCommentCloseIsNotCodeButPlainCommentsInsideStillSkip() {
            assertPlain("SELECT /*! 1 */ */ 1");
            assertPlain("SELECT /*! 'embed(' */");
            assertPlain("SELECT /*! 1 /* embed( */ */");
            assertCall("SELECT 2 */ embed('x')", "embed"); // a stray */ outside a comment is just operators
        }
    }

    @Nested
    class ProxyStatements {

        @Test
        void showAndExplainRag() {
            assertProxy("SHOW RAG STATUS", ProxyStatementKind.SHOW_RAG);
            assertProxy("show rag models", ProxyStatementKind.SHOW_RAG);
            assertProxy("Show Rag Functions", ProxyStatementKind.SHOW_RAG);
            assertProxy("EXPLAIN RAG SELECT embed('x')", ProxyStatementKind.EXPLAIN_RAG);
            assertPlain("SHOW TABLES");
            assertPlain("SHOW ragged");
            assertProxy("SHOW GLOBAL RAG STATUS", ProxyStatementKind.SHOW_RAG);
            assertProxy("show session rag status", ProxyStatementKind.SHOW_RAG);
            assertPlain("SHOW GLOBAL STATUS");
            assertPlain("SHOW SESSION VARIABLES LIKE 'rag%'");
            assertPlain("EXPLAIN SELECT 1");
            assertPlain("SELECT 'SHOW RAG STATUS'");
        }

        @Test
        void grantAndRevokeRagModelButNotARoleCalledRag() {
            assertProxy("GRANT RAG MODEL 'titan-v2' TO 'app'@'%'", ProxyStatementKind.GRANT_RAG_MODEL);
            assertProxy("revoke rag model 'titan-v2' from app", ProxyStatementKind.REVOKE_RAG_MODEL);
            assertProxy("SHOW RAG GRANTS FOR 'app'@'%'", ProxyStatementKind.SHOW_RAG);
            assertPlain("GRANT rag TO 'app'@'%'");
            assertPlain("REVOKE rag FROM 'app'@'%'");
            assertPlain("GRANT SELECT ON rag.* TO 'app'@'%'");
            assertPlain("REVOKE ALL ON *.* FROM app");
        }

        @Test
        void setRagBudgetIsNotASessionSetting() {
            assertProxy("SET RAG BUDGET FOR 'app'@'%' = 5.00 USD PER DAY", ProxyStatementKind.SET_RAG_BUDGET);
            assertProxy("set rag budget for app = NONE", ProxyStatementKind.SET_RAG_BUDGET);
            assertProxy("SET rag_max_calls = 5", ProxyStatementKind.SET_RAG);
            assertProxy("SHOW RAG USAGE FOR 'app'@'%' SINCE '2026-12-01'", ProxyStatementKind.SHOW_RAG);
            assertProxy("SHOW RAG BUDGETS", ProxyStatementKind.SHOW_RAG);
            assertPlain("SET rag = 1");
            assertPlain("SET @rag = 1");
            assertPlain("SET budget = 1");
        }

        @Test
        void leadingWhitespaceAndCommentsAreSkippedAndOffsetIsTheFirstKeyword() {
            ScanResult result = assertProxy("  /* hi */ -- x\n # y\n SHOW RAG STATUS", ProxyStatementKind.SHOW_RAG);
            assertEquals(22, result.offset());
            assertProxy("/*! SHOW RAG STATUS */", ProxyStatementKind.SHOW_RAG);
            assertProxy("/*!40101 SET rag_x = 1 */", ProxyStatementKind.SET_RAG);
            assertProxy("SHOW /* between */ RAG STATUS", ProxyStatementKind.SHOW_RAG);
        }

        @Test
        void proxyStatementsAreOnlyRecognizedAtStatementStart() {
            assertPlain("SELECT 1 FROM t WHERE x = 'a' AND show = rag");
            assertPlain("SELECT show rag");
            assertPlain("(SHOW RAG STATUS)");
        }

        @Test
        void setRagVariablesInEverySpelling() {
            assertProxy("SET rag_x=1", ProxyStatementKind.SET_RAG);
            assertProxy("set RAG_DEFAULT_MODEL = 'titan-v2'", ProxyStatementKind.SET_RAG);
            assertProxy("SET SESSION rag_timeout_ms = 5", ProxyStatementKind.SET_RAG);
            assertProxy("SET @@rag_timeout_ms = 5", ProxyStatementKind.SET_RAG);
            assertProxy("SET @@session.rag_timeout_ms = 5", ProxyStatementKind.SET_RAG);
            assertProxy("SET @@SESSION . rag_timeout_ms := 5", ProxyStatementKind.SET_RAG);
            assertProxy("SET rag_x := 1", ProxyStatementKind.SET_RAG);
            assertProxy("SET GLOBAL rag_x = 1", ProxyStatementKind.SET_RAG);
        }

        @Test
        void setWithSeveralAssignmentsCountsIfAnyIsRag() {
            assertProxy("SET sql_mode = '', rag_x = 1", ProxyStatementKind.SET_RAG);
            assertProxy("SET @a = IF(1, 2, 3), SESSION rag_batch_size = 64", ProxyStatementKind.SET_RAG);
            assertProxy("SET @@session.autocommit = 1, @@session.rag_max_calls = 10", ProxyStatementKind.SET_RAG);
            assertPlain("SET @a = CONCAT('rag_x', 'y'), b = 2");
            assertPlain("SET @a = f(1, rag_x = 1)");
        }

        @Test
        void setOfOtherVariablesIsPlain() {
            assertPlain("set session sql_mode=''");
            assertPlain("SET NAMES utf8mb4");
            assertPlain("SET autocommit = 1");
            assertPlain("SET @rag_x = 1"); // a user variable
            assertPlain("SET @@session.sql_mode = 'rag_x'");
            assertPlain("SET ragx = 1");
            assertPlain("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
            assertPlain("SET PASSWORD FOR rag_admin = 'secret'");
        }

        @Test
        void createFunctionAliasIsAProxyStatement() {
            assertProxy("CREATE FUNCTION f(x TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'x'",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertProxy("create definer = 'admin'@'%' function f (body TEXT) returns text character set utf8mb4 "
                    + "alias aws_bedrock_invoke_model model id 'amazon.titan' content_type 'application/json' "
                    + "accept 'application/json'", ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertProxy("CREATE DEFINER=admin@localhost FUNCTION f(x TEXT) RETURNS TEXT ALIAS AWS_X",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertProxy("CREATE DEFINER = CURRENT_USER() FUNCTION db.f(x TEXT) RETURNS TEXT ALIAS AWS_X",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertProxy("CREATE DEFINER = CURRENT_USER FUNCTION f(x TEXT) RETURNS TEXT ALIAS AWS_X",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertProxy("CREATE OR REPLACE FUNCTION IF NOT EXISTS f(x TEXT) RETURNS TEXT ALIAS AWS_X",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            // A function named IF (refused later as a built-in's name), not IF NOT EXISTS.
            assertProxy("CREATE FUNCTION if (x TEXT) RETURNS TEXT ALIAS AWS_X", ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertProxy("CREATE FUNCTION IF NOT EXISTS if (x TEXT) RETURNS TEXT ALIAS AWS_X",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertPlain("CREATE FUNCTION if (x TEXT) RETURNS TEXT RETURN x");
        }

        @Test
        void createFunctionDefiningACatalogNameIsTheAliasNotACall() {
            assertProxy("CREATE FUNCTION embed(x TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL",
                    ProxyStatementKind.CREATE_FUNCTION_ALIAS);
            assertPlain("CREATE FUNCTION embed(x TEXT) RETURNS TEXT RETURN x");
        }

        @Test
        void ordinaryCreateFunctionIsPlain() {
            assertPlain("CREATE FUNCTION f() RETURNS INT RETURN 1");
            assertPlain("CREATE FUNCTION f(alias INT) RETURNS INT DETERMINISTIC RETURN alias");
            assertPlain("CREATE FUNCTION f() RETURNS INT BEGIN DECLARE alias INT DEFAULT 1; RETURN alias; END");
            assertPlain("CREATE FUNCTION f RETURNS STRING SONAME 'udf.so'");
            assertPlain("CREATE TABLE alias (function INT)");
            assertPlain("CREATE PROCEDURE p() SELECT 'ALIAS'");
            assertPlain("CREATE FUNCTION f() RETURNS TEXT COMMENT 'ALIAS' RETURN 'x'");
        }

        @Test
        void dropFunctionIsReportedForTheProxyToDecide() {
            ScanResult result = assertProxy("DROP FUNCTION IF EXISTS f", ProxyStatementKind.DROP_FUNCTION);
            assertEquals("drop function", result.name());
            assertEquals(0, result.offset());
            assertProxy("drop function db.embed", ProxyStatementKind.DROP_FUNCTION);
            assertPlain("DROP TABLE function");
            assertPlain("DROP PROCEDURE p");
        }

        @Test
        void mindsDbModelAndEngineStatements() {
            assertProxy("CREATE MODEL m FROM db (SELECT * FROM t) PREDICT y", ProxyStatementKind.CREATE_MODEL);
            assertProxy("DROP MODEL m", ProxyStatementKind.DROP_MODEL);
            assertProxy("create ml_engine openai_engine from openai using api_key = 'k'",
                    ProxyStatementKind.CREATE_ML_ENGINE);
            assertProxy("DROP ML_ENGINE openai_engine", ProxyStatementKind.DROP_ML_ENGINE);
            assertPlain("CREATE TABLE model (id INT)");
            assertPlain("SELECT model FROM ml_engine");
        }

        @Test
        void mindsDbKnowledgeBaseStatements() {
            assertProxy("CREATE KNOWLEDGE_BASE kb USING storage = db.t", ProxyStatementKind.CREATE_KNOWLEDGE_BASE);
            assertProxy("create or replace knowledge_base kb", ProxyStatementKind.CREATE_KNOWLEDGE_BASE);
            assertProxy("DROP KNOWLEDGE_BASE IF EXISTS kb", ProxyStatementKind.DROP_KNOWLEDGE_BASE);
            assertProxy("DESCRIBE KNOWLEDGE_BASE kb", ProxyStatementKind.DESCRIBE_KNOWLEDGE_BASE);
            assertProxy("desc knowledge_base kb", ProxyStatementKind.DESCRIBE_KNOWLEDGE_BASE);
            assertProxy("SHOW KNOWLEDGE_BASES", ProxyStatementKind.SHOW_KNOWLEDGE_BASES);
            assertPlain("DESC t");
            assertPlain("SHOW TABLES");
            assertPlain("SELECT knowledge_base FROM knowledge_bases");
        }
    }

    @Nested
    class MultiStatements {

        @Test
        void proxyStatementAfterASemicolon() {
            ScanResult result = assertProxy("SELECT 1; SHOW RAG STATUS", ProxyStatementKind.SHOW_RAG);
            assertEquals(10, result.offset());
            assertTrue(result.multiStatement());
            assertProxy("SELECT 1;/* c */SET rag_x = 1", ProxyStatementKind.SET_RAG);
        }

        @Test
        void firstProxyStatementWinsOverEarlierAndLaterHits() {
            ScanResult result = assertProxy("SELECT embed('x'); SET rag_x = 1; SHOW RAG STATUS",
                    ProxyStatementKind.SET_RAG);
            assertEquals(19, result.offset());
            assertTrue(result.multiStatement());
        }

        @Test
        void functionCallInALaterStatement() {
            ScanResult result = assertCall("SELECT 1; SELECT embed('x')", "embed");
            assertEquals(17, result.offset());
            assertTrue(result.multiStatement());
        }

        @Test
        void multiStatementOnlyWhenCodeFollowsTheSemicolon() {
            assertFalse(scan("SELECT embed('x');").multiStatement());
            assertFalse(scan("SELECT embed('x'); -- done\n /* really */ ").multiStatement());
            assertFalse(scan("SHOW RAG STATUS;;").multiStatement());
            assertTrue(scan("SHOW RAG STATUS; SELECT 1").multiStatement());
            assertTrue(scan("SELECT embed('x'); SELECT 2").multiStatement());
            assertFalse(scan("SELECT embed(';'); # ; SELECT 2").multiStatement());
        }

        @Test
        void semicolonsInStringsAndCommentsDoNotStartStatements() {
            assertPlain("SELECT 'a; SHOW RAG STATUS'");
            assertPlain("SELECT 1 /* ; SHOW RAG STATUS */");
            assertPlain("SELECT `;SET rag_x = 1`");
        }
    }

    @Nested
    class Kill {

        private ScanResult assertKill(String sql, long target, boolean connection) {
            ScanResult result = scan(sql);
            assertEquals(ScanResult.Kind.KILL, result.kind(), sql);
            assertEquals(target, result.killTarget(), sql);
            assertEquals(connection, result.killsConnection(), sql);
            assertEquals(connection ? "kill connection" : "kill query", result.name(), sql);
            assertNull(result.proxyStatementKind(), sql);
            assertFalse(result.multiStatement(), sql);
            return result;
        }

        @Test
        void killQueryAndKillConnectionOfAThreadId() {
            assertKill("KILL QUERY 42", 42, false);
            assertKill("kill query 7", 7, false);
            assertKill("KILL 42", 42, true);
            assertKill("KILL CONNECTION 42", 42, true);
            assertKill("Kill Connection 0042", 42, true);
            assertKill("KILL QUERY 4294967295", 4294967295L, false);
        }

        @Test
        void mariadbAndTidbModifiers() {
            assertKill("KILL HARD QUERY 5", 5, false);
            assertKill("KILL SOFT CONNECTION 5", 5, true);
            assertKill("KILL SOFT 5", 5, true);
            assertKill("KILL TIDB QUERY 5", 5, false);
            assertKill("KILL TIDB 5", 5, true);
        }

        @Test
        void theOffsetIsTheKillKeywordAfterWhitespaceAndComments() {
            String sql = " /* stop it */ -- now\n KILL /* the query */ QUERY # of 12\n 12 ; ";
            ScanResult result = assertKill(sql, 12, false);
            assertEquals(byteIndexOf(sql, "KILL"), result.offset());
            assertKill("/*! KILL QUERY 9 */", 9, false);
            assertKill("/*M!100000 KILL 9 */", 9, true);
        }

        @Test
        void killInsideStringsCommentsAndIdentifiersIsNotFlagged() {
            assertPlain("SELECT 'KILL QUERY 5'");
            assertPlain("SELECT \"KILL 5\"");
            assertPlain("/* KILL QUERY 5 */ SELECT 1");
            assertPlain("-- KILL QUERY 5\nSELECT 1");
            assertPlain("# KILL 5\nSELECT 1");
            assertPlain("SELECT `KILL` FROM t");
            assertPlain("SELECT kill FROM t WHERE kill = 5");
            assertPlain("SELECT 1 /* ; KILL 5 */");
            assertPlain("SELECT 'a; KILL 5'");
        }

        @Test
        void formsOnlyTheBackendActsOnArePlain() {
            assertPlain("KILL QUERY ID 5"); // a query id, not a connection id
            assertPlain("KILL USER app");
            assertPlain("KILL CONNECTION USER 'app'@'%'");
            assertPlain("KILL @id");
            assertPlain("KILL QUERY (SELECT 5)");
            assertPlain("KILL 5 + 1");
            assertPlain("KILL 5.0");
            assertPlain("KILL 0x1F");
            assertPlain("KILL -5");
            assertPlain("KILL CONNECTION_ID()");
            assertPlain("KILL QUERY");
            assertPlain("KILL");
            assertPlain("KILL 12345678901234567890123");
            assertPlain("SKILL 5");
            assertPlain("KILLS 5");
        }

        @Test
        void aKillAmongSeveralStatementsIsLeftToTheBackend() {
            assertPlain("KILL QUERY 5; SELECT 1");
            assertPlain("SELECT 1; KILL QUERY 5");
            assertPlain("KILL 5; KILL 6");
            assertProxy("KILL 5; SET rag_x = 1", ProxyStatementKind.SET_RAG);
            assertCall("KILL 5; SELECT embed('x')", "embed");
            assertKill("KILL 5;", 5, true);
            assertKill("KILL 5; -- done", 5, true);
        }

        @Test
        void killResultValueSemantics() {
            assertEquals(ScanResult.kill(5, false, 0), ScanResult.kill(5, false, 0));
            assertFalse(ScanResult.kill(5, false, 0).equals(ScanResult.kill(6, false, 0)));
            assertFalse(ScanResult.kill(5, false, 0).equals(ScanResult.kill(5, true, 0)));
            assertEquals(-1, ScanResult.PLAIN.killTarget());
            assertFalse(ScanResult.functionCall("embed", 0, false).killsConnection());
            assertEquals("ScanResult[KILL name=kill query target=5 offset=0]", ScanResult.kill(5, false, 0).toString());
        }
    }

    @Nested
    class ByteBufInput {

        private final String prefix = "xx\u00e9";
        private final String sql = "SELECT 'é', EMBED ('x')";

        private void assertBufferScan(ByteBuf buf) {
            try {
                int index = prefix.getBytes(UTF_8).length;
                buf.writeBytes(prefix.getBytes(UTF_8)).writeBytes(sql.getBytes(UTF_8)).writeBytes("trailing".getBytes(UTF_8));
                int readerIndex = buf.readerIndex();
                ScanResult result = SCANNER.scan(buf, index, sql.getBytes(UTF_8).length);
                assertEquals(ScanResult.Kind.FUNCTION_CALL, result.kind());
                assertEquals("embed", result.name());
                assertEquals(index + byteIndexOf(sql, "EMBED"), result.offset());
                assertEquals(readerIndex, buf.readerIndex());
                assertSame(ScanResult.PLAIN, SCANNER.scan(buf, index, byteIndexOf(sql, "EMBED") + 3));
            } finally {
                buf.release();
            }
        }

        @Test
        void heapBufferAtNonZeroIndex() {
            assertBufferScan(Unpooled.buffer(64));
        }

        @Test
        void directBufferAtNonZeroIndex() {
            ByteBuf buf = Unpooled.directBuffer(64);
            assertFalse(buf.hasArray());
            assertBufferScan(buf);
        }

        @Test
        void heapSliceWithArrayOffsetReportsBufferIndices() {
            byte[] backing = ("padding;" + "SELECT embed('x')").getBytes(UTF_8);
            ByteBuf slice = Unpooled.wrappedBuffer(backing).slice(8, backing.length - 8);
            assertTrue(slice.hasArray());
            assertEquals(8, slice.arrayOffset());
            ScanResult result = SCANNER.scan(slice, 0, slice.capacity());
            assertEquals(7, result.offset());
        }

        @Test
        void compositeBufferIsScannedAcrossComponents() {
            ByteBuf composite = Unpooled.wrappedBuffer(Unpooled.copiedBuffer("SELECT em", UTF_8),
                    Unpooled.directBuffer().writeBytes("bed('x'); SHOW RAG STATUS".getBytes(UTF_8)));
            try {
                ScanResult result = SCANNER.scan(composite, 0, composite.readableBytes());
                assertEquals(ProxyStatementKind.SHOW_RAG, result.proxyStatementKind());
                assertTrue(result.multiStatement());
            } finally {
                composite.release();
            }
        }

        @Test
        void rangeOutsideTheBufferIsRejected() {
            ByteBuf buf = Unpooled.buffer(4, 4);
            try {
                assertThrows(IndexOutOfBoundsException.class, () -> SCANNER.scan(buf, 2, 3));
                assertThrows(IndexOutOfBoundsException.class, () -> SCANNER.scan(buf, -1, 1));
            } finally {
                buf.release();
            }
        }
    }

    @Nested
    class ByteArrayRanges {

        @Test
        void offsetsAreIndicesIntoTheArray() {
            byte[] bytes = "garbage embed('x') SELECT embed('y') garbage".getBytes(UTF_8);
            int start = 19;
            ScanResult result = SCANNER.scan(bytes, start, 17);
            assertEquals(26, result.offset());
            assertSame(ScanResult.PLAIN, SCANNER.scan(bytes, start, 12)); // ends inside "embed"
        }

        @Test
        void rangeOutsideTheArrayIsRejected() {
            byte[] bytes = new byte[4];
            assertThrows(IndexOutOfBoundsException.class, () -> SCANNER.scan(bytes, 3, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> SCANNER.scan(bytes, 0, -1));
        }
    }

    @Nested
    class MalformedInput {

        @Test
        void unterminatedConstructsEndTheScanWithoutThrowing() {
            assertPlain("SELECT 'embed(");
            assertPlain("SELECT \"embed(");
            assertPlain("SELECT `embed(");
            assertPlain("SELECT 'abc\\");
            assertPlain("SELECT /* embed(");
            assertPlain("SELECT /*");
            assertPlain("SELECT /*!");
            assertPlain("SELECT /*M");
            assertPlain("SELECT 1 --");
            assertPlain("SELECT 1 -");
            assertPlain("SELECT #");
            assertPlain("SET @@session.");
            assertPlain("CREATE DEFINER =");
        }

        @Test
        void hitsBeforeAnUnterminatedConstructSurvive() {
            assertCall("SELECT embed('x'), 'oops", "embed");
            assertProxy("SHOW RAG STATUS /* oops", ProxyStatementKind.SHOW_RAG);
            assertCall("SELECT /*! embed('x')", "embed");
        }

        @Test
        void invalidUtf8IsJustBytes() {
            byte[] bytes = {'S', 'E', 'L', (byte) 0xFF, (byte) 0xC3, ' ', 'e', 'm', 'b', 'e', 'd', '(', (byte) 0x80};
            ScanResult result = SCANNER.scan(bytes, 0, bytes.length);
            assertEquals("embed", result.name());
            assertEquals(6, result.offset());
            byte[] glued = {(byte) 0xE4, 'e', 'm', 'b', 'e', 'd', '('}; // a stray lead byte is an identifier byte
            assertSame(ScanResult.PLAIN, SCANNER.scan(glued, 0, glued.length));
        }

        @Test
        void randomBytesNeverThrow() {
            Random random = new Random(42);
            byte[] alphabet = "'\"`\\#-/*!M+;(). @=,embdSHOWRAGsetrag_x9\n\u0000".getBytes(UTF_8);
            for (int round = 0; round < 20_000; round++) {
                byte[] bytes = new byte[random.nextInt(40)];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = random.nextInt(4) == 0 ? (byte) random.nextInt(256)
                            : alphabet[random.nextInt(alphabet.length)];
                }
                int from = bytes.length == 0 ? 0 : random.nextInt(bytes.length);
                ScanResult result = SCANNER.scan(bytes, from, bytes.length - from);
                assertTrue(result.isPlain() || result.offset() >= from);
            }
        }
    }

    @Nested
    class Allocation {

        @Test
        void plainScansAllocateNothing() {
            if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean)
                    || !bean.isThreadAllocatedMemorySupported() || !bean.isThreadAllocatedMemoryEnabled()) {
                return;
            }
            byte[] sql = ("SELECT id, title, /* embed( */ 'generate(' FROM docs d JOIN t ON d.embed = t.x "
                    + "WHERE `answer`(1) AND db.embed(2) > 1.5 -- embed(\n ORDER BY embedding LIMIT 10")
                    .getBytes(UTF_8);
            ByteBuf direct = Unpooled.directBuffer(sql.length).writeBytes(sql);
            try {
                int iterations = 20_000;
                long before = bean.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < iterations; i++) {
                    if (!SCANNER.scan(sql, 0, sql.length).isPlain() || !SCANNER.scan(direct, 0, sql.length).isPlain()) {
                        throw new AssertionError("hit");
                    }
                }
                long allocated = bean.getCurrentThreadAllocatedBytes() - before;
                // Less than one byte per scan: measurement overhead only, nothing per scan.
                assertTrue(allocated < iterations, "allocated " + allocated + " bytes");
            } finally {
                direct.release();
            }
        }
    }

    @Test
    void scanResultValueSemantics() {
        assertEquals(ScanResult.functionCall("embed", 3, false), ScanResult.functionCall("embed", 3, false));
        assertEquals(ScanResult.proxyStatement(ProxyStatementKind.SET_RAG, 0, true).hashCode(),
                ScanResult.proxyStatement(ProxyStatementKind.SET_RAG, 0, true).hashCode());
        assertEquals(-1, ScanResult.PLAIN.offset());
        assertNull(ScanResult.PLAIN.name());
        assertThrows(IllegalArgumentException.class, () -> ScanResult.functionCall("embed", -1, false));
        assertEquals("ScanResult[FUNCTION_CALL name=embed offset=3]", ScanResult.functionCall("embed", 3, false).toString());
    }
}
