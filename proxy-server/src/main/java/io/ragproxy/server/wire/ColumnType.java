package io.ragproxy.server.wire;

/**
 * The MySQL protocol's column and parameter type codes (MYSQL_TYPE_*), and how the binary protocol writes a value
 * of each: a fixed-width number, a length-prefixed date or time, or a length-encoded string.
 */
public final class ColumnType {
    public static final int DECIMAL = 0x00;
    public static final int TINY = 0x01;
    public static final int SHORT = 0x02;
    public static final int LONG = 0x03;
    public static final int FLOAT = 0x04;
    public static final int DOUBLE = 0x05;
    public static final int NULL = 0x06;
    public static final int TIMESTAMP = 0x07;
    public static final int LONGLONG = 0x08;
    public static final int INT24 = 0x09;
    public static final int DATE = 0x0A;
    public static final int TIME = 0x0B;
    public static final int DATETIME = 0x0C;
    public static final int YEAR = 0x0D;
    public static final int VARCHAR = 0x0F;
    public static final int BIT = 0x10;
    public static final int JSON = 0xF5;
    public static final int NEWDECIMAL = 0xF6;
    public static final int ENUM = 0xF7;
    public static final int SET = 0xF8;
    public static final int TINY_BLOB = 0xF9;
    public static final int MEDIUM_BLOB = 0xFA;
    public static final int LONG_BLOB = 0xFB;
    public static final int BLOB = 0xFC;
    public static final int VAR_STRING = 0xFD;
    public static final int STRING = 0xFE;
    public static final int GEOMETRY = 0xFF;

    /** The UNSIGNED flag of a column definition, and of a parameter type's second byte (0x80). */
    public static final int UNSIGNED_FLAG = 0x20;
    public static final int PARAMETER_UNSIGNED = 0x80;

    private ColumnType() {}

    /** The width in bytes of a fixed-width binary value of {@code type}, or -1 when it is length-prefixed. */
    public static int fixedWidth(int type) {
        return switch (type) {
            case TINY -> 1;
            case SHORT, YEAR -> 2;
            case LONG, INT24, FLOAT -> 4;
            case LONGLONG, DOUBLE -> 8;
            case NULL -> 0;
            default -> -1;
        };
    }

    /** Whether a binary value of {@code type} is a one-byte length followed by date/time fields. */
    public static boolean isTemporal(int type) {
        return type == DATE || type == DATETIME || type == TIMESTAMP || type == TIME;
    }
}
