/**
 * The audit log: one JSON line per AI statement (who, from where, what with its literals removed, which plan and
 * models, what it cost, how it ended), written off the event loops.
 */
package io.ragproxy.server.audit;
