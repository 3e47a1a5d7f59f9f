package io.ragproxy.server.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends audit records, one JSON line each, to a file or to standard output ({@code "-"}). Lines are written by a
 * thread of the log's own, so a statement's event loop never waits on the disk; each line is flushed as written.
 * Thread-safe.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final OutputStream out;
    private final boolean includeText;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ragproxy-audit");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param path        the file lines are appended to (created when missing), or {@code "-"} for standard output
     * @param includeText whether records carry the statement's text (prompts included) besides its digest
     */
    public AuditLog(String path, boolean includeText) {
        this.includeText = includeText;
        try {
            this.out = path.equals("-") ? System.out : Files.newOutputStream(Path.of(path),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the audit log " + path + " ([audit] path)", e);
        }
    }

    /** Whether records carry the statement's text ({@code [audit] include_text}). */
    public boolean includeText() {
        return includeText;
    }

    /** Queues one record; it is written as one line, in the order records were queued. */
    public void write(AuditRecord record) {
        ObjectNode line = JSON.createObjectNode();
        line.put("time", record.time().toString());
        line.put("account", record.account());
        line.put("client", record.client());
        line.put("connection_id", record.connectionId());
        line.put("digest", record.digest());
        if (includeText && record.text() != null) {
            line.put("text", record.text());
        }
        line.put("plan", record.plan());
        line.putPOJO("models", record.models());
        line.put("requests", record.requests());
        line.put("input_tokens", record.inputTokens());
        line.put("output_tokens", record.outputTokens());
        line.put("cost_usd", java.math.BigDecimal.valueOf(record.costUsd()).setScale(8,
                java.math.RoundingMode.HALF_UP));
        line.put("cache_hits", record.cacheHits());
        line.put("outcome", record.errorCode() == 0 ? "ok" : "error " + record.errorCode());
        byte[] bytes;
        try {
            bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            log.warn("cannot encode an audit record: {}", e.getMessage());
            return;
        }
        try {
            writer.execute(() -> {
                try {
                    out.write(bytes);
                    out.flush();
                } catch (IOException e) {
                    log.warn("cannot write the audit log: {}", e.getMessage());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            log.warn("audit record after the log was closed: {}", record.digest());
        }
    }

    /** Writes the records still queued (waiting a few seconds at most) and closes the file. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (out != System.out) {
            try {
                out.close();
            } catch (IOException e) {
                log.warn("cannot close the audit log: {}", e.getMessage());
            }
        }
    }
}
