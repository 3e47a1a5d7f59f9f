/** Which backend a new client connection goes to: the configured backends, their health checks and connection counts. */
package io.ragproxy.server.balance;
