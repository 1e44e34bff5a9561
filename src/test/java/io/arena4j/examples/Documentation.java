package io.arena4j.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The project's documentation as the checks of {@link DocumentationTest} see it: the Markdown
 * files, the Java snippets of the examples they show, their relative links and their headings.
 *
 * <p>A snippet is the code of an example between a line {@code // snippet:begin} and a line
 * {@code // snippet:end}, without the indentation of the begin line; the documentation shows it as
 * a block that opens with {@code ```java}.
 */
final class Documentation {

    /** The repository's root: the tests run there. */
    static final Path ROOT = Path.of("");

    /** Where the examples' sources are. */
    static final Path EXAMPLES = ROOT.resolve("examples/java");

    private static final Pattern JAVA_BLOCK =
            Pattern.compile("^```java\n(.*?)^```$", Pattern.DOTALL | Pattern.MULTILINE);
    private static final Pattern FENCED_BLOCK = Pattern.compile("^```.*?^```$", Pattern.DOTALL | Pattern.MULTILINE);
    private static final Pattern CODE_SPAN = Pattern.compile("`[^`\n]*`");
    /** An inline link or image, {@code [text](target)} or {@code ![text](target "title")}. */
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6} +(.+?) *#*$", Pattern.MULTILINE);

    private Documentation() {}

    /** A snippet: the example it comes from, the line of its begin marker, and its code. */
    record Snippet(Path example, int line, String code) {}

    /** README.md and every Markdown file in docs/. */
    static List<Path> files() {
        List<Path> files = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(path -> path.toString().endsWith(".md")).sorted().forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The Java blocks of a document, each as it stands between its fences. */
    static List<String> javaBlocks(String markdown) {
        return JAVA_BLOCK.matcher(markdown).results().map(block -> block.group(1)).toList();
    }

    /** Every snippet of every example; an unclosed, nested or stray marker is refused. */
    static List<Snippet> snippets() {
        try (Stream<Path> sources = Files.walk(EXAMPLES)) {
            List<Snippet> snippets = new ArrayList<>();
            for (Path source : sources.filter(path -> path.toString().endsWith(".java")).sorted().toList()) {
                snippets.addAll(snippetsOf(source, Files.readAllLines(source)));
            }
            return snippets;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Snippet> snippetsOf(Path source, List<String> lines) {
        List<Snippet> snippets = new ArrayList<>();
        int begin = -1;
        int indent = 0;
        for (int i = 0; i < lines.size(); i++) {
            String marker = lines.get(i).strip();
            if (marker.equals("// snippet:begin")) {
                if (begin >= 0) {
                    throw new IllegalStateException(source + ":" + (i + 1) + ": a snippet begins inside another");
                }
                begin = i;
                indent = lines.get(i).indexOf('/');
            } else if (marker.equals("// snippet:end")) {
                if (begin < 0) {
                    throw new IllegalStateException(source + ":" + (i + 1) + ": a snippet ends that never began");
                }
                StringBuilder code = new StringBuilder();
                for (String line : lines.subList(begin + 1, i)) {
                    code.append(line.length() >= indent && line.substring(0, indent).isBlank()
                            ? line.substring(indent) : line.strip()).append('\n');
                }
                snippets.add(new Snippet(source, begin + 1, code.toString().stripTrailing() + "\n"));
                begin = -1;
            }
        }
        if (begin >= 0) {
            throw new IllegalStateException(source + ":" + (begin + 1) + ": a snippet never ends");
        }
        return snippets;
    }

    /** The targets of a document's relative links: not in code, not to the web or a mail address. */
    static List<String> relativeLinks(String markdown) {
        String prose = CODE_SPAN.matcher(FENCED_BLOCK.matcher(markdown).replaceAll("")).replaceAll("");
        return LINK.matcher(prose).results().map(link -> link.group(1))
                .filter(target -> !target.matches("[a-z]+:.*")).toList();
    }

    /** The anchors GitHub gives the headings of a Markdown document, outside code blocks. */
    static List<String> anchors(String markdown) {
        Map<String, Integer> seen = new HashMap<>();
        List<String> anchors = new ArrayList<>();
        Matcher heading = HEADING.matcher(FENCED_BLOCK.matcher(markdown).replaceAll(""));
        while (heading.find()) {
            String slug = slug(heading.group(1));
            int earlier = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(earlier == 0 ? slug : slug + "-" + earlier);
        }
        return anchors;
    }

    /** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
    static String slug(String heading) {
        return heading.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }
}
