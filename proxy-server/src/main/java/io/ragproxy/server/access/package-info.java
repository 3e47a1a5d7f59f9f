/**
 * Who may call which model: accounts as the backend names them, the {@code GRANT/REVOKE RAG MODEL} and
 * {@code SHOW RAG GRANTS} statements, and the policy that decides a call from the grants and {@code [access] default}.
 * Not wired into the pipeline yet (issue 14, model access): storage in the {@code ragproxy} catalog and the check
 * before a model call are still to come.
 */
package io.ragproxy.server.access;
