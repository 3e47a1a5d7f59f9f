package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code mariadb} CLI, as a user runs it, gives the same output directly and through the proxy.
 */
class CliCorpusTest {
    private static final String DB = "it_cli_corpus";
    private static LocalBackend backend;
    private static ProxyFixture proxy;

    @BeforeAll
    static void startProxy() {
        backend = LocalBackend.get();
        proxy = ProxyFixture.start();
    }

    @AfterAll
    static void stopProxy() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (backend != null) {
            backend.dropDatabase(DB);
        }
    }

    @Test
    void corpusPrintsTheSameDirectlyAndThroughTheProxy(@TempDir Path dir) throws Exception {
        Path sql = CorpusRunner.materialize("/corpus/mariadb-corpus.sql", dir);

        backend.recreateDatabase(DB);
        MariadbCli.Result direct = CorpusRunner.run(sql, backend.host(), backend.port(), LocalBackend.USER,
                LocalBackend.PASSWORD, DB, List.of("--skip-ssl"));
        backend.recreateDatabase(DB);
        MariadbCli.Result proxied = CorpusRunner.run(sql, proxy.host(), proxy.port(), LocalBackend.USER,
                LocalBackend.PASSWORD, DB, List.of("--skip-ssl"));

        // The direct run itself must be meaningful, or identical outputs prove nothing.
        assertTrue(direct.stdout().lines().count() >= 1000,
                "the direct run printed too little to compare:\n" + direct.describe());
        assertTrue(direct.stdout().contains("end of corpus"), "the direct run did not reach the end:\n" + direct.describe());
        assertTrue(direct.stdout().contains("Stanisław Lem") && direct.stdout().contains("emoji 🚀🎉👩‍💻"),
                "the direct run lacks the inserted rows:\n" + direct.describe());
        assertTrue(direct.stdout().contains("Query OK, 4 rows affected") && direct.stdout().contains("🍒 cherry"),
                "LOAD DATA LOCAL INFILE did not load the 4 CSV rows directly:\n" + direct.describe());
        assertTrue(direct.stderr().contains("ERROR 1146 (42S02)") && direct.stderr().contains("ERROR 1062 (23000)"),
                "the direct run lacks the corpus's expected errors:\n" + direct.describe());

        CorpusRunner.assertSameOutput("stdout of the mariadb CLI", direct.stdout(), proxied.stdout());
        CorpusRunner.assertSameOutput("stderr (error lines) of the mariadb CLI", direct.stderr(), proxied.stderr());
        assertEquals(direct.exitCode(), proxied.exitCode(), "exit code of the mariadb CLI");
        proxy.awaitOpenConnectionsAtMost(0, Duration.ofSeconds(5), "the CLI exited");
    }

    @Test
    void aiFunctionGetsAnErrorAndTheCliSessionGoesOn(@TempDir Path dir) throws Exception {
        List<String> args = new ArrayList<>(MariadbCli.connectArgs(proxy.host(), proxy.port(), LocalBackend.USER,
                LocalBackend.PASSWORD));
        args.addAll(List.of("--skip-ssl", "--batch", "--force"));
        Path sql = dir.resolve("ai.sql");
        Files.writeString(sql, "SELECT 'before' AS step;\nSELECT EMBED('hello');\nSELECT 'after' AS step, 6 * 7 AS answer;\n");
        MariadbCli.Result r = MariadbCli.run(args, sql, Duration.ofSeconds(30));
        assertTrue(r.stderr().contains("(0A000)"), "expected an ERROR with SQLSTATE 0A000 for EMBED():\n" + r.describe());
        assertTrue(r.stderr().toLowerCase().contains("embed"), "the error should name EMBED:\n" + r.describe());
        assertEquals(List.of("step", "before", "step\tanswer", "after\t42"), r.stdout().lines().toList(),
                "the statements before and after the failed one should run on the same session:\n" + r.describe());
    }

    @Test
    void cliOverTlsThroughTheProxyShowsCipherAndProxyVersion() throws Exception {
        List<String> args = new ArrayList<>(MariadbCli.connectArgs(proxy.host(), proxy.port(), LocalBackend.USER,
                LocalBackend.PASSWORD));
        // The proxy's certificate is self-signed: require TLS but do not verify the certificate.
        args.addAll(List.of("--ssl", "--skip-ssl-verify-server-cert", "-e", "status"));
        MariadbCli.Result r = MariadbCli.run(args, null, Duration.ofSeconds(30));
        assertEquals(0, r.exitCode(), "mariadb --ssl through the proxy failed:\n" + r.describe());
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("SSL:") && l.contains("Cipher in use is")),
                "status should report a TLS cipher in use:\n" + r.describe());
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("Server version:") && l.contains("ragproxy")),
                "status should show the proxy's version suffix:\n" + r.describe());
        // "Uptime: … Threads: … Questions:" comes from COM_STATISTICS.
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("Uptime:")) && r.stdout().contains("Questions:"),
                "status should include the COM_STATISTICS answer:\n" + r.describe());
    }
}
