package io.arena4j.examples;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.arena4j.Arena;
import io.arena4j.SlotPool;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * An arena with a large request among small ones (docs/design.md), an arena's settings and a
 * slot pool (the README), each between {@code snippet:begin} and {@code snippet:end}: tests check
 * that the documentation shows exactly this code, which the build compiles, and what it prints.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=QuickStart}.
 */
public final class QuickStart {

    private QuickStart() {}

    /** Runs every example and prints what each allocator holds afterwards. */
    public static void main(String[] args) {
        arenaPerConnection();
        try (Arena arena = configuredArena()) {
            System.out.println("configured: " + arena);
        }
        sessionTable();
    }

    /** Serves three pretend requests of one connection from one arena. */
    static void arenaPerConnection() {
        // snippet:begin
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
        // snippet:end
    }

    /** An arena with settings other than the defaults. */
    static Arena configuredArena() {
        // snippet:begin
        Arena arena = Arena.builder()
                .blockSize(1 << 20)      // 1 MiB blocks
                .retainBytes(8 << 20)    // reset() keeps up to 8 MiB for the next round
                .maxBytes(64 << 20)      // never hold more than 64 MiB: ArenaLimitException beyond
                .zeroed(false)           // like malloc: the caller overwrites every slice
                .build();
        // snippet:end
        return arena;
    }

    /** Logs one session into a table like the fixed-size session pool's, and out again. */
    static void sessionTable() {
        // snippet:begin
        StructLayout SESSION = MemoryLayout.structLayout(
                MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("ip"),
                JAVA_INT.withName("port"),
                JAVA_INT.withName("sock"));
        try (SlotPool sessions = SlotPool.of(SESSION, 6000)) {   // one native allocation for 6000 slots
            MemorySegment session = sessions.acquire();           // zeroed; overflow slot if the table is empty
            session.set(JAVA_INT, 32, 8080);
            System.out.println(sessions);                         // SlotPool[..., inUse=1, ...]
            sessions.release(session);                            // back on the free list; now inaccessible
        }
        // snippet:end
    }
}
