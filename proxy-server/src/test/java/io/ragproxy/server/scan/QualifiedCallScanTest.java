package io.ragproxy.server.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QualifiedCallScanTest {
    final StatementScanner scanner = new StatementScanner(FunctionNames.of("embed", "summarize"), FunctionNames.empty(),
            FunctionNames.empty(), FunctionNames.of("summarize"));

    ScanResult scan(String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        return scanner.scan(b, 0, b.length);
    }

    @Test
    void aCatalogFunctionIsAHitAfterItsDatabase() {
        assertEquals(ScanResult.Kind.FUNCTION_CALL, scan("SELECT a.summarize(body) FROM t").kind());
        assertEquals("summarize", scan("SELECT `a`.summarize (body) FROM t").name());
        assertEquals(ScanResult.Kind.FUNCTION_CALL, scan("SELECT summarize(body) FROM t").kind());
    }

    @Test
    void otherQualifiedNamesStayTheBackends() {
        assertEquals(ScanResult.Kind.PLAIN, scan("SELECT db.embed('x')").kind(), "built-ins are never qualified");
        assertEquals(ScanResult.Kind.PLAIN, scan("SELECT t.summarize FROM t").kind(), "a column, not a call");
        assertEquals(ScanResult.Kind.PLAIN, scan("SELECT a.`summarize`(b)").kind(), "backquoted: the backend's");
    }
}
