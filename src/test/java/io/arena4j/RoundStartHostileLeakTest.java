package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A round's first slice is carved on the fast path from the kept block, with no scope opened
 * for it there: it must still hold its round's scope, and through it what leak detection
 * watches, so that a lease dropped while that slice is kept is not recovered under it (its block
 * given to the next lease), and is recovered once the slice is dropped too.
 */
class RoundStartHostileLeakTest {

    private static final long BLOCK = 4096;

    @RegisterExtension
    final LeakReports reports = new LeakReports();

    private boolean reported(String pool) {
        return !reports.of(pool).isEmpty();
    }

    private static ArenaPool pool(String name, CountingBlocks blocks) {
        return ArenaPool.builder().name(name).arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK))
                .leakDetection(LeakDetection.EVERY).build();
    }

    /** Drops a lease, keeping only the first slice of its round, carved in a kept block; {@return that slice} */
    private static MemorySegment leakKeepingTheRoundsFirstSlice(ArenaPool pool, String how) {
        Arena lease;
        switch (how) {
            case "second lease" -> {
                try (Arena first = pool.acquire()) {
                    first.allocate(100).fill((byte) 1);
                }
                lease = pool.acquire();
            }
            case "after reset" -> {
                lease = pool.acquire();
                lease.allocate(100).fill((byte) 1);
                lease.reset();
            }
            default -> {
                lease = pool.acquire();
                lease.allocate(100).fill((byte) 1);
                lease.reset();
                try (var _ = lease.checkpoint()) {
                    lease.allocate(100).fill((byte) 1);
                }
            }
        }
        MemorySegment slice = lease.allocate(BLOCK / 4);
        slice.fill((byte) 0x5A);
        return slice;
    }

    @ParameterizedTest
    @ValueSource(strings = {"second lease", "after reset", "after a checkpoint at the round's start"})
    void aLeaseDroppedWhileItsRoundsFirstSliceIsKeptIsRecoveredOnlyOnceThatSliceIsDropped(String how)
            throws Exception {
        String name = "hostile-first-slice-" + how.replace(' ', '-').replace("'", "");
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = pool(name, blocks);
        MemorySegment slice = leakKeepingTheRoundsFirstSlice(pool, how);
        assertEquals(BLOCK, blocks.outstandingBytes());

        String control = name + "-control";
        ArenaPool controlPool = pool(control, new CountingBlocks());
        controlPool.acquire().allocate(100);                   // leaked at once
        assertTrue(reports.collectUntil(() -> reported(control)), "the control leak was found");
        assertFalse(reported(name), "the kept slice still holds its lease: nothing recovered");
        assertEquals(1, pool.statistics().leased());
        try (Arena next = pool.acquire()) {                    // another connection writes its own bytes
            next.allocate(BLOCK / 4).fill((byte) 0x77);
        }
        assertTrue(TestSupport.allBytes(slice, 0x5A), "the kept slice reads its own bytes");
        assertEquals(2 * BLOCK, blocks.outstandingBytes(), "the leased block was not given to the next lease");

        slice = null;
        assertTrue(reports.collectUntil(() -> reported(name)), "recovered once the slice is dropped");
        assertEquals(1, pool.statistics().leaks());
        assertEquals(0, pool.statistics().leased());
        assertEquals(BLOCK, blocks.outstandingBytes(), "the leaked block was freed; the idle one stays");
        pool.close();
        controlPool.close();
        blocks.assertAllFreed();
    }
}
