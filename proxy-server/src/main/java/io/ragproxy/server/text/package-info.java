/**
 * How a session's text reads and is written: its character sets ({@link io.ragproxy.server.text.ClientCharset}) and
 * the {@code sql_mode} flags that change how literals and identifiers are lexed
 * ({@link io.ragproxy.server.text.SqlMode}), together a {@link io.ragproxy.server.text.SessionText}.
 */
package io.ragproxy.server.text;
