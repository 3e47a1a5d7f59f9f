/**
 * Statement text below the parser: the byte-level scan that tells plain statements (relayed untouched) from those
 * the proxy must handle, and the lexer of the statements JSqlParser does not read.
 */
package io.ragproxy.server.scan;
