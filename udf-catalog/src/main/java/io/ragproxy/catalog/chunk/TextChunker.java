package io.ragproxy.catalog.chunk;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A deterministic recursive text splitter: the text is cut at the first level of separators that occurs in it
 * (paragraphs, then lines, then sentences, then words; for markdown, headings first), the pieces are packed
 * greedily into chunks of at most {@code size - overlap} units, and a piece still too large is cut again at the
 * next level, down to single characters (grapheme clusters, so a combining accent or a surrogate pair is never
 * torn).
 *
 * <p>No text is dropped or rewritten: without overlap, the chunks joined give back the text exactly. A separator
 * ends the piece before it ({@code "Hello. "} then {@code "World."}), except one that starts with line breaks and
 * then has text, such as a markdown heading {@code "\n## "}, which begins the piece after it. With overlap, each
 * chunk after the first starts with the end of the text before it: at most {@code overlap} units, from the start
 * of a word when the window holds one.
 *
 * <p>Thread-safe and stateless apart from its token counter; the same text and options always give the same chunks.
 */
public final class TextChunker {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<List<String>> TEXT_LEVELS = List.of(
            List.of("\n\n"),
            List.of("\n"),
            List.of(". ", "! ", "? ", "; ", "。", "！", "？", "；"),
            List.of(" "));
    private static final List<List<String>> MARKDOWN_LEVELS;

    static {
        List<List<String>> md = new ArrayList<>();
        for (int level = 1; level <= 6; level++) {
            md.add(List.of("\n" + "#".repeat(level) + " "));
        }
        md.addAll(TEXT_LEVELS);
        MARKDOWN_LEVELS = List.copyOf(md);
    }

    private final TokenCounter tokens;

    /** @param tokens counts tokens for {@code "unit": "tokens"} (the embedding model's tokenizer) */
    public TextChunker(TokenCounter tokens) {
        this.tokens = tokens;
    }

    /**
     * The chunks of {@code text}, in order; an empty list for the empty string.
     *
     * @throws NullPointerException if {@code text} or {@code options} is null
     */
    public List<String> chunks(String text, ChunkOptions options) {
        List<String> base = new ArrayList<>();
        if (text.isEmpty()) {
            return base;
        }
        Measure measure = options.unit() == ChunkOptions.Unit.TOKENS ? new Measure(tokens, false)
                : new Measure(TextChunker::codePoints, true);
        split(text, levels(options), 0, options.size() - options.overlap(), measure, base);
        if (options.overlap() == 0) {
            return base;
        }
        List<String> out = new ArrayList<>(base.size());
        int start = 0;
        for (String chunk : base) {
            out.add(start == 0 ? chunk : tail(text, start, options.overlap(), measure) + chunk);
            start += chunk.length();
        }
        return out;
    }

    /** {@link #chunks} written as a JSON array of strings. */
    public String chunksJson(String text, ChunkOptions options) {
        try {
            return JSON.writeValueAsString(chunks(text, options));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write chunks as JSON", e); // strings always serialize
        }
    }

    private static List<List<String>> levels(ChunkOptions options) {
        if (!options.separators().isEmpty()) {
            return options.separators().stream().map(List::of).toList();
        }
        return options.format() == ChunkOptions.Format.MARKDOWN ? MARKDOWN_LEVELS : TEXT_LEVELS;
    }

    /** Appends the chunks of {@code text} (cut at {@code levels} from {@code level} on) to {@code out}. */
    private static void split(String text, List<List<String>> levels, int level, int target, Measure measure,
            List<String> out) {
        if (measure.of(text) <= target) {
            out.add(text);
            return;
        }
        List<String> pieces = null;
        int next = level;
        while (next < levels.size() && pieces == null) {
            List<String> cut = cut(text, levels.get(next++));
            if (cut.size() > 1) {
                pieces = cut;
            }
        }
        if (pieces == null) {
            pieces = graphemes(text);
            next = levels.size();
        }
        StringBuilder current = new StringBuilder();
        int currentSize = 0;
        for (String piece : pieces) {
            int pieceSize = measure.of(piece);
            if (pieceSize > target) {
                flush(current, out);
                currentSize = 0;
                split(piece, levels, next, target, measure, out);
                continue;
            }
            if (current.length() > 0) {
                int joined = measure.additive() ? currentSize + pieceSize : measure.of(current + piece);
                if (joined > target) {
                    flush(current, out);
                    currentSize = 0;
                }
            }
            current.append(piece);
            currentSize = measure.additive() ? currentSize + pieceSize : measure.of(current.toString());
        }
        flush(current, out);
    }

    private static void flush(StringBuilder current, List<String> out) {
        if (current.length() > 0) {
            out.add(current.toString());
            current.setLength(0);
        }
    }

    /** {@code text} cut at every occurrence of any of {@code separators} (the first that matches at a position). */
    static List<String> cut(String text, List<String> separators) {
        List<String> pieces = new ArrayList<>();
        int from = 0;
        int i = 0;
        while (i < text.length()) {
            String match = null;
            for (String s : separators) {
                if (text.startsWith(s, i)) {
                    match = s;
                    break;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            int at = i + cutOffset(match);
            if (at > from) {
                pieces.add(text.substring(from, at));
                from = at;
            }
            i += match.length();
        }
        if (from < text.length()) {
            pieces.add(text.substring(from));
        }
        return pieces;
    }

    /**
     * Where a separator cuts, from its start: after its leading line breaks when text follows them (a heading
     * begins the next piece), else after the whole separator (it ends the piece before it).
     */
    private static int cutOffset(String separator) {
        int lead = 0;
        while (lead < separator.length() && (separator.charAt(lead) == '\n' || separator.charAt(lead) == '\r')) {
            lead++;
        }
        return lead > 0 && lead < separator.length() && !separator.substring(lead).isBlank() ? lead : separator.length();
    }

    private static List<String> graphemes(String text) {
        BreakIterator it = BreakIterator.getCharacterInstance(Locale.ROOT);
        it.setText(text);
        List<String> out = new ArrayList<>();
        int start = it.first();
        for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
            out.add(text.substring(start, end));
        }
        return out;
    }

    /**
     * The end of {@code text} before {@code start} that a chunk repeats: the longest suffix of at most
     * {@code overlap} units, moved on to the start of its first word when it holds a word boundary.
     */
    private static String tail(String text, int start, int overlap, Measure measure) {
        // Candidates are code point boundaries in a window wide enough for overlap units of either kind.
        int window = Math.max(0, start - (int) Math.min(start, overlap * 32L + 32));
        int lo = window;
        int hi = start;
        while (lo < hi) { // the earliest p with measure(text[p, start)) <= overlap
            int mid = (lo + hi) >>> 1;
            if (Character.isLowSurrogate(text.charAt(mid)) && mid > lo) {
                mid--;
            }
            if (measure.of(text.substring(mid, start)) <= overlap) {
                hi = mid;
            } else {
                lo = mid + 1;
                if (lo < start && Character.isLowSurrogate(text.charAt(lo))) {
                    lo++;
                }
            }
        }
        int p = lo;
        for (int q = p; q < start; q++) {
            if (q == 0 || Character.isWhitespace(text.charAt(q - 1))) {
                if (!Character.isWhitespace(text.charAt(q))) {
                    p = q;
                    break;
                }
            }
        }
        return text.substring(p, start);
    }

    private static int codePoints(String s) {
        return s.codePointCount(0, s.length());
    }

    /**
     * A chunk's size in the options' unit.
     *
     * @param additive whether the size of a concatenation is the sum of the sizes (true for code points)
     */
    private record Measure(TokenCounter counter, boolean additive) {
        int of(String text) {
            return counter.count(text);
        }
    }
}
