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
import org.junit.jupiter.api.Test;

class QuickStartTest {

    @Test
    void everyExampleRunsAndPrintsWhatItHolds() {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            QuickStart.main(new String[0]);
        } finally {
            System.setOut(stdout);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(5, lines.size(), lines.toString());
        for (int request = 1; request <= 3; request++) {
            String line = lines.get(request - 1);
            assertTrue(line.startsWith("GET /items/" + request + " HTTP/1.1 -> Arena["), line);
            assertTrue(line.contains("1 regular, 1 large"), "the body got a block of its own: " + line);
        }
        assertTrue(lines.get(3).contains("blockSize=1048576, retain=8388608, max=67108864, not zeroed"), lines.get(3));
        assertTrue(lines.get(4).contains("capacity=6000, available=5999, inUse=1"), lines.get(4));
    }

    /** The README promises that its snippets are this file's code, which the build compiles. */
    @Test
    void theReadmeShowsExactlyTheCodeOfTheExamples() throws IOException {
        String source = Files.readString(Path.of("examples/java/io/arena4j/examples/QuickStart.java"));
        String readme = Files.readString(Path.of("README.md"));
        Matcher region = Pattern.compile("// readme:begin\n(.*?)\\s*// readme:end", Pattern.DOTALL).matcher(source);
        int regions = 0;
        while (region.find()) {
            regions++;
            String snippet = region.group(1).lines().map(line -> line.replaceFirst("^ {8}", ""))
                    .reduce("", (text, line) -> text + line + "\n");
            assertTrue(readme.contains("```java\n" + snippet + "```"), "README lacks, or changed:\n" + snippet);
        }
        assertEquals(3, regions);
    }
}
