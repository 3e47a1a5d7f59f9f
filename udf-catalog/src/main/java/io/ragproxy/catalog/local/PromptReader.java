package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.GroundedPrompt;
import java.util.ArrayList;
import java.util.List;

/**
 * How the extractive model reads a prompt: the {@link GroundedPrompt} convention when the prompt follows it, else
 * a free prompt (as from {@code GENERATE()}), whose question is its last sentence ending in {@code ?} (or
 * {@code ？}) with any lead-in up to a colon dropped, or, without one, its first line; the rest is the context,
 * as one source, without the sentences that end in a colon (they introduce content; they are not content).
 */
final class PromptReader {
    private PromptReader() {}

    /** The question and sources of {@code prompt}. */
    static GroundedPrompt read(String prompt) {
        String text = prompt == null ? "" : prompt;
        GroundedPrompt structured = GroundedPrompt.readConvention(text);
        return structured != null ? structured : parseFree(text);
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
