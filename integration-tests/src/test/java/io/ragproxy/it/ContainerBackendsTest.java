package io.ragproxy.it;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.JdbcDatabaseContainer;
import org.testcontainers.mysql.MySQLContainer;
import org.testcontainers.tidb.TiDBContainer;

/**
 * TiDB 8.5 and MySQL 8.4 in containers, each behind an in-JVM proxy: the JDBC smoke checks with both drivers and the
 * reduced CLI corpus (direct and through the proxy, identical). Skipped, with a message, where no Docker engine is.
 */
class ContainerBackendsTest {
    enum Engine {
        TIDB, MYSQL_8_4
    }

    private static final String DB = "it_containers";
    private static final Map<Engine, JdbcDatabaseContainer<?>> containers = new EnumMap<>(Engine.class);
    private static final Map<Engine, ProxyFixture> proxies = new EnumMap<>(Engine.class);

    private static boolean docker;

    @BeforeAll
    static void lookForDocker() {
        try {
            docker = DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            docker = false;
        }
    }

    /** Per test, not per class, so that every test is reported as skipped with the reason. */
    @BeforeEach
    void requireDocker() {
        Assumptions.assumeTrue(docker, "no Docker engine on this machine: TiDB/MySQL 8.4 tests skipped");
    }

    @AfterAll
    static void stopAll() {
        proxies.values().forEach(ProxyFixture::close);
        containers.values().forEach(JdbcDatabaseContainer::stop);
    }

    private static synchronized JdbcDatabaseContainer<?> container(Engine e) {
        return containers.computeIfAbsent(e, k -> {
            JdbcDatabaseContainer<?> c = switch (k) {
                case TIDB -> new TiDBContainer("pingcap/tidb:v8.5.0");
                // root with an empty password: no RSA key exchange needed by the CLI over plain TCP.
                case MYSQL_8_4 -> new MySQLContainer("mysql:8.4").withUsername("root").withPassword("")
                        .withDatabaseName("test");
            };
            c.start();
            return c;
        });
    }

    private static PortableChecks.Target direct(Engine e) {
        JdbcDatabaseContainer<?> c = container(e);
        int port = c.getMappedPort(e == Engine.TIDB ? 4000 : 3306);
        String host = c.getHost().equals("localhost") ? "127.0.0.1" : c.getHost();
        return new PortableChecks.Target(host, port, c.getUsername(), c.getPassword());
    }

    private static synchronized PortableChecks.Target proxied(Engine e) {
        PortableChecks.Target d = direct(e);
        ProxyFixture p = proxies.computeIfAbsent(e, k -> ProxyFixture.start(d.host(), d.port(), b -> {}));
        return new PortableChecks.Target(p.host(), p.port(), d.user(), d.password());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Engine.class)
    void jdbcSmokeWithMysqlConnector(Engine e) throws Exception {
        PortableChecks.jdbcSmoke(Driver.MYSQL_CJ, direct(e), proxied(e), DB);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Engine.class)
    void jdbcSmokeWithMariadbConnector(Engine e) throws Exception {
        PortableChecks.jdbcSmoke(Driver.MARIADB_CJ, direct(e), proxied(e), DB);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Engine.class)
    void reducedCliCorpus(Engine e, @TempDir Path dir) throws Exception {
        PortableChecks.corpusMatches(direct(e), proxied(e), DB, dir);
    }
}
