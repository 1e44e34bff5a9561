package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** What the tests of the examples share: running one, and finding what it printed in the documentation. */
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
     * Asserts that {@code document} (README.md or a file in docs/) shows {@code printed}, a line an
     * example printed, so that what the documentation says a run prints is what it prints today.
     */
    static void assertDocumentShows(String document, String printed) {
        assertTrue(Documentation.read(Documentation.ROOT.resolve(document)).contains(printed),
                document + " does not show what the example printed: " + printed);
    }
}
