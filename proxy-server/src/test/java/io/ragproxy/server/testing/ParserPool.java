package io.ragproxy.server.testing;

import io.ragproxy.server.plan.BoundedParser;
import java.time.Duration;

/** Test support: the parser unit tests share (its deadline timer is a daemon thread). */
public final class ParserPool {
    /** Never closed: its timer thread does not keep the JVM alive. A generous deadline for loaded machines. */
    public static final BoundedParser PARSER = new BoundedParser(Duration.ofSeconds(30));

    private ParserPool() {}
}
