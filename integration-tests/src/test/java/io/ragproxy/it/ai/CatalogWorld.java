package io.ragproxy.it.ai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.it.LocalBackend;
import java.sql.SQLException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The setting of the catalog tests, registered with {@code @RegisterExtension}: a fresh database, no {@code ragproxy}
 * catalog schema on the backend (it is shared by every proxy in front of it, so each class starts from none and
 * leaves none), a Bedrock emulator, a reference emulator for expected answers, and a proxy whose models are the
 * emulator — which a test may restart, or pair with a second proxy, to see the catalog outlive and span instances.
 */
final class CatalogWorld implements BeforeAllCallback, AfterAllCallback {
    /** TiDB Cloud's hosted Titan model, mapped to Bedrock's by an alias in the configuration. */
    static final String TIDB_TITAN = "tidbcloud_free/amazon/titan-embed-text-v2";

    private final String database;
    private final UnaryOperator<ObjectNode> config;
    private BedrockEmulator emulator;
    private ReferenceBedrock reference;
    private AiProxy proxy;

    /**
     * @param config adjusts the seed-000 Bedrock configuration ({@link AiProxy#bedrockConfig}) for this class
     */
    CatalogWorld(String database, UnaryOperator<ObjectNode> config) {
        this.database = database;
        this.config = config;
    }

    /** The Bedrock configuration with Titan V2 at its own 1024 dimensions and TiDB Cloud's model name as an alias. */
    static ObjectNode tidbCloudModels(ObjectNode ai) {
        ObjectNode models = (ObjectNode) ai.get("models");
        models.remove("model");
        models.putObject("aliases").put(TIDB_TITAN, AiProxy.TITAN_V2);
        return ai;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dropCatalog();
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
            dropCatalog();
        }
    }

    /** Drops the catalog schema on the backend directly. */
    static void dropCatalog() throws SQLException {
        LocalBackend.get().dropDatabase("ragproxy");
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

    /** Stops the proxy and starts a new one: a restart, as far as the catalog can tell. */
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
