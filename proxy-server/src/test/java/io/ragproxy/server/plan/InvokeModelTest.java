package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.server.command.ProxyException;
import io.ragproxy.server.dialect.Dialect;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** INVOKE_MODEL's arguments, checked before any model call (the calls themselves run against the emulator in the ITs). */
class InvokeModelTest {
    static final io.ragproxy.server.plan.BoundedParser PARSER = io.ragproxy.server.testing.ParserPool.PARSER;
    FakeModels.Rig rig;
    LiteralPlanner planner;
    FakeSession session;


    @BeforeEach
    void setUp() {
        rig = FakeModels.rig();
        planner = new LiteralPlanner(rig.invoker(), PARSER);
        session = new FakeSession("5.5.5-11.8.6-MariaDB", true, rig.settings());
    }

    @AfterEach
    void tearDown() {
        rig.invoker().close();
    }

    ProxyException failure(String sql) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> {
            try {
                planner.plan(session, sql, Dialect.MARIADB, rig.settings(), true).get(10, TimeUnit.SECONDS);
            } catch (ProxyException thrown) {
                throw new ExecutionException(thrown);
            }
        });
        return (ProxyException) e.getCause();
    }

    @Test
    void argumentsAreCheckedBeforeAnyCall() {
        ProxyException e = failure("SELECT INVOKE_MODEL('anthropic.claude-3-haiku-20240307-v1:0')");
        assertEquals(7010, e.code());
        assertTrue(e.getMessage().contains("INVOKE_MODEL(model_id, body [, content_type [, accept [, options_json]]])"),
                e.getMessage());
        e = failure("SELECT INVOKE_MODEL('anthropic.claude-3-haiku-20240307-v1:0', '{}', CONCAT('application/', 'json'))");
        assertEquals(7010, e.code());
        assertTrue(e.getMessage().contains("content_type must be a quoted string"), e.getMessage());
        e = failure("SELECT INVOKE_MODEL('anthropic.claude-3-haiku-20240307-v1:0', '{}', 'application/json',"
                + " 'application/json', '{\"temperature\": 1}')");
        assertEquals(7012, e.code());
        assertTrue(e.getMessage().contains("the only option is timeout_ms"), e.getMessage());
        e = failure("SELECT INVOKE_MODEL('fake-text', '{}')");
        assertEquals(7011, e.code());
        assertTrue(e.getMessage().contains("is not a Bedrock model id"), e.getMessage());
        e = failure("SELECT INVOKE_MODEL(NULL, '{}')");
        assertEquals(7010, e.code());
        e = failure("SELECT INVOKE_MODEL('anthropic.claude-3-haiku-20240307-v1:0', body) FROM t");
        assertEquals(7001, e.code());
        assertTrue(e.getMessage().contains("over columns (here: body)"), e.getMessage());
    }
}
