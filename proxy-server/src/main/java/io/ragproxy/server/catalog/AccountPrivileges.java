package io.ragproxy.server.catalog;

import io.ragproxy.server.command.StatementSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the account of a client session may do, as its backend says: {@code CURRENT_USER()} and the rows of
 * {@code SHOW GRANTS}, both read through the session itself, so the backend's own account and grant tables decide.
 * Global ({@code *.*}), database ({@code `db`.*}, with the {@code %} and {@code _} wildcards of database grants) and
 * table ({@code `db`.`t`}) grants count; column and routine grants do not. Roles count as far as the backend's
 * {@code SHOW GRANTS} lists their privileges. Immutable.
 */
public final class AccountPrivileges {
    /** The global privileges that make an account a catalog administrator (it may change anyone's objects). */
    public static final String ADMIN_PRIVILEGE = "ALTER ROUTINE";

    private static final Pattern GRANT = Pattern.compile("^GRANT (.+?) ON (?:(?:FUNCTION|PROCEDURE|PACKAGE|PACKAGE BODY)"
            + " )?(\\*|`(?:[^`]|``)*`|[A-Za-z0-9_$]+)\\.(\\*|`(?:[^`]|``)*`|[A-Za-z0-9_$]+) TO ", Pattern.DOTALL);
    private static final Set<String> ALL = Set.of("ALL", "ALL PRIVILEGES");
    /** Read from a row's {@code WITH GRANT OPTION}; {@code ALL PRIVILEGES} does not include it, as in MySQL. */
    public static final String GRANT_OPTION = "GRANT OPTION";

    /** One grant row: its privileges on a target; {@code db} or {@code table} null for {@code *}. */
    private record Grant(Set<String> privileges, String db, String table, boolean routine) {}

    private final String user;
    private final List<Grant> grants;

    private AccountPrivileges(String user, List<Grant> grants) {
        this.user = user;
        this.grants = List.copyOf(grants);
    }

    /** Reads the privileges of {@code session}'s account through the session. */
    public static CompletableFuture<AccountPrivileges> of(StatementSession session) {
        return session.query("SELECT CURRENT_USER()").thenCompose(u -> session.query("SHOW GRANTS")
                .thenApply(g -> {
                    List<String> rows = new ArrayList<>();
                    g.first().rows().forEach(r -> rows.add(r.get(0)));
                    return parse(u.first().rows().get(0).get(0), rows);
                }));
    }

    /** The privileges described by {@code SHOW GRANTS} rows, of account {@code currentUser}. */
    public static AccountPrivileges parse(String currentUser, List<String> showGrants) {
        List<Grant> grants = new ArrayList<>();
        for (String row : showGrants) {
            Matcher m = GRANT.matcher(row.trim());
            if (!m.find()) {
                continue; // a role granted to the account, PROXY, …
            }
            boolean routine = m.group(0).contains(" ON FUNCTION ") || m.group(0).contains(" ON PROCEDURE ")
                    || m.group(0).contains(" ON PACKAGE");
            Set<String> privileges = privileges(m.group(1));
            if (row.trim().endsWith(" WITH GRANT OPTION") || row.contains(" WITH GRANT OPTION ")) {
                privileges.add(GRANT_OPTION);
            }
            grants.add(new Grant(privileges, name(m.group(2)), name(m.group(3)), routine));
        }
        return new AccountPrivileges(currentUser, grants);
    }

    /** {@code SELECT, INSERT (a, b), CREATE ROUTINE} → the privilege names (column lists dropped). */
    private static Set<String> privileges(String list) {
        Set<String> out = new java.util.HashSet<>();
        int depth = 0;
        StringBuilder current = new StringBuilder();
        for (char c : list.toCharArray()) {
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(current.toString().trim().toUpperCase(Locale.ROOT));
                current.setLength(0);
            } else if (depth == 0) {
                current.append(c);
            }
        }
        out.add(current.toString().trim().toUpperCase(Locale.ROOT));
        return out;
    }

    private static String name(String written) {
        if (written.equals("*")) {
            return null;
        }
        return written.startsWith("`") ? written.substring(1, written.length() - 1).replace("``", "`") : written;
    }

    /** The account as {@code CURRENT_USER()} spells it ({@code user@host}): what the catalog records as owner. */
    public String user() {
        return user;
    }

    /** Whether the account holds {@code privilege} on every database ({@code ON *.*}). */
    public boolean hasGlobal(String privilege) {
        for (Grant g : grants) {
            if (!g.routine() && g.db() == null && grants(g, privilege)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the account holds {@code privilege} on database {@code db} (globally or on the database). */
    public boolean hasOnDatabase(String privilege, String db) {
        for (Grant g : grants) {
            if (!g.routine() && g.table() == null && (g.db() == null || dbMatches(g.db(), db)) && grants(g, privilege)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the account holds {@code privilege} on table {@code db.table} (globally, on the database or table). */
    public boolean hasOnTable(String privilege, String db, String table) {
        if (hasOnDatabase(privilege, db)) {
            return true;
        }
        for (Grant g : grants) {
            if (!g.routine() && g.table() != null && g.db() != null && g.db().equals(db)
                    && g.table().equalsIgnoreCase(table) && grants(g, privilege)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the account has any privilege beyond USAGE on database {@code db} or on something in it. */
    public boolean seesDatabase(String db) {
        for (Grant g : grants) {
            boolean real = !g.routine() && !(g.privileges().size() == 1 && g.privileges().contains("USAGE"));
            if (real && (g.db() == null || dbMatches(g.db(), db) || g.table() != null && g.db().equals(db))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the account may change every account's catalog objects: the global {@value #ADMIN_PRIVILEGE}. */
    public boolean isCatalogAdmin() {
        return hasGlobal(ADMIN_PRIVILEGE);
    }

    /** Whether {@code owner} (as recorded by the catalog) is this account. */
    public boolean owns(String owner) {
        return owner != null && owner.equals(user);
    }

    /**
     * Whether the account may manage who calls which model (GRANT/REVOKE RAG MODEL, SHOW RAG GRANTS FOR another):
     * at one level, globally ({@code ON *.*}) or on database {@code db} ({@code ON `ragproxy`.*}), it holds
     * {@code GRANT OPTION} together with a privilege other than {@code USAGE}, as {@code GRANT SELECT ON ragproxy.*
     * TO … WITH GRANT OPTION} gives.
     */
    public boolean mayGrantOn(String db) {
        for (Grant g : grants) {
            if (g.routine() || g.table() != null || g.db() != null && !dbMatches(g.db(), db)
                    || !g.privileges().contains(GRANT_OPTION)) {
                continue;
            }
            for (String p : g.privileges()) {
                if (!p.equals(GRANT_OPTION) && !p.equals("USAGE")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean grants(Grant g, String privilege) {
        for (String p : g.privileges()) {
            if (ALL.contains(p) && !privilege.equals(GRANT_OPTION) || p.equals(privilege)) {
                return true;
            }
        }
        return false;
    }

    /** A database grant's name matches {@code db}: {@code %} and {@code _} are wildcards unless escaped by \. */
    static boolean dbMatches(String pattern, String db) {
        if (db == null) {
            return false;
        }
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\' && i + 1 < pattern.length()) {
                regex.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
            } else if (c == '%') {
                regex.append(".*");
            } else if (c == '_') {
                regex.append('.');
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(db).matches();
    }
}
