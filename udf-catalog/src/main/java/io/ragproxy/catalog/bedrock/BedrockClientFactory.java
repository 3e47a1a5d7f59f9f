package io.ragproxy.catalog.bedrock;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.awscore.client.builder.AwsAsyncClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.bedrockagentruntime.BedrockAgentRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockagentruntime.BedrockAgentRuntimeAsyncClientBuilder;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClientBuilder;

import java.net.URI;

/**
 * Builds the {@link BedrockRuntimeAsyncClient} every Bedrock model shares: Netty async HTTP, the SDK's own
 * retries turned off (the invocation policy retries, with its own accounting), region and endpoint from
 * {@link BedrockSettings}, credentials from the AWS default provider chain unless a provider is given.
 */
public final class BedrockClientFactory {

    private BedrockClientFactory() {
    }

    /** A client with credentials from the AWS default provider chain. The caller closes it. */
    public static BedrockRuntimeAsyncClient create(BedrockSettings settings) {
        return create(settings, null);
    }

    /**
     * A client with the given credentials provider (tests pass static fake keys for the emulator); null means
     * the AWS default provider chain. The caller closes it; closing it also closes its HTTP client.
     */
    public static BedrockRuntimeAsyncClient create(BedrockSettings settings, AwsCredentialsProvider credentials) {
        return configured(BedrockRuntimeAsyncClient.builder(), settings, credentials).build();
    }

    /**
     * The Bedrock Agent Runtime client the rerankers use (the Rerank API lives there, not in Bedrock Runtime), built
     * like {@link #create(BedrockSettings, AwsCredentialsProvider)}'s: same region, endpoint override, HTTP settings and
     * no SDK retries. Null credentials mean the AWS default provider chain. The caller closes it.
     */
    public static BedrockAgentRuntimeAsyncClient createAgent(BedrockSettings settings, AwsCredentialsProvider credentials) {
        return configured(BedrockAgentRuntimeAsyncClient.builder(), settings, credentials).build();
    }

    /** Region, credentials, HTTP client, endpoint override and no SDK retries: what every Bedrock client here shares. */
    private static <B extends AwsClientBuilder<B, ?> & AwsAsyncClientBuilder<B, ?>> B configured(B builder,
            BedrockSettings settings, AwsCredentialsProvider credentials) {
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                .maxConcurrency(settings.maxConnections())
                .connectionTimeout(settings.connectTimeout())
                .readTimeout(settings.readTimeout())
                .writeTimeout(settings.readTimeout());
        URI endpoint = settings.endpointOverride();
        if (endpoint != null && "http".equalsIgnoreCase(endpoint.getScheme())) {
            // Bedrock's clients default to HTTP/2, which over plain http means prior knowledge; plain
            // endpoints (the emulator, local gateways) speak HTTP/1.1.
            http.protocol(Protocol.HTTP1_1);
        }
        builder.region(region(settings))
                .credentialsProvider(credentials != null ? credentials : DefaultCredentialsProvider.builder().build())
                .httpClientBuilder(http)
                // One attempt per call: ModelInvoker owns retries so that throttles and retries are counted
                // and backoff is shared with the concurrency limit.
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .build());
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder;
    }

    /**
     * A client like {@link #create(BedrockSettings)}'s (region, endpoint) that sends nothing: every call is answered by
     * a {@link CannedHttpClient}, with fixed fake credentials. It runs the SDK's and the models' code on a call without
     * a network or a cost, to load and warm that code at start. The caller closes it.
     */
    public static BedrockRuntimeAsyncClient createCanned(BedrockSettings settings) {
        BedrockRuntimeAsyncClientBuilder b = BedrockRuntimeAsyncClient.builder()
                .region(region(settings))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("warm-up", "warm-up")))
                .httpClient(new CannedHttpClient())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .build());
        if (settings.endpointOverride() != null) {
            b.endpointOverride(settings.endpointOverride());
        }
        return b.build();
    }

    private static Region region(BedrockSettings settings) {
        if (settings.region() != null) {
            return Region.of(settings.region());
        }
        try {
            return DefaultAwsRegionProviderChain.builder().build().getRegion();
        } catch (RuntimeException e) {
            // No region configured anywhere: Bedrock's most widely available region, as the docs' examples use.
            return Region.US_EAST_1;
        }
    }
}
