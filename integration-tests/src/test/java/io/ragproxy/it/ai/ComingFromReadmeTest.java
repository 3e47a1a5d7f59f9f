package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.MariadbCli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every SQL example of the README's "Coming from Aurora ML, MindsDB or TiDB Cloud" section, read from the README
 * and run in order with the mariadb CLI through the proxy (the section's configuration: Bedrock through the
 * emulator, TiDB Cloud's model name as an alias). A block marked {@code <!-- error NNNN -->} must fail with that
 * error; every other block must run without error. The values the examples produce are checked
 * by the tests of each syntax ({@link AuroraFunctionsTest}, {@link MindsdbModelsTest}, {@link AutoEmbeddingTest}).
 */
class ComingFromReadmeTest {
    private static final String DB = "ragproxy_it_readme";
    private static final Pattern BLOCK = Pattern.compile("(?:<!-- (error \\d+) -->\\n)?"
            + "```sql\\n(.*?)```", Pattern.DOTALL);

    @RegisterExtension
    static final CatalogWorld WORLD = new CatalogWorld(DB, CatalogWorld::tidbCloudModels);

    record Example(int number, String marker, String sql) {}

    static List<Example> examples() throws Exception {
        String readme = Files.readString(LocalBackend.repoRoot().resolve("README.md"), StandardCharsets.UTF_8);
        int start = readme.indexOf("\n## Coming from Aurora ML, MindsDB or TiDB Cloud\n");
        assertTrue(start >= 0, "the README has the section");
        int end = readme.indexOf("\n## ", start + 1);
        Matcher m = BLOCK.matcher(readme.substring(start, end));
        List<Example> out = new ArrayList<>();
        while (m.find()) {
            out.add(new Example(out.size() + 1, m.group(1), m.group(2)));
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyExampleRunsAsWritten() throws Exception {
        List<Example> examples = examples();
        assertTrue(examples.size() >= 10, "examples found: " + examples.size());
        return examples.stream().map(e -> DynamicTest.dynamicTest("example " + e.number() + ": "
                + e.sql().lines().findFirst().orElse(""), () -> run(e)));
    }

    /** The CLI's working folder: the files the examples load ({@code documents.csv}, one text a line). */
    static synchronized Path files() throws Exception {
        if (files == null) {
            files = Files.createTempDirectory("ragproxy-readme");
            files.toFile().deleteOnExit();
            Path csv = files.resolve("documents.csv");
            Files.writeString(csv, "Wind turbines turn wind into electricity.\nTidal power follows the moon.\n",
                    StandardCharsets.UTF_8);
            csv.toFile().deleteOnExit();
        }
        return files;
    }

    private static Path files;

    static void run(Example e) throws Exception {
        Path script = Files.createTempFile("ragproxy-readme", ".sql");
        try {
            Files.writeString(script, e.sql(), StandardCharsets.UTF_8);
            List<String> args = new ArrayList<>(MariadbCli.connectArgs(WORLD.proxy().host(), WORLD.proxy().port(),
                    LocalBackend.USER, LocalBackend.PASSWORD));
            args.addAll(List.of("--skip-ssl", "--batch", "--local-infile=1", "--database=" + DB));
            MariadbCli.Result r = MariadbCli.run(args, script, Duration.ofSeconds(120), files());
            if (e.marker() != null && e.marker().startsWith("error ")) {
                String code = e.marker().substring(6);
                assertEquals(1, r.exitCode(), () -> "expected error " + code + ": " + r.describe());
                assertTrue(r.stderr().contains("ERROR " + code + " "), r::describe);
                return;
            }
            assertEquals(0, r.exitCode(), r::describe);
            assertFalse(r.stderr().contains("ERROR"), r::describe);
            if (e.sql().toUpperCase().contains("SELECT")) {
                assertFalse(r.stdout().isBlank(), () -> "a query without rows: " + r.describe());
            }
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
