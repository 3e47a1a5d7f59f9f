package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.LocalBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * node {@code mysql2}'s {@code execute()} (server-side prepared statements) through the proxy: the project in
 * {@code integration-tests/node} is installed with {@code npm ci} from its lock file and run with the machine's
 * {@code node}; it checks that execute() gives what query() gives for AI statements, on one connection and from a
 * pool of 10 running 1,000 mixed statements concurrently. Skipped, with a message, where no {@code node} is installed.
 */
class NodeMysql2Test {
    private static final String DB = "ragproxy_it_ai_node";
    private static final Path PROJECT = Path.of(System.getProperty("basedir", "."), "node").toAbsolutePath();

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    @Test
    void mysql2ExecuteMatchesQueryForAiStatements() throws Exception {
        Assumptions.assumeTrue(available("node", "--version"), "no node on PATH: the mysql2 test needs Node 20");
        String install = run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), 300);
        assertTrue(Files.isDirectory(PROJECT.resolve("node_modules/mysql2")), install);
        String out = run(List.of("node", "test.js"), Map.of(
                "RAGPROXY_HOST", WORLD.proxy().host(),
                "RAGPROXY_PORT", String.valueOf(WORLD.proxy().port()),
                "RAGPROXY_USER", LocalBackend.USER,
                "RAGPROXY_PASSWORD", LocalBackend.PASSWORD,
                "RAGPROXY_DB", DB,
                "RAGPROXY_STATEMENTS", "1000"), 600);
        assertTrue(out.contains("pool: 1000/1000 ok") && out.contains("ok pool of 10"), out);
    }

    private static boolean available(String... command) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs {@code command} in the node project; returns its output, asserting it exited with 0. */
    private static String run(List<String> command, Map<String, String> env, int timeoutSeconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(PROJECT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] output = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), command + " did not finish");
        String out = new String(output, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), command + ":\n" + out);
        return out;
    }
}
