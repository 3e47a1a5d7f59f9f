package io.ragproxy.it.ai;

import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.it.LocalBackend;

/**
 * One test class's setting for the Bedrock configuration: its own database, a Bedrock emulator, a proxy whose models
 * are that emulator, and a second, private emulator giving the expected answers independently of the proxy.
 */
final class BedrockWorld implements AutoCloseable {
    final String database;
    final BedrockEmulator emulator;
    final ReferenceBedrock reference;
    final AiProxy proxy;

    private BedrockWorld(String database, BedrockEmulator emulator, ReferenceBedrock reference, AiProxy proxy) {
        this.database = database;
        this.emulator = emulator;
        this.reference = reference;
        this.proxy = proxy;
    }

    /** Recreates {@code database} and starts the emulators and the proxy. */
    static BedrockWorld start(String database) throws Exception {
        LocalBackend.get().recreateDatabase(database);
        BedrockEmulator emulator = BedrockEmulator.builder().start();
        ReferenceBedrock reference = null;
        try {
            reference = new ReferenceBedrock();
            return new BedrockWorld(database, emulator, reference, AiProxy.bedrock(emulator));
        } catch (Exception | Error e) {
            emulator.close();
            if (reference != null) {
                reference.close();
            }
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.close();
        } finally {
            emulator.close();
            reference.close();
            LocalBackend.get().dropDatabase(database);
        }
    }
}
