package io.ragproxy.catalog.local;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Sentence splitting, joining and approximate token counting for the extractive model. Deliberately simple
 * and deterministic: a sentence ends at {@code . ! ?} followed by white space or the end of the line, at the
 * CJK terminators {@code 。 ！ ？} (no space needed), or at a line break; closing quotes and brackets stay with
 * their sentence; common abbreviations ({@code e.g.}, {@code Dr.}, single initials) do not end a sentence.
 * Fragments without a letter or digit (rules, bullets) are dropped.
 */
final class Sentences {

    /** One sentence and where it came from. */
    record Span(String text, int line, int index) {
    }

    private static final Set<String> ABBREVIATIONS = Set.of(
            "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx", "cf", "inc", "ltd", "jr", "sr");

    private Sentences() {
    }

    static List<Span> split(String text) {
        List<Span> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        String[] lines = text.split("\\R", -1);
        for (int ln = 0; ln < lines.length; ln++) {
            String line = lines[ln];
            int start = 0;
            int n = line.length();
            for (int i = 0; i < n; i++) {
                char c = line.charAt(i);
                boolean cjkEnd = c == '。' || c == '！' || c == '？';
                boolean latinEnd = c == '.' || c == '!' || c == '?';
                if (!cjkEnd && !latinEnd) {
                    continue;
                }
                int end = i + 1;
                while (end < n && isCloser(line.charAt(end))) {
                    end++;
                }
                if (latinEnd) {
                    // Latin terminators need a space (or the line end) after them: "3.5", "v1.2", "a.b.c" go on.
                    if (end < n && !Character.isWhitespace(line.charAt(end))) {
                        continue;
                    }
                    if (c == '.' && isAbbreviation(line, start, i)) {
                        continue;
                    }
                } else {
                    // Runs like "？！" end together.
                    while (end < n && (line.charAt(end) == '。' || line.charAt(end) == '！' || line.charAt(end) == '？')) {
                        end++;
                    }
                }
                add(out, line.substring(start, end), ln);
                start = end;
                i = end - 1;
            }
            add(out, line.substring(start), ln);
        }
        return out;
    }

    private static boolean isCloser(char c) {
        return c == '"' || c == '\'' || c == ')' || c == ']' || c == '”' || c == '’' || c == '」' || c == '』'
                || c == '）' || c == '】' || c == '》';
    }

    /** Whether the word that ends at the dot {@code dot} is an abbreviation or an initial ("J. Smith"). */
    private static boolean isAbbreviation(String line, int from, int dot) {
        int w = dot;
        while (w > from && !Character.isWhitespace(line.charAt(w - 1)) && line.charAt(w - 1) != '(') {
            w--;
        }
        String word = line.substring(w, dot).toLowerCase(Locale.ROOT);
        if (word.length() == 1 && Character.isLetter(word.charAt(0))) {
            return true;
        }
        return ABBREVIATIONS.contains(word);
    }

    private static void add(List<Span> out, String s, int line) {
        String t = s.strip();
        if (t.codePoints().anyMatch(Character::isLetterOrDigit)) {
            out.add(new Span(t, line, out.size()));
        }
    }

    /** Joins sentences with a space, or with nothing after a CJK terminator (Chinese text has no spaces). */
    static String join(List<String> sentences) {
        StringBuilder sb = new StringBuilder();
        for (String s : sentences) {
            if (sb.length() > 0 && !endsCjk(sb)) {
                sb.append(' ');
            }
            sb.append(s);
        }
        return sb.toString();
    }

    private static boolean endsCjk(CharSequence sb) {
        char last = sb.charAt(sb.length() - 1);
        return last == '。' || last == '！' || last == '？' || last == '”' || last == '」' || isCjk(last);
    }

    /**
     * An approximate token count: every CJK ideograph, kana or hangul syllable counts one, every other run of
     * non-space characters counts one per started four characters (a word is one to two BPE tokens).
     */
    static long approxTokens(String text) {
        if (text == null) {
            return 0;
        }
        long tokens = 0;
        int run = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (isCjk(cp)) {
                tokens += (run + 3) / 4 + 1;
                run = 0;
            } else if (Character.isWhitespace(cp)) {
                tokens += (run + 3) / 4;
                run = 0;
            } else {
                run++;
            }
        }
        return tokens + (run + 3) / 4;
    }

    /**
     * The distinct lower-cased terms of {@code text}: runs of letters and digits, and every CJK character on
     * its own (Chinese has no spaces, and single characters are its most robust lexical unit).
     */
    static Set<String> terms(String text) {
        Set<String> out = new java.util.HashSet<>();
        if (text == null) {
            return out;
        }
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (isCjk(cp)) {
                flushTerm(word, out);
                out.add(new String(Character.toChars(cp)));
            } else if (Character.isLetterOrDigit(cp)) {
                word.appendCodePoint(Character.toLowerCase(cp));
            } else {
                flushTerm(word, out);
            }
        }
        flushTerm(word, out);
        return out;
    }

    private static void flushTerm(StringBuilder word, Set<String> out) {
        if (word.length() > 0) {
            out.add(word.toString());
            word.setLength(0);
        }
    }

    static boolean isCjk(int cp) {
        Character.UnicodeScript s = Character.UnicodeScript.of(cp);
        return s == Character.UnicodeScript.HAN || s == Character.UnicodeScript.HIRAGANA
                || s == Character.UnicodeScript.KATAKANA || s == Character.UnicodeScript.HANGUL;
    }
}
