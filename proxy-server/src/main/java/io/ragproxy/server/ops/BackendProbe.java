package io.ragproxy.server.ops;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks one backend's health the way TiProxy does: connect, read the server's handshake, close (no login, so it
 * needs no account). The backend is up after the first good check, out after {@value #FAILURES_TO_FAIL} failures in a
 * row and back after {@value #SUCCESSES_TO_RECOVER} good checks in a row. Changes are logged.
 *
 * <p>Checks run on a daemon thread of its own every {@code interval}; {@link #up()} is safe from any thread.
 */
public final class BackendProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackendProbe.class);
    static final int FAILURES_TO_FAIL = 3;
    static final int SUCCESSES_TO_RECOVER = 2;
    /** Protocol version 10, the first payload byte of every MySQL and MariaDB handshake. */
    private static final int HANDSHAKE_V10 = 0x0a;

    private final String host;
    private final int port;
    private final Duration timeout;
    private final ScheduledExecutorService timer;
    private volatile boolean up;
    private volatile boolean checked;
    private int failures;
    private int successes;
    private String lastProblem = "not checked yet";

    /**
     * @param interval time between two checks
     * @param timeout connect and read timeout of one check
     */
    public BackendProbe(String host, int port, Duration interval, Duration timeout) {
        this.host = host;
        this.port = port;
        this.timeout = timeout;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ragproxy-backend-probe");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether the backend is considered healthy. */
    public boolean up() {
        return up;
    }

    /** Whether at least one check has finished. */
    public boolean checked() {
        return checked;
    }

    /** The address checked, {@code host:port}. */
    public String address() {
        return host + ":" + port;
    }

    /** Why the last failed check failed. */
    public synchronized String lastProblem() {
        return lastProblem;
    }

    private synchronized void check() {
        String problem = probe();
        boolean first = !checked;
        checked = true;
        if (problem == null) {
            failures = 0;
            successes++;
            if (!up && (first || successes >= SUCCESSES_TO_RECOVER)) {
                up = true;
                log.info("backend {} is up", address());
            }
            lastProblem = "";
        } else {
            successes = 0;
            failures++;
            lastProblem = problem;
            if (up && failures >= FAILURES_TO_FAIL) {
                up = false;
                log.warn("backend {} is down after {} failed health checks: {}", address(), failures, problem);
            }
        }
    }

    /** One check: null when the backend greeted us, else what went wrong. */
    private String probe() {
        int millis = (int) timeout.toMillis();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), millis);
            s.setSoTimeout(millis);
            InputStream in = s.getInputStream();
            byte[] header = in.readNBytes(5); // 3-byte length, sequence id, first payload byte
            if (header.length < 5) {
                return "the connection closed before the handshake";
            }
            int first = header[4] & 0xff;
            return first == HANDSHAKE_V10 ? null : first == 0xff ? "the backend refused the connection with an error"
                    : "unexpected handshake (protocol " + first + ")";
        } catch (IOException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
