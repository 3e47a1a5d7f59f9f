package io.ragproxy.server.text;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * The character sets ragproxy reads and writes byte-exactly: statement text in {@code character_set_client}, values
 * of the backend's result sets in their columns' sets, and the results it composes in
 * {@code character_set_results}. MySQL's {@code latin1} is Windows-1252 with the five bytes that code page leaves
 * undefined mapped to the C1 controls of the same number (as the server converts them). Immutable.
 */
public enum ClientCharset {
    /** UTF-8, any code point. */
    UTF8MB4("utf8mb4", 45),
    /** UTF-8 of the Basic Multilingual Plane: characters above it are written as {@code ?}, as the server does. */
    UTF8MB3("utf8mb3", 33),
    /** MySQL's latin1 (cp1252); characters outside it are written as {@code ?}, as the server does. */
    LATIN1("latin1", 8),
    /**
     * No conversion: statements are bytes (read byte for byte, so what is not rewritten goes back unchanged), the
     * text in them and in binary values is read as UTF-8, and composed results are sent as UTF-8.
     */
    BINARY("binary", 63);

    /** Collation ids of latin1 (MariaDB 11 and MySQL 8); every id not listed here or {@code 63} is read as UTF-8. */
    private static final Set<Integer> LATIN1_COLLATIONS = Set.of(5, 8, 15, 31, 47, 48, 49, 94, 1032, 1071);
    private static final int BINARY_COLLATION = 63;
    private static final char[] LATIN1_TO_CHAR = latin1Table();

    private final String mysqlName;
    private final int collationId;

    ClientCharset(String mysqlName, int collationId) {
        this.mysqlName = mysqlName;
        this.collationId = collationId;
    }

    /** The set's name as the server spells it ({@code utf8mb4}, {@code latin1}, …), also its introducer without {@code _}. */
    public String mysqlName() {
        return mysqlName;
    }

    /**
     * The collation id a column definition of composed text announces: the set's default collation, and for
     * binary utf8mb4's (composed text is UTF-8, as a backend column's would be under binary results).
     */
    public int resultCollationId() {
        return this == BINARY ? UTF8MB4.collationId : collationId;
    }

    /**
     * The set a {@code character_set_*} variable names, or null when ragproxy does not handle it. {@code utf8} is
     * utf8mb3 (MySQL 8, MariaDB without UTF8_IS_UTF8MB3 off read it so; both are UTF-8 to ragproxy).
     */
    public static ClientCharset named(String name) {
        if (name == null) {
            return null;
        }
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "utf8mb4" -> UTF8MB4;
            case "utf8mb3", "utf8" -> UTF8MB3;
            case "latin1" -> LATIN1;
            case "binary" -> BINARY;
            default -> null;
        };
    }

    /** The set of a result column's values, from the collation id of its definition. */
    public static ClientCharset ofCollation(int collationId) {
        if (collationId == BINARY_COLLATION) {
            return BINARY;
        }
        return LATIN1_COLLATIONS.contains(collationId) ? LATIN1 : UTF8MB4;
    }

    // ---- statements ----------------------------------------------------------------------------------------

    /** A statement's text as the client sent it; {@link #encodeStatement} gives the same bytes back. */
    public String decodeStatement(byte[] bytes) {
        return this == BINARY ? new String(bytes, StandardCharsets.ISO_8859_1) : decodeValue(bytes, 0, bytes.length);
    }

    /** Statement text (as {@link #decodeStatement} read it, plus ASCII) in the bytes the backend reads in this set. */
    public byte[] encodeStatement(String sql) {
        return this == BINARY ? sql.getBytes(StandardCharsets.ISO_8859_1) : encodeValue(sql);
    }

    // ---- values --------------------------------------------------------------------------------------------

    /** A value's text: UTF-8 for the UTF-8 sets and binary, latin1 for latin1. */
    public String decodeValue(byte[] bytes, int offset, int length) {
        if (this != LATIN1) {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = LATIN1_TO_CHAR[bytes[offset + i] & 0xFF];
        }
        return new String(chars);
    }

    /** Text in this set's bytes, characters it cannot hold as {@code ?} (binary: UTF-8). */
    public byte[] encodeValue(String text) {
        return switch (this) {
            case UTF8MB4, BINARY -> text.getBytes(StandardCharsets.UTF_8);
            case UTF8MB3 -> bmpOnly(text).getBytes(StandardCharsets.UTF_8);
            case LATIN1 -> latin1(text);
        };
    }

    /** Whether every character of {@code text} survives {@link #encodeValue} unchanged. */
    public boolean canEncode(String text) {
        return switch (this) {
            case UTF8MB4, BINARY -> true;
            case UTF8MB3 -> text.codePoints().allMatch(cp -> cp <= 0xFFFF);
            case LATIN1 -> text.chars().allMatch(c -> latin1Byte((char) c) >= 0);
        };
    }

    private static String bmpOnly(String text) {
        if (text.codePoints().allMatch(cp -> cp <= 0xFFFF)) {
            return text;
        }
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> b.append(cp <= 0xFFFF ? (char) cp : '?'));
        return b.toString();
    }

    private static byte[] latin1(String text) {
        byte[] out = new byte[text.codePointCount(0, text.length())];
        int o = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = cp <= 0xFFFF ? latin1Byte((char) cp) : -1;
            out[o++] = (byte) (b < 0 ? '?' : b);
        }
        return out;
    }

    /** The latin1 byte of {@code c}, or -1. */
    private static int latin1Byte(char c) {
        if (c < 0x80 || (c >= 0xA0 && c <= 0xFF)) {
            return c;
        }
        for (int b = 0x80; b < 0xA0; b++) {
            if (LATIN1_TO_CHAR[b] == c) {
                return b;
            }
        }
        return -1;
    }

    private static char[] latin1Table() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        char[] table = new String(all, Charset.forName("windows-1252")).toCharArray();
        for (int i = 0; i < 256; i++) {
            if (table[i] == '\uFFFD') {
                table[i] = (char) i; // 0x81, 0x8D, 0x8F, 0x90, 0x9D: the server maps them to U+0081 …
            }
        }
        return Arrays.copyOf(table, 256);
    }
}
