package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * A pool's figures after a scripted sequence of leases, each worked out by hand, and checked
 * against a counter of the native blocks actually allocated and freed.
 */
class ArenaPoolStatisticsTest {

    private static final long KiB = 1024;

    @Test
    void everyFigureIsExactAfterAScriptedSequence() {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(4 * KiB)
                .retainBytes(4 * KiB))
                .maxIdle(1).leakDetection(LeakDetection.OFF).build();
        assertEquals(new ArenaPool.Statistics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), pool.statistics());

        Arena first = pool.acquire();
        Arena second = pool.acquire();
        first.allocate(100);
        for (int i = 0; i < 3; i++) {
            second.allocate(1000);
            second.allocate(1000);
            second.allocate(1000);
            second.allocate(1000);                // the fourth of each round fills a block
        }
        second.allocate(10 * KiB);                // large
        assertEquals(new ArenaPool.Statistics(2, 0, 0, 2, 2, 0, 0, 4 * KiB + 3 * 4 * KiB + 10 * KiB,
                4 * KiB + 3 * 4 * KiB + 10 * KiB, 0), pool.statistics());

        second.close();                           // keeps one block: trims two and the large one
        assertEquals(new ArenaPool.Statistics(1, 1, 0, 2, 2, 0, 2 * 4 * KiB + 10 * KiB, 2 * 4 * KiB,
                26 * KiB, 0), pool.statistics());

        first.close();                            // beyond maxIdle: freed whole
        assertEquals(new ArenaPool.Statistics(0, 1, 0, 2, 2, 1, 2 * 4 * KiB + 10 * KiB + 4 * KiB, 4 * KiB,
                26 * KiB, 0), pool.statistics());

        Arena third = pool.acquire();             // the idle one
        third.allocate(10);
        assertEquals(new ArenaPool.Statistics(1, 0, 0, 3, 2, 1, 22 * KiB, 4 * KiB, 26 * KiB, 0), pool.statistics());
        third.close();
        pool.close();
        assertEquals(new ArenaPool.Statistics(0, 0, 0, 3, 2, 2, 22 * KiB, 0, 26 * KiB, 0), pool.statistics());
        assertEquals(26 * KiB, blocks.peakBytes(), "the pool's peak is the native peak");
        blocks.assertAllFreed();
    }

    @Test
    void theReservedFigureIsWhatTheBlocksHoldAtEveryStep() {
        CountingBlocks blocks = new CountingBlocks();
        try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(4 * KiB))
                .build()) {
            Arena arena = pool.acquire();
            for (int i = 0; i < 200; i++) {
                arena.allocate(i * 37L % 3000 + 1);
                assertEquals(blocks.outstandingBytes(), pool.reservedBytes());
                if (i % 50 == 49) {
                    arena.reset();
                    assertEquals(blocks.outstandingBytes(), pool.reservedBytes());
                }
            }
            arena.close();
            assertEquals(blocks.outstandingBytes(), pool.reservedBytes());
            assertEquals(blocks.peakBytes(), pool.statistics().peakReservedBytes());
        }
    }

    @Test
    void theMXBeanShowsTheStatisticsUntilThePoolCloses() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("io.arena4j:type=ArenaPool,name=\"statistics-test\"");
        ArenaPool pool = ArenaPool.builder().name("statistics-test").registerMXBean(true).build();
        ArenaPoolMXBean bean = JMX.newMXBeanProxy(server, name, ArenaPoolMXBean.class);
        try (Arena arena = pool.acquire()) {
            arena.allocate(10);
            assertEquals("statistics-test", bean.getName());
            assertEquals(1, bean.getLeased());
            assertEquals(1, bean.getAcquires());
            assertEquals(Arena.DEFAULT_BLOCK_SIZE, bean.getReservedBytes());
            assertEquals(Arena.DEFAULT_BLOCK_SIZE, server.getAttribute(name, "PeakReservedBytes"));
        }
        assertEquals(1, bean.getIdle());

        IllegalStateException twice = assertThrows(IllegalStateException.class,
                () -> ArenaPool.builder().name("statistics-test").registerMXBean(true).build());
        assertTrue(twice.getMessage().contains("statistics-test"), twice.getMessage());

        pool.close();
        assertFalse(server.isRegistered(name));
    }

    @Test
    void poolsAreNamedInTheOrderTheyAreBuiltUnlessNamed() {
        try (ArenaPool unnamed = ArenaPool.builder().build();
             ArenaPool named = ArenaPool.builder().name("http").build()) {
            assertTrue(unnamed.toString().matches("ArenaPool\\[arena-pool-\\d+, .*"), unnamed.toString());
            assertTrue(named.toString().startsWith("ArenaPool[http, "), named.toString());
            assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().name(" "));
        }
    }

    /**
     * The budget counts a block's bytes before it records the peak: a snapshot taken in between,
     * while other threads lease and allocate, must still show reserved within the peak.
     */
    @Test
    void aSnapshotNeverShowsMoreReservedThanItsPeakWhileOtherThreadsAllocate() throws InterruptedException {
        ArenaPool pool = ArenaPool.builder().leakDetection(LeakDetection.OFF).maxIdle(0)
                .arenas(Arena.builder().blockSize(4096)).build();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> workers = new ArrayList<>();
        List<ArenaPool.Statistics> broken = new ArrayList<>();
        try {
            for (int w = 0; w < 4; w++) {
                workers.add(Thread.ofPlatform().start(() -> {
                    while (running.get()) {
                        try (Arena arena = pool.acquire()) {
                            arena.allocate(100);
                            arena.allocate(3000);   // a large request: a block of its own
                        }
                    }
                }));
            }
            for (int i = 0; i < 200_000 && broken.size() < 3; i++) {
                ArenaPool.Statistics figures = pool.statistics();
                if (figures.reservedBytes() > figures.peakReservedBytes()) {
                    broken.add(figures);
                }
            }
        } finally {
            running.set(false);
            for (Thread worker : workers) {
                worker.join();
            }
            pool.close();
        }
        assertTrue(broken.isEmpty(), "snapshots with more reserved than their peak: " + broken);
    }
}
