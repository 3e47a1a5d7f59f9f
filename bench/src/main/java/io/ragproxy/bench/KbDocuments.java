package io.ragproxy.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic corpus of documents for benchmark (10), made like the integration tests' {@code
 * GeneratedDocuments}: document {@code id} comes from a {@link SplittableRandom} seeded with the corpus seed and the
 * id, so a seed gives the same documents on every run and machine. Each document is ASCII prose of {@link
 * #MIN_CHARS} to {@link #MAX_CHARS} characters (paragraphs of 3 to 7 sentences, separated by a blank line) over
 * made-up words, mostly its own 30 topic words and a quarter common English words, so that a question made of one
 * document's words finds that document. With CHUNK_TEXT's defaults (800 characters, no overlap) a document gives
 * about 5 chunks (3 to 10; measured by the benchmark itself, which runs the splitter on every document).
 *
 * <p>Every document also carries one product code, {@code PRD-<id>-<seed>}, in a sentence of its own: the keyword a
 * full-text search finds exactly.
 */
final class KbDocuments {
    /** Fewest characters of a document. */
    static final int MIN_CHARS = 1_700;
    /** Most characters of a document (before its last sentence). */
    static final int MAX_CHARS = 3_600;
    static final List<String> CATEGORIES = List.of("manual", "release-note", "faq", "tutorial", "blog", "spec");

    private static final String[] COMMON = {"the", "of", "and", "a", "to", "in", "is", "for", "with", "on", "that",
        "by", "as", "this", "from", "system", "data", "value", "each", "which", "when", "it", "can", "be"};
    private static final String[] ONSETS = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
        "br", "st", "tr", "kl", "gr", "sh"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ai", "ou"};
    private static final int VOCABULARY = 6000;
    private static final int TOPIC_WORDS = 30;

    private final long seed;
    private final List<String> vocabulary;

    KbDocuments(long seed) {
        this.seed = seed;
        SplittableRandom r = new SplittableRandom(seed);
        LinkedHashSet<String> words = new LinkedHashSet<>();
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

    String category(int id) {
        return CATEGORIES.get(random(id, 1).nextInt(CATEGORIES.size()));
    }

    int year(int id) {
        return 2015 + random(id, 2).nextInt(10);
    }

    /** The document's product code, which no other document of any corpus seed shares. */
    String productCode(int id) {
        return "PRD-" + id + "-" + seed;
    }

    /** The document's text. */
    String body(int id) {
        SplittableRandom r = random(id, 0);
        List<String> topic = new ArrayList<>();
        for (int i = 0; i < TOPIC_WORDS; i++) {
            topic.add(vocabulary.get(r.nextInt(vocabulary.size())));
        }
        int target = MIN_CHARS + r.nextInt(MAX_CHARS - MIN_CHARS + 1);
        int codeParagraph = r.nextInt(3);
        StringBuilder b = new StringBuilder();
        int paragraph = 0;
        while (b.length() < target) {
            if (paragraph > 0) {
                b.append("\n\n");
            }
            int sentences = 3 + r.nextInt(5);
            for (int s = 0; s < sentences && b.length() < target; s++) {
                b.append(s == 0 ? "" : " ").append(sentence(r, topic));
            }
            if (paragraph == codeParagraph) {
                b.append(" The product code is ").append(productCode(id)).append('.');
            }
            paragraph++;
        }
        return b.toString();
    }

    /** A question made of the words of one of the document's sentences (so its own chunks are the nearest). */
    String question(int id) {
        String body = body(id);
        String[] sentences = body.split("(?<=\\.)\\s+");
        return sentences[random(id, 3).nextInt(sentences.length)].replace("\n", " ").trim();
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
}
