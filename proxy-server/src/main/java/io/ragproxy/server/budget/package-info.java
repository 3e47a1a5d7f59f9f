/**
 * How much each account may spend on models and what it spent: the {@code SET RAG BUDGET}, {@code SHOW RAG BUDGETS}
 * and {@code SHOW RAG USAGE} statements, the per-account usage ledger flushed to {@code ragproxy.usage}, the check,
 * before a statement's first model call, that its estimate fits the account's remaining budget, and the check before
 * each of its calls ({@link io.ragproxy.server.budget.StatementBudget}) that the budget has not run out meanwhile.
 */
package io.ragproxy.server.budget;
