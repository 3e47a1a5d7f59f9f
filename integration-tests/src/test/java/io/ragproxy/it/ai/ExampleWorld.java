package io.ragproxy.it.ai;

import io.ragproxy.emulator.BedrockEmulator;
import java.util.Arrays;
import java.util.Optional;

/**
 * The configurations a documentation page's examples can ask for with {@code <!-- examples: NAME -->}: each opens
 * an in-JVM proxy in front of the local backend, set up as the page's reader would have it.
 */
enum ExampleWorld {
    /** The embedded defaults {@code bin/ragproxy --local-backend} starts with: all-MiniLM-L6-v2 and local:extractive. */
    LOCAL("local"),
    /**
     * The seed's Bedrock configuration against the Bedrock emulator, Titan V2 at its own 1024 dimensions and TiDB
     * Cloud's hosted model name as an alias of it (what docs/coming-from.md shows in TOML).
     */
    BEDROCK_EMULATOR("bedrock-emulator"),
    /** A page without runnable examples. */
    NONE("none");

    private final String marker;

    ExampleWorld(String marker) {
        this.marker = marker;
    }

    String marker() {
        return marker;
    }

    static Optional<ExampleWorld> named(String marker) {
        return Arrays.stream(values()).filter(w -> w.marker.equals(marker)).findFirst();
    }

    /** A running proxy of this world; closing it stops the proxy and whatever it talks to. */
    Running open() {
        switch (this) {
            case LOCAL:
                return new Running(AiProxy.local(), null);
            case BEDROCK_EMULATOR:
                BedrockEmulator emulator = BedrockEmulator.builder().start();
                try {
                    return new Running(AiProxy.start(
                            CatalogWorld.tidbCloudModels(AiProxy.bedrockConfig(emulator)), true), emulator);
                } catch (RuntimeException e) {
                    emulator.close();
                    throw e;
                }
            default:
                throw new IllegalStateException("the world '" + marker + "' runs no example");
        }
    }

    /** An open world: the proxy the examples connect to, and the emulator behind it, if any. */
    record Running(AiProxy proxy, BedrockEmulator emulator) implements AutoCloseable {
        @Override
        public void close() {
            try {
                proxy.close();
            } finally {
                if (emulator != null) {
                    emulator.close();
                }
            }
        }
    }
}
