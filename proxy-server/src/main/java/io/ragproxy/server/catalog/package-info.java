/**
 * User-defined AI objects — Aurora ML alias functions, MindsDB models and ML engines, TiDB Cloud auto-embedding
 * columns — parsed from their own SQL, stored in the backend's {@code ragproxy} schema through the user's session,
 * cached per proxy, and rewritten into ragproxy's built-in AI SQL before planning.
 */
package io.ragproxy.server.catalog;
