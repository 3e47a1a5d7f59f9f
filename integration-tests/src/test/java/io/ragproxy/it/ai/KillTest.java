package io.ragproxy.it.ai;

import static io.ragproxy.it.ai.AiProxy.assertSelect1;
import static io.ragproxy.it.ai.AiProxy.exec;
import static io.ragproxy.it.ai.AiProxy.maxAbsDiff;
import static io.ragproxy.it.ai.AiProxy.scalar;
import static io.ragproxy.it.ai.AiProxy.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Stopping a running backfill the ways a MySQL user does: {@code KILL QUERY <id>} and {@code KILL CONNECTION <id>}
 * from another connection through the proxy (with the id {@code CONNECTION_ID()} gave), and closing the client.
 * The emulator answers slowly, so a 5,000-row backfill runs for several seconds.
 */
class KillTest {
    private static final String DB = "ragproxy_it_ai_kill";

    @RegisterExtension
    static final BedrockWorld WORLD = new BedrockWorld(DB);

    private static final int ROWS = 5000;
    /** Per model call: 500 calls a page, 16 at a time, make a page take about a second and a quarter. */
    private static final Duration LATENCY = Duration.ofMillis(40);
    private static final String DOCS_TEXT = "kill test row ";
    /** rag_concurrency's default: the most model calls one statement has in flight. */
    private static final int CONCURRENCY = 16;
    private static final String BACKFILL = "UPDATE docs SET embedding = EMBED(content) WHERE embedding IS NULL";
    private static final Pattern COMMITTED = Pattern.compile("(\\d+) rows were already written and committed");
    /** The reference vectors of the rows' texts, asked once for all tests. */
    private static final Map<String, float[]> REFERENCE = new ConcurrentHashMap<>();
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
                "INSERT INTO docs (id, content) SELECT seq, CONCAT('" + DOCS_TEXT + "', seq) FROM seq_1_to_" + ROWS);
    }

    // ------------------------------------------------------------------------------------------- the tests

    @Test
    void killQueryStopsTheBackfillWithinASecondAndARerunFinishes() throws Exception {
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            Killed killed = killMidBackfill(a, b, "KILL QUERY");
            Running run = killed.run();
            long killedAt = killed.atNanos();
            SQLException e = failure(run);
            assertEquals(1317, e.getErrorCode(), e.getMessage());
            assertEquals("70100", e.getSQLState(), e.getMessage());
            assertStoppedWithinASecond(run, killedAt);
            long committed = committed(e);
            assertEquals(committed, assertNoFurtherWrites(), "the message counts exactly the rows stored");
            assertTrue(committed >= 1000 && committed < ROWS, "committed " + committed);
            assertSelect1(a);
            assertVectorsMatchReference(b, "docs");

            WORLD.emulator().setLatency(Duration.ZERO);
            assertEquals(ROWS - committed, update(a, BACKFILL), "the re-run on the same connection writes the rest");
            assertEquals(ROWS, embedded());
            assertVectorsMatchReference(a, "docs");
        }
    }

    @Test
    void aKillStopsOnlyTheConnectionItNames() throws Exception {
        LocalBackend.get().exec(DB, "DROP TABLE IF EXISTS other",
                "CREATE TABLE other (id INT PRIMARY KEY, content TEXT, embedding VECTOR(512))",
                "INSERT INTO other (id, content) SELECT seq, CONCAT('bystander row ', seq) FROM seq_1_to_2000");
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB);
                Connection bystander = WORLD.proxy().connect(DB)) {
            exec(a, "SET rag_max_calls = 10000");
            exec(bystander, "SET rag_max_calls = 10000");
            long id = Long.parseLong(scalar(a, "SELECT CONNECTION_ID()"));
            Running run = run(a, BACKFILL);
            Running other = run(bystander, "UPDATE other SET embedding = EMBED(content) WHERE embedding IS NULL");
            waitForRows(500, run);
            assertFalse(other.result().isDone(), "another connection's backfill runs at the same time");

            exec(b, "KILL QUERY " + id);
            assertEquals(1317, failure(run).getErrorCode());
            WORLD.emulator().setLatency(Duration.ZERO);
            assertEquals(2000, other.result().get(60, TimeUnit.SECONDS), "the other connection's backfill finished");
            assertVectorsMatchReference(b, "other");
            assertVectorsMatchReference(b, "docs");
        }
    }

    @Test
    void jdbcStatementCancelIsAKillQueryToo() throws Exception {
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB); Statement s = a.createStatement()) {
            exec(a, "SET rag_max_calls = 10000");
            AtomicLong ended = new AtomicLong();
            CompletableFuture<Integer> result = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.executeUpdate(BACKFILL);
                } catch (SQLException e) {
                    throw new CompletionException(e);
                } finally {
                    ended.set(System.nanoTime());
                }
            }, CLIENTS);
            Running run = new Running(result, ended);
            waitForRows(500, run);
            long cancelledAt = System.nanoTime();
            s.cancel(); // MariaDB Connector/J sends KILL QUERY <handshake id> on a connection of its own
            SQLException e = failure(run);
            assertEquals(1317, e.getErrorCode(), e.getMessage());
            assertStoppedWithinASecond(run, cancelledAt);
            assertEquals(committed(e), assertNoFurtherWrites());
            assertSelect1(a);
        }
    }

    @Test
    void killConnectionStopsTheBackfillAndOtherConnectionsCarryOn() throws Exception {
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            Killed killed = killMidBackfill(a, b, "KILL CONNECTION");
            Running run = killed.run();
            long killedAt = killed.atNanos();
            SQLException e = failure(run);
            assertStoppedWithinASecond(run, killedAt);
            // The backend's "Connection was killed" or the proxy's interruption, either with the rows committed.
            assertTrue(e.getErrorCode() == 1927 || e.getErrorCode() == 1317, e.getErrorCode() + " " + e.getMessage());
            long committed = committed(e);
            long stored = assertNoFurtherWrites();
            // A page whose UPDATE the backend finished but could not answer before the kill is committed unreported;
            // the message then says it may be.
            Matcher inDoubt = Pattern.compile("and perhaps the (\\d+) rows of the page being written").matcher(e.getMessage());
            assertTrue(stored == committed || (inDoubt.find() && stored == committed + Long.parseLong(inDoubt.group(1))),
                    "stored " + stored + " for: " + e.getMessage());
            assertFalse(a.isValid(5), "the killed connection is closed");

            assertSelect1(b);
            assertVectorsMatchReference(b, "docs");
            WORLD.emulator().setLatency(Duration.ZERO);
            exec(b, "SET rag_max_calls = 10000");
            assertEquals(ROWS - stored, update(b, BACKFILL), "a re-run on another connection writes the rest");
            assertEquals(ROWS, embedded());
        }
    }

    @Test
    void aBackendConnectionLostMidBackfillIsALostConnectionNamingTheCommittedRows() throws Exception {
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB); Connection direct = LocalBackend.get().connect(DB);
                Connection b = WORLD.proxy().connect(DB)) {
            // Sent to the backend directly, the KILL never passes a proxy: to ragproxy the backend connection is lost.
            Killed killed = killMidBackfill(a, direct, "KILL CONNECTION");
            SQLException e = failure(killed.run());
            assertEquals(2013, e.getErrorCode(), e.getMessage());
            assertEquals("08S01", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("Lost connection to the backend during the backfill;"), e.getMessage());
            assertFalse(e.getMessage().contains("interrupted") || e.getMessage().contains("nothing was written"),
                    e.getMessage());
            long committed = committed(e);
            assertTrue(committed >= 1000, e.getMessage());
            long stored = assertNoFurtherWrites();
            Matcher inDoubt = Pattern.compile("and perhaps the (\\d+) rows of the page being written").matcher(e.getMessage());
            assertTrue(stored == committed || (inDoubt.find() && stored == committed + Long.parseLong(inDoubt.group(1))),
                    "stored " + stored + " for: " + e.getMessage());
            WORLD.emulator().setLatency(Duration.ZERO);
            assertSelect1(b);
        }
    }

    @Test
    void aClientThatGoesAwayStopsItsBackfillAndNoOtherSession() throws Exception {
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            exec(a, "SET rag_max_calls = 10000");
            Running run = run(a, BACKFILL);
            waitForRows(1000, run);

            a.abort(Runnable::run); // the client's socket closes under the running statement
            failure(run);
            // The page the backend was writing at that moment may still commit; nothing after it does.
            long stored = assertNoFurtherWrites();
            assertTrue(stored >= 1000 && stored < ROWS, "stored " + stored);

            assertSelect1(b);
            List<List<String>> one = AiProxy.rows(b, "SELECT VEC_ToText(EMBED('another session'))");
            assertEquals(512, AiProxy.parseVector(one.get(0).get(0)).length, "the other session still calls models");
            assertVectorsMatchReference(b, "docs");
            WORLD.emulator().setLatency(Duration.ZERO);
            exec(b, "SET rag_max_calls = 10000");
            assertEquals(ROWS - stored, update(b, BACKFILL));
            assertEquals(ROWS, embedded());
        }
    }

    @Test
    void aKillTheBackendRefusesLeavesTheBackfillRunning() throws Exception {
        String user = "ragproxy_kill_weak";
        String password = "weak-Passw0rd";
        LocalBackend.get().exec("", "DROP USER IF EXISTS '" + user + "'@'127.0.0.1'",
                "CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + password + "'",
                "GRANT SELECT ON `" + DB + "`.* TO '" + user + "'@'127.0.0.1'");
        WORLD.emulator().setLatency(LATENCY);
        try (Connection a = WORLD.proxy().connect(DB);
                Connection weak = Driver.MARIADB_CJ.connect(WORLD.proxy().host(), WORLD.proxy().port(), DB, user,
                        password, false)) {
            exec(a, "SET rag_max_calls = 10000");
            long id = Long.parseLong(scalar(a, "SELECT CONNECTION_ID()"));
            Running run = run(a, BACKFILL);
            waitForRows(500, run);

            // Only the KILL issuer's rights count: the backend refuses, so the proxy stops nothing either.
            SQLException refused = AiProxy.assertSqlError(weak, "KILL QUERY " + id, 1095, "HY000");
            assertTrue(refused.getMessage().contains("not owner of thread"), refused.getMessage());
            SQLException unknown = AiProxy.assertSqlError(weak, "KILL QUERY 999999999", 1094, "HY000");
            assertTrue(unknown.getMessage().contains("Unknown thread id"), unknown.getMessage());
            Thread.sleep(300);
            assertFalse(run.result().isDone(), "the backfill still runs");

            WORLD.emulator().setLatency(Duration.ZERO);
            assertEquals(ROWS, run.result().get(60, TimeUnit.SECONDS), "the backfill finished");
            assertEquals(ROWS, embedded());
        } finally {
            LocalBackend.get().exec("", "DROP USER IF EXISTS '" + user + "'@'127.0.0.1'");
        }
    }

    @Test
    void killQueryOfAStatementWaitingForTheModelCancelsTheCall() throws Exception {
        WORLD.emulator().setLatency(Duration.ofSeconds(5));
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            long id = Long.parseLong(scalar(a, "SELECT CONNECTION_ID()"));
            long cancelledBefore = AiProxy.counter(AiProxy.globalStatus(b), "Rag_ml_cancelled");
            Running run = run(a, "INSERT INTO docs (id, content) VALUES (" + (ROWS + 1) + ", GENERATE('a slow answer'))");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (WORLD.emulator().inFlight() == 0) {
                assertTrue(System.nanoTime() < deadline, "the model call did not start");
                Thread.sleep(10);
            }
            long killedAt = System.nanoTime();
            exec(b, "KILL QUERY " + id);
            SQLException e = failure(run);
            assertEquals(1317, e.getErrorCode(), e.getMessage());
            assertTrue(e.getMessage().contains("nothing was written"), e.getMessage());
            assertStoppedWithinASecond(run, killedAt);
            long cancelDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (AiProxy.counter(AiProxy.globalStatus(b), "Rag_ml_cancelled") == cancelledBefore) {
                assertTrue(System.nanoTime() < cancelDeadline, "the model call was not cancelled");
                Thread.sleep(20);
            }
            assertEquals("0", scalar(b, "SELECT COUNT(*) FROM docs WHERE id = " + (ROWS + 1)), "nothing was inserted");
            assertSelect1(a);
        }
    }

    @Test
    void killQueryOfAPlainBackendQueryBehavesAsWithoutTheProxy() throws Exception {
        SQLException direct;
        try (Connection a = LocalBackend.get().connect(DB); Connection b = LocalBackend.get().connect(DB)) {
            direct = killedSleep(a, b);
        }
        SQLException proxied;
        try (Connection a = WORLD.proxy().connect(DB); Connection b = WORLD.proxy().connect(DB)) {
            proxied = killedSleep(a, b);
        }
        assertEquals(direct.getErrorCode(), proxied.getErrorCode(), proxied.getMessage());
        assertEquals(direct.getSQLState(), proxied.getSQLState(), proxied.getMessage());
    }

    // ------------------------------------------------------------------------------------------- helpers

    /** A statement running on a client thread of its own: its outcome and when it ended. */
    private record Running(CompletableFuture<Integer> result, AtomicLong endedAt) {}

    private static Running run(Connection c, String sql) {
        AtomicLong ended = new AtomicLong();
        CompletableFuture<Integer> result = CompletableFuture.supplyAsync(() -> {
            try {
                return update(c, sql);
            } catch (SQLException e) {
                throw new CompletionException(e);
            } finally {
                ended.set(System.nanoTime());
            }
        }, CLIENTS);
        return new Running(result, ended);
    }

    /** The SQL error {@code run} ended with (waiting up to 30 s). */
    private static SQLException failure(Running run) throws Exception {
        try {
            Integer changed = run.result().get(30, TimeUnit.SECONDS);
            return fail("the statement completed (" + changed + " rows) instead of failing");
        } catch (ExecutionException e) {
            return assertInstanceOf(SQLException.class, e.getCause());
        }
    }

    private static void assertStoppedWithinASecond(Running run, long since) {
        long millis = TimeUnit.NANOSECONDS.toMillis(run.endedAt().get() - since);
        System.out.println("the statement ended " + millis + " ms after the KILL");
        assertTrue(millis < 1000, "the statement ended " + millis + " ms after the KILL");
    }

    private static long committed(SQLException e) {
        Matcher m = COMMITTED.matcher(e.getMessage());
        assertTrue(m.find(), "the message says how many rows were committed: " + e.getMessage());
        return Long.parseLong(m.group(1));
    }

    private static long embedded() throws SQLException {
        try (Connection c = LocalBackend.get().connect(DB)) {
            return Long.parseLong(scalar(c, "SELECT COUNT(embedding) FROM docs"));
        }
    }

    /** Waits until the backfill has committed at least {@code rows} rows (it must still be running then). */
    private static void waitForRows(long rows, Running run) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Connection c = LocalBackend.get().connect(DB)) {
            while (Long.parseLong(scalar(c, "SELECT COUNT(embedding) FROM docs")) < rows) {
                if (run.result().isDone()) {
                    run.result().get();
                    fail("the backfill ended before " + rows + " rows were written");
                }
                if (System.nanoTime() > deadline) {
                    fail("the backfill did not write " + rows + " rows within 60 s");
                }
                Thread.sleep(25);
            }
        }
        assertFalse(run.result().isDone(), "the backfill still runs when it is stopped");
    }

    /**
     * After a stop, the model calls that were in flight drain (cancelled, but the emulator records each once it has
     * answered it, after its latency; there are at most rag_concurrency of them), and then neither the emulator nor
     * the table sees anything new of this backfill for a second. Returns the rows stored.
     */
    private static long assertNoFurtherWrites() throws Exception {
        long atStop = requestsForDocs();
        long drained = atStop;
        long stored = embedded();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        do {
            // A page write the backend had already begun may still commit (a client that went away); then nothing.
            Thread.sleep(250);
            long requests = requestsForDocs();
            long rows = embedded();
            if (requests == drained && rows == stored && WORLD.emulator().inFlight() == 0) {
                break;
            }
            drained = requests;
            stored = rows;
        } while (System.nanoTime() < deadline);
        assertTrue(drained - atStop <= CONCURRENCY, (drained - atStop) + " model requests were answered after the"
                + " stop, more than the " + CONCURRENCY + " that can have been in flight");
        Thread.sleep(1000);
        assertEquals(drained, requestsForDocs(), "model requests for the stopped backfill after the stop");
        assertEquals(0, WORLD.emulator().inFlight(), "model requests in flight after the stop");
        assertEquals(stored, embedded(), "rows written after the stop");
        return stored;
    }

    /** A backfill and when the KILL of it was sent ({@link System#nanoTime()}). */
    private record Killed(Running run, long atNanos) {}

    /**
     * Starts the backfill on {@code a}, waits until 1,000 rows are stored, then sends {@code kill} with {@code a}'s
     * connection id from {@code b}.
     */
    private static Killed killMidBackfill(Connection a, Connection b, String kill) throws Exception {
        exec(a, "SET rag_max_calls = 10000");
        long id = Long.parseLong(scalar(a, "SELECT CONNECTION_ID()"));
        Running run = run(a, BACKFILL);
        waitForRows(1000, run);
        long killedAt = System.nanoTime();
        exec(b, kill + " " + id);
        return new Killed(run, killedAt);
    }

    /** The model requests the emulator has answered for texts of the table {@code docs}. */
    private static long requestsForDocs() {
        return WORLD.emulator().requests(AiProxy.TITAN_V2, "invoke").stream()
                .filter(r -> r.json().path("inputText").asText().startsWith(DOCS_TEXT)).count();
    }

    /** Every stored vector of {@code table} is the reference vector of its own row's text. */
    private static void assertVectorsMatchReference(Connection c, String table) throws Exception {
        List<AiProxy.StoredVector> rows = AiProxy.storedVectors(c, table, "embedding IS NOT NULL");
        List<String> texts = rows.stream().map(AiProxy.StoredVector::text).toList();
        List<float[]> stored = rows.stream().map(AiProxy.StoredVector::vector).toList();
        Map<String, CompletableFuture<float[]>> asked = new java.util.HashMap<>();
        for (String t : texts) {
            if (!REFERENCE.containsKey(t)) {
                asked.computeIfAbsent(t, x -> WORLD.reference().titan512(x));
            }
        }
        for (Map.Entry<String, CompletableFuture<float[]>> e : asked.entrySet()) {
            REFERENCE.put(e.getKey(), e.getValue().get(60, TimeUnit.SECONDS));
        }
        for (int i = 0; i < texts.size(); i++) {
            double diff = maxAbsDiff(REFERENCE.get(texts.get(i)), stored.get(i));
            assertTrue(diff < 1e-6, "'" + texts.get(i) + "' holds another vector (max diff " + diff + ")");
        }
    }

    /** {@code SELECT SLEEP(30)} on {@code a}, killed from {@code b} with KILL QUERY: the error {@code a} gets. */
    private static SQLException killedSleep(Connection a, Connection b) throws Exception {
        long id = Long.parseLong(scalar(a, "SELECT CONNECTION_ID()"));
        long started = System.nanoTime();
        CompletableFuture<String> sleep = CompletableFuture.supplyAsync(() -> {
            try {
                return scalar(a, "SELECT SLEEP(30)");
            } catch (SQLException e) {
                throw new CompletionException(e);
            }
        }, CLIENTS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"1".equals(scalar(b, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id
                + " AND INFO LIKE 'SELECT SLEEP%'"))) {
            assertTrue(System.nanoTime() < deadline, "the SLEEP did not start");
            Thread.sleep(20);
        }
        exec(b, "KILL QUERY " + id);
        SQLException e;
        try {
            String value = sleep.get(10, TimeUnit.SECONDS);
            return fail("SLEEP(30) returned " + value + " instead of being interrupted");
        } catch (ExecutionException x) {
            e = assertInstanceOf(SQLException.class, x.getCause());
        }
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "the SLEEP was cut short");
        assertSelect1(a);
        return e;
    }
}
