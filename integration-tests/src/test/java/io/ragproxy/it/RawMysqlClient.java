package io.ragproxy.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A deliberately small MySQL-protocol client on a plain {@link Socket}: enough to log in with
 * {@code mysql_native_password}, send single commands and look at the raw packets, and to misbehave on purpose.
 */
public final class RawMysqlClient implements AutoCloseable {
    public static final int CLIENT_LONG_PASSWORD = 0x1;
    public static final int CLIENT_CONNECT_WITH_DB = 0x8;
    public static final int CLIENT_COMPRESS = 0x20;
    public static final int CLIENT_PROTOCOL_41 = 0x200;
    public static final int CLIENT_SSL = 0x800;
    public static final int CLIENT_TRANSACTIONS = 0x2000;
    public static final int CLIENT_SECURE_CONNECTION = 0x8000;
    public static final int CLIENT_MULTI_STATEMENTS = 0x10000;
    public static final int CLIENT_MULTI_RESULTS = 0x20000;
    public static final int CLIENT_PLUGIN_AUTH = 0x80000;

    /** MariaDB's extended capability for progress reports (bit 0 of the extended word, sent in the filler). */
    public static final long MARIADB_CLIENT_PROGRESS = 0x1;

    public static final int COM_QUIT = 0x01;
    public static final int COM_INIT_DB = 0x02;
    public static final int COM_QUERY = 0x03;
    public static final int COM_FIELD_LIST = 0x04;
    public static final int COM_STATISTICS = 0x09;
    public static final int COM_PING = 0x0e;
    public static final int COM_SET_OPTION = 0x1b;

    /** The server's initial handshake (protocol 10). */
    public record Handshake(String serverVersion, long connectionId, long capabilities, byte[] scramble, String plugin) {}

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int seq;
    private Handshake handshake;

    private RawMysqlClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Opens the TCP connection only (nothing read yet). */
    public static RawMysqlClient open(String host, int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout(15_000);
        s.setTcpNoDelay(true);
        return new RawMysqlClient(s);
    }

    /** Opens and logs in; fails with the server's ERR text if the login is refused. */
    public static RawMysqlClient login(String host, int port, String user, String password, String db) throws IOException {
        return login(host, port, user, password, db, 0);
    }

    /**
     * Opens and logs in asking for MariaDB's extended capabilities {@code mariadbCapabilities} (e.g.
     * {@link #MARIADB_CLIENT_PROGRESS}; 0 logs in as a MySQL client).
     */
    public static RawMysqlClient login(String host, int port, String user, String password, String db,
            long mariadbCapabilities) throws IOException {
        RawMysqlClient c = open(host, port);
        try {
            c.readHandshake();
            byte[] reply = c.authenticate(user, password, db, mariadbCapabilities);
            if ((reply[0] & 0xff) != 0x00) {
                throw new IOException("login refused: " + describe(reply));
            }
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public Socket socket() {
        return socket;
    }

    public Handshake handshake() {
        return handshake;
    }

    /** Reads one packet's payload (a payload of 0xffffff bytes is followed by more; callers here never need that). */
    public byte[] readPacket() throws IOException {
        byte[] header = new byte[4];
        in.readFully(header);
        int len = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
        seq = (header[3] + 1) & 0xff;
        byte[] payload = new byte[len];
        in.readFully(payload);
        return payload;
    }

    /** The sequence id of the packet {@link #readPacket} read last. */
    public int lastSequenceId() {
        return (seq - 1) & 0xff;
    }

    /** Writes one packet with the next sequence id. */
    public void writePacket(byte[] payload) throws IOException {
        out.write(frame(payload, seq));
        out.flush();
        seq = (seq + 1) & 0xff;
    }

    /** Raw bytes, as they are. */
    public void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public static byte[] frame(byte[] payload, int sequenceId) {
        byte[] f = new byte[payload.length + 4];
        f[0] = (byte) payload.length;
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) (payload.length >>> 16);
        f[3] = (byte) sequenceId;
        System.arraycopy(payload, 0, f, 4, payload.length);
        return f;
    }

    public Handshake readHandshake() throws IOException {
        byte[] p = readPacket();
        if ((p[0] & 0xff) == 0xff) {
            throw new IOException("server sent an error instead of a handshake: " + describe(p));
        }
        if (p[0] != 10) {
            throw new IOException("not a protocol-10 handshake: first byte " + p[0]);
        }
        int i = 1;
        int end = i;
        while (p[end] != 0) {
            end++;
        }
        String version = new String(p, i, end - i, StandardCharsets.UTF_8);
        i = end + 1;
        long connId = (p[i] & 0xffL) | (p[i + 1] & 0xffL) << 8 | (p[i + 2] & 0xffL) << 16 | (p[i + 3] & 0xffL) << 24;
        i += 4;
        byte[] part1 = Arrays.copyOfRange(p, i, i + 8);
        i += 9;
        long caps = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8;
        i += 2;
        i += 1 + 2; // charset, status
        caps |= ((long) ((p[i] & 0xff) | (p[i + 1] & 0xff) << 8)) << 16;
        i += 2;
        int authLen = p[i] & 0xff;
        i += 1 + 10;
        int part2Len = Math.max(13, authLen - 8);
        byte[] part2 = Arrays.copyOfRange(p, i, i + part2Len - 1); // without the trailing NUL
        i += part2Len;
        String plugin = "";
        if (i < p.length) {
            end = i;
            while (end < p.length && p[end] != 0) {
                end++;
            }
            plugin = new String(p, i, end - i, StandardCharsets.UTF_8);
        }
        byte[] scramble = new byte[part1.length + part2.length];
        System.arraycopy(part1, 0, scramble, 0, part1.length);
        System.arraycopy(part2, 0, scramble, part1.length, part2.length);
        handshake = new Handshake(version, connId, caps, scramble, plugin);
        return handshake;
    }

    /** The client capabilities this client asks for (before CONNECT_WITH_DB). */
    public static int clientCapabilities() {
        return CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION
                | CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH;
    }

    /** Sends the handshake response and follows an auth switch to mysql_native_password; returns the final OK/ERR. */
    public byte[] authenticate(String user, String password, String db) throws IOException {
        return authenticate(user, password, db, 0);
    }

    /**
     * {@link #authenticate(String, String, String)} asking for MariaDB extended capabilities: CLIENT_MYSQL (bit 0) is
     * then cleared and the extended word goes in the last 4 bytes of the 23-byte filler, as MariaDB clients send it.
     */
    public byte[] authenticate(String user, String password, String db, long mariadbCapabilities) throws IOException {
        int caps = clientCapabilities() | (db != null ? CLIENT_CONNECT_WITH_DB : 0);
        if (mariadbCapabilities != 0) {
            caps &= ~CLIENT_LONG_PASSWORD; // the same bit as CLIENT_MYSQL
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        writeInt4(b, caps);
        writeInt4(b, 16 * 1024 * 1024);
        b.write(45); // utf8mb4_general_ci
        b.write(new byte[19], 0, 19);
        writeInt4(b, (int) mariadbCapabilities);
        writeNulString(b, user);
        byte[] auth = nativePassword(password, handshake.scramble());
        b.write(auth.length);
        b.write(auth, 0, auth.length);
        if (db != null) {
            writeNulString(b, db);
        }
        writeNulString(b, "mysql_native_password");
        writePacket(b.toByteArray());
        byte[] reply = readPacket();
        if ((reply[0] & 0xff) == 0xfe && reply.length > 1) {
            int end = 1;
            while (reply[end] != 0) {
                end++;
            }
            String plugin = new String(reply, 1, end - 1, StandardCharsets.UTF_8);
            byte[] salt = Arrays.copyOfRange(reply, end + 1, reply.length);
            if (salt.length > 0 && salt[salt.length - 1] == 0) {
                salt = Arrays.copyOf(salt, salt.length - 1);
            }
            if (!plugin.equals("mysql_native_password")) {
                throw new IOException("auth switch to " + plugin + " is not supported by this test client");
            }
            writePacket(nativePassword(password, salt));
            reply = readPacket();
        }
        return reply;
    }

    /** Sends a command packet (sequence 0) and returns the first response packet. */
    public byte[] command(int command, byte[] argument) throws IOException {
        sendCommand(command, argument);
        return readPacket();
    }

    /** Sends a command packet (sequence 0) without reading the response. */
    public void sendCommand(int command, byte[] argument) throws IOException {
        seq = 0;
        byte[] payload = new byte[argument.length + 1];
        payload[0] = (byte) command;
        System.arraycopy(argument, 0, payload, 1, argument.length);
        writePacket(payload);
    }

    public byte[] command(int command, String argument) throws IOException {
        return command(command, argument.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Runs a text query whose result is a single-column result set and returns the first row's value (or the OK/ERR
     * packet described, prefixed by "OK"/"ERR"). Reads the whole response.
     */
    public String queryFirstValue(String sql) throws IOException {
        byte[] first = command(COM_QUERY, sql);
        int t = first[0] & 0xff;
        if (t == 0x00 || t == 0xff) {
            return describe(first);
        }
        int columns = t; // < 251 in these tests
        for (int i = 0; i < columns; i++) {
            readPacket();
        }
        readPacket(); // EOF after the column definitions (no DEPRECATE_EOF asked)
        String value = null;
        while (true) {
            byte[] row = readPacket();
            if ((row[0] & 0xff) == 0xfe && row.length < 9) {
                return value;
            }
            if ((row[0] & 0xff) == 0xff) {
                return describe(row);
            }
            if (value == null) {
                value = (row[0] & 0xff) == 0xfb ? "NULL" : new String(row, 1, row[0] & 0xff, StandardCharsets.UTF_8);
            }
        }
    }

    /**
     * Reads until the peer closes the connection or {@code timeoutMillis} pass; returns the bytes received, or null
     * if the connection was still open at the deadline.
     */
    public byte[] readUntilClosed(int timeoutMillis) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long deadline = System.currentTimeMillis() + timeoutMillis;
        byte[] buf = new byte[8192];
        while (true) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return null;
            }
            socket.setSoTimeout((int) Math.max(1, left));
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                return null;
            } catch (IOException e) { // connection reset: closed as well
                return got.toByteArray();
            }
            if (n < 0) {
                return got.toByteArray();
            }
            got.write(buf, 0, n);
        }
    }

    /** Closes with a TCP reset (SO_LINGER 0), like a client that crashed. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** "ERR 1234 (HY000) message", "OK", "EOF" or the first byte in hex. */
    public static String describe(byte[] p) {
        if (p.length == 0) {
            return "(empty packet)";
        }
        int t = p[0] & 0xff;
        if (t == 0xff && p.length >= 3) {
            int code = (p[1] & 0xff) | (p[2] & 0xff) << 8;
            String rest = new String(p, 3, p.length - 3, StandardCharsets.UTF_8);
            if (rest.startsWith("#") && rest.length() >= 6) {
                return "ERR " + code + " (" + rest.substring(1, 6) + ") " + rest.substring(6);
            }
            return "ERR " + code + " " + rest;
        }
        if (t == 0x00) {
            return "OK";
        }
        if (t == 0xfe && p.length < 9) {
            return "EOF";
        }
        return String.format("packet 0x%02x (%d bytes)", t, p.length);
    }

    static byte[] nativePassword(String password, byte[] scramble) {
        if (password == null || password.isEmpty()) {
            return new byte[0];
        }
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] h1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
            byte[] h2 = sha1.digest(h1);
            sha1.update(scramble, 0, 20);
            sha1.update(h2);
            byte[] h3 = sha1.digest();
            for (int i = 0; i < h3.length; i++) {
                h3[i] ^= h1[i];
            }
            return h3;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeInt4(ByteArrayOutputStream b, int v) {
        b.write(v);
        b.write(v >>> 8);
        b.write(v >>> 16);
        b.write(v >>> 24);
    }

    private static void writeNulString(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.write(bytes, 0, bytes.length);
        b.write(0);
    }

    /** Reads exactly n bytes or throws EOFException. */
    public byte[] readBytes(int n) throws IOException {
        byte[] b = new byte[n];
        try {
            in.readFully(b);
        } catch (EOFException e) {
            throw new EOFException("connection closed after fewer than " + n + " bytes");
        }
        return b;
    }
}
