/**
 * Who may call which model: accounts as the backend names them, the {@code GRANT/REVOKE RAG MODEL} and
 * {@code SHOW RAG GRANTS} statements, and the check, before a statement's first model call, that decides each call
 * from the catalog's grants and {@code [access] default}.
 */
package io.ragproxy.server.access;
