package io.ragproxy.it.ai;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic corpus of long documents for the knowledge base tests: document {@code id} is made from a
 * {@link SplittableRandom} seeded with the corpus seed and the id, so the same seed gives the same documents on every
 * run and machine. Each document is 2 to 20 kB of ASCII prose (paragraphs of sentences, the paragraphs separated by
 * a blank line) over a vocabulary of made-up words: mostly its own 30 topic words, a quarter common English words,
 * so a sentence of one document shares few words with any other document. A revision prepends a paragraph of its
 * own and keeps the rest, as an edited page would.
 */
final class GeneratedDocuments {
    static final int MIN_BYTES = 2 * 1024;
    static final int MAX_BYTES = 20 * 1024;
    static final List<String> CATEGORIES = List.of("manual", "release-note", "faq", "tutorial", "blog", "spec");
    static final int FIRST_YEAR = 2015;
    static final int YEARS = 10;

    private static final String[] COMMON = {"the", "of", "and", "a", "to", "in", "is", "for", "with", "on", "that",
        "by", "as", "this", "from", "system", "data", "value", "each", "which", "when", "it", "can", "be"};
    private static final String[] ONSETS = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
        "br", "st", "tr", "kl", "gr", "sh"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ai", "ou"};
    private static final int VOCABULARY = 6000;
    private static final int TOPIC_WORDS = 30;
    /** Room left under {@link #MAX_BYTES} for the last sentence and a revision's paragraph. */
    private static final int MARGIN = 700;

    private final long seed;
    private final List<String> vocabulary;

    GeneratedDocuments(long seed) {
        this.seed = seed;
        SplittableRandom r = new SplittableRandom(seed);
        java.util.LinkedHashSet<String> words = new java.util.LinkedHashSet<>();
        while (words.size() < VOCABULARY) {
            StringBuilder w = new StringBuilder();
            int syllables = 2 + r.nextInt(3);
            for (int s = 0; s < syllables; s++) {
                w.append(ONSETS[r.nextInt(ONSETS.length)]).append(VOWELS[r.nextInt(VOWELS.length)]);
            }
            words.add(w.toString());
        }
        this.vocabulary = List.copyOf(words);
    }

    private SplittableRandom random(int id, int salt) {
        return new SplittableRandom(seed * 1_000_003L + id * 7_919L + salt);
    }

    /** The document's metadata: its category. */
    String category(int id) {
        return CATEGORIES.get(random(id, 1).nextInt(CATEGORIES.size()));
    }

    /** The document's metadata: its year, {@link #FIRST_YEAR} to {@code FIRST_YEAR + YEARS - 1}. */
    int year(int id) {
        return FIRST_YEAR + random(id, 2).nextInt(YEARS);
    }

    /** The sentences of the original document, in order, each ending with ". " (the last with "."). */
    List<List<String>> paragraphs(int id) {
        SplittableRandom r = random(id, 0);
        List<String> topic = new ArrayList<>();
        for (int i = 0; i < TOPIC_WORDS; i++) {
            topic.add(vocabulary.get(r.nextInt(vocabulary.size())));
        }
        int target = MIN_BYTES + r.nextInt(MAX_BYTES - MARGIN - MIN_BYTES + 1);
        List<List<String>> paragraphs = new ArrayList<>();
        int length = 0;
        while (length < target) {
            List<String> paragraph = new ArrayList<>();
            int sentences = 3 + r.nextInt(5);
            for (int s = 0; s < sentences && length < target; s++) {
                String sentence = sentence(r, topic);
                paragraph.add(sentence);
                length += sentence.length() + 1;
            }
            paragraphs.add(paragraph);
            length += 2;
        }
        return paragraphs;
    }

    private String sentence(SplittableRandom r, List<String> topic) {
        int words = 8 + r.nextInt(11);
        StringBuilder b = new StringBuilder();
        for (int w = 0; w < words; w++) {
            String word = r.nextInt(4) == 0 ? COMMON[r.nextInt(COMMON.length)] : topic.get(r.nextInt(topic.size()));
            if (w == 0) {
                word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
            }
            b.append(w == 0 ? "" : " ").append(word);
        }
        return b.append('.').toString();
    }

    /** The document's text at {@code revision} (0: the original). */
    String body(int id, int revision) {
        StringBuilder b = new StringBuilder();
        if (revision > 0) {
            SplittableRandom r = random(id, 100 + revision);
            List<String> words = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                words.add(vocabulary.get(r.nextInt(vocabulary.size())));
            }
            b.append("Revision ").append(revision).append(" of document ").append(id).append(" adds ")
                    .append(String.join(" ", words)).append(".\n\n");
        }
        List<List<String>> paragraphs = paragraphs(id);
        for (int p = 0; p < paragraphs.size(); p++) {
            b.append(p == 0 ? "" : "\n\n").append(String.join(" ", paragraphs.get(p)));
        }
        return b.toString();
    }
}
