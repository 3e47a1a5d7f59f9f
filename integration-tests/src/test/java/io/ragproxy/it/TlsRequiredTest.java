package io.ragproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tls.required = true}, like MySQL's require_secure_transport: a client that logs in without TLS gets error
 * 7112 (SQLSTATE 08004) and is disconnected; with TLS it works, and the proxy keeps serving both kinds of attempt.
 */
class TlsRequiredTest {
    private static ProxyFixture proxy;

    @BeforeAll
    static void start() {
        proxy = ProxyFixture.start(b -> b.clientTls(true).clientTlsRequired(true));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection connect(boolean tls) throws SQLException {
        return Driver.MARIADB_CJ.connect(proxy.host(), proxy.port(), "", LocalBackend.USER, LocalBackend.PASSWORD, tls);
    }

    @Test
    void aClientWithoutTlsIsRefusedAtLoginAndOneWithTlsGetsIn() throws Exception {
        SQLException refused = assertThrows(SQLException.class, () -> connect(false).close());
        assertEquals(7112, refused.getErrorCode(), refused.toString());
        assertEquals("08004", refused.getSQLState(), refused.toString());
        assertTrue(refused.getMessage().contains("insecure transport") && refused.getMessage().contains("TLS"),
                refused.getMessage());

        try (Connection c = connect(true); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SHOW SESSION STATUS LIKE 'Ssl_cipher'")) {
            assertTrue(r.next());
            // The backend leg is plain here: TLS ends at the proxy, so the backend reports no cipher; the query ran.
            assertEquals("Ssl_cipher", r.getString(1));
        }
        SQLException again = assertThrows(SQLException.class, () -> connect(false).close());
        assertEquals(7112, again.getErrorCode(), "refused again, the proxy still serves: " + again);
    }
}
