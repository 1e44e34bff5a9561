package io.arena4j;

import static io.arena4j.TestSupport.allBytes;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Arenas that are never closed: reported through System.Logger (here, java.util.logging) and
 * their memory freed once nothing can reach them, at each level of detection; and never while a
 * slice of theirs can still be reached. Collections are forced and waited for, with a bound.
 */
class LeakDetectionTest {

    private static final long BLOCK = 4096;

    @RegisterExtension
    final LeakReports reports = new LeakReports();

    /** Leases an arena, allocates in it and drops it; returns a weak reference to it. */
    private static WeakReference<Arena> leak(ArenaPool pool) {
        Arena arena = pool.acquire();
        arena.allocate(100).fill((byte) 1);
        return new WeakReference<>(arena);
    }

    private static ArenaPool pool(String name, CountingBlocks blocks, LeakDetection level) {
        return ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK)).name(name)
                .leakDetection(level).build();
    }

    @Test
    void everyLeakedLeaseIsReportedWithWhereItWasAcquiredAndItsMemoryFreed() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = pool("leaky-every", blocks, LeakDetection.EVERY);
        leak(pool);

        assertTrue(reports.collectUntil(() -> !reports.of("leaky-every").isEmpty()), "no report");

        LogRecord report = reports.of("leaky-every").getFirst();
        assertEquals(java.util.logging.Level.SEVERE, report.getLevel());
        assertTrue(report.getMessage().contains("An arena of pool leaky-every became unreachable without being closed"),
                report.getMessage());
        assertTrue(report.getMessage().contains(BLOCK + " bytes"), report.getMessage());
        assertNotNull(report.getThrown());
        assertEquals("leak", report.getThrown().getStackTrace()[0].getMethodName(),
                "the report shows where the arena was acquired, without the library's own frames");
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(0, figures.leased());
        assertEquals(1, figures.leaks());
        assertEquals(0, figures.reservedBytes());
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void aClosedArenaIsNeverReported() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = pool("closed-every", blocks, LeakDetection.EVERY);
        WeakReference<Arena> closed;
        try (Arena arena = pool.acquire()) {
            arena.allocate(100);
            closed = new WeakReference<>(arena);
        }
        WeakReference<Arena> leaked = leak(pool);          // the control: this one is reported

        assertTrue(reports.collectUntil(() -> closed.get() == null && !reports.of("closed-every").isEmpty()));
        assertEquals(1, reports.of("closed-every").size());
        assertEquals(null, leaked.get());
        assertEquals(1, pool.statistics().leaks());
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void withDetectionOffALeakedArenaKeepsItsMemory() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool off = pool("leaky-off", blocks, LeakDetection.OFF);
        ArenaPool every = pool("leaky-control", new CountingBlocks(), LeakDetection.EVERY);
        WeakReference<Arena> unwatched = leak(off);
        leak(every);

        assertTrue(reports.collectUntil(() -> unwatched.get() == null && !reports.of("leaky-control").isEmpty()));
        assertTrue(reports.of("leaky-off").isEmpty());
        assertEquals(1, off.statistics().leased(), "lost to the pool, as before leak detection existed");
        assertEquals(BLOCK, blocks.outstandingBytes());
        off.close();
        every.close();
    }

    @Test
    void sampledDetectionWatchesOneLeaseInEverySamplingInterval() throws Exception {
        int interval = LeakDetection.samplingInterval();
        ArenaPool pool = pool("leaky-sampled", new CountingBlocks(), LeakDetection.SAMPLED);
        WeakReference<Arena> unwatched = leak(pool);      // lease 0
        for (int i = 1; i < interval - 1; i++) {
            pool.acquire().close();
        }
        leak(pool);                                       // the last lease of the interval: watched
        pool.acquire().close();                           // the first of the next interval: not watched

        assertTrue(reports.collectUntil(() -> unwatched.get() == null && !reports.of("leaky-sampled").isEmpty()));
        assertEquals(1, reports.of("leaky-sampled").size());
        assertEquals(1, pool.statistics().leaks());
        assertEquals(1, pool.statistics().leased(), "the unwatched lease stays lost");
        pool.close();
    }

    @Test
    void aSliceKeptAfterItsArenaWasDroppedKeepsItsOwnBytesUntilItIsDroppedToo() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = pool("leaky-slice", blocks, LeakDetection.EVERY);
        Arena arena = pool.acquire();
        MemorySegment kept = arena.allocate(1000);
        kept.fill((byte) 0x5A);
        Arena.Checkpoint request = arena.checkpoint();
        MemorySegment inRequest = arena.allocate(1000);
        inRequest.fill((byte) 0x6B);
        WeakReference<Arena> dropped = new WeakReference<>(arena);
        WeakReference<Arena.Checkpoint> droppedRequest = new WeakReference<>(request);
        arena = null;
        request = null;

        assertTrue(reports.collectUntil(() -> dropped.get() == null && droppedRequest.get() == null),
                "the arena itself was collected");
        assertTrue(reports.of("leaky-slice").isEmpty(), "its slices are still reachable: nothing recovered");
        assertEquals(1, pool.statistics().leased());
        long held = blocks.outstandingBytes();
        try (Arena next = pool.acquire()) {              // another connection writes its own bytes
            for (int i = 0; i < 10; i++) {
                next.allocate(1000).fill((byte) 0x77);
            }
        }
        assertTrue(allBytes(kept, 0x5A), "the kept slice reads its own bytes");
        assertTrue(allBytes(inRequest, 0x6B), "so does one of a checkpoint level");
        assertTrue(blocks.outstandingBytes() >= held);

        kept = null;
        leak(pool("leaky-slice-control", new CountingBlocks(), LeakDetection.EVERY));
        assertTrue(reports.collectUntil(() -> !reports.of("leaky-slice-control").isEmpty()), "the control leak was found");
        assertTrue(reports.of("leaky-slice").isEmpty(), "a slice of the request level still holds the memory");
        assertTrue(allBytes(inRequest, 0x6B));
        inRequest = null;
        assertTrue(reports.collectUntil(() -> !reports.of("leaky-slice").isEmpty()), "recovered once no slice is left");
        assertEquals(0, pool.statistics().leased());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * Only a live slice may keep a leaked arena's memory. A slice of an earlier round, or of a
     * closed checkpoint, is dead: it must not keep the leak from being found, and in a pool
     * under maxLeased the leaked lease's permit must come back.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reset", "checkpoint"})
    void aDeadSliceDoesNotKeepALeakedLeaseFromBeingRecovered(String endedBy) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        String name = "leaky-dead-slice-" + endedBy;
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK)).name(name)
                .leakDetection(LeakDetection.EVERY).maxLeased(1).build();
        MemorySegment dead = leakKeepingADeadSlice(pool.acquire(), endedBy);

        assertTrue(reports.collectUntil(() -> !reports.of(name).isEmpty()), "the leak was never found");
        assertEquals(1, pool.statistics().leaks());
        assertEquals(0, blocks.outstandingBytes(), "its memory was freed");
        assertFalse(dead.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> dead.get(JAVA_BYTE, 0));
        try (Arena next = pool.acquire(Duration.ZERO)) {
            assertEquals(0, pool.statistics().waiting(), "the leaked lease's permit came back");
            next.allocate(10);
        }
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void aDeadSliceDoesNotKeepALeakedStandaloneArenaFromBeingRecovered() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        MemorySegment dead = leakKeepingADeadSlice(
                Arena.builder().blockAllocator(blocks).blockSize(BLOCK).leakDetection(LeakDetection.EVERY).build(),
                "reset");

        assertTrue(reports.collectUntil(() -> blocks.outstandingBytes() == 0), "the leak was never recovered");
        assertFalse(dead.scope().isAlive());
        blocks.assertAllFreed();
    }

    /** Allocates a slice, ends its lifetime, and drops the arena: returns the dead slice. */
    private static MemorySegment leakKeepingADeadSlice(Arena arena, String endedBy) {
        MemorySegment slice;
        if (endedBy.equals("reset")) {
            slice = arena.allocate(64);
            arena.reset();
        } else {
            try (var _ = arena.checkpoint()) {
                slice = arena.allocate(64);
            }
        }
        arena.allocate(10);                  // a live generation, which the dropped arena takes along
        return slice;
    }

    @Test
    void aStandaloneArenaThatLeaksIsReportedAndFreed() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        Arena.builder().blockAllocator(blocks).blockSize(BLOCK).leakDetection(LeakDetection.EVERY).build()
                .allocate(10);

        assertTrue(reports.collectUntil(() -> blocks.outstandingBytes() == 0
                && reports.all().stream().anyMatch(r -> r.getMessage().startsWith("A standalone arena"))));
        blocks.assertAllFreed();
    }

    @Test
    void theSystemPropertyChoosesTheDefaultLevel() {
        String before = System.getProperty(LeakDetection.PROPERTY);
        try {
            System.setProperty(LeakDetection.PROPERTY, "Every");
            assertEquals(LeakDetection.EVERY, LeakDetection.fromSystemProperty());
            System.setProperty(LeakDetection.PROPERTY, "off");
            assertEquals(LeakDetection.OFF, LeakDetection.fromSystemProperty());
            System.setProperty(LeakDetection.PROPERTY, "paranoid");
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    LeakDetection::fromSystemProperty);
            assertTrue(refused.getMessage().contains("paranoid"), refused.getMessage());
            System.clearProperty(LeakDetection.PROPERTY);
            assertEquals(LeakDetection.SAMPLED, LeakDetection.fromSystemProperty());
        } finally {
            if (before == null) {
                System.clearProperty(LeakDetection.PROPERTY);
            } else {
                System.setProperty(LeakDetection.PROPERTY, before);
            }
        }
    }

    @Test
    void aLevelSetInABuilderLeavesTheSystemPropertyUnread() {
        String before = System.getProperty(LeakDetection.PROPERTY);
        try {
            System.setProperty(LeakDetection.PROPERTY, "paranoid");
            assertThrows(IllegalArgumentException.class, Arena::create, "the property is read when nothing is set");
            assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().build());
            Arena.builder().leakDetection(LeakDetection.OFF).build().close();
            ArenaPool.builder().leakDetection(LeakDetection.OFF).build().close();
            ArenaPool.builder().arenas(Arena.builder().leakDetection(LeakDetection.OFF)).build().close();
        } finally {
            if (before == null) {
                System.clearProperty(LeakDetection.PROPERTY);
            } else {
                System.setProperty(LeakDetection.PROPERTY, before);
            }
        }
    }

    @Test
    void aLeakIsAlsoAFlightRecorderEvent() throws Exception {
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("io.arena4j.LeakDetected");
            recording.start();
            ArenaPool pool = pool("leaky-jfr", new CountingBlocks(), LeakDetection.EVERY);
            leak(pool);
            assertTrue(reports.collectUntil(() -> !reports.of("leaky-jfr").isEmpty()));
            recording.stop();
            java.nio.file.Path file = java.nio.file.Files.createTempFile("leak", ".jfr");
            try {
                recording.dump(file);
                var events = jdk.jfr.consumer.RecordingFile.readAllEvents(file).stream()
                        .filter(e -> e.getEventType().getName().equals("io.arena4j.LeakDetected"))
                        .filter(e -> "leaky-jfr".equals(e.getString("pool"))).toList();
                assertEquals(1, events.size());
                assertEquals(BLOCK, events.getFirst().getLong("recoveredBytes"));
                assertTrue(events.getFirst().getString("madeAt").contains("LeakDetectionTest.leak"));
            } finally {
                java.nio.file.Files.delete(file);
            }
            pool.close();
        }
    }
}
