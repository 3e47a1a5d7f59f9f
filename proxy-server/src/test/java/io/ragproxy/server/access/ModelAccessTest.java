package io.ragproxy.server.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Accounts, the access statements' syntax, and the allow/deny decision. */
class ModelAccessTest {
    private static final String TITAN = "amazon.titan-embed-text-v2:0";
    private static final String LLAMA = "us.meta.llama3-2-3b-instruct-v1:0";
    private static final String MINILM = "local:all-minilm-l6-v2";
    private static final Account APP = new Account("app", "%");
    private static final Account REPORTS = new Account("reports", "10.0.%");

    @Test
    void accountsAreWhatCurrentUserReports() {
        assertEquals(APP, Account.ofCurrentUser("app@%"));
        assertEquals(new Account("a@b", "localhost"), Account.ofCurrentUser("a@b@LocalHost"));
        assertEquals(new Account("app", "%"), new Account("app", ""));
        assertEquals("'o''brien'@'%'", new Account("o'brien", "%").toString());
        assertThrows(IllegalArgumentException.class, () -> Account.ofCurrentUser("nobody"));
    }

    @Test
    void parsesGrantRevokeAndShow() {
        assertEquals(new ModelAccessStatement.Grant(List.of("titan-v2", "llama3-2-3b"), APP),
                ModelAccessStatement.parse("GRANT RAG MODEL 'titan-v2', 'llama3-2-3b' TO 'app'@'%'"));
        assertEquals(new ModelAccessStatement.Revoke(List.of("llama3-2-3b"), REPORTS),
                ModelAccessStatement.parse("revoke rag model `llama3-2-3b` from 'reports'@'10.0.%';"));
        assertEquals(new ModelAccessStatement.Grant(List.of(TITAN), APP),
                ModelAccessStatement.parse("GRANT RAG MODEL \"" + TITAN + "\" TO 'app'"));
        assertEquals(new ModelAccessStatement.Grant(List.of("titan-v2"), new Account("app", "localhost")),
                ModelAccessStatement.parse("GRANT RAG MODEL 'titan-v2' TO app@localhost"));
        assertNull(assertInstanceOf(ModelAccessStatement.ShowGrants.class,
                ModelAccessStatement.parse("SHOW RAG GRANTS")).account());
        assertEquals(new ModelAccessStatement.ShowGrants(APP), ModelAccessStatement.parse("SHOW RAG GRANTS FOR 'app'@'%'"));
    }

    @Test
    void badSyntaxNamesThePosition() {
        ProxyException e = assertThrows(ProxyException.class,
                () -> ModelAccessStatement.parse("GRANT RAG MODEL 'titan-v2' 'app'@'%'"));
        assertEquals(ProxyError.PARSE_ERROR.code(), e.code());
        assertTrue(e.getMessage().startsWith("line 1, column 28: expected TO"), e.getMessage());
        assertThrows(ProxyException.class, () -> ModelAccessStatement.parse("GRANT RAG MODEL TO 'app'@'%'"));
        assertThrows(ProxyException.class, () -> ModelAccessStatement.parse("SHOW RAG GRANTS FOR 'app'@'%' extra"));
    }

    @Test
    void allowIsOpenUntilTheFirstGrantThenBedrockModelsNeedOne() {
        assertTrue(ModelAccess.OPEN.allows(APP, LLAMA, false), "no grant yet: an upgrade changes nothing");
        ModelAccess a = ModelAccess.OPEN.grant(APP, Set.of(TITAN));
        assertTrue(a.allows(APP, TITAN, false));
        assertFalse(a.allows(APP, LLAMA, false), "granted titan only");
        assertFalse(a.allows(REPORTS, TITAN, false), "another account");
        assertTrue(a.allows(REPORTS, MINILM, true), "local models stay open under allow");
        assertEquals(Set.of(TITAN), a.modelsOf(APP));

        ModelAccess revoked = a.revoke(APP, Set.of(TITAN));
        assertTrue(revoked.grants().isEmpty(), "an account without models holds no grant");
        assertTrue(revoked.allows(REPORTS, LLAMA, false), "the last grant gone: open again");
    }

    @Test
    void denyNeedsAGrantForEveryModel() {
        ModelAccess deny = new ModelAccess(ModelAccess.Mode.DENY, Map.of(APP, Set.of(MINILM)));
        assertTrue(deny.allows(APP, MINILM, true));
        assertFalse(deny.allows(REPORTS, MINILM, true));
        assertFalse(deny.allows(APP, TITAN, false));
        assertEquals(ModelAccess.Mode.DENY, ModelAccess.Mode.parse(" Deny "));
        assertThrows(IllegalArgumentException.class, () -> ModelAccess.Mode.parse("maybe"));
    }

    @Test
    void aGrantToUserAtAnyHostCoversEveryHostOfThatUser() {
        ModelAccess a = ModelAccess.of(ModelAccess.Mode.DENY, java.util.List.of(
                new io.ragproxy.server.catalog.ModelGrantRow("app", "%", TITAN, "root@localhost", "t")));
        assertTrue(a.allows(new Account("app", "localhost"), TITAN, false));
        assertTrue(a.allows(new Account("app", "%"), TITAN, false));
        assertFalse(a.allows(new Account("app2", "localhost"), TITAN, false));
        ModelAccess local = ModelAccess.of(ModelAccess.Mode.DENY, java.util.List.of(
                new io.ragproxy.server.catalog.ModelGrantRow("app", "localhost", TITAN, "root@localhost", "t")));
        assertFalse(local.allows(new Account("app", "%"), TITAN, false), "a host's grant does not widen to %");
        assertTrue(ModelAccess.of(ModelAccess.Mode.ALLOW, java.util.List.of()).open(), "allow, no grant: open");
    }
}
