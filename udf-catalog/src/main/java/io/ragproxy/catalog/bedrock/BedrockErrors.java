package io.ragproxy.catalog.bedrock;

import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.ModelException.Kind;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.bedrockruntime.model.AccessDeniedException;
import software.amazon.awssdk.services.bedrockruntime.model.InternalServerException;
import software.amazon.awssdk.services.bedrockruntime.model.ModelErrorException;
import software.amazon.awssdk.services.bedrockruntime.model.ModelNotReadyException;
import software.amazon.awssdk.services.bedrockruntime.model.ModelTimeoutException;
import software.amazon.awssdk.services.bedrockruntime.model.ResourceNotFoundException;
import software.amazon.awssdk.services.bedrockruntime.model.ServiceQuotaExceededException;
import software.amazon.awssdk.services.bedrockruntime.model.ServiceUnavailableException;
import software.amazon.awssdk.services.bedrockruntime.model.ThrottlingException;
import software.amazon.awssdk.services.bedrockruntime.model.ValidationException;

import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Maps AWS SDK failures to {@link ModelException}s with messages that tell a SQL user what to do.
 *
 * <p>Only the service's own error message, the error code and the request id are quoted — never the SDK's
 * full exception text, which could include endpoint details; credentials never appear in either.
 */
public final class BedrockErrors {

    private BedrockErrors() {
    }

    /** The {@link ModelException} for {@code t}, a failure of a call to {@code modelId}. */
    public static ModelException map(Throwable t, String modelId) {
        Throwable c = unwrap(t);
        if (c instanceof ModelException me) {
            return me;
        }
        if (c instanceof CancellationException) {
            return new ModelException(Kind.CANCELLED, modelId, "call to model '" + modelId + "' was cancelled", c);
        }
        String m = "model '" + modelId + "': ";
        if (c instanceof AwsServiceException e) {
            String detail = detail(e);
            if (e instanceof ThrottlingException) {
                return new ModelException(Kind.THROTTLED, modelId, m + "Bedrock throttled the request" + detail
                        + "; lower rag_concurrency or request a higher Bedrock quota", e);
            }
            if (e instanceof ModelNotReadyException) {
                return new ModelException(Kind.MODEL_NOT_READY, modelId, m + "the model is not ready" + detail + "; try again shortly", e);
            }
            if (e instanceof ModelTimeoutException) {
                return new ModelException(Kind.TIMEOUT, modelId, m + "the model timed out" + detail
                        + "; shorten the input or try again", e);
            }
            if (e instanceof ServiceUnavailableException) {
                return new ModelException(Kind.UNAVAILABLE, modelId, m + "Bedrock is unavailable" + detail + "; try again later", e);
            }
            if (e instanceof InternalServerException || e instanceof ModelErrorException) {
                return new ModelException(Kind.SERVER_ERROR, modelId, m + "Bedrock failed" + detail + "; try again later", e);
            }
            if (e instanceof ValidationException) {
                return new ModelException(Kind.CLIENT_ERROR, modelId, m + "Bedrock rejected the request" + detail
                        + "; check the input and the options_json", e);
            }
            if (e instanceof AccessDeniedException) {
                return new ModelException(Kind.ACCESS_DENIED, modelId, m + "access denied" + detail
                        + "; enable the model in the Bedrock console and allow bedrock:InvokeModel for the proxy's AWS identity", e);
            }
            if (e instanceof ResourceNotFoundException) {
                return new ModelException(Kind.CLIENT_ERROR, modelId, m + "not found" + detail
                        + "; check the model id and that the model exists in the configured region", e);
            }
            if (e instanceof ServiceQuotaExceededException) {
                return new ModelException(Kind.CLIENT_ERROR, modelId, m + "service quota exceeded" + detail
                        + "; request a higher Bedrock quota", e);
            }
            int status = e.statusCode();
            if (status == 429) {
                return new ModelException(Kind.THROTTLED, modelId, m + "throttled (HTTP 429)" + detail, e);
            }
            if (status == 408) {
                return new ModelException(Kind.TIMEOUT, modelId, m + "timed out (HTTP 408)" + detail, e);
            }
            if (status == 401 || status == 403) {
                return new ModelException(Kind.ACCESS_DENIED, modelId, m + "access denied (HTTP " + status + ")" + detail
                        + "; check the proxy's AWS credentials and their Bedrock permissions", e);
            }
            if (status == 503) {
                return new ModelException(Kind.UNAVAILABLE, modelId, m + "Bedrock is unavailable (HTTP 503)" + detail, e);
            }
            if (status >= 500) {
                return new ModelException(Kind.SERVER_ERROR, modelId, m + "Bedrock failed (HTTP " + status + ")" + detail, e);
            }
            return new ModelException(Kind.CLIENT_ERROR, modelId, m + "request rejected (HTTP " + status + ")" + detail, e);
        }
        if (c instanceof ApiCallTimeoutException || c instanceof ApiCallAttemptTimeoutException) {
            return new ModelException(Kind.TIMEOUT, modelId, m + "the call timed out; raise rag_inference_timeout_ms", c);
        }
        if (c instanceof SdkClientException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("credentials") || msg.contains("Credentials")) {
                return new ModelException(Kind.ACCESS_DENIED, modelId, m + "no usable AWS credentials; configure the AWS default "
                        + "provider chain for the proxy (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an instance role)", null);
            }
            if (hasCause(e, IOException.class)) {
                return new ModelException(Kind.UNAVAILABLE, modelId, m + "could not reach Bedrock (" + rootMessage(e)
                        + "); check the network, the region and [models.bedrock] endpoint_override", e);
            }
            if (msg.contains("nmarshall") || msg.contains("parse")) {
                return new ModelException(Kind.BAD_RESPONSE, modelId, m + "could not read Bedrock's response", e);
            }
            return new ModelException(Kind.UNAVAILABLE, modelId, m + "the call failed on the client side (" + rootMessage(e) + ")", e);
        }
        if (c instanceof IOException) {
            return new ModelException(Kind.UNAVAILABLE, modelId, m + "could not reach Bedrock (" + c.getMessage() + ")", c);
        }
        return new ModelException(Kind.BAD_RESPONSE, modelId, m + "unexpected failure: " + c, c);
    }

    private static String detail(AwsServiceException e) {
        StringBuilder sb = new StringBuilder(" (");
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        String msg = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
        sb.append(code != null ? code : "HTTP " + e.statusCode());
        if (msg != null && !msg.isBlank()) {
            sb.append(": ").append(msg);
        }
        if (e.requestId() != null) {
            sb.append("; request id ").append(e.requestId());
        }
        return sb.append(')').toString();
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r.getClass().getSimpleName() + (r.getMessage() == null ? "" : ": " + r.getMessage());
    }
}
