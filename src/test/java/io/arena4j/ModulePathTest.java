package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library as a user's program meets it: a small program compiled against the built classes
 * and run in a JVM of its own, once as a module that requires {@code io.arena4j} on the module
 * path, once on the class path.
 */
class ModulePathTest {

    private static final String PROGRAM = """
            package demo;

            import io.arena4j.Arena;
            import java.lang.foreign.MemorySegment;
            import java.lang.foreign.ValueLayout;

            public class Main {
                public static void main(String[] args) {
                    try (Arena arena = Arena.create()) {
                        MemorySegment numbers = arena.allocate(ValueLayout.JAVA_INT, 3);
                        for (int i = 0; i < 3; i++) {
                            numbers.setAtIndex(ValueLayout.JAVA_INT, i, i + 1);
                        }
                        try (Arena.Checkpoint request = arena.checkpoint()) {
                            arena.allocate(100);
                        }
                        System.out.println("module=" + Arena.class.getModule().getName()
                                + " sum=" + (numbers.getAtIndex(ValueLayout.JAVA_INT, 0)
                                + numbers.getAtIndex(ValueLayout.JAVA_INT, 1)
                                + numbers.getAtIndex(ValueLayout.JAVA_INT, 2)));
                    }
                }
            }
            """;

    /** Gets arenas four ways, printing what each attempt threw. */
    private static final String DENIED = """
            package demo;

            import io.arena4j.Arena;
            import io.arena4j.ArenaPool;
            import java.util.List;
            import java.util.function.Supplier;

            public class Denied {
                public static void main(String[] args) {
                    ArenaPool pool = ArenaPool.builder().build();
                    List<Supplier<Arena>> ways = List.of(Arena::create, () -> Arena.builder().build(),
                            pool::acquire, pool::acquire);
                    for (Supplier<Arena> way : ways) {
                        try (Arena arena = way.get()) {
                            System.out.println("created");
                        } catch (Throwable e) {
                            System.out.println(e.getClass().getName() + ": " + e.getMessage());
                        }
                    }
                    System.out.println(pool.statistics().leased() + " leased");
                }
            }
            """;

    @TempDir
    static Path work;
    private static Path library;
    private static Path asModule;
    private static Path onClassPath;

    @BeforeAll
    static void compileTheProgram() throws IOException, URISyntaxException {
        library = Path.of(Arena.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.exists(library.resolve("module-info.class")), "the library is built as a module");

        Path moduleSources = write(work.resolve("module-src"), "module demo { requires io.arena4j; }");
        asModule = work.resolve("module-classes");
        javac("--module-path", library.toString(), "-d", asModule.toString(),
                moduleSources.resolve("module-info.java").toString(), moduleSources.resolve("demo/Main.java").toString());

        Path plainSources = write(work.resolve("plain-src"), null);
        Files.writeString(plainSources.resolve("demo/Denied.java"), DENIED);
        onClassPath = work.resolve("plain-classes");
        javac("--class-path", library.toString(), "-d", onClassPath.toString(),
                plainSources.resolve("demo/Main.java").toString(), plainSources.resolve("demo/Denied.java").toString());
    }

    private static Path write(Path sources, String moduleInfo) throws IOException {
        Files.createDirectories(sources.resolve("demo"));
        Files.writeString(sources.resolve("demo/Main.java"), PROGRAM);
        if (moduleInfo != null) {
            Files.writeString(sources.resolve("module-info.java"), moduleInfo);
        }
        return sources;
    }

    private static void javac(String... args) {
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, args), "javac failed");
    }

    @Test
    void onTheModulePathWithNativeAccessGrantedItRunsWithoutAWarning() throws Exception {
        Run run = java("--enable-native-access=io.arena4j",
                "--module-path", library + File.pathSeparator + asModule, "-m", "demo/demo.Main");

        assertEquals(0, run.exitCode, run.toString());
        assertEquals("module=io.arena4j sum=6", run.out.strip());
        assertEquals("", run.err, "nothing on standard error, no warning above all");
    }

    @Test
    void onTheModulePathWithoutTheFlagTheJdkWarnsAndNamesTheFlag() throws Exception {
        Run run = java("--module-path", library + File.pathSeparator + asModule, "-m", "demo/demo.Main");

        assertEquals(0, run.exitCode, run.toString());
        assertTrue(run.err.contains("WARNING: A restricted method"), run.err);
        assertTrue(run.err.contains("--enable-native-access=io.arena4j"), run.err);
    }

    @Test
    void onTheClassPathItRunsAsPartOfTheUnnamedModule() throws Exception {
        Run run = java("--enable-native-access=ALL-UNNAMED",
                "--class-path", library + File.pathSeparator + onClassPath, "demo.Main");

        assertEquals(0, run.exitCode, run.toString());
        assertEquals("module=null sum=6", run.out.strip());
        assertFalse(run.err.contains("WARNING"), run.err);
    }

    @Test
    void whenTheJvmDeniesNativeAccessEveryArenaIsRefusedWithIllegalCallerException() throws Exception {
        Run run = java("--illegal-native-access=deny",
                "--class-path", library + File.pathSeparator + onClassPath, "demo.Denied");

        assertEquals(0, run.exitCode, run.toString());
        List<String> lines = run.out.strip().lines().toList();
        assertEquals(5, lines.size(), run.toString());
        for (String line : lines.subList(0, 4)) {
            assertTrue(line.startsWith("java.lang.IllegalCallerException: Illegal native access from an unnamed module"),
                    "each attempt, not only the first: " + run);
        }
        assertEquals("0 leased", lines.get(4), "a refused acquire leases nothing");
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run java(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .redirectOutput(work.resolve("out.txt").toFile())
                .redirectError(work.resolve("err.txt").toFile())
                .start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the program did not end");
        return new Run(process.exitValue(),
                Files.readString(work.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(work.resolve("err.txt"), StandardCharsets.UTF_8));
    }
}
