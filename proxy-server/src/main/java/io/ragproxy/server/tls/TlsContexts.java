package io.ragproxy.server.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.ragproxy.server.config.ProxyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the TLS contexts of both legs: the client leg terminates TLS at the proxy with a configured certificate
 * or a self-signed one made at first start and kept in the state folder; the backend leg trusts the JDK's CAs
 * (TiDB Cloud's certificates chain to a public CA) unless verification is turned off.
 */
public final class TlsContexts {
    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

    private TlsContexts() {}

    /** The server-side context for clients. */
    public static SslContext forClients(ProxyConfig config) {
        Path cert = config.clientTlsCert();
        Path key = config.clientTlsKey();
        if (cert == null) {
            Path dir = config.stateDir().resolve("tls");
            cert = dir.resolve("ragproxy-cert.pem");
            key = dir.resolve("ragproxy-key.pem");
            if (!Files.isRegularFile(cert) || !Files.isRegularFile(key)) {
                makeSelfSigned(dir, cert, key);
            }
        }
        try {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot load the TLS certificate " + cert + " and key " + key + ": "
                    + e.getMessage() + " (tls.cert must be a PEM chain, tls.key a PEM PKCS#8 key)", e);
        }
    }

    /** The client-side context for the backend leg. */
    public static SslContext forBackend(ProxyConfig config) {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient();
            if (!config.backendTlsVerify()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS to the backend: " + e.getMessage(), e);
        }
    }

    private static void makeSelfSigned(Path dir, Path cert, Path key) {
        try {
            Files.createDirectories(dir);
            SelfSignedCertificate generated = new SelfSignedCertificate("localhost", "RSA", 2048);
            try {
                Files.copy(generated.certificate().toPath(), cert, StandardCopyOption.REPLACE_EXISTING);
                Files.copy(generated.privateKey().toPath(), key, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                generated.delete();
            }
            try {
                Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: permissions are the platform's default
            }
            log.info("made a self-signed TLS certificate for clients: {} (set tls.cert and tls.key to use your own)",
                    cert);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the self-signed certificate to " + dir, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make a self-signed certificate: " + e.getMessage(), e);
        }
    }
}
