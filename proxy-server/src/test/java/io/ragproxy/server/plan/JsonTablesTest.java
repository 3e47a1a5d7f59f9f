package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JsonTablesTest {
    private static final String SQL = "SELECT j.c FROM docs d, json_table(CHUNK_TEXT(d.body, '{\"size\": 9}'),"
            + " '$[*]' COLUMNS (n FOR ORDINALITY, c TEXT PATH '$')) AS j";

    @Test
    void hidesThePathAndColumnsAndRestoresThem() {
        JsonTables t = JsonTables.hide(SQL);
        assertTrue(t.parsed().matches("SELECT j.c FROM docs d, json_table\\(CHUNK_TEXT\\(d.body, '\\{\"size\": 9}'\\),"
                + " 'ragproxy_json_table_[0-9a-f]+_0'\\) AS j"), t.parsed());
        assertEquals(SQL, t.restore(t.parsed()));
    }

    @Test
    void leavesStringsCommentsAndOtherNamesAlone() {
        String sql = "SELECT 'JSON_TABLE(a, b)', `json_table`, my_json_table(1, 2) /* JSON_TABLE(x, y) */ FROM t";
        assertEquals(sql, JsonTables.hide(sql).parsed());
    }

    @Test
    void everyJsonTableIsHidden() {
        String sql = "SELECT 1 FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) x,"
                + " JSON_TABLE('[2]', '$[*]' COLUMNS (b INT PATH '$')) y";
        JsonTables t = JsonTables.hide(sql);
        assertTrue(t.parsed().endsWith("_1') y"), t.parsed());
        assertEquals(sql, t.restore(t.parsed()));
    }
}
