package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the tests of the README's examples share: running one, and finding its code in the README. */
final class ExampleSupport {

    private ExampleSupport() {}

    /** Runs {@code example} and returns the lines it printed. */
    static List<String> linesPrintedBy(Runnable example) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            example.run();
        } finally {
            System.setOut(stdout);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    /**
     * Asserts that the README shows, as Java code blocks, exactly the {@code regions} regions of
     * the example between {@code // readme:begin} and {@code // readme:end}, de-indented by 8.
     */
    static void assertReadmeShows(String examplePath, int regions) throws IOException {
        String source = Files.readString(Path.of(examplePath));
        String readme = Files.readString(Path.of("README.md"));
        Matcher region = Pattern.compile("// readme:begin\n(.*?)\\s*// readme:end", Pattern.DOTALL).matcher(source);
        int found = 0;
        while (region.find()) {
            found++;
            String snippet = region.group(1).lines().map(line -> line.replaceFirst("^ {8}", ""))
                    .reduce("", (text, line) -> text + line + "\n");
            assertTrue(readme.contains("```java\n" + snippet + "```"), "README lacks, or changed:\n" + snippet);
        }
        assertEquals(regions, found, "regions in " + examplePath);
    }
}
