/** What an operator watches: the Prometheus metrics, the backend health probe and the admin HTTP endpoint. */
package io.ragproxy.server.ops;
