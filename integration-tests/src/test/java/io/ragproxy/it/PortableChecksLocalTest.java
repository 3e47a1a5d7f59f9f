package io.ragproxy.it;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The checks that {@link ContainerBackendsTest} runs on TiDB and MySQL 8.4, run here on the local MariaDB through
 * the proxy, so that they are known to work (and to be meaningful) even on machines without Docker.
 */
class PortableChecksLocalTest {
    private static final String DB = "it_portable";
    private static ProxyFixture proxy;
    private static PortableChecks.Target direct;
    private static PortableChecks.Target proxied;

    @BeforeAll
    static void setUp() {
        LocalBackend backend = LocalBackend.get();
        proxy = ProxyFixture.start();
        direct = new PortableChecks.Target(backend.host(), backend.port(), LocalBackend.USER, LocalBackend.PASSWORD);
        proxied = new PortableChecks.Target(proxy.host(), proxy.port(), LocalBackend.USER, LocalBackend.PASSWORD);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        LocalBackend.get().dropDatabase(DB);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Driver.class)
    void jdbcSmoke(Driver d) throws Exception {
        PortableChecks.jdbcSmoke(d, direct, proxied, DB);
    }

    @Test
    void reducedCorpus(@TempDir Path dir) throws Exception {
        PortableChecks.corpusMatches(direct, proxied, DB, dir);
    }
}
