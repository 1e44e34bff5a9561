package io.arena4j.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.arena4j.ArenaPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The server's command line: what {@code bash examples/http-server ...} hands to {@code main}. */
class ArenaHttpServerOptionsTest {

    @Test
    void withNoOptionsTheServerListensOnLoopbackPort8080InArenaModeWithBothPoolBounds() {
        ArenaHttpServer.Options options = ArenaHttpServer.parse(new String[0]);
        assertEquals("127.0.0.1", options.address().getHostString());
        assertEquals(8080, options.address().getPort());
        assertEquals(ArenaHttpServer.Mode.ARENA, options.mode());
        assertEquals(ArenaHttpServer.Limits.DEFAULT, options.limits());
        assertEquals("ArenaPool[http, idle=0, leased=0, reserved=0, maxIdle=256, maxIdleBytes=33554432,"
                + " maxTotalBytes=268435456, maxLeased=512]", describe(options.pool()));
    }

    @Test
    void everyOptionReachesTheServerOrItsPool() {
        ArenaHttpServer.Options options = ArenaHttpServer.parse(new String[] {"--host", "localhost", "--port", "0",
            "--mode", "heap", "--max-connections", "7", "--max-leased", "3", "--max-total-mib", "4",
            "--max-body-kib", "1024"});
        assertEquals("localhost", options.address().getHostString());
        assertTrue(options.address().getAddress().isLoopbackAddress(), options.address().toString());
        assertEquals(0, options.address().getPort());
        assertEquals(ArenaHttpServer.Mode.HEAP, options.mode());
        assertEquals(7, options.limits().maxConnections());
        assertEquals(ArenaHttpServer.Limits.DEFAULT.acquireTimeout(), options.limits().acquireTimeout());
        assertTrue(describe(options.pool()).endsWith(", maxTotalBytes=4194304, maxLeased=3]"),
                describe(options.pool()));
        assertEquals(1 << 20, options.limits().maxBodyBytes());
    }

    /** An arena holds a body of the limit, three times while a chunked one grows, beside its head and answer. */
    @ParameterizedTest
    @CsvSource({"0, 1048576", "256, 1048576", "1024, 3407872", "1048576, 3221487616"})
    void eachArenaHoldsTheLargestBodyThreeTimes(long maxBodyKib, long arenaMaxBytes) {
        ArenaHttpServer.Options options = ArenaHttpServer.parse(new String[] {"--max-body-kib", "" + maxBodyKib,
            "--max-total-mib", "4096"});
        assertEquals(maxBodyKib << 10, options.limits().maxBodyBytes());
        assertEquals(arenaMaxBytes, ArenaHttpServer.arenaMaxBytes(options.limits().maxBodyBytes()));
    }

    @Test
    void thePoolsArenasStopAtTheLimitThatFollowsTheBody() {
        ArenaHttpServer.Options options = ArenaHttpServer.parse(new String[] {"--max-body-kib", "1024"});
        try (ArenaPool pool = options.pool().registerMXBean(false).build();
             io.arena4j.Arena arena = pool.acquire()) {
            arena.allocate(3 << 20);                     // a 1 MiB body, three times
            arena.allocate(64 << 10);                    // head and answer
            assertThrows(io.arena4j.ArenaLimitException.class, () -> arena.allocate(256 << 10));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--bogus                   | unknown option --bogus",
        "--bogus 1                 | unknown option --bogus",
        "stray                     | unknown option stray",
        "--port                    | --port needs a value",
        "--port 1 --mode           | --mode needs a value",
        "--port x                  | --port needs a whole number from 0 to 65535, not x",
        "--port 65536              | --port needs a whole number from 0 to 65535, not 65536",
        "--port -1                 | --port needs a whole number from 0 to 65535, not -1",
        "--mode fast               | --mode is arena or heap, not fast",
        "--max-connections 0       | --max-connections needs a whole number from 1 to 2147483647, not 0",
        "--max-leased 2147483648   | --max-leased needs a whole number from 1 to 2147483647, not 2147483648",
        "--max-total-mib 0         | --max-total-mib needs a whole number from 1 to 8796093022207, not 0",
        "--max-body-kib -1         | --max-body-kib needs a whole number from 0 to 1048576, not -1",
        "--max-body-kib 1048577    | --max-body-kib needs a whole number from 0 to 1048576, not 1048577",
        "--max-body-kib 131072     | --max-body-kib 131072 needs arenas of up to 384 MiB,"
                + " more than --max-total-mib 256",
        "--max-total-mib 8796093022208 | --max-total-mib needs a whole number from 1 to 8796093022207, not 8796093022208",
    })
    void aBadOptionIsRefusedByName(String line, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ArenaHttpServer.parse(line.split(" ")));
        assertEquals(message, e.getMessage());
    }

    @Test
    void aHostThatDoesNotResolveIsRefusedBeforeAnythingStarts() {
        // A space is never part of a host name, so the resolver refuses it without asking a server.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ArenaHttpServer.parse(new String[] {"--host", "no such host"}));
        assertEquals("--host no such host does not resolve", e.getMessage());
    }

    /** main() asks for platform pollers (usePlatformPollersUnlessTold), never over the command line's choice. */
    @Test
    void theServerDefaultsToPlatformPollersAndKeepsAModeItWasGiven() {
        String before = System.getProperty("jdk.pollerMode");
        try {
            System.clearProperty("jdk.pollerMode");
            ArenaHttpServer.usePlatformPollersUnlessTold();
            assertEquals("1", System.getProperty("jdk.pollerMode"));
            System.setProperty("jdk.pollerMode", "2");
            ArenaHttpServer.usePlatformPollersUnlessTold();
            assertEquals("2", System.getProperty("jdk.pollerMode"));
        } finally {
            if (before == null) {
                System.clearProperty("jdk.pollerMode");
            } else {
                System.setProperty("jdk.pollerMode", before);
            }
        }
    }

    /** The pool the options would build, as its toString describes its settings; closed again at once. */
    private static String describe(ArenaPool.Builder settings) {
        try (ArenaPool pool = settings.registerMXBean(false).build()) {
            return pool.toString();
        }
    }
}
