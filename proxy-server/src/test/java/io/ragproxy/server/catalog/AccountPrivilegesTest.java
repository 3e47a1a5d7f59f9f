package io.ragproxy.server.catalog;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AccountPrivilegesTest {
    final AccountPrivileges user = AccountPrivileges.parse("u@%", List.of(
            "GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABC'",
            "GRANT SELECT, CREATE ROUTINE ON `app\\_%`.* TO `u`@`%`",
            "GRANT SELECT (a, b), ALTER ON `other`.`t` TO `u`@`%`",
            "GRANT EXECUTE ON FUNCTION `x`.`f` TO `u`@`%`",
            "GRANT `role1` TO `u`@`%`"));

    @Test
    void databaseGrantsMatchTheirWildcardsAndEscapes() {
        assertTrue(user.hasOnDatabase("CREATE ROUTINE", "app_one"));
        assertFalse(user.hasOnDatabase("CREATE ROUTINE", "appXone"), "\\_ is a literal underscore");
        assertFalse(user.hasOnDatabase("ALTER ROUTINE", "app_one"));
        assertTrue(user.hasOnTable("ALTER", "other", "t"));
        assertFalse(user.hasOnTable("ALTER", "other", "u"));
        assertTrue(user.seesDatabase("other"));
        assertFalse(user.seesDatabase("x"), "a routine grant is not a database privilege here");
        assertFalse(user.isCatalogAdmin());
        assertTrue(user.owns("u@%"));
    }

    @Test
    void allPrivilegesOnEverythingMakeAnAdministrator() {
        AccountPrivileges root = AccountPrivileges.parse("root@localhost", List.of(
                "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"));
        assertTrue(root.isCatalogAdmin());
        assertTrue(root.hasOnTable("ALTER", "any", "t"));
    }

    @Test
    void managingModelAccessNeedsTheGrantOptionWithAPrivilegeOnRagproxyOrGlobally() {
        assertTrue(AccountPrivileges.parse("root@localhost", List.of(
                "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION")).mayGrantOn("ragproxy"));
        assertTrue(AccountPrivileges.parse("admin@%", List.of("GRANT USAGE ON *.* TO `admin`@`%`",
                "GRANT SELECT ON `ragproxy`.* TO `admin`@`%` WITH GRANT OPTION")).mayGrantOn("ragproxy"));
        assertFalse(AccountPrivileges.parse("app@%", List.of("GRANT ALL PRIVILEGES ON `ragproxy`.* TO `app`@`%`"))
                .mayGrantOn("ragproxy"), "ALL PRIVILEGES does not include the GRANT OPTION");
        assertFalse(AccountPrivileges.parse("app@%", List.of(
                "GRANT USAGE ON `ragproxy`.* TO `app`@`%` WITH GRANT OPTION")).mayGrantOn("ragproxy"),
                "the GRANT OPTION alone");
        assertFalse(AccountPrivileges.parse("app@%", List.of(
                "GRANT SELECT ON `app`.* TO `app`@`%` WITH GRANT OPTION")).mayGrantOn("ragproxy"),
                "on another database");
        assertFalse(AccountPrivileges.parse("app@%", List.of(
                "GRANT SELECT ON `app`.* TO `app`@`%` WITH GRANT OPTION")).hasGlobal("GRANT OPTION"));
    }
}
