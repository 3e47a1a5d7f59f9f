package io.ragproxy.server.catalog;

import io.ragproxy.server.backend.BackendException;
import io.ragproxy.server.backend.QueryResult;
import io.ragproxy.server.command.ProxyError;
import io.ragproxy.server.command.ProxyException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog's connection over JDBC (MariaDB Connector/J, which speaks to MariaDB, MySQL and TiDB), as the
 * {@code [catalog]} account. One backend connection, opened on first use and re-opened after it broke; statements run
 * one at a time on a thread of its own, never on an event loop. Thread-safe.
 */
public final class JdbcCatalogConnection implements CatalogConnection, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JdbcCatalogConnection.class);

    private final String url;
    private final Properties properties;
    private final String user;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ragproxy-catalog");
        t.setDaemon(true);
        return t;
    });
    /** Only touched on {@link #thread}. */
    private Connection connection;

    /**
     * @param host the backend's host
     * @param port the backend's port
     * @param user the catalog account
     * @param password its password (empty for none)
     * @param tls whether to use TLS; {@code verify} then checks the certificate and host name
     * @param connectTimeoutMs the TCP connect timeout
     */
    public JdbcCatalogConnection(String host, int port, String user, String password, boolean tls, boolean verify,
            int connectTimeoutMs) {
        this.user = user;
        this.url = "jdbc:mariadb://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/";
        this.properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password == null ? "" : password);
        properties.setProperty("connectTimeout", Integer.toString(connectTimeoutMs));
        properties.setProperty("sslMode", !tls ? "disable" : verify ? "verify-full" : "trust");
        properties.setProperty("sessionVariables", "sql_mode='STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");
    }

    @Override
    public String account() {
        return user;
    }

    @Override
    public CompletableFuture<QueryResult> query(String sql) {
        return run(c -> execute(c, sql));
    }

    @Override
    public CompletableFuture<List<QueryResult>> transaction(List<String> statements, IntPredicate guarded) {
        return run(c -> {
            c.setAutoCommit(false);
            try {
                List<QueryResult> results = new ArrayList<>();
                for (int i = 0; i < statements.size(); i++) {
                    QueryResult r = execute(c, statements.get(i));
                    if (guarded.test(i) && r.affectedRows() == 0) {
                        throw new NothingChanged(i);
                    }
                    results.add(r);
                }
                c.commit();
                return results;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is dropped below when it broke
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    private interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    private <T> CompletableFuture<T> run(Work<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            thread.execute(() -> {
                try {
                    if (connection == null || connection.isClosed()) {
                        connection = DriverManager.getConnection(url, properties);
                    }
                } catch (SQLException e) {
                    connection = null;
                    result.completeExceptionally(new ProxyException(ProxyError.CATALOG_UNAVAILABLE, "ragproxy cannot"
                            + " reach its catalog as '" + user + "' (" + e.getMessage() + "); set [catalog] user and"
                            + " password in ragproxy.toml or RAGPROXY_CATALOG_USER / RAGPROXY_CATALOG_PASSWORD to an"
                            + " account with ALL ON ragproxy.*"));
                    return;
                }
                try {
                    result.complete(work.on(connection));
                } catch (SQLException e) {
                    if (e instanceof SQLNonTransientConnectionException || e.getSQLState() != null
                            && e.getSQLState().startsWith("08")) {
                        closeQuietly();
                    }
                    result.completeExceptionally(new BackendException(e.getErrorCode(),
                            e.getSQLState() == null ? "HY000" : e.getSQLState(), e.getMessage()));
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new ProxyException(ProxyError.CATALOG_UNAVAILABLE, "ragproxy is shutting"
                    + " down; its catalog is closed"));
        }
        return result;
    }

    private static QueryResult execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            if (!s.execute(sql)) {
                return new QueryResult(List.of(), Math.max(0, s.getLargeUpdateCount()), 0, 0, "");
            }
            try (ResultSet rs = s.getResultSet()) {
                ResultSetMetaData meta = rs.getMetaData();
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    columns.add(meta.getColumnLabel(i));
                }
                List<List<String>> rows = new ArrayList<>();
                while (rs.next()) {
                    String[] row = new String[columns.size()];
                    for (int i = 0; i < row.length; i++) {
                        row[i] = rs.getString(i + 1);
                    }
                    rows.add(Arrays.asList(row));
                }
                return new QueryResult(List.of(new QueryResult.ResultSet(columns, rows)), 0, 0, 0, "");
            }
        }
    }

    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException e) {
            log.debug("closing the catalog connection: {}", e.getMessage());
        }
        connection = null;
    }

    @Override
    public void close() {
        thread.execute(this::closeQuietly);
        thread.shutdown();
    }
}
