package io.arena4j.examples;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.arena4j.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The README's usage example: one arena serves three requests of one connection.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=QuickStart}.
 */
public final class QuickStart {

    private QuickStart() {}

    /** Serves three pretend requests from one arena and prints what the arena holds after each. */
    public static void main(String[] args) {
        // quick-start:begin
        try (Arena arena = Arena.create()) {                 // one arena per connection
            for (int request = 1; request <= 3; request++) {
                MemorySegment line = arena.allocateFrom("GET /items/" + request + " HTTP/1.1");
                MemorySegment ids = arena.allocate(JAVA_LONG, 100);      // reads as zeros
                for (int i = 0; i < 100; i++) {
                    ids.setAtIndex(JAVA_LONG, i, request * 1000L + i);
                }
                MemorySegment body = arena.allocate(256 * 1024);        // large: a block of its own
                body.fill((byte) '.');
                System.out.println(line.getString(0) + " -> " + arena);
                arena.reset();   // frees all three at once; line, ids and body are now inaccessible
            }
        }                        // close() gives the kept block back to the C library
        // quick-start:end
    }
}
