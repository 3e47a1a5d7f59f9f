package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.MariadbCli;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The texts of seeds 000 and 001, and the demo SQL script (resource {@code ai/demo_000.sql}) run through the CLI. */
final class Seeds {
    private Seeds() {}

    /** Seed 000's five sentences, in the seed's order. */
    static final List<String> SENTENCES = List.of(
            "TiDB is a distributed SQL database compatible with MySQL.",
            "TiDB supports Hybrid Transactional and Analytical Processing (HTAP).",
            "TiDB can scale horizontally and provides high availability.",
            "Amazon Bedrock allows seamless integration with foundation models.",
            "Meta Llama 3 is a powerful model for text generation.");
    static final String TIDB_SENTENCE = SENTENCES.get(0);
    static final String QUESTION = "What is TiDB?";

    /** Seed 001 (the Chinese edition) with the five sentences in Chinese, same order. */
    static final List<String> SENTENCES_ZH = List.of(
            "TiDB 是一个兼容 MySQL 的分布式 SQL 数据库。",
            "TiDB 支持混合事务和分析处理（HTAP）。",
            "TiDB 可以水平扩展并提供高可用性。",
            "Amazon Bedrock 可以与基础模型无缝集成。",
            "Meta Llama 3 是一个强大的文本生成模型。");
    static final String QUESTION_ZH = "TiDB 是什么？";

    static final String PROMPT_PREFIX = "ONLY use the content below to generate an answer:\n";
    static final String PROMPT_SUFFIX = "\n----\nPlease carefully think about the question: What is TiDB?";

    /** The demo script with the vector column's dimensions filled in. */
    static String demoSql(int dimensions) throws IOException {
        try (InputStream in = Seeds.class.getResourceAsStream("/ai/demo_000.sql")) {
            assertNotNull(in, "resource ai/demo_000.sql");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("${DIM}", Integer.toString(dimensions));
        }
    }

    /**
     * Runs {@code sql} with the mariadb CLI through the proxy at {@code host:port} in {@code database}, in batch
     * mode without column names, and returns the output lines; fails with the CLI's output if it did not exit 0.
     */
    static List<String> runCli(String host, int port, String database, String sql) throws Exception {
        Path script = Files.createTempFile("ragproxy-ai-demo", ".sql");
        try {
            Files.writeString(script, sql, StandardCharsets.UTF_8);
            List<String> args = new ArrayList<>(MariadbCli.connectArgs(host, port, LocalBackend.USER, LocalBackend.PASSWORD));
            args.add("--skip-ssl");
            args.add("--batch");
            args.add("--skip-column-names");
            if (!database.isEmpty()) {
                args.add("--database=" + database);
            }
            MariadbCli.Result r = MariadbCli.run(args, script, Duration.ofSeconds(120));
            assertEquals(0, r.exitCode(), () -> "mariadb CLI through the proxy: " + r.describe());
            return r.stdout().lines().toList();
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
