package io.ragproxy.it.ai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.it.LocalBackend;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One test class's setting for the Bedrock configuration, registered with
 * {@code @RegisterExtension static final BedrockWorld WORLD = new BedrockWorld("db")}: before the class it
 * recreates the database and starts a Bedrock emulator, a proxy whose models are that emulator, and a second,
 * private emulator giving the expected answers independently of the proxy; after the class it closes them and
 * drops the database. A test may restart the proxy, or start a second one, with the same configuration.
 */
class BedrockWorld implements BeforeAllCallback, AfterAllCallback {
    private final String database;
    private final UnaryOperator<ObjectNode> config;
    private BedrockEmulator emulator;
    private ReferenceBedrock reference;
    private AiProxy proxy;

    BedrockWorld(String database) {
        this(database, UnaryOperator.identity());
    }

    /**
     * @param config adjusts the seed-000 Bedrock configuration ({@link AiProxy#bedrockConfig}) for this class
     */
    BedrockWorld(String database, UnaryOperator<ObjectNode> config) {
        this.database = database;
        this.config = config;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        LocalBackend.get().recreateDatabase(database);
        emulator = BedrockEmulator.builder().start();
        reference = new ReferenceBedrock();
        proxy = startProxy();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            if (emulator != null) {
                emulator.close();
            }
            if (reference != null) {
                reference.close();
            }
            LocalBackend.get().dropDatabase(database);
        }
    }

    /** Another proxy with the same configuration in front of the same backend; the caller closes it. */
    AiProxy startProxy() {
        return AiProxy.start(config.apply(AiProxy.bedrockConfig(emulator)), true);
    }

    /** Closes {@code other}, keeping the AWS credential properties the remaining proxies read. */
    void close(AiProxy other) {
        other.close();
        System.setProperty("aws.accessKeyId", "AKIDRAGPROXYTEST");
        System.setProperty("aws.secretAccessKey", "ragproxy-test-secret");
    }

    /** Stops the proxy and starts a new one: a restart, as far as the proxy's state can tell. */
    void restartProxy() {
        close(proxy);
        proxy = startProxy();
    }

    String database() {
        return database;
    }

    BedrockEmulator emulator() {
        return emulator;
    }

    ReferenceBedrock reference() {
        return reference;
    }

    AiProxy proxy() {
        return proxy;
    }
}
