package io.arena4j;

import static io.arena4j.TestSupport.onAnotherThread;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Where an arena's memory goes, figure by figure, after a scripted sequence: bytes handed out,
 * alignment padding, the free ends of blocks left behind, and what reset and checkpoints put
 * back. Every expected figure is worked out by hand from the block size.
 */
class ArenaStatisticsTest {

    private static final long BLOCK = 4096;

    private record Figures(long allocated, long padding, long unusedTails) {}

    private static Figures figures(Arena arena) {
        return new Figures(arena.statistics().allocatedBytes(), arena.statistics().paddingBytes(), arena.statistics()
                .unusedTailBytes());
    }

    private static Arena arena() {
        return Arena.builder().blockSize(BLOCK).build();
    }

    @Test
    void paddingCountsTheBytesSkippedToAlign() {
        try (Arena arena = arena()) {
            arena.allocate(1);
            assertEquals(new Figures(1, 0, 0), figures(arena));
            arena.allocate(8, 8);                   // 1 -> 8
            assertEquals(new Figures(9, 7, 0), figures(arena));
            arena.allocate(3, 1);
            arena.allocate(16, 16);                 // 19 -> 32
            assertEquals(new Figures(28, 20, 0), figures(arena));
        }
    }

    @Test
    void theFreeEndOfABlockLeftBehindIsAnUnusedTail() {
        try (Arena arena = arena()) {
            allocateTimes(arena, 4, 1000);
            arena.allocate(1000);                   // does not fit in the 96 bytes left
            assertEquals(new Figures(5000, 0, 96), figures(arena));
            arena.allocate(1);
            arena.allocate(1000, 16);               // 1001 -> 1008: fits, the block is not left
            assertEquals(new Figures(6001, 7, 96), figures(arena));
            allocateTimes(arena, 2, 1000);          // up to 4008
            arena.allocate(100);                    // 4108 > 4096: the third block
            assertEquals(new Figures(8101, 7, 96 + 88), figures(arena));
            assertEquals(3 * BLOCK,
                    arena.statistics().allocatedBytes() + arena.statistics().paddingBytes() + arena.statistics()
                            .unusedTailBytes() + (BLOCK - 100),
                    "every byte of the three blocks is handed out, padding, a tail, or still free");
        }
    }

    private static void allocateTimes(Arena arena, int times, long size) {
        for (int i = 0; i < times; i++) {
            arena.allocate(size);
        }
    }

    @Test
    void aLargeBlockLosesOnlyTheSlackOfItsAlignment() {
        try (Arena arena = arena()) {
            arena.allocate(10_000);                 // a block of its own, aligned by malloc already
            assertEquals(new Figures(10_000, 0, 0), figures(arena));
            long reserved = arena.statistics().reservedBytes();
            arena.allocate(10_000, 4096);           // 4096 - 16 bytes of slack, split by where malloc put it
            long slack = arena.statistics().reservedBytes() - reserved - 10_000;
            assertEquals(4096 - NativeMemory.MALLOC_ALIGNMENT, slack);
            assertEquals(20_000, arena.statistics().allocatedBytes());
            assertEquals(slack, arena.statistics().paddingBytes() + arena.statistics().unusedTailBytes());
        }
    }

    @Test
    void resetStartsEveryFigureAgainFromZero() {
        try (Arena arena = arena()) {
            arena.allocate(1);
            arena.allocate(1000, 16);
            allocateTimes(arena, 4, 1000);
            arena.allocate(20_000, 4096);
            assertTrue(arena.statistics().paddingBytes() > 0 && arena.statistics().unusedTailBytes() > 0,
                    arena.toString());
            arena.reset();
            assertEquals(new Figures(0, 0, 0), figures(arena));
            arena.allocate(5);
            assertEquals(new Figures(5, 0, 0), figures(arena));
        }
    }

    @Test
    void closingACheckpointPutsBackTheFiguresOfItsMark() {
        try (Arena arena = arena()) {
            arena.allocate(1);
            arena.allocate(1000, 16);
            Figures atMark = figures(arena);
            assertEquals(new Figures(1001, 15, 0), atMark);

            try (var _ = arena.checkpoint()) {
                arena.allocate(1);
                arena.allocate(1000, 8);            // 1017 -> 1024
                allocateTimes(arena, 2, 1000);      // up to 4024
                arena.allocate(100);                // the second block
                arena.allocate(50_000);             // and a large one
                assertEquals(new Figures(54_102, 22, 72), figures(arena));
            }
            assertEquals(atMark, figures(arena));

            try (var _ = arena.checkpoint()) {
                arena.allocate(3, 1);
                arena.allocate(8, 8);               // same block only: the rewind moves the cursor alone
                assertEquals(new Figures(1012, 20, 0), figures(arena));
            }
            assertEquals(atMark, figures(arena));
        }
    }

    @Test
    void anotherThreadReadsTheFiguresTheOwnerLastPublished() throws Exception {
        try (Arena arena = arena()) {
            arena.allocate(1);
            arena.allocate(1000, 16);
            allocateTimes(arena, 4, 1000);          // the fourth does not fit: a new block publishes the figures
            Figures owners = figures(arena);
            Figures[] seen = new Figures[1];
            assertNull(onAnotherThread(() -> seen[0] = figures(arena)));
            assertEquals(owners, seen[0]);
            assertTrue(arena.toString().contains("padding=15, unusedTails=80"), arena.toString());
        }
    }

    /**
     * After every reset another thread reads the owner's figures of a fresh round; after a round
     * that stayed in its kept block, the very record it read before, since nothing changed.
     */
    @Test
    void afterAResetAnotherThreadReadsAFreshRoundAndNoRecordIsMadeWhenNothingChanged() throws Exception {
        try (Arena arena = Arena.builder().blockSize(BLOCK).retainBytes(BLOCK).build()) {
            Arena.Statistics[] seen = new Arena.Statistics[2];
            allocateTimes(arena, 5, 1000);            // into a second block, which the reset frees
            arena.reset();
            assertNull(onAnotherThread(() -> seen[0] = arena.statistics()));
            assertEquals(arena.statistics(), seen[0]);
            assertEquals(new Arena.Statistics(0, 0, 0, BLOCK, 1, 0), seen[0]);
            arena.allocate(100);                      // in the kept block only
            arena.reset();
            assertNull(onAnotherThread(() -> seen[1] = arena.statistics()));
            assertEquals(arena.statistics(), seen[1]);
            assertSame(seen[0], seen[1]);
        }
    }

    @Test
    void toStringCountsBlocksInGoodEnglish() {
        try (Arena arena = arena()) {
            assertTrue(arena.toString().contains("reserved=0 in 0 blocks (0 regular, 0 large)"), arena.toString());
            arena.allocate(1);
            assertTrue(arena.toString().contains("reserved=4096 in 1 block (1 regular, 0 large)"), arena.toString());
            allocateTimes(arena, 5, 1000);
            assertTrue(arena.toString().contains("reserved=8192 in 2 blocks (2 regular, 0 large)"), arena.toString());
        }
    }
}
