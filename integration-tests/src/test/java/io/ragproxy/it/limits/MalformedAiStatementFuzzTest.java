package io.ragproxy.it.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.it.RawMysqlClient;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue #11's fuzz test: 10,000 seeded malformed statements with AI calls on one connection while a second connection
 * measures {@code SELECT 1} and new logins keep succeeding. Every malformed statement gets an answer (an ERR or a
 * result) and the connection stays in step. The latency bound is relative to a baseline measured first, so a loaded
 * machine does not fail it: p99 during the fuzz within 50 ms of the baseline's p99.
 */
class MalformedAiStatementFuzzTest {
    private static final long SEED = 11_2_6_7L;
    private static final int STATEMENTS = 10_000;
    /** The fuzz stops here even if not all statements ran (a loaded machine); it must have run most of them. */
    private static final long BUDGET_SECONDS = 180;

    private static final String[] FRAGMENTS = {"EMBED(", "GENERATE(", "ANSWER(", "EMBED_TEXT(", "(", ")", ")", "'",
        "\"", "`", "\\", ",", "'text'", "1", "NULL", "SELECT ", "FROM t ", "WHERE ", "/*", "*/", "-- \n", "#", ";",
        "VEC_COSINE_DISTANCE(", "CONCAT(", "'titan-v2'", "'{\"max_tokens\": 1}'", " AND ", " OR ", "+", "=", "\n",
        "é", "\u0000"};

    @BeforeAll
    static void setUp() throws Exception {
        SessionLimitsTest.setUp();
    }

    @AfterAll
    static void tearDown() throws Exception {
        SessionLimitsTest.tearDown();
    }

    static String malformed(Random random) {
        StringBuilder b = new StringBuilder(random.nextBoolean() ? "SELECT EMBED(" : "SELECT GENERATE(");
        int parts = 1 + random.nextInt(random.nextInt(10) == 0 ? 150 : 25);
        for (int i = 0; i < parts; i++) {
            b.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
        }
        return b.toString();
    }

    private static long selectOneNanos(Connection c) throws Exception {
        long t0 = System.nanoTime();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
        }
        return System.nanoTime() - t0;
    }

    private static long p99(List<Long> nanos) {
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        return sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * 0.99) - 1));
    }

    @Test
    void tenThousandMalformedAiStatementsCostOnlyTheirSession() throws Exception {
        try (Connection bystander = SessionLimitsTest.connect()) {
            List<Long> baseline = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                long n = selectOneNanos(bystander);
                if (i >= 100) {
                    baseline.add(n); // the first 100 warm up
                }
            }
            AtomicBoolean done = new AtomicBoolean();
            int[] ran = new int[1];
            Throwable[] fuzzFailure = new Throwable[1];
            Thread fuzzer = new Thread(() -> {
                Random random = new Random(SEED);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BUDGET_SECONDS);
                try (RawMysqlClient c = SessionLimitsTest.raw()) {
                    for (int i = 0; i < STATEMENTS && System.nanoTime() < deadline; i++) {
                        String sql = malformed(random);
                        String answer = c.queryFirstValue(sql);
                        assertTrue(answer != null, sql);
                        ran[0]++;
                    }
                    assertEquals("1", c.queryFirstValue("SELECT 1"), "the fuzzed session is still in step");
                } catch (Throwable e) {
                    fuzzFailure[0] = e;
                } finally {
                    done.set(true);
                }
            }, "fuzzer");
            fuzzer.start();
            List<Long> during = new ArrayList<>();
            int logins = 0;
            while (!done.get()) {
                during.add(selectOneNanos(bystander));
                if (during.size() % 200 == 0) {
                    try (Connection fresh = SessionLimitsTest.connect()) {
                        selectOneNanos(fresh);
                        logins++;
                    }
                }
                Thread.sleep(2);
            }
            fuzzer.join();
            if (fuzzFailure[0] != null) {
                throw new AssertionError("after " + ran[0] + " statements", fuzzFailure[0]);
            }
            assertTrue(ran[0] >= STATEMENTS / 2, "ran " + ran[0] + " statements in " + BUDGET_SECONDS + " s");
            long base = p99(baseline);
            long fuzzed = p99(during);
            assertTrue(fuzzed < base + TimeUnit.MILLISECONDS.toNanos(50), "SELECT 1 p99 " + fuzzed / 1000
                    + " µs during the fuzz, " + base / 1000 + " µs before (" + during.size() + " samples, " + logins
                    + " logins, " + ran[0] + " statements)");
        }
    }
}
