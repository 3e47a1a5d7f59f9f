package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.MariadbCli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@code ```sql} block of README.md and of every Markdown page under docs/ (found when the test runs, so a
 * page added later is checked too), run as written with the mariadb CLI through a proxy of the world the page's
 * first line names ({@link ExampleWorld}: {@code <!-- examples: local -->}, {@code bedrock-emulator} or
 * {@code none}); a page without that line fails, saying what to add.
 *
 * <p>A page's blocks run in order, each in its own CLI session, as a reader typing them one after the other: a
 * session starts in the database the page's last {@code USE} chose (before any, a scratch database of the page's
 * own), with {@code --local-infile=1} in the repository's root folder. A block right after a
 * {@code <!-- error NNNN -->} line must fail with that error; every other block must run without error, and one
 * with a query ({@code SELECT}, {@code SHOW}, {@code EXPLAIN} or {@code WITH} at a line's start) must print rows.
 * The values the examples produce are checked by the tests of each feature. A database a page creates gets a
 * test-private name (the name is replaced throughout the page's blocks), so the test never touches a reader's own
 * {@code rag_demo}; the catalog schema {@code ragproxy} is dropped before and after each page.
 */
class DocumentationExamplesTest {
    private static final String PREFIX = "ragproxy_it_doc_";
    private static final Pattern USE = Pattern.compile("(?im)(?:^|;)\\s*USE\\s+`?(\\w+)`?\\s*(?:;|$)");
    private static final Pattern QUERY = Pattern.compile("(?im)^(SELECT|SHOW|EXPLAIN|WITH)\\b");
    private static final List<PageRun> RUNS = new ArrayList<>();

    /** README.md and every .md file under docs/, README first, then by path. */
    static List<Path> pages() throws IOException {
        Path root = LocalBackend.repoRoot();
        List<Path> out = new ArrayList<>(List.of(root.resolve("README.md")));
        Path docs = root.resolve("docs");
        if (Files.isDirectory(docs)) {
            try (Stream<Path> files = Files.walk(docs)) {
                files.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".md"))
                        .sorted().forEach(out::add);
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicNode> everySqlExampleRunsAsWritten() throws IOException {
        Path root = LocalBackend.repoRoot();
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path file : pages()) {
            nodes.add(page(DocPage.read(root, file)));
        }
        return nodes.stream();
    }

    private static DynamicNode page(DocPage page) {
        if (page.problem().isPresent()) {
            return DynamicTest.dynamicTest(page.name(), () -> fail(page.problem().get()));
        }
        if (page.world().get() == ExampleWorld.NONE) {
            return DynamicContainer.dynamicContainer(page.name() + " (no runnable examples)", Stream.empty());
        }
        PageRun run = new PageRun(page);
        synchronized (RUNS) {
            RUNS.add(run);
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (DocPage.Block block : page.blocks()) {
            tests.add(DynamicTest.dynamicTest(page.name() + ":" + block.line() + " " + block.title(),
                    () -> run.run(block)));
        }
        tests.add(DynamicTest.dynamicTest(page.name() + ": clean up", run::close));
        return DynamicContainer.dynamicContainer(page.name() + " (" + page.world().get().marker() + ", "
                + page.blocks().size() + " blocks)", tests.stream());
    }

    @AfterAll
    static void closeLeftovers() throws Exception {
        synchronized (RUNS) {
            for (PageRun run : RUNS) {
                run.close();
            }
            RUNS.clear();
        }
    }

    /** One page's examples in progress: its world, opened at its first block, and the database a session starts in. */
    private static final class PageRun implements AutoCloseable {
        private final DocPage page;
        private final String scratch;
        private final Map<String, String> renamed = new LinkedHashMap<>();
        private ExampleWorld.Running world;
        private String database;
        private boolean started;
        private boolean failed;

        PageRun(DocPage page) {
            this.page = page;
            String name = PREFIX + page.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
            this.scratch = name.length() <= 64 ? name : name.substring(0, 64);
            for (String db : page.createdDatabases()) {
                renamed.put(db, PREFIX + db);
            }
        }

        void run(DocPage.Block block) throws Exception {
            Assumptions.assumeFalse(failed, "an earlier block of " + page.name() + " failed");
            boolean ok = false;
            try {
                if (!started) {
                    open();
                }
                String sql = privateNames(block.sql());
                try {
                    check(block, execute(sql));
                } finally {
                    Matcher use = USE.matcher(sql);
                    while (use.find()) {
                        database = use.group(1);
                    }
                }
                ok = true;
            } finally {
                failed |= !ok;
            }
        }

        private void open() throws Exception {
            started = true;
            CatalogWorld.dropCatalog();
            for (String db : renamed.values()) {
                LocalBackend.get().dropDatabase(db);
            }
            LocalBackend.get().recreateDatabase(scratch);
            database = scratch;
            world = page.world().get().open();
        }

        private String privateNames(String sql) {
            for (Map.Entry<String, String> e : renamed.entrySet()) {
                sql = sql.replaceAll("\\b" + Pattern.quote(e.getKey()) + "\\b", Matcher.quoteReplacement(e.getValue()));
            }
            return sql;
        }

        private MariadbCli.Result execute(String sql) throws Exception {
            Path script = Files.createTempFile("ragproxy-doc", ".sql");
            try {
                Files.writeString(script, sql, StandardCharsets.UTF_8);
                AiProxy proxy = world.proxy();
                List<String> args = new ArrayList<>(MariadbCli.connectArgs(proxy.host(), proxy.port(),
                        LocalBackend.USER, LocalBackend.PASSWORD));
                args.addAll(List.of("--skip-ssl", "--batch", "--local-infile=1", "--database=" + database));
                return MariadbCli.run(args, script, Duration.ofSeconds(180), LocalBackend.repoRoot());
            } finally {
                Files.deleteIfExists(script);
            }
        }

        private void check(DocPage.Block block, MariadbCli.Result r) {
            String where = page.name() + ":" + block.line() + " (block " + block.number() + ")";
            if (block.expectedError().isPresent()) {
                int code = block.expectedError().get();
                assertEquals(1, r.exitCode(), () -> where + " should fail with error " + code + ": " + r.describe());
                assertTrue(r.stderr().contains("ERROR " + code + " "), () -> where + " should fail with error " + code
                        + ": " + r.describe());
                return;
            }
            assertEquals(0, r.exitCode(), () -> where + ": " + r.describe());
            assertFalse(r.stderr().contains("ERROR"), () -> where + ": " + r.describe());
            if (QUERY.matcher(block.sql()).find()) {
                assertFalse(r.stdout().isBlank(), () -> where + " has a query that printed no row: " + r.describe());
            }
        }

        @Override
        public void close() throws Exception {
            if (!started) {
                return;
            }
            started = false;
            try {
                if (world != null) {
                    world.close();
                }
            } finally {
                world = null;
                LocalBackend.get().dropDatabase(scratch);
                for (String db : renamed.values()) {
                    LocalBackend.get().dropDatabase(db);
                }
                CatalogWorld.dropCatalog();
            }
        }
    }
}
