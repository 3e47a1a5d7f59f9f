package io.ragproxy.it.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How the documentation test reads a page: its world marker, its runnable blocks, and the mistakes it reports. */
class DocPageTest {

    @Test
    void blocksInOrderWithTheirExpectedErrors() {
        DocPage page = DocPage.parse("docs/x.md", String.join("\n",
                "<!-- examples: local -->",
                "# X",
                "```sql",
                "CREATE DATABASE demo; USE demo;",
                "```",
                "```text",
                "KILL QUERY 42;",
                "```",
                "```toml",
                "[models]",
                "```",
                "<!-- error 7004 -->",
                "```sql",
                "SET rag_nope = 1;",
                "```",
                ""));
        assertEquals(Optional.empty(), page.problem());
        assertEquals(Optional.of(ExampleWorld.LOCAL), page.world());
        List<DocPage.Block> blocks = page.blocks();
        assertEquals(2, blocks.size(), "only the sql blocks: " + blocks);
        assertEquals(new DocPage.Block(1, 3, Optional.empty(), "CREATE DATABASE demo; USE demo;\n"), blocks.get(0));
        assertEquals(new DocPage.Block(2, 13, Optional.of(7004), "SET rag_nope = 1;\n"), blocks.get(1));
        assertEquals(Set.of("demo"), page.createdDatabases());
    }

    @Test
    void aPageWithoutTheMarkerSaysWhatToAdd() {
        DocPage page = DocPage.parse("docs/new.md", "# New page\n\n```sql\nSELECT 1;\n```\n");
        String problem = page.problem().orElseThrow();
        assertTrue(problem.startsWith("docs/new.md does not say which world"), problem);
        assertTrue(problem.contains("<!-- examples: local -->") && problem.contains("<!-- examples: bedrock-emulator -->")
                && problem.contains("<!-- examples: none -->"), problem);
    }

    @Test
    void anUnknownWorldIsNamed() {
        String problem = DocPage.parse("README.md", "<!-- examples: tidb -->\n").problem().orElseThrow();
        assertTrue(problem.contains("unknown world 'tidb'"), problem);
    }

    @Test
    void brokenPagesAreReportedWithTheLine() {
        assertEquals(Optional.of("a.md:3: this ``` fence is never closed"),
                DocPage.parse("a.md", "<!-- examples: local -->\n\n```sql\nSELECT 1;\n").problem());
        assertTrue(DocPage.parse("a.md", "<!-- examples: none -->\n```sql\nSELECT 1;\n```\n").problem().orElseThrow()
                .startsWith("a.md:2: a page marked <!-- examples: none --> has a ```sql block"));
        assertTrue(DocPage.parse("a.md", "<!-- examples: local -->\n<!-- error 1064 -->\n```text\nx\n```\n").problem()
                .orElseThrow().startsWith("a.md:2: an error marker must stand on the line right before a ```sql fence"));
        assertTrue(DocPage.parse("a.md", "<!-- examples: local -->\n- item\n  ```sql\n  SELECT 1;\n  ```\n").problem()
                .orElseThrow().startsWith("a.md:3: an indented ```sql block is not run"));
    }

    @Test
    void aPageWithoutExamplesMayBeMarkedNone() {
        DocPage page = DocPage.parse("docs/perf.md", "<!-- examples: none -->\n# Perf\n```text\nSELECT 1;\n```\n");
        assertEquals(Optional.empty(), page.problem());
        assertEquals(Optional.of(ExampleWorld.NONE), page.world());
        assertEquals(List.of(), page.blocks());
    }
}
