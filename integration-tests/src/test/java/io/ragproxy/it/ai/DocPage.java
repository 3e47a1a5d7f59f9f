package io.ragproxy.it.ai;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One documentation page (README.md or a file under docs/) as the documentation test reads it: the world its
 * examples need, named by the page's first line ({@code <!-- examples: local -->}), and its {@code ```sql} blocks in
 * order, each with the error it must fail with when a {@code <!-- error NNNN -->} line stands right before it. A page
 * whose marker is missing or wrong, or whose fences are broken, reads as a {@link #problem()} saying what to fix.
 */
record DocPage(String name, Optional<ExampleWorld> world, List<Block> blocks, Optional<String> problem) {

    /** One {@code ```sql} block: its place on the page and the error code it must fail with, if any. */
    record Block(int number, int line, Optional<Integer> expectedError, String sql) {
        /** The block's first line, to name it in a report. */
        String title() {
            return sql.lines().findFirst().orElse("").strip();
        }
    }

    static final String MARKER_HELP = "add one of these as the page's first line: <!-- examples: local --> (its ```sql"
            + " blocks run on the embedded defaults), <!-- examples: bedrock-emulator --> (the Bedrock configuration"
            + " against the emulator) or <!-- examples: none --> (no runnable ```sql block; use ```text for SQL that"
            + " cannot run here)";

    private static final Pattern WORLD_MARKER = Pattern.compile("<!--\\s*examples:\\s*(\\S+)\\s*-->");
    private static final Pattern ERROR_MARKER = Pattern.compile("<!--\\s*error\\s+(\\d+)\\s*-->");
    private static final Pattern FENCE = Pattern.compile("(\\s*)(`{3,})\\s*(\\S*).*");
    private static final Pattern CREATE_DATABASE = Pattern.compile(
            "(?i)\\bCREATE\\s+(?:DATABASE|SCHEMA)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?`?(\\w+)`?");

    /** Reads {@code file}, named in reports by its path relative to {@code root}. */
    static DocPage read(Path root, Path file) throws IOException {
        String name = root.relativize(file).toString();
        return parse(name, Files.readString(file, StandardCharsets.UTF_8));
    }

    static DocPage parse(String name, String text) {
        List<String> lines = text.lines().toList();
        String first = lines.isEmpty() ? "" : lines.get(0).strip();
        Matcher marker = WORLD_MARKER.matcher(first);
        if (!marker.matches()) {
            return failed(name, name + " does not say which world its examples need: " + MARKER_HELP);
        }
        Optional<ExampleWorld> world = ExampleWorld.named(marker.group(1));
        if (world.isEmpty()) {
            return failed(name, name + " names an unknown world '" + marker.group(1) + "': " + MARKER_HELP);
        }
        List<Block> blocks = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            Matcher fence = FENCE.matcher(lines.get(i));
            Matcher error = ERROR_MARKER.matcher(lines.get(i).strip());
            if (error.matches()) {
                Matcher next = i + 1 < lines.size() ? FENCE.matcher(lines.get(i + 1)) : null;
                if (next == null || !next.matches() || !next.group(3).equals("sql") || !next.group(1).isEmpty()) {
                    return failed(name, name + ":" + (i + 1) + ": an error marker must stand on the line right before"
                            + " a ```sql fence");
                }
                continue;
            }
            if (!fence.matches()) {
                continue;
            }
            int close = closingFence(lines, i, fence.group(2));
            if (close < 0) {
                return failed(name, name + ":" + (i + 1) + ": this ``` fence is never closed");
            }
            if (fence.group(3).equals("sql")) {
                if (!fence.group(1).isEmpty()) {
                    return failed(name, name + ":" + (i + 1) + ": an indented ```sql block is not run: start the fence"
                            + " at the line's beginning, or make it ```text");
                }
                if (world.get() == ExampleWorld.NONE) {
                    return failed(name, name + ":" + (i + 1) + ": a page marked <!-- examples: none --> has a ```sql"
                            + " block: name the world it runs in, or make the block ```text");
                }
                Matcher before = ERROR_MARKER.matcher(i > 0 ? lines.get(i - 1).strip() : "");
                Optional<Integer> expected = before.matches()
                        ? Optional.of(Integer.parseInt(before.group(1))) : Optional.empty();
                blocks.add(new Block(blocks.size() + 1, i + 1, expected,
                        String.join("\n", lines.subList(i + 1, close)) + "\n"));
            }
            i = close;
        }
        return new DocPage(name, world, List.copyOf(blocks), Optional.empty());
    }

    private static int closingFence(List<String> lines, int open, String ticks) {
        for (int j = open + 1; j < lines.size(); j++) {
            String l = lines.get(j).strip();
            if (l.startsWith(ticks) && l.chars().allMatch(c -> c == '`')) {
                return j;
            }
        }
        return -1;
    }

    private static DocPage failed(String name, String problem) {
        return new DocPage(name, Optional.empty(), List.of(), Optional.of(problem));
    }

    /** The databases the page's blocks create, in order of appearance. */
    Set<String> createdDatabases() {
        Set<String> out = new LinkedHashSet<>();
        for (Block b : blocks) {
            Matcher m = CREATE_DATABASE.matcher(b.sql());
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}
