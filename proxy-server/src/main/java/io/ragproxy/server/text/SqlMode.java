package io.ragproxy.server.text;

import java.util.Locale;

/**
 * The {@code sql_mode} flags that change how a statement's literals and identifiers are read. Immutable.
 *
 * @param noBackslashEscapes {@code NO_BACKSLASH_ESCAPES}: a backslash in a string literal is an ordinary character
 * @param ansiQuotes {@code ANSI_QUOTES} (also part of {@code ANSI}): {@code "…"} quotes an identifier, not a string
 */
public record SqlMode(boolean noBackslashEscapes, boolean ansiQuotes) {
    /** The server's default reading: backslash escapes, {@code "…"} strings. */
    public static final SqlMode DEFAULT = new SqlMode(false, false);

    /** The flags of an {@code @@sql_mode} value (comma-separated names, any case); null reads as the default. */
    public static SqlMode parse(String sqlMode) {
        if (sqlMode == null || sqlMode.isBlank()) {
            return DEFAULT;
        }
        boolean nbe = false;
        boolean ansi = false;
        for (String flag : sqlMode.toUpperCase(Locale.ROOT).split(",")) {
            switch (flag.trim()) {
                case "NO_BACKSLASH_ESCAPES" -> nbe = true;
                case "ANSI_QUOTES", "ANSI" -> ansi = true;
                default -> { }
            }
        }
        return nbe || ansi ? new SqlMode(nbe, ansi) : DEFAULT;
    }
}
