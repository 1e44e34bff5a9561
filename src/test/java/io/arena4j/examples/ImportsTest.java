package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the README says of imports: io.arena4j.Arena and java.lang.foreign.Arena share a simple
 * name, so the two packages imported on demand leave {@code Arena} ambiguous, and importing
 * io.arena4j.Arena by name settles it.
 */
class ImportsTest {

    private static final String USE = "\nclass Use { MemorySegment use(Arena arena) { return arena.allocate(8); } }\n";

    @TempDir
    Path classes;

    @Test
    void bothPackagesOnDemandMakeArenaAmbiguous() {
        String errors = compile("import java.lang.foreign.*;\nimport io.arena4j.*;" + USE);
        assertTrue(errors.contains("reference to Arena is ambiguous"), errors);
    }

    @Test
    void arenaImportedByNameWins() {
        assertEquals("", compile("import java.lang.foreign.*;\nimport io.arena4j.*;\nimport io.arena4j.Arena;" + USE));
        assertEquals("", compile("import io.arena4j.Arena;\nimport java.lang.foreign.MemorySegment;" + USE));
    }

    /** Compiles {@code source} against the library; returns javac's errors, empty if it compiled. */
    private String compile(String source) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "the tests run on a JDK");
        String library = Path.of(io.arena4j.Arena.class.getProtectionDomain().getCodeSource().getLocation()
                .getPath()).toString();
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///Use.java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        StringWriter errors = new StringWriter();
        boolean compiled = javac.getTask(errors, null, null,
                List.of("-classpath", library, "-d", classes.toString(), "-proc:none"), null, List.of(file)).call();
        assertEquals(compiled, Files.exists(classes.resolve("Use.class")), "a class file exactly when it compiled");
        return errors.toString();
    }
}
