package io.ragproxy.catalog.local;

import io.ragproxy.catalog.model.GroundedPrompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ragproxy.catalog.model.EmbedOptions;
import io.ragproxy.catalog.model.EmbeddingModel;
import io.ragproxy.catalog.model.Embeddings;
import io.ragproxy.catalog.model.GenerateOptions;
import io.ragproxy.catalog.model.Generation;
import io.ragproxy.catalog.model.ModelException;
import io.ragproxy.catalog.model.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ExtractiveTextModelTest {

    private static LocalModels models;
    private static ExtractiveTextModel extractive;

    @BeforeAll
    static void load() {
        models = new LocalModels();
        extractive = (ExtractiveTextModel) models.extractive(models.embedding());
    }

    @AfterAll
    static void close() {
        models.close();
    }

    @Test
    void identity() {
        assertEquals("local:extractive", extractive.id());
        assertTrue(models.embedding() == extractive.embedder(), "one embedding model per factory");
    }

    @Test
    void answersWhatIsTidbFromTheSeedSources() {
        ExtractiveAnswer a = extractive.answer(Seeds.QUESTION, Seeds.CONTENTS, 1).join();
        assertEquals(Seeds.TIDB, a.text());
        assertEquals(List.of(1), a.citations());

        ExtractiveAnswer two = extractive.answer(Seeds.QUESTION, Seeds.CONTENTS, 2).join();
        assertTrue(two.text().startsWith(Seeds.TIDB), two.text()); // original order, and the TiDB sentence is in
        assertEquals(2, two.sentences().size());
        assertEquals(1, two.citations().get(0));
        ExtractiveAnswer.Sentence best = two.sentences().stream()
                .max((x, y) -> Double.compare(x.score(), y.score())).orElseThrow();
        assertEquals(Seeds.TIDB, best.text());
        assertTrue(two.usage().inputTokens() > 0 && two.usage().outputTokens() > 0);
    }

    @Test
    void answersTheChineseVersion() {
        ExtractiveAnswer a = extractive.answer(Seeds.QUESTION_ZH, Seeds.CONTENTS_ZH, 1).join();
        assertEquals(Seeds.TIDB_ZH, a.text());
        assertEquals(List.of(1), a.citations());
        // Chinese passages as one source: split at 。 and joined back without spaces.
        ExtractiveAnswer b = extractive.answer(Seeds.QUESTION_ZH, List.of(String.join("", Seeds.CONTENTS_ZH)), 2).join();
        assertTrue(b.text().startsWith(Seeds.TIDB_ZH), b.text());
        assertTrue(!b.text().contains(" 。") && !b.text().contains("。 "), b.text());
    }

    @Test
    void generateFollowsTheAnswerConvention() {
        String prompt = new GroundedPrompt(Seeds.QUESTION, Seeds.CONTENTS).format();
        Generation g = extractive.generate(prompt, GenerateOptions.DEFAULT).join();
        assertTrue(g.text().startsWith(Seeds.TIDB), g.text());
        assertEquals("end_turn", g.stopReason());
        assertEquals(Sentences.approxTokens(prompt), g.usage().inputTokens());
        // Instructions around the convention are ignored; the sources may come first.
        String chatStyle = "Answer only from the sources below and cite them.\n\nSources:\n[1] " + Seeds.CONTENTS.get(3)
                + "\n[2] " + Seeds.TIDB + "\n[3] " + Seeds.CONTENTS.get(4) + "\n\nQuestion: " + Seeds.QUESTION + "\nAnswer:";
        ExtractiveAnswer a = extractive.answer(PromptReader.read(chatStyle).question(),
                PromptReader.read(chatStyle).sources(), 1).join();
        assertEquals(Seeds.TIDB, a.text());
        assertEquals(List.of(2), a.citations());
    }

    @Test
    void generateUnderstandsTheSeedPromptAsAFreePrompt() {
        // The prompt of seed 000's generate_result(), with info_str = " ".join(contents).
        String prompt = "\n    ONLY use the content below to generate an answer:\n    " + String.join(" ", Seeds.CONTENTS)
                + "\n\n    ----\n    Please carefully think about the question: " + Seeds.QUESTION + "\n    ";
        Generation g = extractive.generate(prompt, GenerateOptions.DEFAULT).join();
        assertTrue(g.text().startsWith(Seeds.TIDB), g.text());
        assertTrue(!g.text().contains("ONLY use"), g.text());
    }

    @Test
    void noContextGivesTheHonestMessage() {
        Generation g = extractive.generate("What is TiDB?", GenerateOptions.DEFAULT).join();
        assertEquals(ExtractiveTextModel.NO_CONTEXT, g.text());
        assertEquals("no_context", g.stopReason());
        ExtractiveAnswer a = extractive.answer(Seeds.QUESTION, List.of(), 2).join();
        assertEquals(ExtractiveTextModel.NO_CONTEXT, a.text());
        assertTrue(a.citations().isEmpty());
        CompletionException e = assertThrows(CompletionException.class,
                () -> extractive.generate("  ", GenerateOptions.DEFAULT).join());
        assertEquals(ModelException.Kind.CLIENT_ERROR, ModelException.find(e).kind());
    }

    @Test
    void deterministic() {
        String prompt = new GroundedPrompt(Seeds.QUESTION, Seeds.CONTENTS).format();
        Generation first = extractive.generate(prompt, GenerateOptions.DEFAULT).join();
        for (int i = 0; i < 3; i++) {
            assertEquals(first, extractive.generate(prompt, GenerateOptions.DEFAULT).join());
        }
    }

    @Test
    void maxTokensIsABudgetAndStopSequencesCut() {
        Generation one = extractive.generate(new GroundedPrompt(Seeds.QUESTION, Seeds.CONTENTS).format(),
                GenerateOptions.DEFAULT.withMaxTokens(Math.toIntExact(Sentences.approxTokens(Seeds.TIDB)))).join();
        assertEquals(Seeds.TIDB, one.text());
        assertEquals("max_tokens", one.stopReason());
        Generation cut = extractive.generate(new GroundedPrompt(Seeds.QUESTION, Seeds.CONTENTS).format(),
                GenerateOptions.DEFAULT.withMaxTokens(2)).join();
        assertTrue(Seeds.TIDB.startsWith(cut.text()) && !cut.text().isEmpty(), cut.text());
        Generation stopped = extractive.generate(new GroundedPrompt(Seeds.QUESTION, Seeds.CONTENTS).format(),
                new GenerateOptions(null, null, null, List.of(" SQL"), null)).join();
        assertEquals("TiDB is a distributed", stopped.text());
        assertEquals("stop_sequence", stopped.stopReason());
    }

    /** An embedder that gives every text the same vector, so every score ties. */
    private static final class ConstantEmbedder implements EmbeddingModel {
        final List<Integer> batchSizes = new ArrayList<>();

        @Override
        public String id() {
            return "test:constant";
        }

        @Override
        public int dimensions(EmbedOptions options) {
            return 2;
        }

        @Override
        public int maxBatchSize() {
            return 3;
        }

        @Override
        public synchronized CompletableFuture<Embeddings> embed(List<String> texts, EmbedOptions options) {
            assertTrue(texts.size() <= maxBatchSize());
            batchSizes.add(texts.size());
            List<float[]> v = new ArrayList<>();
            texts.forEach(t -> v.add(new float[] {1, 0}));
            return CompletableFuture.completedFuture(new Embeddings(v, Usage.NONE));
        }
    }

    @Test
    void tiesAreBrokenByPositionAndBatchesRespectMaxBatchSize() {
        ConstantEmbedder embedder = new ConstantEmbedder();
        ExtractiveTextModel m = new ExtractiveTextModel(embedder);
        List<String> sources = List.of("Alpha one. Beta two.", "Gamma three. Delta four. Epsilon five.");
        ExtractiveAnswer a = m.answer("Zeta?", sources, 2).join();
        assertEquals("Alpha one. Beta two.", a.text());
        assertEquals(List.of(1), a.citations());
        assertEquals(List.of(1, 3, 2), embedder.batchSizes); // the question alone, then 5 sentences in 3 + 2
    }

    @Test
    void groundedPromptRoundTripsAndParsesFreePrompts() {
        GroundedPrompt p = new GroundedPrompt("What is TiDB?", List.of("a.\nb.", "c"));
        GroundedPrompt back = PromptReader.read(p.format());
        assertEquals("What is TiDB?", back.question());
        assertEquals(List.of("a. b.", "c"), back.sources());

        GroundedPrompt ctx = PromptReader.read("Question: Where?\nContext: Here it is.\nAnd more.");
        assertEquals("Where?", ctx.question());
        assertEquals(List.of("Here it is.\nAnd more."), ctx.sources());

        GroundedPrompt free = PromptReader.read("TiDB is a database. It scales. Is it fast?");
        assertEquals("Is it fast?", free.question());
        assertEquals(1, free.sources().size());

        GroundedPrompt instruction = PromptReader.read("Summarize the text.\nTiDB is a database.\nIt scales.");
        assertEquals("Summarize the text.", instruction.question());
        assertTrue(instruction.sources().get(0).contains("It scales."));
    }

    @Test
    void splitsEnglishAndChineseSentences() {
        List<String> s = Sentences.split("Version 3.5 is out, e.g. today! Is it? 你好。我们走吧！真的？ \"Quoted.\" Last")
                .stream().map(Sentences.Span::text).toList();
        assertEquals(List.of("Version 3.5 is out, e.g. today!", "Is it?", "你好。", "我们走吧！", "真的？", "\"Quoted.\"", "Last"), s);
        assertEquals(3, Sentences.approxTokens("你好 ab")); // two ideographs, one short word
    }
}
