package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The documentation (README.md and docs/*.md) shows only code that the build compiles, and its
 * links lead somewhere: every Java block is a snippet of an example, every snippet is shown, and
 * every relative link names a file that exists and, with {@code #}, a heading of it.
 */
class DocumentationTest {

    @Test
    void everyJavaBlockOfTheDocumentationIsASnippetOfAnExample() {
        Set<String> snippets = Documentation.snippets().stream().map(Documentation.Snippet::code)
                .collect(Collectors.toSet());
        List<String> unknown = new ArrayList<>();
        for (Path document : Documentation.files()) {
            for (String block : Documentation.javaBlocks(Documentation.read(document))) {
                if (!snippets.contains(block)) {
                    unknown.add(document + ", a block that no example holds (or that changed):\n" + block);
                }
            }
        }
        assertEquals(List.of(), unknown);
    }

    @Test
    void everySnippetOfTheExamplesIsShownInTheDocumentation() {
        Set<String> shown = Documentation.files().stream()
                .flatMap(document -> Documentation.javaBlocks(Documentation.read(document)).stream())
                .collect(Collectors.toSet());
        List<String> missing = Documentation.snippets().stream().filter(snippet -> !shown.contains(snippet.code()))
                .map(snippet -> snippet.example() + ":" + snippet.line() + ", shown nowhere:\n" + snippet.code())
                .toList();
        assertFalse(Documentation.snippets().isEmpty(), "the examples mark their snippets");
        assertEquals(List.of(), missing);
    }

    @Test
    void everyRelativeLinkLeadsToAFileAndItsHeading() {
        List<String> broken = new ArrayList<>();
        for (Path document : Documentation.files()) {
            for (String link : Documentation.relativeLinks(Documentation.read(document))) {
                String problem = problemOf(document, link);
                if (problem != null) {
                    broken.add(document + ": (" + link + ") " + problem);
                }
            }
        }
        assertEquals(List.of(), broken);
    }

    /** What is wrong with a link of {@code document}, or null: its file must exist, its anchor be a heading. */
    private static String problemOf(Path document, String link) {
        int hash = link.indexOf('#');
        String file = hash < 0 ? link : link.substring(0, hash);
        Path directory = document.getParent() == null ? Documentation.ROOT : document.getParent();
        Path target = file.isEmpty() ? document : directory.resolve(file).normalize();
        if (!Files.exists(target)) {
            return "no such file: " + target;
        }
        if (hash < 0) {
            return null;
        }
        String anchor = link.substring(hash + 1);
        if (!target.toString().endsWith(".md")) {
            return "an anchor into a file that is not Markdown";
        }
        return Documentation.anchors(Documentation.read(target)).contains(anchor) ? null
                : "no heading of " + target + " has the anchor #" + anchor;
    }

    /** The checks above rest on these rules; each is shown once on a small input. */
    @Test
    void snippetsLinksAndAnchorsAreReadAsGitHubAndTheMarkersSay() {
        List<Documentation.Snippet> snippets = Documentation.snippetsOf(Path.of("X.java"), List.of(
                "class X {", "    // snippet:begin", "    int a;", "", "        int b;", "    // snippet:end", "}"));
        assertEquals(List.of(new Documentation.Snippet(Path.of("X.java"), 2, "int a;\n\n    int b;\n")), snippets);
        assertThrows(IllegalStateException.class, () -> Documentation.snippetsOf(Path.of("X.java"),
                List.of("// snippet:begin", "int a;")));
        assertThrows(IllegalStateException.class, () -> Documentation.snippetsOf(Path.of("X.java"),
                List.of("// snippet:end")));
        assertEquals(List.of("defaults-of-arenacreate", "a-b", "a-b-1"),
                Documentation.anchors("# Defaults of `Arena.create()`\n```\n# not a heading\n```\n## A: b\n## A b\n"));
        assertEquals("request-bodies-arenas-against-the-heap-and-netty",
                Documentation.slug("Request bodies: arenas against the heap and Netty"));
        assertEquals(List.of("docs/a.md#b", "c.png"), Documentation.relativeLinks(
                "[a](docs/a.md#b) ![c](c.png \"C\") [web](https://x.org) `[code](d.md)`\n```\n[e](e.md)\n```\n"));
    }
}
