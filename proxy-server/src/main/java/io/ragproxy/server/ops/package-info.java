/** What an operator watches: the Prometheus metrics and the admin HTTP endpoint (/metrics, /health, /ready). */
package io.ragproxy.server.ops;
