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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The launcher behind {@code -Dexample=NAME}, and the README's table of what it launches. */
class ExamplesTest {

    /** What one launch printed and returned. */
    record Launch(int status, String out, String err) {}

    static Launch launch(String name) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Examples.run(name, new String[0], new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Launch(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutANameTheLauncherListsEveryExampleAndHowToRunOne() throws Exception {
        Launch launch = launch("");
        assertEquals(new Launch(0, Examples.list(), ""), launch);
        assertTrue(launch.out().startsWith("Run an example with mvn -q test-compile exec:exec@example -Dexample=NAME"),
                launch.out());
        for (Examples.Example example : Examples.ALL) {
            assertTrue(launch.out().contains("  " + example.name() + " "), example.name());
        }
    }

    @Test
    void aNameItDoesNotKnowIsRefusedWithTheListAndStatusTwo() throws Exception {
        Launch launch = launch("Nope");
        assertEquals(new Launch(2, "", "error: no example is called Nope\n" + Examples.list()), launch);
    }

    @Test
    void aNameItKnowsRunsThatExample() {
        List<String> lines = ExampleSupport.linesPrintedBy(() -> {
            try {
                assertEquals(0, launch("FirstProgram").status());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.getFirst().startsWith("GET /hello/1 HTTP/1.1"), lines.toString());
    }

    /** A new example with a main is listed, so that -Dexample finds it. */
    @Test
    void theLauncherKnowsEveryExampleWithAMain() throws IOException {
        List<String> withMain;
        try (Stream<Path> sources = Files.list(Path.of("examples/java/io/arena4j/examples"))) {
            withMain = sources.filter(path -> path.toString().endsWith(".java")).filter(ExamplesTest::hasMain)
                    .map(path -> path.getFileName().toString().replace(".java", ""))
                    .filter(name -> !name.equals("Examples")).sorted().toList();
        }
        assertEquals(withMain, Examples.ALL.stream().map(Examples.Example::name).sorted().toList());
    }

    /** The README's table of examples gives the command of each. */
    @Test
    void theReadmeSaysHowToRunEachExample() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        for (Examples.Example example : Examples.ALL) {
            assertTrue(readme.contains("-Dexample=" + example.name() + "`"), "README: " + example.name());
        }
    }

    private static boolean hasMain(Path source) {
        try {
            return Files.readString(source).contains("public static void main(String[] args)");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
