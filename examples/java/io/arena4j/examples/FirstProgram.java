package io.arena4j.examples;

/*
 * The README's first program, whole, from its imports on: a test runs it and checks that the
 * README shows exactly this code. Its imports name io.arena4j.Arena on its own, because
 * "import java.lang.foreign.*; import io.arena4j.*;" makes the name Arena ambiguous.
 */

// snippet:begin
import io.arena4j.Arena;                    // arena4j's Arena, itself a java.lang.foreign.Arena
import java.lang.foreign.MemorySegment;

public final class FirstProgram {

    public static void main(String[] args) {
        try (Arena arena = Arena.create()) {                    // one arena per connection
            for (int request = 1; request <= 3; request++) {
                MemorySegment line = arena.allocateFrom("GET /hello/" + request + " HTTP/1.1");
                System.out.println(line.getString(0) + ": " + arena.statistics().allocatedBytes()
                        + " bytes in use");
                arena.reset();               // frees every slice at once: line is now inaccessible
            }
        }                                    // close() gives the kept block back to the C library
    }
}
// snippet:end
