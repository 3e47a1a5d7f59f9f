package io.ragproxy.catalog.bedrock;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach Amazon Bedrock Runtime. Immutable. Credentials are deliberately not part of it: they come from
 * the AWS default provider chain (environment, profile, SSO, container or instance role).
 *
 * @param region           AWS region, e.g. {@code us-east-1}; null means the default region provider chain
 *                         ({@code AWS_REGION}, profile), falling back to {@code us-east-1}
 * @param endpointOverride another endpoint, e.g. a VPC endpoint or the local emulator; null for the default
 * @param maxConnections   most HTTP connections open at once (the per-model limits are usually lower)
 * @param connectTimeout   TCP/TLS connect timeout
 * @param readTimeout      socket read timeout; our per-call timeout is normally shorter and fires first
 */
public record BedrockSettings(String region, URI endpointOverride, int maxConnections, Duration connectTimeout,
                              Duration readTimeout) {

    public static final BedrockSettings DEFAULT = new BedrockSettings(null, null, 256, Duration.ofSeconds(5), Duration.ofSeconds(120));

    public BedrockSettings {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("bedrock max_connections must be >= 1");
        }
        connectTimeout = connectTimeout == null ? Duration.ofSeconds(5) : connectTimeout;
        readTimeout = readTimeout == null ? Duration.ofSeconds(120) : readTimeout;
        if (region != null && region.isBlank()) {
            region = null;
        }
    }

    public BedrockSettings withEndpointOverride(URI endpoint) {
        return new BedrockSettings(region, endpoint, maxConnections, connectTimeout, readTimeout);
    }

    public BedrockSettings withRegion(String r) {
        return new BedrockSettings(r, endpointOverride, maxConnections, connectTimeout, readTimeout);
    }
}
