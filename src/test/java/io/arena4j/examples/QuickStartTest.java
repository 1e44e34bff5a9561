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
import org.junit.jupiter.api.Test;

class QuickStartTest {

    @Test
    void servesThreeRequestsAndKeepsOnlyTheLargeBlockOfTheCurrentOne() {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            QuickStart.main(new String[0]);
        } finally {
            System.setOut(stdout);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, lines.size(), lines.toString());
        for (int request = 1; request <= 3; request++) {
            String line = lines.get(request - 1);
            assertTrue(line.startsWith("GET /items/" + request + " HTTP/1.1 -> Arena["), line);
            assertTrue(line.contains("1 regular, 1 large"), line);
        }
    }

    /** The README promises that its usage example is this file's code, which the build compiles. */
    @Test
    void theReadmeShowsExactlyTheCodeOfTheExample() throws IOException {
        String source = Files.readString(Path.of("examples/java/io/arena4j/examples/QuickStart.java"));
        String example = source.substring(source.indexOf("// quick-start:begin\n") + "// quick-start:begin\n".length(),
                source.indexOf("        // quick-start:end"));
        String unindented = example.lines().map(line -> line.replaceFirst("^ {8}", ""))
                .reduce("", (text, line) -> text + line + "\n");
        String readme = Files.readString(Path.of("README.md"));
        assertTrue(readme.contains("```java\n" + unindented + "```"), "README usage example differs from QuickStart");
    }
}
