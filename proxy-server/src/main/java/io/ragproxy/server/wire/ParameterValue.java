package io.ragproxy.server.wire;

import io.netty.buffer.ByteBuf;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * One parameter value a client sent in the binary protocol (COM_STMT_EXECUTE, COM_STMT_BULK_EXECUTE), decoded by its
 * type code. Immutable.
 */
public sealed interface ParameterValue {

    /** SQL NULL (the NULL bitmap's bit, the NULL type, or a bulk NULL indicator). */
    record Null() implements ParameterValue {}

    /** MariaDB bulk's DEFAULT (and IGNORE) indicator: the column's default. */
    record Default() implements ParameterValue {}

    /** An integer of any width; {@code value} is exact (an unsigned BIGINT above Long.MAX_VALUE included). */
    record Integer(BigInteger value) implements ParameterValue {}

    /** A FLOAT or DOUBLE. */
    record Real(double value) implements ParameterValue {}

    /**
     * A date, datetime, timestamp or time, as MySQL writes it in text ({@code 2024-05-01 12:00:00.250000},
     * {@code -838:59:59}).
     */
    record Temporal(String text) implements ParameterValue {}

    /** The bytes of a string, decimal, blob or any length-encoded type (long data included), and the type code. */
    record Bytes(byte[] value, int type) implements ParameterValue {
        /** The bytes as UTF-8 text. */
        public String text() {
            return new String(value, StandardCharsets.UTF_8);
        }
    }

    ParameterValue NULL = new Null();
    ParameterValue DEFAULT = new Default();

    /**
     * Reads one binary value of {@code type} at {@code buf}'s reader index, moving it past the value.
     *
     * @param unsigned whether the client flagged the type unsigned
     * @throws IndexOutOfBoundsException when the buffer ends inside the value
     */
    static ParameterValue read(ByteBuf buf, int type, boolean unsigned) {
        switch (type) {
            case ColumnType.NULL:
                return NULL;
            case ColumnType.TINY:
                return new Integer(BigInteger.valueOf(unsigned ? buf.readUnsignedByte() : buf.readByte()));
            case ColumnType.SHORT:
            case ColumnType.YEAR:
                return new Integer(BigInteger.valueOf(unsigned ? buf.readUnsignedShortLE() : buf.readShortLE()));
            case ColumnType.LONG:
            case ColumnType.INT24:
                return new Integer(BigInteger.valueOf(unsigned ? buf.readUnsignedIntLE() : buf.readIntLE()));
            case ColumnType.LONGLONG: {
                long v = buf.readLongLE();
                return new Integer(unsigned && v < 0 ? BigInteger.valueOf(v).add(BigInteger.ONE.shiftLeft(64))
                        : BigInteger.valueOf(v));
            }
            case ColumnType.FLOAT:
                return new Real(buf.readFloatLE());
            case ColumnType.DOUBLE:
                return new Real(buf.readDoubleLE());
            case ColumnType.DATE:
            case ColumnType.DATETIME:
            case ColumnType.TIMESTAMP:
                return new Temporal(dateTime(buf, type));
            case ColumnType.TIME:
                return new Temporal(time(buf));
            default: {
                long length = readLengthEncodedInt(buf);
                if (length < 0 || length > buf.readableBytes()) {
                    throw new IndexOutOfBoundsException("a value of " + length + " bytes runs past the packet");
                }
                byte[] bytes = new byte[(int) length];
                buf.readBytes(bytes);
                return new Bytes(bytes, type);
            }
        }
    }

    private static String dateTime(ByteBuf buf, int type) {
        int length = buf.readUnsignedByte();
        int year = 0;
        int month = 0;
        int day = 0;
        int hour = 0;
        int minute = 0;
        int second = 0;
        long micros = 0;
        if (length >= 4) {
            year = buf.readUnsignedShortLE();
            month = buf.readUnsignedByte();
            day = buf.readUnsignedByte();
        }
        if (length >= 7) {
            hour = buf.readUnsignedByte();
            minute = buf.readUnsignedByte();
            second = buf.readUnsignedByte();
        }
        if (length >= 11) {
            micros = buf.readUnsignedIntLE();
        }
        String date = String.format("%04d-%02d-%02d", year, month, day);
        if (type == ColumnType.DATE) {
            return date;
        }
        String time = String.format("%s %02d:%02d:%02d", date, hour, minute, second);
        return micros == 0 ? time : time + String.format(".%06d", micros);
    }

    private static String time(ByteBuf buf) {
        int length = buf.readUnsignedByte();
        if (length == 0) {
            return "00:00:00";
        }
        boolean negative = buf.readUnsignedByte() == 1;
        long days = buf.readUnsignedIntLE();
        int hour = buf.readUnsignedByte();
        int minute = buf.readUnsignedByte();
        int second = buf.readUnsignedByte();
        long micros = length >= 12 ? buf.readUnsignedIntLE() : 0;
        String text = String.format("%s%02d:%02d:%02d", negative ? "-" : "", days * 24 + hour, minute, second);
        return micros == 0 ? text : text + String.format(".%06d", micros);
    }

    /** Reads a length-encoded integer, moving the reader index; -1 for the NULL marker. */
    static long readLengthEncodedInt(ByteBuf buf) {
        int first = buf.readUnsignedByte();
        if (first < 0xFB) {
            return first;
        }
        return switch (first) {
            case 0xFB -> -1;
            case 0xFC -> buf.readUnsignedShortLE();
            case 0xFD -> buf.readUnsignedMediumLE();
            case 0xFE -> buf.readLongLE();
            default -> throw new IllegalArgumentException("0xFF is not a length-encoded integer");
        };
    }
}
