package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A decoded MariaDB COM_STMT_BULK_EXECUTE: the statement id, its flags, and the rows of parameter values (each value
 * preceded by an indicator: a value, NULL, DEFAULT or IGNORE), with the types sent once for all rows.
 *
 * @param statementId the client's statement id ({@code 0xFFFFFFFF}: the statement prepared last)
 * @param flags SEND_UNIT_RESULTS (64), SEND_TYPES_TO_SERVER (128)
 * @param rows one list of values per row, each as long as the statement has parameters
 */
public record BulkExecuteRequest(long statementId, int flags, List<List<ParameterValue>> rows) {
    public static final int SEND_UNIT_RESULTS = 64;
    public static final int SEND_TYPES_TO_SERVER = 128;

    private static final int INDICATOR_NONE = 0;
    private static final int INDICATOR_NULL = 1;

    public BulkExecuteRequest {
        rows = List.copyOf(rows);
    }

    /**
     * Decodes a COM_STMT_BULK_EXECUTE payload (from its command byte).
     *
     * @param parameters the statement's number of placeholders (at least 1)
     * @param previousTypes the types of the statement's previous execute, or null
     * @throws IllegalArgumentException when the packet is malformed
     */
    public static BulkExecuteRequest decode(ByteBuf payload, int parameters, int[] previousTypes) {
        ByteBuf buf = payload.duplicate();
        try {
            buf.skipBytes(1);
            long id = buf.readUnsignedIntLE();
            int flags = buf.readUnsignedShortLE();
            int[] types;
            if ((flags & SEND_TYPES_TO_SERVER) != 0) {
                types = new int[parameters];
                for (int i = 0; i < parameters; i++) {
                    types[i] = buf.readUnsignedShortLE();
                }
            } else if (previousTypes != null) {
                types = previousTypes;
            } else {
                throw new IllegalArgumentException("the first bulk execute of a statement must send its parameter types");
            }
            List<List<ParameterValue>> rows = new ArrayList<>();
            while (buf.isReadable()) {
                List<ParameterValue> row = new ArrayList<>(parameters);
                for (int i = 0; i < parameters; i++) {
                    int indicator = buf.readUnsignedByte();
                    if (indicator == INDICATOR_NONE) {
                        row.add(ParameterValue.read(buf, types[i] & 0xFF, (types[i] & 0x8000) != 0));
                    } else if (indicator == INDICATOR_NULL) {
                        row.add(ParameterValue.NULL);
                    } else {
                        row.add(ParameterValue.DEFAULT);
                    }
                }
                rows.add(row);
            }
            return new BulkExecuteRequest(id, flags, rows);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("the bulk execute packet ends inside a row", e);
        }
    }
}
