package io.ragproxy.server.scan;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * An immutable set of function names that {@link StatementScanner} looks for, matched case-insensitively in ASCII
 * ({@code EMBED}, {@code embed} and {@code Embed} are the same name; bytes outside ASCII must match exactly).
 *
 * <p>Names are stored lower-cased as UTF-8 bytes in an open-addressing table keyed by length, first and last byte,
 * so a lookup for an identifier in the SQL reads at most two of its bytes before it is rejected, compares the
 * bytes in place and allocates nothing. Words whose length or first byte cannot match are rejected without touching
 * the table. Construction is linear in the total length of the names, cheap enough to rebuild the set whenever the
 * catalog changes; instances are safe to share between threads.
 *
 * <p>Every name must be a non-empty unquoted identifier: ASCII letters, digits, {@code _}, {@code $} and
 * non-ASCII characters. A name the scanner could never see as one word is rejected rather than silently ignored.
 */
public final class FunctionNames {

    private static final FunctionNames EMPTY = new FunctionNames(List.of());

    /** Lower-case UTF-8 bytes of each name; index-aligned with {@link #strings}. */
    private final byte[][] bytes;
    /** Lower-case names, returned on a hit without allocating. */
    private final String[] strings;
    /** Open-addressing table: 0 for an empty slot, else index + 1 into {@link #bytes}. */
    private final int[] table;
    private final int mask;
    private final int minLength;
    private final int maxLength;
    /** Bit {@code b} is set if some name starts with lower-case byte {@code b}; a 256-bit set in four longs. */
    private final long[] firstBytes = new long[4];
    private final Set<String> names;

    private FunctionNames(Collection<String> source) {
        LinkedHashSet<String> canonical = new LinkedHashSet<>();
        for (String name : source) {
            canonical.add(canonicalize(name));
        }
        int n = canonical.size();
        this.bytes = new byte[n][];
        this.strings = new String[n];
        int capacity = Integer.highestOneBit(Math.max(8, n * 4 - 1)) << 1;
        this.table = new int[capacity];
        this.mask = capacity - 1;
        int min = Integer.MAX_VALUE;
        int max = 0;
        int i = 0;
        for (String name : canonical) {
            byte[] b = name.getBytes(StandardCharsets.UTF_8);
            bytes[i] = b;
            strings[i] = name;
            min = Math.min(min, b.length);
            max = Math.max(max, b.length);
            int first = b[0] & 0xFF;
            firstBytes[first >>> 6] |= 1L << first;
            int slot = hash(b.length, first, b[b.length - 1] & 0xFF) & mask;
            while (table[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            table[slot] = i + 1;
            i++;
        }
        this.minLength = n == 0 ? Integer.MAX_VALUE : min;
        this.maxLength = max;
        this.names = Collections.unmodifiableSet(new TreeSet<>(canonical));
    }

    /** Returns the empty set: a scanner built with it only recognizes proxy statements. */
    public static FunctionNames empty() {
        return EMPTY;
    }

    /**
     * Returns a set of the given names; duplicates, also ones differing only in ASCII case, collapse.
     *
     * @throws NullPointerException if {@code names} or any of its elements is null
     * @throws IllegalArgumentException if a name is empty or contains a character that cannot be part of an
     *     unquoted identifier
     */
    public static FunctionNames of(Collection<String> names) {
        Objects.requireNonNull(names, "names");
        return names.isEmpty() ? EMPTY : new FunctionNames(names);
    }

    /** Same as {@link #of(Collection)}. */
    public static FunctionNames of(String... names) {
        return of(List.of(names));
    }

    /** Returns the number of distinct names. */
    public int size() {
        return strings.length;
    }

    /** Returns the names, lower case (ASCII letters only), sorted; the set is unmodifiable. */
    public Set<String> names() {
        return names;
    }

    /** Returns whether {@code name} is in the set, ignoring ASCII case. */
    public boolean contains(CharSequence name) {
        byte[] b = name.toString().getBytes(StandardCharsets.UTF_8);
        return b.length > 0 && indexOf(b, null, 0, b.length) >= 0;
    }

    /**
     * Returns the index of the name equal (ignoring ASCII case) to the bytes {@code [start, end)} of
     * {@code array} or {@code buf} (exactly one non-null), or -1; allocates nothing.
     */
    int indexOf(byte[] array, ByteBuf buf, int start, int end) {
        int length = end - start;
        if (length < minLength || length > maxLength) {
            return -1;
        }
        int first = SqlBytes.LOWER[SqlBytes.at(array, buf, start)] & 0xFF;
        if ((firstBytes[first >>> 6] & (1L << first)) == 0) {
            return -1;
        }
        int last = SqlBytes.LOWER[SqlBytes.at(array, buf, end - 1)] & 0xFF;
        int slot = hash(length, first, last) & mask;
        int entry;
        while ((entry = table[slot]) != 0) {
            byte[] candidate = bytes[entry - 1];
            if (candidate.length == length && matches(candidate, array, buf, start)) {
                return entry - 1;
            }
            slot = (slot + 1) & mask;
        }
        return -1;
    }

    /** Returns the lower-case name at {@code index}, as returned by {@link #indexOf}. */
    String name(int index) {
        return strings[index];
    }

    private static boolean matches(byte[] lowerName, byte[] array, ByteBuf buf, int start) {
        for (int i = 0; i < lowerName.length; i++) {
            if (SqlBytes.LOWER[SqlBytes.at(array, buf, start + i)] != lowerName[i]) {
                return false;
            }
        }
        return true;
    }

    private static int hash(int length, int first, int last) {
        int h = length * 0x9E3779B1 ^ first * 0x85EBCA6B ^ last * 0xC2B2AE35;
        return h ^ (h >>> 15);
    }

    /** Lower-cases ASCII letters only, so that the result matches what {@link SqlBytes#LOWER} does to bytes. */
    private static String canonicalize(String name) {
        Objects.requireNonNull(name, "function name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty function name");
        }
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '$' || c >= 0x80;
            if (!ident) {
                throw new IllegalArgumentException(
                        "function name " + name + " is not an unquoted identifier: " + describe(c));
            }
            sb.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
        }
        return sb.toString();
    }

    private static String describe(char c) {
        return c < 0x20 ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FunctionNames other && names.equals(other.names);
    }

    @Override
    public int hashCode() {
        return names.hashCode();
    }

    @Override
    public String toString() {
        return "FunctionNames" + names;
    }
}
