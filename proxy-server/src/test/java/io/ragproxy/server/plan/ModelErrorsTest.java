package io.ragproxy.server.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.registry.UnknownModelException;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ModelErrorsTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "THROTTLED,MODEL_THROTTLED,rag_concurrency",
        "TIMEOUT,MODEL_TIMEOUT,rag_inference_timeout_ms",
        "ACCESS_DENIED,MODEL_ACCESS_DENIED,bedrock:InvokeModel",
        "CLIENT_ERROR,MODEL_REJECTED,options JSON",
        "SERVER_ERROR,MODEL_FAILED,server_error",
        "MODEL_NOT_READY,MODEL_FAILED,model_not_ready",
        "UNAVAILABLE,MODEL_FAILED,unavailable",
        "BAD_RESPONSE,MODEL_FAILED,bad_response",
        "CANCELLED,MODEL_FAILED,cancelled",
        "REFUSED,MODEL_FAILED,refused",
    })
    void everyKindMaps(ModelException.Kind kind, ProxyError expected, String hint) {
        ModelException me = new ModelException(kind, "amazon.titan-embed-text-v2:0", "the cause text");
        ProxyException e = ModelErrors.toProxy(AiFunction.EMBED, "amazon.titan-embed-text-v2:0",
                new CompletionException(me));
        assertEquals(expected.code(), e.code());
        assertEquals(expected.sqlState(), e.sqlState());
        assertTrue(e.getMessage().startsWith("EMBED() failed: model amazon.titan-embed-text-v2:0 "), e.getMessage());
        assertTrue(e.getMessage().contains("the cause text"), e.getMessage());
        assertTrue(e.getMessage().contains(hint), e.getMessage());
    }

    @Test
    void sqlStates() {
        assertEquals("HYT00", ModelErrors.toProxy(AiFunction.GENERATE, "m",
                new ModelException(ModelException.Kind.TIMEOUT, "m", "slow")).sqlState());
        assertEquals("28000", ModelErrors.toProxy(AiFunction.GENERATE, "m",
                new ModelException(ModelException.Kind.ACCESS_DENIED, "m", "no")).sqlState());
        assertEquals(7104, ModelErrors.toProxy(AiFunction.GENERATE, "m",
                new ModelException(ModelException.Kind.CLIENT_ERROR, "m", "too long")).code());
    }

    @Test
    void aCallTheProxyRefusedFailsWithTheProxysOwnError() {
        ProxyException budget = new ProxyException(ProxyError.BUDGET_EXCEEDED, "the budget ran out during this statement");
        ProxyException e = ModelErrors.toProxy(AiFunction.GENERATE, "m", new CompletionException(new ModelException(
                ModelException.Kind.REFUSED, "m", "model 'm' was not called: " + budget.getMessage(), budget)));
        assertSame(budget, e);
        assertEquals(7111, e.code());
        assertEquals("42000", e.sqlState());
    }

    @Test
    void modelIdFallsBackToCaller() {
        ProxyException e = ModelErrors.toProxy(AiFunction.GENERATE, "the-model",
                new ModelException(ModelException.Kind.SERVER_ERROR, null, "boom"));
        assertTrue(e.getMessage().contains("model the-model"), e.getMessage());
    }

    @Test
    void wrappedDeeper() {
        ProxyException e = ModelErrors.toProxy(AiFunction.EMBED, "m", new CompletionException(
                new RuntimeException("wrapper", new ModelException(ModelException.Kind.THROTTLED, "m", "429"))));
        assertEquals(ProxyError.MODEL_THROTTLED.code(), e.code());
    }

    @Test
    void unknownModel() {
        ProxyException e = ModelErrors.toProxy(AiFunction.EMBED, "x",
                new CompletionException(new UnknownModelException("x", "unknown model 'x'; configured models: a")));
        assertEquals(7011, e.code());
        assertEquals("unknown model 'x'; configured models: a", e.getMessage());
    }

    @Test
    void proxyExceptionPassesThrough() {
        ProxyException pe = new ProxyException(ProxyError.BAD_OPTIONS, "bad");
        assertSame(pe, ModelErrors.toProxy(AiFunction.EMBED, "m", new CompletionException(pe)));
    }

    @Test
    void otherFailure() {
        ProxyException e = ModelErrors.toProxy(AiFunction.GENERATE, "m", new IllegalStateException("weird"));
        assertEquals(ProxyError.MODEL_FAILED.code(), e.code());
        assertTrue(e.getMessage().contains("GENERATE() failed calling model m: weird"), e.getMessage());
    }
}
