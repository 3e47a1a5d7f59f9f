package io.ragproxy.server.testing;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Test support: the executor JSqlParser runs on in unit tests, shared by all of them (daemon threads). */
public final class ParserPool {
    /** Never shut down: its idle threads end by themselves, and they do not keep the JVM alive. */
    public static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "test-sql-parser");
        t.setDaemon(true);
        return t;
    });

    private ParserPool() {}
}
