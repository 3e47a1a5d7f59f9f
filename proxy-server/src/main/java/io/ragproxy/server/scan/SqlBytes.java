package io.ragproxy.server.scan;

import io.netty.buffer.ByteBuf;

/**
 * Byte classes and byte access shared by the scanner and {@link FunctionNames}.
 *
 * <p>The input is either a {@code byte[]} or, when a {@code ByteBuf} has no accessible array, the buffer itself;
 * exactly one of the two is non-null. Passing the pair instead of wrapping it in an object keeps the scan free of
 * allocation, and the null test is perfectly predictable within one scan.
 */
final class SqlBytes {

    /** {@code LOWER[b]} is {@code b} with ASCII {@code A-Z} mapped to {@code a-z}; other bytes are unchanged. */
    static final byte[] LOWER = new byte[256];

    /**
     * {@code IDENT[b]} is true for bytes that may appear in an unquoted identifier: ASCII letters, digits,
     * {@code _}, {@code $}, and every byte of a multibyte UTF-8 sequence (0x80–0xFF).
     */
    static final boolean[] IDENT = new boolean[256];

    static {
        for (int i = 0; i < 256; i++) {
            LOWER[i] = (byte) (i >= 'A' && i <= 'Z' ? i + ('a' - 'A') : i);
            IDENT[i] = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || (i >= '0' && i <= '9')
                    || i == '_' || i == '$' || i >= 0x80;
        }
    }

    private SqlBytes() {
    }

    /** Returns the unsigned byte at {@code i} of whichever of {@code array} and {@code buf} is non-null. */
    static int at(byte[] array, ByteBuf buf, int i) {
        return (array != null ? array[i] : buf.getByte(i)) & 0xFF;
    }

    /**
     * Returns whether the bytes {@code [start, end)} equal {@code lowerKeyword} ignoring ASCII case;
     * {@code lowerKeyword} must be lower case.
     */
    static boolean equalsIgnoreCase(byte[] array, ByteBuf buf, int start, int end, byte[] lowerKeyword) {
        if (end - start != lowerKeyword.length) {
            return false;
        }
        for (int i = 0; i < lowerKeyword.length; i++) {
            if (LOWER[at(array, buf, start + i)] != lowerKeyword[i]) {
                return false;
            }
        }
        return true;
    }

    /** Returns whether the bytes {@code [start, end)} begin with {@code lowerPrefix} ignoring ASCII case. */
    static boolean startsWithIgnoreCase(byte[] array, ByteBuf buf, int start, int end, byte[] lowerPrefix) {
        if (end - start < lowerPrefix.length) {
            return false;
        }
        for (int i = 0; i < lowerPrefix.length; i++) {
            if (LOWER[at(array, buf, start + i)] != lowerPrefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Returns the ASCII bytes of a lower-case keyword constant. */
    static byte[] keyword(String lowerKeyword) {
        return lowerKeyword.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
