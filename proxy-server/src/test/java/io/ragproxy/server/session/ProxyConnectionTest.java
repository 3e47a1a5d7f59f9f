package io.ragproxy.server.session;

import static io.ragproxy.server.testing.FrameBuilder.readable;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.ragproxy.server.command.PipelineResult;
import io.ragproxy.server.command.RagSettings;
import io.ragproxy.server.command.StatementPipeline;
import io.ragproxy.server.command.StatementSession;
import io.ragproxy.server.config.ProxyConfig;
import io.ragproxy.server.protocol.Capabilities;
import io.ragproxy.server.protocol.Commands;
import io.ragproxy.server.scan.FunctionNames;
import io.ragproxy.server.scan.ScanResult;
import io.ragproxy.server.scan.StatementScanner;
import io.ragproxy.server.testing.FrameBuilder;
import io.ragproxy.server.wire.FrameDecoder;
import io.ragproxy.server.wire.Packets;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A {@link ProxyConnection} between two {@link EmbeddedChannel}s (the client's and the backend's), logged in: the
 * command phase's relay, pipelining and the hand-over to the pipeline, checked byte for byte.
 */
class ProxyConnectionTest {
    private static final long BACKEND_CAPS = Capabilities.CLIENT_PROTOCOL_41 | Capabilities.CLIENT_SECURE_CONNECTION
            | Capabilities.CLIENT_PLUGIN_AUTH;
    private static final long CONNECTION_ID = 42;

    private final RecordingPipeline pipeline = new RecordingPipeline();
    private EmbeddedChannel client;
    private EmbeddedChannel backend;
    private ProxyConnection connection;

    @BeforeEach
    void logIn() {
        client = new EmbeddedChannel();
        connection = new ProxyConnection(client, ProxyConfig.builder().build(), null, null, pipeline,
                new ConnectionLimiter(10), new ConnectionRegistry(), (loop, server, handler) -> {
                    backend = new EmbeddedChannel(handler);
                    return backend.newSucceededFuture();
                });
        client.pipeline().addLast(FrontendInitializer.FRAMES, new FrameDecoder());
        client.pipeline().addLast("connection", new FrontendHandler(connection));
        connection.clientActive();

        backend.writeInbound(greeting());
        ByteBuf greeting = client.readOutbound();
        assertTrue(greeting.toString(StandardCharsets.ISO_8859_1).contains("-ragproxy"), "the proxy's greeting");
        greeting.release();
        client.writeInbound(FrameBuilder.payload().u32(BACKEND_CAPS).u32(16 * 1024 * 1024).u8(45).fill(19, 0).u32(0)
                .nulStr("alice").lenenc(20).fill(20, 0x5A).nulStr("mysql_native_password").frame(1));
        ByteBuf login = backend.readOutbound();
        assertEquals(1, Packets.sequenceId(login));
        login.release();
        backend.writeInbound(FrameBuilder.ok(2, 2));
        ByteBuf ok = client.readOutbound();
        assertEquals(0x00, Packets.firstByte(ok));
        assertEquals(2, Packets.sequenceId(ok));
        ok.release();
    }

    @AfterEach
    void close() {
        client.finishAndReleaseAll();
        backend.finishAndReleaseAll();
    }

    @Test
    void relaysCommandsTheProxyDoesNotRunAsTheSameBytesPipelined() {
        List<ByteBuf> commands = List.of(FrameBuilder.command(Commands.COM_QUERY, "SELECT 1"),
                FrameBuilder.command(Commands.COM_PING, ""), FrameBuilder.command(Commands.COM_INIT_DB, "shop"),
                FrameBuilder.command(Commands.COM_RESET_CONNECTION, ""));
        List<byte[]> sent = commands.stream().map(FrameBuilder::readable).toList();
        for (ByteBuf command : commands) {
            client.writeInbound(command); // each before the previous one's response: pipelined
        }
        for (byte[] expected : sent) {
            assertArrayEquals(expected, readAndRelease(backend), "relayed as sent");
        }
        for (int i = 0; i < sent.size(); i++) {
            ByteBuf ok = FrameBuilder.ok(1, 0, 0, 2, i);
            byte[] expected = readable(ok);
            backend.writeInbound(ok);
            assertArrayEquals(expected, readAndRelease(client), "the response relayed as the backend sent it");
        }
        assertTrue(pipeline.statements.isEmpty(), "no statement reached the pipeline");
    }

    @Test
    void commandsReachTheBackendInOrderWhetherAReadBringsOneWholeFrameSeveralOrPartOfOne() {
        List<byte[]> commands = List.of(readable(FrameBuilder.command(Commands.COM_QUERY, "SELECT 1")),
                readable(FrameBuilder.command(Commands.COM_PING, "")),
                readable(FrameBuilder.command(Commands.COM_QUERY, "SELECT 'two in one read'")),
                readable(FrameBuilder.command(Commands.COM_INIT_DB, "shop")));
        byte[] stream = concat(commands);
        for (int cut = 1; cut < stream.length; cut++) {
            // Whole frames one per read, then the stream cut once: part of a frame, then the rest with what follows.
            client.writeInbound(Unpooled.wrappedBuffer(commands.get(0)));
            client.writeInbound(Unpooled.wrappedBuffer(stream, 0, cut));
            client.writeInbound(Unpooled.wrappedBuffer(stream, cut, stream.length - cut));
            client.writeInbound(Unpooled.wrappedBuffer(commands.get(3)));
            List<byte[]> expected = new ArrayList<>();
            expected.add(commands.get(0));
            expected.addAll(commands);
            expected.add(commands.get(3));
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            ByteBuf b;
            while ((b = backend.readOutbound()) != null) {
                sent.writeBytes(readable(b));
                b.release();
            }
            assertArrayEquals(concat(expected), sent.toByteArray(), "the same bytes in order, cut at " + cut);
            for (int i = 0; i < expected.size(); i++) {
                backend.writeInbound(FrameBuilder.ok(1, 2));
            }
            clientBytes();
            assertTrue(connection.commands().backendIdle(), "every response matched, cut at " + cut);
        }
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    @Test
    void flaggedStatementWaitsForTheOpenResponseAndHoldsTheCommandsAfterIt() {
        client.writeInbound(FrameBuilder.command(Commands.COM_QUERY, "SELECT 1"));
        client.writeInbound(FrameBuilder.command(Commands.COM_QUERY, "SELECT embed('x')"));
        ByteBuf ping = FrameBuilder.command(Commands.COM_PING, "");
        byte[] pingBytes = readable(ping);
        client.writeInbound(ping);
        assertEquals("SELECT 1", queryText(backend.readOutbound()));
        assertNull(backend.readOutbound(), "the flagged statement and the ping after it wait");
        assertTrue(pipeline.statements.isEmpty());

        backend.writeInbound(FrameBuilder.ok(1, 2));
        readAndRelease(client);
        assertEquals(SessionTextTracker.QUERY, queryText(backend.readOutbound()),
                "once the backend is idle, the session's character sets and sql_mode are read first");
        assertTrue(pipeline.statements.isEmpty());
        backend.writeInbound(FrameBuilder.concat(FrameBuilder.columnCount(1, 3),
                FrameBuilder.columnDef(2, "@@character_set_client"), FrameBuilder.columnDef(3, "@@character_set_results"),
                FrameBuilder.columnDef(4, "@@sql_mode"), FrameBuilder.eof(5, 2),
                FrameBuilder.textRow(6, "utf8mb4", "utf8mb4", "STRICT_TRANS_TABLES"), FrameBuilder.eof(7, 2)));
        assertEquals(List.of("SELECT embed('x')"), pipeline.statements, "runs once the backend is idle");
        assertEquals("SELECT 'rewritten'", queryText(backend.readOutbound()), "its rewrite takes its place");
        assertArrayEquals(pingBytes, readAndRelease(backend), "then the held ping goes, as sent");
        assertNull(backend.readOutbound());
    }

    /** A result set of 2 columns and 12 rows of growing length, as the backend writes it (EOF packets). */
    private static byte[] resultSet(int status) {
        List<ByteBuf> frames = new ArrayList<>();
        frames.add(FrameBuilder.columnCount(1, 2));
        frames.add(FrameBuilder.columnDef(2, "id"));
        frames.add(FrameBuilder.columnDef(3, "body"));
        frames.add(FrameBuilder.eof(4, 2));
        for (int i = 0; i < 12; i++) {
            frames.add(FrameBuilder.textRow(5 + i, Integer.toString(i), "x".repeat(i * 7)));
        }
        frames.add(FrameBuilder.eof(17, status));
        ByteBuf all = FrameBuilder.concat(frames.toArray(ByteBuf[]::new));
        try {
            return readable(all);
        } finally {
            all.release();
        }
    }

    /** Everything the client was sent so far, concatenated. */
    private byte[] clientBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuf b;
        while ((b = client.readOutbound()) != null) {
            out.writeBytes(readable(b));
            b.release();
        }
        return out.toByteArray();
    }

    @Test
    void aResponseSplitAtAnyByteReachesTheClientWholeAndEndsWhereItEnds() {
        byte[] response = resultSet(2);
        for (int cut = 1; cut < response.length; cut++) {
            client.writeInbound(FrameBuilder.command(Commands.COM_QUERY, "SELECT 1"));
            readAndRelease(backend);
            backend.writeInbound(Unpooled.wrappedBuffer(response, 0, cut));
            assertFalse(connection.commands().backendIdle(), "open after " + cut + " of " + response.length + " bytes");
            backend.writeInbound(Unpooled.wrappedBuffer(response, cut, response.length - cut));
            assertTrue(connection.commands().backendIdle(), "complete, cut at " + cut);
            assertArrayEquals(response, clientBytes(), "the same bytes, cut at " + cut);
        }
    }

    @Test
    void pipelinedResponsesArrivingAByteAtATimeAreFollowed() {
        byte[] first = resultSet(2);
        byte[] second = readable(FrameBuilder.ok(1, 2));
        client.writeInbound(FrameBuilder.command(Commands.COM_QUERY, "SELECT 1"));
        client.writeInbound(FrameBuilder.command(Commands.COM_PING, ""));
        readAndRelease(backend);
        readAndRelease(backend);
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        for (int i = 0; i < both.length; i++) {
            assertFalse(connection.commands().backendIdle(), "open at byte " + i);
            backend.writeInbound(Unpooled.wrappedBuffer(both, i, 1));
        }
        assertTrue(connection.commands().backendIdle());
        assertArrayEquals(both, clientBytes());
    }

    @Test
    void aFlaggedStatementSentWhileAFrameIsHalfReadRunsOnceTheResponseEnds() {
        byte[] response = resultSet(2);
        client.writeInbound(FrameBuilder.command(Commands.COM_QUERY, "SELECT 1"));
        readAndRelease(backend);
        int cut = response.length - 3; // inside the final EOF packet
        backend.writeInbound(Unpooled.wrappedBuffer(response, 0, cut));
        client.writeInbound(FrameBuilder.command(Commands.COM_QUERY, "SELECT embed('x')"));
        assertNull(backend.readOutbound(), "the flagged statement waits for the open response");
        backend.writeInbound(Unpooled.wrappedBuffer(response, cut, 3));
        assertArrayEquals(response, clientBytes(), "the response reaches the client whole");
        assertEquals(SessionTextTracker.QUERY, queryText(backend.readOutbound()),
                "once the response has ended, the pipeline's statement starts (reading the session's text settings)");
    }

    private static byte[] readAndRelease(EmbeddedChannel channel) {
        ByteBuf frame = channel.readOutbound();
        try {
            return readable(frame);
        } finally {
            frame.release();
        }
    }

    /** The text of a COM_QUERY frame, released. */
    private static String queryText(ByteBuf frame) {
        try {
            assertEquals(Commands.COM_QUERY, Packets.firstByte(frame));
            return frame.toString(Packets.payloadIndex(frame) + 1, Packets.payloadLength(frame) - 1,
                    StandardCharsets.UTF_8);
        } finally {
            frame.release();
        }
    }

    private static ByteBuf greeting() {
        return FrameBuilder.payload().u8(10).nulStr("11.8.6-MariaDB")
                .u32(CONNECTION_ID).str("A7%;bQ<y").u8(0)
                .u16((int) BACKEND_CAPS).u8(45).u16(2).u16((int) (BACKEND_CAPS >>> 16))
                .u8(21).fill(6, 0).u32(0) // auth data length, filler, MariaDB extended capabilities
                .str("k(Xz9]P@!q2s").u8(0).nulStr("mysql_native_password")
                .frame(0);
    }

    /** Flags {@code embed(...)} calls and answers each with a rewrite of its own. */
    private static final class RecordingPipeline implements StatementPipeline {
        final List<String> statements = new ArrayList<>();

        @Override
        public StatementScanner scanner(StatementSession session) {
            return new StatementScanner(FunctionNames.of("embed"));
        }

        @Override
        public RagSettings initialSettings() {
            return null;
        }

        @Override
        public CompletableFuture<PipelineResult> execute(StatementSession session, String sql, ScanResult scan) {
            statements.add(sql);
            return CompletableFuture.completedFuture(PipelineResult.forward("SELECT 'rewritten'"));
        }
    }
}
