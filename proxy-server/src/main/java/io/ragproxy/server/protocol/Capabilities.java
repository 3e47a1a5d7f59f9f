package io.ragproxy.server.protocol;

/**
 * Capability flags of the MySQL protocol (the 32-bit set) and MariaDB's extended set (the 32 bits MariaDB sends
 * in the handshake's reserved bytes when it clears {@link #CLIENT_MYSQL}), and the masks the proxy applies.
 */
public final class Capabilities {
    /** Set by MySQL servers; a MariaDB server clears it to signal that extended capabilities follow. */
    public static final long CLIENT_MYSQL = 1L;
    public static final long CLIENT_CONNECT_WITH_DB = 1L << 3;
    public static final long CLIENT_COMPRESS = 1L << 5;
    public static final long CLIENT_LOCAL_FILES = 1L << 7;
    public static final long CLIENT_PROTOCOL_41 = 1L << 9;
    public static final long CLIENT_SSL = 1L << 11;
    public static final long CLIENT_SECURE_CONNECTION = 1L << 15;
    public static final long CLIENT_MULTI_STATEMENTS = 1L << 16;
    public static final long CLIENT_MULTI_RESULTS = 1L << 17;
    public static final long CLIENT_PS_MULTI_RESULTS = 1L << 18;
    public static final long CLIENT_PLUGIN_AUTH = 1L << 19;
    public static final long CLIENT_CONNECT_ATTRS = 1L << 20;
    public static final long CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1L << 21;
    public static final long CLIENT_SESSION_TRACK = 1L << 23;
    public static final long CLIENT_DEPRECATE_EOF = 1L << 24;
    public static final long CLIENT_OPTIONAL_RESULTSET_METADATA = 1L << 25;
    public static final long CLIENT_ZSTD_COMPRESSION = 1L << 26;
    public static final long CLIENT_QUERY_ATTRIBUTES = 1L << 27;
    public static final long CLIENT_MULTI_FACTOR_AUTH = 1L << 28;

    /** MariaDB extended capabilities (bit numbers within the extended 32-bit word). */
    public static final long MARIADB_CLIENT_PROGRESS = 1L;
    public static final long MARIADB_CLIENT_COM_MULTI = 1L << 1;
    public static final long MARIADB_CLIENT_STMT_BULK_OPERATIONS = 1L << 2;
    public static final long MARIADB_CLIENT_EXTENDED_METADATA = 1L << 3;
    public static final long MARIADB_CLIENT_CACHE_METADATA = 1L << 4;
    /** MariaDB 11.5+: a bulk execute may ask for one result row per parameter row (SEND_UNIT_RESULTS). */
    public static final long MARIADB_CLIENT_BULK_UNIT_RESULTS = 1L << 6;

    /**
     * Capabilities the proxy never offers: compression (frames would be opaque), optional result-set metadata
     * and query attributes (they change the COM_QUERY and result layouts the proxy reads), multi-factor auth
     * (a flow the proxy has not been tested with). {@link #CLIENT_SSL} is set separately per leg.
     */
    public static final long UNSUPPORTED = CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION
            | CLIENT_OPTIONAL_RESULTSET_METADATA | CLIENT_QUERY_ATTRIBUTES | CLIENT_MULTI_FACTOR_AUTH;

    /**
     * MariaDB extended capabilities the proxy never offers: COM_MULTI (obsolete, batches commands into one
     * packet), metadata caching (result sets without column definitions) and bulk unit results (a bulk execute of
     * an AI INSERT runs as one multi-row INSERT, whose answer is one OK packet).
     */
    public static final long MARIADB_UNSUPPORTED = MARIADB_CLIENT_COM_MULTI | MARIADB_CLIENT_CACHE_METADATA
            | MARIADB_CLIENT_BULK_UNIT_RESULTS;

    private Capabilities() {}

    /** Whether {@code flags} has every bit of {@code flag}. */
    public static boolean has(long flags, long flag) {
        return (flags & flag) == flag;
    }
}
