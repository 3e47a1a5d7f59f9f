package io.ragproxy.it.ai;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.it.LocalBackend;
import java.sql.SQLException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The setting of the catalog tests: a {@link BedrockWorld} that also starts and ends with no {@code ragproxy}
 * catalog schema on the backend (it is shared by every proxy in front of it, so each class starts from none and
 * leaves none).
 */
final class CatalogWorld extends BedrockWorld {
    /** TiDB Cloud's hosted Titan model, mapped to Bedrock's by an alias in the configuration. */
    static final String TIDB_TITAN = "tidbcloud_free/amazon/titan-embed-text-v2";

    CatalogWorld(String database, UnaryOperator<ObjectNode> config) {
        super(database, config);
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
        super.beforeAll(context);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            super.afterAll(context);
        } finally {
            dropCatalog();
        }
    }

    /** Drops the catalog schema on the backend directly. */
    static void dropCatalog() throws SQLException {
        LocalBackend.get().dropDatabase("ragproxy");
    }
}
