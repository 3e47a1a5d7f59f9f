package io.ragproxy.server.backend;

import java.util.List;

/**
 * The backend's complete answer to one text-protocol query the proxy sent on its own behalf: the result sets in
 * order (a multi-statement or CALL yields several) and the last OK packet's counters.
 *
 * @param resultSets the result sets, possibly none
 * @param affectedRows affected rows of the last OK packet
 * @param lastInsertId last insert id of the last OK packet
 * @param warnings warning count of the last OK or EOF packet
 * @param info the last OK packet's human-readable info, or empty
 */
public record QueryResult(List<ResultSet> resultSets, long affectedRows, long lastInsertId, int warnings, String info) {

    public QueryResult {
        resultSets = List.copyOf(resultSets);
    }

    /** The first result set. */
    public ResultSet first() {
        if (resultSets.isEmpty()) {
            throw new IllegalStateException("the statement returned no result set");
        }
        return resultSets.get(0);
    }

    /**
     * One result set, values as text (the text protocol's form); a null element is SQL NULL.
     *
     * @param columns column names (labels)
     * @param rows the rows, each with one value per column
     * @param definitions the backend's column definition payloads (no frame header), one per column, so a reply the
     *     proxy composes from this result can describe the columns as the backend did; empty when not known
     */
    public record ResultSet(List<String> columns, List<List<String>> rows, List<byte[]> definitions) {
        public ResultSet {
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
            definitions = List.copyOf(definitions);
        }

        /** A result set whose column definitions are not known. */
        public ResultSet(List<String> columns, List<List<String>> rows) {
            this(columns, rows, List.of());
        }
    }
}
