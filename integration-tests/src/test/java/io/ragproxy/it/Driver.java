package io.ragproxy.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** The two JDBC drivers a ragproxy user is likely to have, with their spellings of the common options. */
public enum Driver {
    MYSQL_CJ("jdbc:mysql") {
        @Override
        Map<String, String> base(boolean tls) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("sslMode", tls ? "REQUIRED" : "DISABLED");
            p.put("allowPublicKeyRetrieval", "true");
            p.put("connectTimeout", "10000");
            p.put("socketTimeout", "120000");
            p.put("characterEncoding", "UTF-8");
            p.put("allowLoadLocalInfile", "false");
            return p;
        }
    },
    MARIADB_CJ("jdbc:mariadb") {
        @Override
        Map<String, String> base(boolean tls) {
            Map<String, String> p = new LinkedHashMap<>();
            p.put("sslMode", tls ? "trust" : "disable");
            p.put("connectTimeout", "10000");
            p.put("socketTimeout", "120000");
            return p;
        }
    };

    private final String scheme;

    Driver(String scheme) {
        this.scheme = scheme;
    }

    abstract Map<String, String> base(boolean tls);

    /** A URL for {@code host:port/db} with this driver's TLS spelling and extra {@code options} ("k=v" pairs). */
    public String url(String host, int port, String db, boolean tls, String... options) {
        Map<String, String> p = base(tls);
        for (String o : options) {
            int eq = o.indexOf('=');
            p.put(o.substring(0, eq), o.substring(eq + 1));
        }
        return scheme + "://" + host + ":" + port + "/" + db + "?"
                + p.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("&"));
    }

    public Connection connect(String host, int port, String db, String user, String password, boolean tls,
            String... options) throws SQLException {
        return DriverManager.getConnection(url(host, port, db, tls, options), user, password);
    }

    /** The options that turn on server-side prepared statements (COM_STMT_PREPARE / EXECUTE). */
    public String[] serverPrepare() {
        return new String[] {"useServerPrepStmts=true"};
    }

    @Override
    public String toString() {
        return this == MYSQL_CJ ? "MySQL Connector/J" : "MariaDB Connector/J";
    }
}
