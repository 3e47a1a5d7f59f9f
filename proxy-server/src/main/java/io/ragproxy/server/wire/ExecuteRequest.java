package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoded COM_STMT_EXECUTE: the statement id, the cursor flags and the parameter values (NULL bitmap, the types
 * sent with this execute or, when the client did not resend them, the previous execute's, and the values; a
 * parameter the client sent with COM_STMT_SEND_LONG_DATA has no value in the packet and takes that data).
 *
 * @param statementId the client's statement id ({@code 0xFFFFFFFF}: MariaDB's "the statement prepared last")
 * @param flags the cursor flags (CURSOR_TYPE_READ_ONLY = 1)
 * @param types each parameter's type code, the unsigned flag in bit 15 ({@code 0x8000})
 * @param values each parameter's value
 */
public record ExecuteRequest(long statementId, int flags, int[] types, List<ParameterValue> values) {
    /** MariaDB's statement id for "the statement this connection prepared last". */
    public static final long LAST_PREPARED = 0xFFFFFFFFL;

    public ExecuteRequest {
        types = types.clone();
        values = List.copyOf(values);
    }

    /** The statement id of a COM_STMT_EXECUTE (or other COM_STMT_*) payload starting with its command byte. */
    public static long statementId(ByteBuf payload) {
        return payload.getUnsignedIntLE(payload.readerIndex() + 1);
    }

    /**
     * Decodes a COM_STMT_EXECUTE payload (from its command byte).
     *
     * @param parameters the statement's number of placeholders
     * @param previousTypes the types of the statement's previous execute, or null when there was none
     * @param longData per parameter, the bytes sent with COM_STMT_SEND_LONG_DATA, or null
     * @throws IllegalArgumentException when the packet is malformed or names no types on a first execute
     */
    public static ExecuteRequest decode(ByteBuf payload, int parameters, int[] previousTypes, byte[][] longData) {
        ByteBuf buf = payload.duplicate();
        try {
            buf.skipBytes(1);
            long id = buf.readUnsignedIntLE();
            int flags = buf.readUnsignedByte();
            buf.skipBytes(4); // iteration count, always 1
            if (parameters == 0) {
                return new ExecuteRequest(id, flags, new int[0], List.of());
            }
            byte[] nulls = new byte[(parameters + 7) / 8];
            buf.readBytes(nulls);
            int[] types;
            if (buf.readUnsignedByte() == 1) {
                types = new int[parameters];
                for (int i = 0; i < parameters; i++) {
                    types[i] = buf.readUnsignedShortLE();
                }
            } else if (previousTypes != null) {
                types = previousTypes;
            } else {
                throw new IllegalArgumentException("the first execute of a statement must send its parameter types");
            }
            List<ParameterValue> values = new ArrayList<>(parameters);
            for (int i = 0; i < parameters; i++) {
                int type = types[i] & 0xFF;
                if ((nulls[i / 8] & (1 << (i % 8))) != 0) {
                    values.add(ParameterValue.NULL);
                } else if (longData != null && longData[i] != null) {
                    values.add(new ParameterValue.Bytes(longData[i], type));
                } else {
                    values.add(ParameterValue.read(buf, type, (types[i] & 0x8000) != 0));
                }
            }
            return new ExecuteRequest(id, flags, types, values);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("the execute packet ends before its " + parameters + " parameters", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecuteRequest r && r.statementId == statementId && r.flags == flags
                && Arrays.equals(r.types, types) && r.values.equals(values);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(statementId) * 31 + values.hashCode();
    }
}
