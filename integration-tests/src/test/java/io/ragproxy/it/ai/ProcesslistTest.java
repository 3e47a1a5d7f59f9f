package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.it.RawMysqlClient;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Following a long backfill (issue 15, progress): {@code SHOW RAG PROCESSLIST} from another connection lists it with
 * growing row counts, to its own account and to accounts with PROCESS only; a client that asked for MariaDB progress
 * reports gets them before the backfill's OK, one that did not gets none. The emulator answers slowly, so a
 * 3,000-row backfill runs for several seconds.
 */
class ProcesslistTest {
    private static final String DB = "ragproxy_it_ai_processlist";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    private static final int ROWS = 3000;
    /** Per model call: 500 calls a page, 16 at a time, make a page take over a second. */
    private static final Duration LATENCY = Duration.ofMillis(40);
    private static final String BACKFILL = "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL";
    private static final String OWNER = "ragproxy_pl_owner";
    private static final String STRANGER = "ragproxy_pl_stranger";
    private static final String WATCHER = "ragproxy_pl_watcher";
    private static final String PASSWORD = "pl-Passw0rd";
    private static final ExecutorService CLIENTS = Executors.newCachedThreadPool();

    @AfterAll
    static void stopClients() {
        CLIENTS.shutdownNow();
    }

    @BeforeEach
    void freshTable() throws Exception {
        AiProxy.quiesce(WORLD.emulator());
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS docs",
                "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO docs (id, content) SELECT seq, CONCAT('processlist row ', seq, ' of run " + System.nanoTime()
                        + "') FROM seq_1_to_" + ROWS); // texts of its own: no test's model calls are cache hits
        WORLD.emulator().setLatency(LATENCY);
    }

    @AfterEach
    void fastAgain() {
        WORLD.emulator().setLatency(Duration.ZERO);
    }

    @Test
    void anotherConnectionSeesTheBackfillWithGrowingRowCounts() throws Exception {
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            exec(a, "SET rag_max_calls = 10000");
            String id = scalar(a, "SELECT CONNECTION_ID()");
            CompletableFuture<Integer> run = run(a, BACKFILL);

            Map<String, String> first = waitForRow(b, id, 1, run);
            assertEquals(LocalBackend.USER, first.get("User"));
            assertEquals("backfill", first.get("Plan"));
            assertEquals(Integer.toString(ROWS), first.get("Rows_expected"));
            assertTrue(first.get("Info").startsWith("UPDATE docs SET embedding = EMBED(content)"), first.get("Info"));
            assertTrue(Long.parseLong(first.get("Model_calls")) >= Long.parseLong(first.get("Rows_done")),
                    "one embedding call per row at least: " + first);
            assertNotNull(first.get("Estimated_left_s"), "rows are done, so the time left is estimated: " + first);
            long rows = Long.parseLong(first.get("Rows_done"));
            Map<String, String> later = waitForRow(b, id, rows + 1, run);
            assertTrue(Long.parseLong(later.get("Rows_done")) > rows, first + " then " + later);
            assertTrue(Double.parseDouble(later.get("Elapsed_s")) > Double.parseDouble(first.get("Elapsed_s")));
            assertTrue(Long.parseLong(later.get("Model_calls")) > Long.parseLong(first.get("Model_calls")));

            assertEquals(ROWS, run.get(120, TimeUnit.SECONDS));
            assertTrue(processlist(b).stream().noneMatch(r -> r.get("Id").equals(id)), "a finished statement is gone");
            assertTrue(processlist(a).isEmpty(), "SHOW RAG PROCESSLIST does not list itself");
        }
    }

    @Test
    void aStreamedSelectShowsTheRowsItHasSentGrowing() throws Exception {
        int rows = 1200;
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            exec(a, "SET rag_max_calls = 10000");
            String id = scalar(a, "SELECT CONNECTION_ID()");
            double backfilledBefore = backfillRows();
            CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> {
                try (Statement s = a.createStatement(); ResultSet rs = s.executeQuery(
                        "SELECT id, GENERATE(content) FROM docs WHERE id <= " + rows + " ORDER BY id")) {
                    int read = 0;
                    while (rs.next()) {
                        assertNotNull(rs.getString(2));
                        read++;
                    }
                    return read;
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            }, CLIENTS);

            Map<String, String> first = waitForRow(b, id, 1, run);
            assertEquals("streamed", first.get("Plan"));
            assertEquals(null, first.get("Rows_expected"), "a streamed SELECT does not count its rows first");
            long sent = Long.parseLong(first.get("Rows_done"));
            Map<String, String> later = waitForRow(b, id, sent + 1, run);
            assertTrue(Long.parseLong(later.get("Rows_done")) > sent, first + " then " + later);
            assertTrue(Long.parseLong(later.get("Model_calls")) >= Long.parseLong(later.get("Rows_done")),
                    "each row sent had its model call: " + later);

            assertEquals(rows, run.get(120, TimeUnit.SECONDS));
            assertTrue(processlist(b).stream().noneMatch(r -> r.get("Id").equals(id)), "a finished statement is gone");
            assertEquals(backfilledBefore, backfillRows(),
                    "rows sent are not rows written");
        }
    }

    @Test
    void anAccountSeesItsOwnStatementsAndWithProcessEveryones() throws Exception {
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + OWNER + "'@'%'", "DROP USER IF EXISTS '" + STRANGER
                        + "'@'%'", "DROP USER IF EXISTS '" + WATCHER + "'@'%'",
                "CREATE USER '" + OWNER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + STRANGER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "CREATE USER '" + WATCHER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
                "GRANT SELECT, UPDATE ON `" + DB + "`.* TO '" + OWNER + "'@'%'",
                "GRANT SELECT ON `" + DB + "`.* TO '" + STRANGER + "'@'%'",
                "GRANT PROCESS ON *.* TO '" + WATCHER + "'@'%'");
        try (Connection a = as(OWNER, DB); Connection own = as(OWNER, DB); Connection stranger = as(STRANGER, DB);
                Connection watcher = as(WATCHER, "")) {
            exec(a, "SET rag_max_calls = 10000");
            String id = scalar(a, "SELECT CONNECTION_ID()");
            CompletableFuture<Integer> run = run(a, BACKFILL);

            assertEquals(OWNER, waitForRow(own, id, 1, run).get("User"), "the account sees its own statement");
            assertEquals(OWNER, waitForRow(watcher, id, 1, run).get("User"), "PROCESS sees everyone's");
            assertFalse(run.isDone());
            assertTrue(processlist(stranger).isEmpty(), "another account without PROCESS sees none of it");
            assertEquals(ROWS, run.get(120, TimeUnit.SECONDS));
        }
    }

    @Test
    void aClientThatAsksForProgressReportsGetsThemBeforeTheOk() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.login(WORLD.proxy().host(), WORLD.proxy().port(), LocalBackend.USER,
                LocalBackend.PASSWORD, DB, RawMysqlClient.MARIADB_CLIENT_PROGRESS)) {
            c.socket().setSoTimeout(120_000);
            assertTrue(c.queryFirstValue("SET rag_max_calls = 10000").startsWith("OK"));
            c.sendCommand(RawMysqlClient.COM_QUERY, BACKFILL.getBytes(StandardCharsets.UTF_8));
            List<Integer> progress = new ArrayList<>();
            int expectedSequence = 1;
            byte[] p;
            while (true) {
                p = c.readPacket();
                assertEquals(expectedSequence++, c.lastSequenceId(), "sequence ids run on through the reports");
                ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
                if ((p[0] & 0xff) != 0xff || (b.getShort(1) & 0xffff) != 0xffff) {
                    break;
                }
                assertEquals(1, p[3], "one string");
                assertEquals(1, p[4], "stage 1");
                assertEquals(1, p[5], "of 1 stage");
                progress.add((p[6] & 0xff) | (p[7] & 0xff) << 8 | (p[8] & 0xff) << 16);
                assertEquals("backfill", new String(p, 10, p[9], StandardCharsets.UTF_8));
            }
            assertEquals(0x00, p[0] & 0xff, "the backfill's OK follows the reports: " + RawMysqlClient.describe(p));
            assertEquals(ROWS, p[1] == (byte) 0xfc ? (p[2] & 0xff) | (p[3] & 0xff) << 8 : p[1] & 0xff,
                    "the OK's affected rows are intact");
            assertTrue(new String(p, StandardCharsets.ISO_8859_1).contains("Rows matched: " + ROWS), "OK info intact");
            System.out.println("progress reports (thousandths of a percent): " + progress);
            assertTrue(progress.size() >= 2, "a report a second over a backfill of several seconds: " + progress);
            for (int i = 0; i < progress.size(); i++) {
                assertTrue(progress.get(i) > 0 && progress.get(i) <= 100_000, progress.toString());
                assertTrue(i == 0 || progress.get(i) > progress.get(i - 1), "growing: " + progress);
            }
            assertEquals("1", c.queryFirstValue("SELECT 1"), "the connection stays in step");
        }
    }

    @Test
    void aClientThatDidNotAskGetsNoProgressReports() throws Exception {
        try (RawMysqlClient c = RawMysqlClient.login(WORLD.proxy().host(), WORLD.proxy().port(), LocalBackend.USER,
                LocalBackend.PASSWORD, DB)) {
            c.socket().setSoTimeout(120_000);
            assertTrue(c.queryFirstValue("SET rag_max_calls = 10000").startsWith("OK"));
            byte[] p = c.command(RawMysqlClient.COM_QUERY, BACKFILL.getBytes(StandardCharsets.UTF_8));
            assertEquals(0x00, p[0] & 0xff, "the first packet is the OK: " + RawMysqlClient.describe(p));
            assertEquals(1, c.lastSequenceId());
            assertEquals(Integer.toString(ROWS), scalarDirect("SELECT COUNT(embedding) FROM docs"));
            assertEquals("1", c.queryFirstValue("SELECT 1"));
        }
    }

    @Test
    void theMariadbCliShowsProgressOnItsTerminal() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(java.nio.file.Path.of(
                "/usr/bin/script")), "needs script(1) to give the mariadb CLI a terminal");
        List<String> cli = new ArrayList<>(io.ragproxy.it.MariadbCli.connectArgs(WORLD.proxy().host(),
                WORLD.proxy().port(), LocalBackend.USER, LocalBackend.PASSWORD));
        cli.add("--ssl=0");
        cli.add(DB);
        String command = LocalBackend.mariadbCommand(cli).stream()
                .map(a -> "'" + a.replace("'", "'\\''") + "'").collect(java.util.stream.Collectors.joining(" "));
        // script(1) runs the CLI on a pseudo-terminal, so it is interactive and asks for progress reports.
        Process p = new ProcessBuilder("script", "-q", "-e", "-c", command, "/dev/null").redirectErrorStream(true)
                .start();
        try (var in = p.getOutputStream()) {
            in.write(("SET rag_max_calls = 10000;\n" + BACKFILL + ";\nquit\n").getBytes(StandardCharsets.UTF_8));
        }
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, CLIENTS);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI finished");
        String out = output.get(10, TimeUnit.SECONDS);
        java.util.regex.Matcher took = java.util.regex.Pattern.compile("Query OK, " + ROWS + " rows affected \\([^)]*\\)")
                .matcher(out);
        System.out.println("the mariadb CLI: " + (took.find() ? took.group() : "no Query OK line"));
        assertTrue(out.contains("Stage: 1 of 1 'backfill'"), "the CLI shows progress lines: " + out);
        assertTrue(out.contains("Query OK, " + ROWS + " rows affected"), out);
        assertEquals(Integer.toString(ROWS), scalarDirect("SELECT COUNT(embedding) FROM docs"));
    }

    // ------------------------------------------------------------------------------------------- helpers

    private static Connection as(String user, String db) throws SQLException {
        return Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), db, user, PASSWORD, false);
    }

    private static CompletableFuture<Integer> run(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return update(c, sql);
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, CLIENTS);
    }

    /** The proxy's ragproxy_backfill_rows counter, as its admin endpoint would expose it. */
    private static double backfillRows() {
        for (var m : WORLD.proxy().metrics().registry().scrape()) {
            if (m.getMetadata().getName().equals("ragproxy_backfill_rows")) {
                return ((io.prometheus.metrics.model.snapshots.CounterSnapshot) m).getDataPoints().get(0).getValue();
            }
        }
        throw new AssertionError("the proxy has no ragproxy_backfill_rows counter");
    }

    /** SHOW RAG PROCESSLIST's rows, each by column label. */
    private static List<Map<String, String>> processlist(Connection c) throws SQLException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW RAG PROCESSLIST")) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= n; i++) {
                    row.put(rs.getMetaData().getColumnLabel(i), rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** Polls SHOW RAG PROCESSLIST on {@code c} until connection {@code id}'s statement has done {@code rows} rows. */
    private static Map<String, String> waitForRow(Connection c, String id, long rows, CompletableFuture<Integer> run)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (Map<String, String> row : processlist(c)) {
                if (row.get("Id").equals(id) && Long.parseLong(row.get("Rows_done")) >= rows) {
                    return row;
                }
            }
            if (run.isDone()) {
                fail("the statement ended (" + run.get() + ") before the processlist showed " + rows + " rows done");
            }
            Thread.sleep(50);
        }
        return fail("the processlist did not show " + rows + " rows done for connection " + id + " within 60 s");
    }

    private static String scalarDirect(String sql) throws SQLException {
        try (Connection c = LocalBackend.get().connect(DB)) {
            return scalar(c, sql);
        }
    }
}
