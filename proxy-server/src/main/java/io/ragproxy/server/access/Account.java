package io.ragproxy.server.access;

import java.util.Locale;
import java.util.Objects;

/**
 * A backend account, {@code 'user'@'host'}, exactly as {@code CURRENT_USER()} reports the account the backend
 * authenticated a session as: the backend has already applied MySQL's user@host matching rules (most specific
 * host first, anonymous users last), so a grant applies to a session when its account is this one. The user name
 * is compared exactly, the host pattern without regard to case, as MySQL does. Immutable.
 *
 * @param user the user name; empty for the anonymous user
 * @param host the host pattern ({@code %}, {@code 10.0.%}, {@code localhost}…), lower-cased
 */
public record Account(String user, String host) {

    public Account {
        Objects.requireNonNull(user, "user");
        host = Objects.requireNonNull(host, "host").toLowerCase(Locale.ROOT);
        if (host.isEmpty()) {
            host = "%"; // MySQL: 'app'@'' and 'app' both mean 'app'@'%'
        }
    }

    /**
     * The account of a {@code CURRENT_USER()} value, {@code user@host}: split at the last {@code @}, since a user
     * name may contain one and a host pattern may not.
     *
     * @throws IllegalArgumentException when there is no {@code @}
     */
    public static Account ofCurrentUser(String currentUser) {
        int at = currentUser.lastIndexOf('@');
        if (at < 0) {
            throw new IllegalArgumentException("not a user@host account: '" + currentUser + "'");
        }
        return new Account(currentUser.substring(0, at), currentUser.substring(at + 1));
    }

    /** As SQL writes it: {@code 'app'@'%'}, quotes inside doubled. */
    @Override
    public String toString() {
        return quote(user) + "@" + quote(host);
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
