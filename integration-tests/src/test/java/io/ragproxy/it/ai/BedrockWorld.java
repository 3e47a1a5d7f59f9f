package io.ragproxy.it.ai;

import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.it.LocalBackend;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One test class's setting for the Bedrock configuration, registered with
 * {@code @RegisterExtension static final BedrockWorld WORLD = new BedrockWorld("db")}: before the class it
 * recreates the database and starts a Bedrock emulator, a proxy whose models are that emulator, and a second,
 * private emulator giving the expected answers independently of the proxy; after the class it closes them and
 * drops the database.
 */
final class BedrockWorld implements BeforeAllCallback, AfterAllCallback {
    private final String database;
    private BedrockEmulator emulator;
    private ReferenceBedrock reference;
    private AiProxy proxy;

    BedrockWorld(String database) {
        this.database = database;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        LocalBackend.get().recreateDatabase(database);
        emulator = BedrockEmulator.builder().start();
        reference = new ReferenceBedrock();
        proxy = AiProxy.bedrock(emulator);
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
