package io.ragproxy.catalog.chunk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.local.MiniLmTokenCounter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TextChunkerTest {
    private static MiniLmTokenCounter tokens;
    private static TextChunker chunker;

    @BeforeAll
    static void load() {
        tokens = new MiniLmTokenCounter();
        chunker = new TextChunker(tokens);
    }

    @AfterAll
    static void close() {
        tokens.close();
    }

    private static List<String> chunks(String text, String options) {
        return chunker.chunks(text, ChunkOptions.fromJson(options));
    }

    @Test
    void shortTextIsOneChunk() {
        assertEquals(List.of("One short paragraph."), chunks("One short paragraph.", null));
    }

    @Test
    void emptyTextHasNoChunks() {
        assertEquals(List.of(), chunks("", "{\"size\": 10}"));
        assertEquals("[]", chunker.chunksJson("", ChunkOptions.DEFAULT));
    }

    @Test
    void paragraphsBeforeLinesBeforeSentencesBeforeWords() {
        String text = "First paragraph here.\n\nSecond one is here.\nIt has two lines. And two sentences.";
        assertEquals(List.of("First paragraph here.\n\n", "Second one is here.\n", "It has two lines. ",
                "And two sentences."), chunks(text, "{\"size\": 25}"));
        assertEquals(List.of("First paragraph here.\n\n", "Second one is here.\nIt has two lines. And two sentences."),
                chunks(text, "{\"size\": 60}"));
    }

    @Test
    void longWordsAreCutBetweenCharacters() {
        assertEquals(List.of("abcd", "efgh", "ij ", "xy"), chunks("abcdefghij xy", "{\"size\": 4}"));
    }

    @Test
    void markdownHeadingsBeginChunks() {
        String md = "# Title\nIntro text.\n## Install\nRun the installer.\n## Use\nCall it.";
        assertEquals(List.of("# Title\nIntro text.\n", "## Install\nRun the installer.\n", "## Use\nCall it."),
                chunks(md, "{\"size\": 32, \"format\": \"markdown\"}"));
        // As plain text, the same size cuts at lines and packs headings with the text before them.
        assertEquals(List.of("# Title\nIntro text.\n## Install\n", "Run the installer.\n## Use\n", "Call it."),
                chunks(md, "{\"size\": 32}"));
    }

    @Test
    void cjkTextWithoutSpacesIsCutAtSentenceEndsThenCharacters() {
        String text = "数据库很快。向量检索也很快。这句话比较长一点点的样子。";
        assertEquals(List.of("数据库很快。", "向量检索也很快。", "这句话比较长一点", "点的样子。"), chunks(text, "{\"size\": 8}"));
    }

    @Test
    void sizesCountCodePointsAndNeverTearSurrogatesOrAccents() {
        String text = "😀😀😀😀😀😀"; // 6 code points, 12 UTF-16 units
        assertEquals(List.of("😀😀😀😀", "😀😀"), chunks(text, "{\"size\": 4}"));
        String accents = "e\u0301e\u0301e\u0301"; // é written as e + combining acute, three times
        assertEquals(List.of("e\u0301", "e\u0301", "e\u0301"), chunks(accents, "{\"size\": 2}"));
    }

    @Test
    void overlapRepeatsTheEndOfThePreviousTextFromAWordStart() {
        String text = "one two three four five six seven eight nine ten";
        List<String> c = chunks(text, "{\"size\": 20, \"overlap\": 8}");
        // New text fills size - overlap = 12 characters; the repeated end of the text before fills the rest.
        assertEquals(List.of("one two ", "one two three four ", "four five six ", "six seven eight ", "eight nine ten"),
                c);
        c.forEach(chunk -> assertTrue(chunk.codePointCount(0, chunk.length()) <= 20, chunk));
    }

    @Test
    void overlapWithoutSpacesTakesExactlyThatManyCharacters() {
        assertEquals(List.of("abcd", "cdefgh", "ghijkl"), chunks("abcdefghijkl", "{\"size\": 6, \"overlap\": 2}"));
    }

    @Test
    void customSeparatorsInOrderOfPreference() {
        String text = "a1|a2|a3;b1|b2";
        assertEquals(List.of("a1|a2|", "a3;", "b1|b2"), chunks(text, "{\"size\": 6, \"separators\": [\";\", \"|\"]}"));
    }

    @Test
    void tokenUnitCountsWordPiecesOfTheLocalModel() {
        assertEquals(2, tokens.count("hello world"));
        assertEquals(0, tokens.count(""));
        String text = "Embedding models read word pieces. Tokenization splits unfamiliar words into several pieces.";
        List<String> c = chunks(text, "{\"size\": 8, \"unit\": \"tokens\"}");
        assertEquals(String.join("", c), text);
        c.forEach(chunk -> assertTrue(tokens.count(chunk) <= 8, chunk + " has " + tokens.count(chunk) + " tokens"));
        assertTrue(c.size() >= 2);
    }

    @Test
    void sameTextAndOptionsGiveTheSameChunks() {
        String text = generated(new Random(7), 20_000);
        assertEquals(chunks(text, "{\"size\": 300, \"overlap\": 50}"), chunks(text, "{\"size\": 300, \"overlap\": 50}"));
        assertEquals(chunker.chunksJson(text, ChunkOptions.fromJson("{\"size\": 120, \"unit\": \"tokens\"}")),
                chunker.chunksJson(text, ChunkOptions.fromJson("{\"unit\": \"tokens\", \"size\": 120}")));
    }

    /** Property: without overlap the chunks joined are the text, and none is larger than the size. */
    @Test
    void chunksWithoutOverlapJoinBackToTheText() {
        Random random = new Random(16);
        for (int round = 0; round < 200; round++) {
            String text = generated(random, 1 + random.nextInt(3000));
            int size = 1 + random.nextInt(400);
            String format = random.nextBoolean() ? "markdown" : "text";
            List<String> c = chunks(text, "{\"size\": " + size + ", \"format\": \"" + format + "\"}");
            assertEquals(text, String.join("", c), "size " + size);
            for (String chunk : c) {
                assertTrue(!chunk.isEmpty() && chunk.codePointCount(0, chunk.length()) <= size, chunk);
            }
        }
    }

    @Test
    void badOptionsSayWhatIsWrong() {
        assertEquals("overlap must be a whole number from 0 to size - 1 (size is 100), got 100",
                assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{\"size\": 100, \"overlap\": 100}"))
                        .getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{\"sise\": 100}"))
                .getMessage().startsWith("unknown option 'sise'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{\"unit\": \"words\"}"))
                .getMessage().startsWith("unit must be \"chars\" or \"tokens\""));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{size: 1"))
                .getMessage().startsWith("options_json is not valid JSON"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("[1]"))
                .getMessage().startsWith("options_json must be a JSON object"));
        assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{\"size\": 0}"));
        assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{\"size\": 2.5}"));
        assertThrows(IllegalArgumentException.class, () -> ChunkOptions.fromJson("{\"separators\": [\"\"]}"));
    }

    private static final String[] WORDS = {"alpha", "beta", "gamma", "数据库", "vector", "😀", "e\u0301t\u0301e", "x",
        "supercalifragilisticexpialidocious", "Dr.", "3.5"};
    private static final String[] BREAKS = {" ", " ", " ", ". ", "\n", "\n\n", "\n## ", "。", "\n# ", "  "};

    private static String generated(Random random, int length) {
        StringBuilder b = new StringBuilder();
        while (b.length() < length) {
            b.append(WORDS[random.nextInt(WORDS.length)]).append(BREAKS[random.nextInt(BREAKS.length)]);
        }
        return b.toString();
    }
}
