package io.arena4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.arena4j.Arena;
import io.arena4j.ArenaPool;
import java.util.List;
import org.junit.jupiter.api.Test;

class PoolBoundsTest {

    /** Three requests one after another share one arena, whose block waits idle for the next. */
    @Test
    void requestsOneAfterAnotherReuseOneArenaAndItsBlock() {
        List<String> lines = ExampleSupport.linesPrintedBy(() -> PoolBounds.main(new String[0]));
        assertEquals(List.of(
                "200 OK for /items/1",
                "200 OK for /items/2",
                "200 OK for /items/3",
                "Statistics[leased=0, idle=1, waiting=0, acquires=3, arenasCreated=1, arenasFreed=0, bytesTrimmed=0,"
                        + " reservedBytes=65536, peakReservedBytes=65536, leaks=0]"), lines);
        ExampleSupport.assertDocumentShows("docs/observability.md", lines.getLast());
    }

    @Test
    void thePoolHasTheBoundsItsCommentsSay() {
        try (ArenaPool pool = PoolBounds.boundedPool()) {
            assertEquals("ArenaPool[http, idle=0, leased=0, reserved=0, maxIdle=64, maxIdleBytes=8388608,"
                    + " maxTotalBytes=536870912, maxLeased=2000]", pool.toString());
        }
    }

    /** With every arena out, a request waits its 100 ms and gets the full server's answer. */
    @Test
    void aRequestThatFindsEveryArenaLeasedIsAnswered503() {
        try (ArenaPool pool = ArenaPool.builder().name("full").maxLeased(1).build();
             Arena held = pool.acquire()) {
            String answer = PoolBounds.serve(pool, "/items/4");
            assertTrue(answer.startsWith("503 Service Unavailable: All 1 arenas of pool full (maxLeased) stayed"
                    + " leased for PT0.1S"), answer);
            assertTrue(held.scope().isAlive(), "the held lease is untouched");
        }
    }
}
