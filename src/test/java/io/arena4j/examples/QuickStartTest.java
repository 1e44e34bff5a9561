package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class QuickStartTest {

    @Test
    void everyExampleRunsAndPrintsWhatItHolds() {
        List<String> lines = ExampleSupport.linesPrintedBy(() -> QuickStart.main(new String[0]));
        assertEquals(5, lines.size(), lines.toString());
        for (int request = 1; request <= 3; request++) {
            String line = lines.get(request - 1);
            assertTrue(line.startsWith("GET /items/" + request + " HTTP/1.1 -> Arena["), line);
            assertTrue(line.contains("1 regular, 1 large"), "the body got a block of its own: " + line);
        }
        assertTrue(lines.get(3).contains("blockSize=1048576, retain=8388608, max=67108864, not zeroed"), lines.get(3));
        assertTrue(lines.get(4).contains("capacity=6000, available=5999, inUse=1"), lines.get(4));
        ExampleSupport.assertDocumentShows("docs/design.md", lines.getFirst());
    }
}
