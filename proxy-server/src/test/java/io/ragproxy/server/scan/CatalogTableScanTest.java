package io.ragproxy.server.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The scanner's catalog tables: MindsDB models read after FROM/JOIN, auto-embedding tables written. */
class CatalogTableScanTest {
    static final StatementScanner SCANNER = new StatementScanner(FunctionNames.of("embed", "claude3_haiku"),
            FunctionNames.of("bedrock_model"), FunctionNames.of("documents"));

    static String scan(String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        ScanResult r = SCANNER.scan(b, 0, b.length);
        return r.isPlain() ? "PLAIN" : r.kind() + " " + r.name() + " @" + r.offset();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "SELECT * FROM bedrock_model WHERE question = 'q'|FUNCTION_CALL bedrock_model @14",
        "SELECT * FROM t AS d JOIN bedrock_model AS m|FUNCTION_CALL bedrock_model @26",
        "select * from t d left join `BEDROCK_MODEL` m|FUNCTION_CALL bedrock_model @28",
        "SELECT * FROM mindsdb.bedrock_model WHERE q = 1|FUNCTION_CALL bedrock_model @22",
        "INSERT INTO documents (content) VALUES ('x')|FUNCTION_CALL documents @12",
        "insert documents values (1)|FUNCTION_CALL documents @7",
        "REPLACE INTO db.documents VALUES (1)|FUNCTION_CALL documents @16",
        "UPDATE documents SET content = 'x'|FUNCTION_CALL documents @7",
        "LOAD DATA LOCAL INFILE 'f' INTO TABLE documents|FUNCTION_CALL documents @38",
        "DROP TABLE documents|FUNCTION_CALL documents @11",
        // a function call wins over a table
        "INSERT INTO documents VALUES (EMBED('x'))|FUNCTION_CALL embed @30",
        // reading an auto-embedding table, writing a model's name, or mentioning them elsewhere: plain
        "SELECT * FROM documents WHERE id = 1|PLAIN",
        "DELETE FROM documents WHERE id = 1|PLAIN",
        "SELECT bedrock_model FROM t|PLAIN",
        "INSERT INTO bedrock_model VALUES (1)|PLAIN",
        "SELECT 'FROM bedrock_model' FROM t|PLAIN",
        "SELECT * FROM other.t, documents|PLAIN",
        "SELECT * FROM t -- FROM bedrock_model|PLAIN",
        "UPDATE t SET documents = 1|PLAIN",
    })
    void catalogTables(String sql, String expected) {
        assertEquals(expected, scan(sql));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "SELECT * FROM bedrock_model WHERE q = 1",
        "INSERT INTO documents VALUES (1)",
    })
    void withoutTablesNothingIsFlagged(String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        assertEquals(ScanResult.PLAIN, new StatementScanner(FunctionNames.of("embed")).scan(b, 0, b.length));
    }
}
