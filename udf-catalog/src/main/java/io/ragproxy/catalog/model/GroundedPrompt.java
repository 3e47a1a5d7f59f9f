package io.ragproxy.catalog.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A question and its numbered sources: the prompt convention that {@code ANSWER()} follows, so that the
 * local extractive model (and any chat model) can tell the question from the context.
 *
 * <p>The convention, as {@link #format()} writes it and {@link #parse(String)} reads it:
 * <pre>
 * Question: What is TiDB?
 * Sources:
 * [1] TiDB is a distributed SQL database compatible with MySQL.
 * [2] Amazon Bedrock allows seamless integration with foundation models.
 * </pre>
 * <ul>
 *   <li>{@code Question:} (any case) starts the question; it runs to the end of its line and over any
 *       following lines up to a blank line, a {@code Sources:}/{@code Context:} header or a source line.</li>
 *   <li>A source starts with {@code [n]} at the beginning of a line and runs until the next source line, a
 *       blank line or a header. Sources are numbered by their position in {@link #sources()} (1-based), not by
 *       the number written in the brackets (the proxy writes 1..n in order anyway).</li>
 *   <li>Text under a {@code Sources:} or {@code Context:} header that is not in {@code [n]} form counts as
 *       sources too, one per paragraph, so {@code "Question: …\nContext: …"} works.</li>
 *   <li>Anything else (instructions to a chat model before the question, an {@code Answer:} line) is ignored,
 *       so one grounded prompt serves Bedrock models and the local extractive model alike. The two sections
 *       may come in either order.</li>
 * </ul>
 *
 * <p>A prompt without a {@code Question:} line or {@code [n]} sources is a free prompt (as from
 * {@code GENERATE()}); {@link #readConvention} leaves it to the model (the local extractive model's reading is in
 * its own package).
 *
 * @param question the question, trimmed; empty when the prompt has none
 * @param sources  the context passages in order (source n is {@code sources.get(n - 1)}); may be empty
 */
public record GroundedPrompt(String question, List<String> sources) {

    private static final Pattern SOURCE_LINE = Pattern.compile("^\\s*\\[(\\d{1,4})]\\s?(.*)$");
    private static final Pattern HEADER = Pattern.compile("^\\s*(question|sources|context|answer)\\s*:\\s?(.*)$",
            Pattern.CASE_INSENSITIVE);

    public GroundedPrompt {
        question = question == null ? "" : question.strip();
        sources = List.copyOf(Objects.requireNonNull(sources, "sources"));
    }

    /** Writes this prompt in the convention above; sources are numbered 1..n, newlines inside one become spaces. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("Question: ").append(oneLine(question)).append('\n');
        sb.append("Sources:\n");
        for (int i = 0; i < sources.size(); i++) {
            sb.append('[').append(i + 1).append("] ").append(oneLine(sources.get(i))).append('\n');
        }
        return sb.toString();
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /**
     * Reads a prompt written in the convention: one with a {@code Question:} line or {@code [n]} sources. Returns
     * null for any other (free) prompt, which a model reads in its own way.
     */
    public static GroundedPrompt readConvention(String prompt) {
        String text = prompt == null ? "" : prompt;
        String[] lines = text.split("\\R", -1);
        boolean structured = false;
        for (String line : lines) {
            Matcher h = HEADER.matcher(line);
            if (SOURCE_LINE.matcher(line).matches() || (h.matches() && h.group(1).equalsIgnoreCase("question"))) {
                structured = true;
                break;
            }
        }
        return structured ? parseStructured(lines) : null;
    }

    private enum Section { NONE, QUESTION, SOURCES, ANSWER }

    private static GroundedPrompt parseStructured(String[] lines) {
        StringBuilder question = new StringBuilder();
        List<String> sources = new ArrayList<>();
        StringBuilder current = null; // the source being read, or null
        Section section = Section.NONE;
        for (String line : lines) {
            Matcher src = SOURCE_LINE.matcher(line);
            Matcher hdr = HEADER.matcher(line);
            if (src.matches()) {
                flush(current, sources);
                current = new StringBuilder(src.group(2).strip());
                section = Section.SOURCES;
            } else if (hdr.matches()) {
                flush(current, sources);
                current = null;
                String rest = hdr.group(2).strip();
                switch (hdr.group(1).toLowerCase(Locale.ROOT)) {
                    case "question" -> {
                        section = Section.QUESTION;
                        question.setLength(0); // the last Question: wins
                        question.append(rest);
                    }
                    case "answer" -> section = Section.ANSWER;
                    default -> {
                        section = Section.SOURCES;
                        if (!rest.isEmpty()) {
                            current = new StringBuilder(rest);
                        }
                    }
                }
            } else if (line.isBlank()) {
                flush(current, sources);
                current = null;
                if (section == Section.QUESTION && question.length() > 0) {
                    section = Section.NONE;
                }
            } else if (section == Section.QUESTION) {
                append(question, line);
            } else if (section == Section.SOURCES) {
                if (current == null) {
                    current = new StringBuilder();
                }
                append(current, line);
            }
            // Section.NONE / ANSWER: instructions or a trailing "Answer:" — not question, not context.
        }
        flush(current, sources);
        return new GroundedPrompt(question.toString(), sources);
    }

    private static void append(StringBuilder sb, String line) {
        if (sb.length() > 0) {
            sb.append('\n');
        }
        sb.append(line.strip());
    }

    private static void flush(StringBuilder current, List<String> sources) {
        if (current != null && !current.toString().isBlank()) {
            sources.add(current.toString().strip());
        }
    }
}
