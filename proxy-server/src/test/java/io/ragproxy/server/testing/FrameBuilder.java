package io.ragproxy.server.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Test helper: builds MySQL payloads byte by byte and wraps them into frames (4-byte header + payload).
 *
 * <p>Payload building is fluent: {@code FrameBuilder.payload().u8(0).lenenc(1).lenenc(0).u16(2).u16(0).bytes()}.
 * Frame helpers return heap {@link ByteBuf}s (unpooled, so a test that forgets to release leaks nothing real).
 */
public final class FrameBuilder {
    /** The protocol's largest frame payload, 16 MiB - 1. */
    public static final int MAX = 0xFFFFFF;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private FrameBuilder() {}

    /** Starts a payload. */
    public static FrameBuilder payload() {
        return new FrameBuilder();
    }

    public FrameBuilder u8(int v) {
        out.write(v & 0xFF);
        return this;
    }

    public FrameBuilder u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    public FrameBuilder u24(int v) {
        return u16(v).u8(v >>> 16);
    }

    public FrameBuilder u32(long v) {
        return u16((int) v).u16((int) (v >>> 16));
    }

    public FrameBuilder u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    /** Length-encoded integer (0xFC/0xFD/0xFE prefixes). */
    public FrameBuilder lenenc(long v) {
        if (v >= 0 && v < 251) {
            return u8((int) v);
        } else if (v >= 0 && v < 0x10000) {
            return u8(0xFC).u16((int) v);
        } else if (v >= 0 && v < 0x1000000) {
            return u8(0xFD).u24((int) v);
        }
        return u8(0xFE).u64(v);
    }

    /** Length-encoded string (UTF-8). */
    public FrameBuilder lenencStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        lenenc(b.length);
        return raw(b);
    }

    /** NUL-terminated string (UTF-8). */
    public FrameBuilder nulStr(String s) {
        return str(s).u8(0);
    }

    /** String without terminator (UTF-8). */
    public FrameBuilder str(String s) {
        return raw(s.getBytes(StandardCharsets.UTF_8));
    }

    public FrameBuilder raw(byte... b) {
        out.write(b, 0, b.length);
        return this;
    }

    /** {@code n} copies of {@code b}. */
    public FrameBuilder fill(int n, int b) {
        for (int i = 0; i < n; i++) {
            out.write(b);
        }
        return this;
    }

    public int size() {
        return out.size();
    }

    public byte[] bytes() {
        return out.toByteArray();
    }

    /** This payload as one frame with sequence id {@code seq} (must be shorter than 16 MiB - 1). */
    public ByteBuf frame(int seq) {
        return FrameBuilder.frame(seq, bytes());
    }

    // ---- frames ----

    /** One frame: header with {@code payload.length} and {@code seq}, then the payload as is. */
    public static ByteBuf frame(int seq, byte[] payload) {
        if (payload.length > MAX) {
            throw new IllegalArgumentException("one frame holds at most 16 MiB - 1 bytes");
        }
        ByteBuf b = Unpooled.buffer(4 + payload.length);
        b.writeMediumLE(payload.length).writeByte(seq).writeBytes(payload);
        return b;
    }

    /** A frame whose payload is {@code length} bytes, the first being {@code first}, the rest {@code fill}. */
    public static ByteBuf frameOfLength(int seq, int length, int first, int fill) {
        ByteBuf b = Unpooled.buffer(4 + length);
        b.writeMediumLE(length).writeByte(seq);
        if (length > 0) {
            b.writeByte(first);
            b.writeZero(length - 1);
            if (fill != 0) {
                for (int i = 5; i < 4 + length; i++) {
                    b.setByte(i, fill);
                }
            }
        }
        return b;
    }

    /** An empty-payload frame. */
    public static ByteBuf empty(int seq) {
        return frame(seq, new byte[0]);
    }

    /**
     * Splits a logical packet into frames as the protocol requires: full 16 MiB - 1 frames, then the remainder
     * (an empty frame when the length is an exact multiple, including 0).
     */
    public static List<ByteBuf> split(int seq, byte[] payload) {
        List<ByteBuf> frames = new ArrayList<>();
        int off = 0;
        while (true) {
            int chunk = Math.min(MAX, payload.length - off);
            ByteBuf b = Unpooled.buffer(4 + chunk);
            b.writeMediumLE(chunk).writeByte(seq++ & 0xFF).writeBytes(payload, off, chunk);
            frames.add(b);
            off += chunk;
            if (chunk < MAX) {
                return frames;
            }
        }
    }

    /** Concatenates frames into one stream buffer (releases nothing). */
    public static ByteBuf concat(ByteBuf... frames) {
        ByteBuf b = Unpooled.buffer();
        for (ByteBuf f : frames) {
            b.writeBytes(f, f.readerIndex(), f.readableBytes());
        }
        return b;
    }

    // ---- common server packets ----

    /** OK packet (header 0x00), protocol 4.1 layout. */
    public static ByteBuf ok(int seq, long affected, long insertId, int status, int warnings) {
        return payload().u8(0x00).lenenc(affected).lenenc(insertId).u16(status).u16(warnings).frame(seq);
    }

    public static ByteBuf ok(int seq, int status) {
        return ok(seq, 0, 0, status, 0);
    }

    /** OK packet with the 0xFE header that ends a result set under CLIENT_DEPRECATE_EOF. */
    public static ByteBuf okEof(int seq, int status) {
        return payload().u8(0xFE).lenenc(0).lenenc(0).u16(status).u16(0).frame(seq);
    }

    /** Classic EOF packet: 0xFE, warnings, status. */
    public static ByteBuf eof(int seq, int status) {
        return payload().u8(0xFE).u16(0).u16(status).frame(seq);
    }

    /** ERR packet. */
    public static ByteBuf err(int seq, int code, String sqlState, String message) {
        return payload().u8(0xFF).u16(code).u8('#').str(sqlState).str(message).frame(seq);
    }

    /** MariaDB progress report: 0xFF, code 0xFFFF, stage, max stage, progress (u24, per mille * 1000), info. */
    public static ByteBuf progress(int seq, int stage, int maxStage, int progress, String info) {
        return payload().u8(0xFF).u16(0xFFFF).u8(stage).u8(maxStage).u24(progress).lenencStr(info).frame(seq);
    }

    /** Column-count packet of a result set. */
    public static ByteBuf columnCount(int seq, long n) {
        return payload().lenenc(n).frame(seq);
    }

    /** A ColumnDefinition41 packet. */
    public static ByteBuf columnDef(int seq, String name) {
        return payload().lenencStr("def").lenencStr("db").lenencStr("t").lenencStr("t").lenencStr(name)
                .lenencStr(name).lenenc(0x0C).u16(33).u32(1024).u8(0xFD).u16(0).u8(0).u16(0).frame(seq);
    }

    /** A text-protocol row; null values are written as 0xFB. */
    public static ByteBuf textRow(int seq, String... values) {
        FrameBuilder p = payload();
        for (String v : values) {
            if (v == null) {
                p.u8(0xFB);
            } else {
                p.lenencStr(v);
            }
        }
        return p.frame(seq);
    }

    /** COM_STMT_PREPARE_OK. */
    public static ByteBuf prepareOk(int seq, long stmtId, int columns, int params) {
        return payload().u8(0x00).u32(stmtId).u16(columns).u16(params).u8(0).u16(0).frame(seq);
    }

    /** A client command frame: the command byte then its argument. */
    public static ByteBuf command(int command, String arg) {
        return payload().u8(command).str(arg).frame(0);
    }

    /** Hex dump of the readable bytes, for messages. */
    public static String hex(ByteBuf b) {
        return ByteBufUtil.hexDump(b);
    }

    /** Bytes from a hex string; spaces are ignored. */
    public static byte[] unhex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", "").replace("\n", ""));
    }

    /** All readable bytes, without moving the reader index. */
    public static byte[] readable(ByteBuf b) {
        return ByteBufUtil.getBytes(b, b.readerIndex(), b.readableBytes());
    }
}
