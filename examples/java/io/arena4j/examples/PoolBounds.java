package io.arena4j.examples;

import io.arena4j.Arena;
import io.arena4j.ArenaPool;
import io.arena4j.ArenaPoolExhaustedException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * The README's section on pools: a pool whose two bounds make a whole server's native memory one
 * number, and a request served from a lease that waits a bounded time. Each snippet lies between
 * {@code snippet:begin} and {@code snippet:end}; a test checks that the documentation shows exactly
 * this code, and that docs/observability.md shows the statistics it prints.
 *
 * <p>Run it with {@code mvn -q test-compile exec:exec@example -Dexample=PoolBounds}.
 */
public final class PoolBounds {

    private PoolBounds() {}

    /** Serves three requests one after another from the pool, and prints its statistics. */
    public static void main(String[] args) {
        try (ArenaPool pool = boundedPool()) {
            for (int request = 1; request <= 3; request++) {
                System.out.println(serve(pool, "/items/" + request));
            }
            System.out.println(pool.statistics());
        }
    }

    /** A pool for a server of up to 2000 connections that never holds more than 512 MiB. */
    static ArenaPool boundedPool() {
        // snippet:begin
        ArenaPool pool = ArenaPool.builder()
                .name("http")                                // in its toString, MXBean, JFR events, leak reports
                .arenas(Arena.builder().maxBytes(1 << 20))   // one connection's arena: at most 1 MiB
                .maxTotalBytes(512L << 20)   // all arenas of the pool, leased and idle, never hold more
                .maxLeased(2000)             // at most this many arenas out at once
                .build();
        // snippet:end
        return pool;
    }

    /** One request: an arena from the pool if one comes within 100 ms, or the answer of a full server. */
    static String serve(ArenaPool pool, String target) {
        // snippet:begin
        try (Arena arena = pool.acquire(Duration.ofMillis(100))) {   // waits at most 100 ms
            MemorySegment answer = arena.allocateFrom("200 OK for " + target);
            return answer.getString(0);
        } catch (ArenaPoolExhaustedException full) {                 // maxLeased arenas stayed out
            return "503 Service Unavailable: " + full.getMessage();
        }                                                            // close() gives the arena back
        // snippet:end
    }
}
