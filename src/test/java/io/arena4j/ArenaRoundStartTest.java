package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A round starts in its first kept block, so that its first slice takes the fast path; until a
 * request uses the block, the arena must behave exactly as if it had not entered it: a large
 * request still gets a block of its own, the unused block never counts against the limit and may
 * be given up to make room, and a mark taken there marks no block.
 */
class ArenaRoundStartTest {

    private static final long BLOCK = 4096;              // large requests: more than 1024 bytes

    private final CountingBlocks blocks = new CountingBlocks();

    private Arena arena(long maxBytes) {
        return Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(BLOCK).maxBytes(maxBytes)
                .leakDetection(LeakDetection.OFF).build();
    }

    /** Runs a first round, whose slice lies at the start of the block the arena then keeps. */
    private static long keptBlockAfterARound(Arena arena) {
        long start = arena.allocate(1).address();
        arena.reset();
        return start;
    }

    /**
     * Allocates {@code size} bytes, or fails the test if the arena refuses. ArenaLimitException is
     * an OutOfMemoryError, which JUnit rethrows as unrecoverable, ending the whole run unnamed.
     */
    private static MemorySegment served(Arena arena, long size, String why) {
        try {
            return arena.allocate(size);
        } catch (ArenaLimitException refused) {
            return fail(why + ": " + refused.getMessage());
        }
    }

    @Test
    void aRoundsFirstSliceComesFromTheKeptBlock() {
        try (Arena arena = arena(Arena.UNLIMITED)) {
            long kept = keptBlockAfterARound(arena);
            assertEquals(kept, arena.allocate(64).address());
            assertEquals(kept + 64, arena.allocate(64).address());
            assertEquals(1, blocks.allocatedBlocks());
            assertEquals(128, arena.statistics().allocatedBytes());
        }
    }

    @Test
    void aRequestOfAQuarterBlockIsServedThereAndALargerOneGetsABlockOfItsOwn() {
        try (Arena arena = arena(Arena.UNLIMITED)) {
            long kept = keptBlockAfterARound(arena);
            assertEquals(kept, arena.allocate(BLOCK / 4).address());
            arena.reset();
            MemorySegment large = arena.allocate(BLOCK / 4 + 1);
            assertFalse(large.address() >= kept && large.address() < kept + BLOCK, "not in the kept block");
            assertEquals(1, arena.statistics().largeBlocks());
            assertEquals(kept, arena.allocate(8).address(), "the kept block serves the next request");
        }
    }

    @Test
    void anAlignmentBeyond16CountsItsWorstPaddingAsInABlockNeverEntered() {
        try (Arena arena = arena(Arena.UNLIMITED)) {
            long kept = keptBlockAfterARound(arena);
            // 64-byte alignment may need 48 bytes of padding in a new block: 977 + 48 > 1024.
            MemorySegment large = arena.allocate(977, 64);
            assertEquals(1, arena.statistics().largeBlocks(), "large, as in an arena that kept nothing");
            assertEquals(0, large.address() % 64);
            arena.reset();
            MemorySegment regular = arena.allocate(976, 64);     // 976 + 48 = 1024: not large
            assertTrue(regular.address() >= kept && regular.address() < kept + BLOCK, "in the kept block");
            assertEquals(0, regular.address() % 64);
            assertEquals(0, arena.statistics().largeBlocks());
        }
    }

    @Test
    void theKeptBlockUnusedNeverCountsAgainstTheLimitAndIsGivenUpToMakeRoom() {
        try (Arena arena = arena(2 * BLOCK)) {
            keptBlockAfterARound(arena);
            MemorySegment large = served(arena, 2 * BLOCK - 16, "the kept block is unused");
            assertEquals(2 * BLOCK - 16, large.byteSize());
            assertEquals(0, arena.statistics().regularBlocks(), "the kept block was freed to make room");
            assertEquals(2 * BLOCK - 16, blocks.outstandingBytes());
        }
    }

    @Test
    void anEmptySliceUsesTheKeptBlockAsItWouldUseANewOne() {
        try (Arena arena = arena(2 * BLOCK)) {
            long kept = keptBlockAfterARound(arena);
            assertEquals(kept, arena.allocate(0).address());
            String before = arena.toString();
            // An arena that kept nothing holds a block for the empty slice too, and refuses this.
            assertThrows(ArenaLimitException.class, () -> arena.allocate(BLOCK + 1));
            assertEquals(before, arena.toString(), "a refused request changes nothing");
            assertEquals(BLOCK, served(arena, BLOCK, "what fits beside the used block").byteSize());
        }
    }

    @Test
    void aMarkAtTheRoundsStartOutlivesTheKeptBlockBeingGivenUp() {
        try (Arena arena = arena(2 * BLOCK)) {
            keptBlockAfterARound(arena);
            Arena.Checkpoint request = arena.checkpoint();
            served(arena, 2 * BLOCK - 16, "the kept block is unused, and freed to make room");
            request.close();
            assertEquals(0, arena.statistics().allocatedBytes());
            long allocatedBefore = blocks.allocatedBlocks();
            MemorySegment slice = arena.allocate(64);
            assertEquals(64, slice.byteSize());
            assertEquals(allocatedBefore + 1, blocks.allocatedBlocks(), "a new first block");
            assertEquals(1, arena.statistics().regularBlocks());
        }
    }

    @Test
    void aMarkAtTheRoundsStartGivesTheKeptBlockBackUnused() {
        try (Arena arena = arena(Arena.UNLIMITED)) {
            long kept = keptBlockAfterARound(arena);
            try (var _ = arena.checkpoint()) {
                arena.allocate(64);
                arena.allocate(0);
            }
            assertEquals(kept, arena.allocate(BLOCK / 4).address(), "unused again: a quarter block fits at its start");
            assertEquals(1, blocks.allocatedBlocks());
        }
    }

    @Test
    void anEmptySliceInACheckpointClosedSinceLeavesTheKeptBlockUnused() {
        try (Arena arena = arena(2 * BLOCK)) {
            keptBlockAfterARound(arena);
            try (var _ = arena.checkpoint()) {
                arena.allocate(0);                             // uses the kept block, until the close
            }
            MemorySegment large = served(arena, 2 * BLOCK - 16, "the kept block is unused again");
            assertEquals(2 * BLOCK - 16, large.byteSize());
        }
    }

    @Test
    void theFirstSliceGrowsInPlaceBeyondAQuarterOfTheBlock() {
        try (Arena arena = arena(Arena.UNLIMITED)) {
            long kept = keptBlockAfterARound(arena);
            MemorySegment first = arena.allocate(100);
            MemorySegment grown = arena.grow(first, 3 * BLOCK / 4);
            assertEquals(kept, grown.address());
            assertEquals(kept + 3 * BLOCK / 4, arena.allocate(8).address(), "the rest of the block still serves");
            assertEquals(1, blocks.allocatedBlocks());
        }
    }

    @Test
    void aThreadThatTakesOverADisownedArenaStartsInItsKeptBlock() throws InterruptedException {
        Arena arena = arena(Arena.UNLIMITED);
        long kept = arena.allocate(1).address();
        arena.resetAndDisown();
        AtomicReference<Long> address = new AtomicReference<>();
        Thread taker = Thread.ofPlatform().start(() -> {
            try (arena) {
                address.set(arena.allocate(64).address());
            }
        });
        taker.join();
        assertEquals(kept, address.get());
        assertEquals(1, blocks.allocatedBlocks());
        blocks.assertAllFreed();
    }

    @Test
    void aLeaseStartsInTheKeptBlockOfTheChainItTakes() {
        try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK))
                .leakDetection(LeakDetection.OFF).build()) {
            long kept;
            try (Arena lease = pool.acquire()) {
                kept = lease.allocate(64).address();
            }
            try (Arena lease = pool.acquire()) {
                assertEquals(kept, lease.allocate(64).address());
                assertEquals(64, lease.statistics().allocatedBytes());
            }
            assertEquals(1, blocks.allocatedBlocks());
        }
        blocks.assertAllFreed();
    }
}
