package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragproxy.emulator.BedrockEmulator;
import io.ragproxy.it.Driver;
import io.ragproxy.it.LocalBackend;
import io.ragproxy.server.RagProxyServer;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.config.SessionLimits;
import io.ragproxy.server.ops.AdminEndpoint;
import io.ragproxy.server.ops.ProxyMetrics;
import io.ragproxy.server.pipeline.RagPipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An in-JVM ragproxy with the AI pipeline ({@link RagPipeline}) in front of the local backend, for the tests of
 * this package: no client TLS, its own state folder, and — for the Bedrock configuration — the AWS credential
 * system properties the SDK's default provider chain reads (set on start, cleared on close).
 */
final class AiProxy implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    static final String TITAN_V2 = "amazon.titan-embed-text-v2:0";
    static final String LLAMA = "us.meta.llama3-2-3b-instruct-v1:0";

    private final RagProxyServer server;
    private final RagPipeline pipeline;
    private final Path stateDir;
    private final boolean awsProps;

    private AiProxy(RagProxyServer server, RagPipeline pipeline, Path stateDir, boolean awsProps) {
        this.server = server;
        this.pipeline = pipeline;
        this.stateDir = stateDir;
        this.awsProps = awsProps;
    }

    /** The local defaults (all-MiniLM-L6-v2, local:extractive): an empty {@code ai} node. */
    static AiProxy local() {
        return start(JSON.createObjectNode(), false);
    }

    /**
     * The seed-000 Bedrock configuration against {@code emulator}: Titan V2 with 512 dimensions (normalized) as the
     * default embedding model, Llama 3.2 3B (Converse) as the default text model.
     */
    static AiProxy bedrock(BedrockEmulator emulator) {
        return start(bedrockConfig(emulator), true);
    }

    static ObjectNode bedrockConfig(BedrockEmulator emulator) {
        ObjectNode ai = JSON.createObjectNode();
        ObjectNode models = ai.putObject("models");
        models.put("default_embedding", "titan-v2");
        models.put("default_text", "llama3-2-3b");
        ObjectNode bedrock = models.putObject("bedrock");
        bedrock.put("region", "us-east-1");
        bedrock.put("endpoint_override", emulator.endpoint().toString());
        ObjectNode titan = models.putObject("model").putObject(TITAN_V2);
        titan.put("dimensions", 512);
        titan.put("normalize", true);
        return ai;
    }

    static AiProxy start(JsonNode ai, boolean awsCredentials) {
        return start(ai, awsCredentials, SessionLimits.DEFAULT);
    }

    /** A proxy with the session {@code limits} given (statement size, parse time, …) instead of the defaults. */
    static AiProxy start(JsonNode ai, boolean awsCredentials, SessionLimits limits) {
        if (awsCredentials) {
            System.setProperty("aws.accessKeyId", "AKIDRAGPROXYTEST");
            System.setProperty("aws.secretAccessKey", "ragproxy-test-secret");
        }
        LocalBackend backend = LocalBackend.get();
        Path dir;
        try {
            dir = Files.createTempDirectory("ragproxy-ai-it");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProxyConfig config = ProxyConfig.builder()
                .listen("127.0.0.1", 0)
                .backend(backend.host(), backend.port())
                .stateDir(dir)
                .clientTls(false)
                .shutdownGrace(Duration.ofMillis(500))
                .ai(ai)
                .limits(limits)
                .build();
        ProxyMetrics metrics = new ProxyMetrics();
        RagPipeline pipeline = RagPipeline.create(config, metrics);
        metrics.watch(pipeline.invoker());
        metrics.watch(pipeline.planCache());
        try {
            RagProxyServer server = new RagProxyServer(config, pipeline, metrics).start();
            return new AiProxy(server, pipeline, dir, awsCredentials);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pipeline.close();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            pipeline.close();
            throw e;
        }
    }

    RagPipeline pipeline() {
        return pipeline;
    }

    /** The proxy's metrics (model requests included). */
    ProxyMetrics metrics() {
        return server.metrics();
    }

    /**
     * An admin endpoint for this proxy's metrics on a free loopback port, ready when {@code readiness} says so; the
     * caller closes it.
     */
    AdminEndpoint startAdmin(java.util.function.Supplier<AdminEndpoint.Readiness> readiness) {
        return new AdminEndpoint("127.0.0.1", 0, server.metrics(), readiness);
    }

    /** Client connections the proxy holds open right now. */
    int openConnections() {
        return server.openConnections();
    }

    String host() {
        return server.localAddress().getAddress().getHostAddress();
    }

    int port() {
        return server.localAddress().getPort();
    }

    /** A client connection through the proxy (MariaDB Connector/J unless told otherwise), no TLS. */
    Connection connect(String db) throws SQLException {
        return connect(Driver.MARIADB_CJ, db);
    }

    Connection connect(Driver driver, String db, String... options) throws SQLException {
        return driver.connect(host(), port(), db, LocalBackend.USER, LocalBackend.PASSWORD, false, options);
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            pipeline.close();
            if (awsProps) {
                System.clearProperty("aws.accessKeyId");
                System.clearProperty("aws.secretAccessKey");
            }
            try (Stream<Path> files = Files.walk(stateDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // temp folder
            }
        }
    }

    /**
     * Waits (at most 5 s) until the emulator serves no request — one left over from an earlier test, e.g. a slow
     * call the proxy gave up on, would be recorded when it finishes — then resets it.
     */
    static void quiesce(BedrockEmulator emulator) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (emulator.inFlight() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        emulator.reset();
    }

    // ------------------------------------------------------------------------------------------- SQL helpers

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static int update(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            return s.executeUpdate(sql);
        }
    }

    /** All rows of a query, every column read as a string. */
    static List<List<String>> rows(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rows(rs);
        }
    }

    /** All rows of an execute of {@code ps}, every column read as a string. */
    static List<List<String>> rows(java.sql.PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            return rows(rs);
        }
    }

    /** The rest of {@code rs}, every column read as a string. */
    static List<List<String>> rows(ResultSet rs) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            List<String> row = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                row.add(rs.getString(i));
            }
            out.add(row);
        }
        return out;
    }

    /** The single value of a one-row, one-column query. */
    static String scalar(Connection c, String sql) throws SQLException {
        List<List<String>> r = rows(c, sql);
        assertEquals(1, r.size(), "rows of " + sql);
        return r.get(0).get(0);
    }

    /** SHOW RAG STATUS as a map: the model calls of {@code c}'s session. */
    static Map<String, String> status(Connection c) throws SQLException {
        return status(c, "SHOW RAG STATUS");
    }

    /** SHOW GLOBAL RAG STATUS as a map: every session's model calls ({@code c}'s account needs PROCESS). */
    static Map<String, String> globalStatus(Connection c) throws SQLException {
        return status(c, "SHOW GLOBAL RAG STATUS");
    }

    private static Map<String, String> status(Connection c, String show) throws SQLException {
        Map<String, String> m = new LinkedHashMap<>();
        for (List<String> row : rows(c, show)) {
            m.put(row.get(0), row.get(1));
        }
        return m;
    }

    static long counter(Map<String, String> status, String name) {
        String v = status.get(name);
        assertTrue(v != null, "SHOW RAG STATUS has no " + name + ": " + status);
        return Long.parseLong(v);
    }

    /** Asserts {@code sql} fails with {@code code}/{@code sqlState}, then that {@code SELECT 1} works on the same connection. */
    static SQLException assertSqlError(Connection c, String sql, int code, String sqlState) throws SQLException {
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
                if (s.getResultSet() != null) {
                    try (ResultSet rs = s.getResultSet()) {
                        while (rs.next()) {
                            rs.getString(1);
                        }
                    }
                }
            }
        }, "expected error " + code + " from: " + sql);
        assertEquals(code, e.getErrorCode(), () -> "error code of " + sql + ": " + e.getMessage());
        assertEquals(sqlState, e.getSQLState(), () -> "SQLSTATE of " + sql + ": " + e.getMessage());
        assertSelect1(c);
        return e;
    }

    static void assertSelect1(Connection c) throws SQLException {
        assertEquals("1", scalar(c, "SELECT 1"), "SELECT 1 after an error");
    }

    /** A row's text and the vector stored for it. */
    record StoredVector(String text, float[] vector) {}

    /**
     * Every row of {@code table} holds {@code cohere}'s vector of its own text (read as MariaDB's float32 bytes), as
     * the reference emulator answers it for {@code search_document} inputs in batches of 96.
     */
    static void assertEveryVectorIsItsTextsCohereReference(BedrockWorld world, Connection c, String table,
            String cohere) throws Exception {
        List<StoredVector> rows = storedVectors(c, table, "TRUE");
        List<String> texts = rows.stream().map(StoredVector::text).toList();
        List<java.util.concurrent.CompletableFuture<JsonNode>> answers = new ArrayList<>();
        for (int from = 0; from < texts.size(); from += 96) {
            ObjectNode body = JSON.createObjectNode();
            texts.subList(from, Math.min(texts.size(), from + 96)).forEach(body.putArray("texts")::add);
            body.put("input_type", "search_document");
            answers.add(world.reference().post(cohere, "invoke", JSON.writeValueAsBytes(body)));
        }
        for (int i = 0; i < texts.size(); i++) {
            float[] expected = vectorOf(answers.get(i / 96).get(60, java.util.concurrent.TimeUnit.SECONDS)
                    .get("embeddings").get(i % 96));
            double diff = maxAbsDiff(expected, rows.get(i).vector());
            assertTrue(diff < 1e-6, "'" + texts.get(i) + "' holds another text's vector (max diff " + diff + ")");
        }
    }

    /**
     * The {@code content} and {@code embedding} of {@code table}'s rows that {@code where} selects, in id order,
     * each vector read from MariaDB's bytes (little-endian float32).
     */
    static List<StoredVector> storedVectors(Connection c, String table, String where) throws SQLException {
        List<StoredVector> out = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT content, embedding FROM " + table + " WHERE " + where
                        + " ORDER BY id")) {
            while (rs.next()) {
                byte[] bytes = rs.getBytes(2);
                float[] v = new float[bytes.length / 4];
                java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
                out.add(new StoredVector(rs.getString(1), v));
            }
        }
        return out;
    }

    /** Parses MariaDB's {@code VEC_ToText} output ({@code [a,b,…]}). */
    static float[] parseVector(String text) {
        assertTrue(text != null && text.startsWith("[") && text.endsWith("]"), "not a vector text: " + text);
        String body = text.substring(1, text.length() - 1).trim();
        if (body.isEmpty()) {
            return new float[0];
        }
        String[] parts = body.split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            v[i] = Float.parseFloat(parts[i].trim());
        }
        return v;
    }

    static float[] vectorOf(JsonNode array) {
        float[] v = new float[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) array.get(i).asDouble();
        }
        return v;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "vector lengths");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    static double cosineDistance(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return 1 - dot / Math.sqrt(na * nb);
    }

    /** A SQL string literal (single quotes doubled, backslashes escaped). */
    static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
