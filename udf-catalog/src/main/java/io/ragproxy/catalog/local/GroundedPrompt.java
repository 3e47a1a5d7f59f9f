package io.ragproxy.catalog.local;

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
 * {@code GENERATE()}): the question is its last sentence ending in {@code ?} (or {@code ？}), with any lead-in
 * up to a colon dropped ({@code "Think about the question: What is TiDB?"} asks {@code "What is TiDB?"}); if
 * no sentence ends in a question mark, the question is the first line (the first sentence for a one-line
 * prompt). Everything else is the context, as one source, without the sentences that end in a colon (they
 * introduce content; they are not content).
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

    /** Reads a prompt: the {@code ANSWER()} convention if it has a {@code Question:} line or {@code [n]} sources, else a free prompt. */
    public static GroundedPrompt parse(String prompt) {
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
        return structured ? parseStructured(lines) : parseFree(text);
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

    private static GroundedPrompt parseFree(String text) {
        List<Sentences.Span> spans = Sentences.split(text);
        if (spans.isEmpty()) {
            return new GroundedPrompt("", List.of());
        }
        int q = -1;
        for (int i = spans.size() - 1; i >= 0 && q < 0; i--) {
            String s = spans.get(i).text();
            if (s.endsWith("?") || s.endsWith("？")) {
                q = i;
            }
        }
        List<String> context = new ArrayList<>();
        String question;
        if (q >= 0) {
            question = afterLeadIn(spans.get(q).text());
            for (int i = 0; i < spans.size(); i++) {
                if (i != q) {
                    context.add(spans.get(i).text());
                }
            }
        } else {
            // No question mark: the first line asks (an instruction such as "Summarize the following."), or, in
            // a one-line prompt, the first sentence.
            int firstLine = spans.get(0).line();
            boolean multiLine = spans.get(spans.size() - 1).line() != firstLine;
            question = "";
            for (Sentences.Span s : spans) {
                boolean isQuestion = multiLine ? s.line() == firstLine : s == spans.get(0);
                if (isQuestion) {
                    question = question.isEmpty() ? s.text() : Sentences.join(List.of(question, s.text()));
                } else {
                    context.add(s.text());
                }
            }
        }
        context.removeIf(s -> s.endsWith(":") || s.endsWith("："));
        // One sentence per line keeps the boundaries the splitter found when the extractive model splits again.
        return new GroundedPrompt(question, context.isEmpty() ? List.of() : List.of(String.join("\n", context)));
    }

    /** "Please think about the question: What is TiDB?" asks "What is TiDB?". */
    private static String afterLeadIn(String sentence) {
        int colon = Math.max(sentence.lastIndexOf(':'), sentence.lastIndexOf('：'));
        if (colon >= 0 && colon < sentence.length() - 2) {
            String rest = sentence.substring(colon + 1).strip();
            if (rest.codePoints().anyMatch(Character::isLetterOrDigit)) {
                return rest;
            }
        }
        return sentence;
    }
}
