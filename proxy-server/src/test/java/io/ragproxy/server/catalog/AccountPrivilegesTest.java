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
}
