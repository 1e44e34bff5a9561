package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Short sequences at the edges of a round's start, each the smallest case of one promise: the
 * quarter-block rule with every alignment's worst padding, refusals that change nothing (under
 * maxBytes, a pool's budget with idle arenas, and calloc failing after the kept block was given
 * up), empty slices aligned beyond a block, grows from the round's first slice, and zeros in the
 * kept block that an earlier round, a checkpoint or an earlier lease dirtied.
 */
class RoundStartHostileEdgesTest {

    private static final long BLOCK = 4096;
    private final CountingBlocks blocks = new CountingBlocks();

    private Arena.Builder arenas(long blockSize) {
        return Arena.builder().blockAllocator(blocks).blockSize(blockSize).retainBytes(blockSize)
                .leakDetection(LeakDetection.OFF);
    }

    /** Runs a round that dirties the whole block the arena keeps, and {@return where that block starts} */
    private static long dirtyRound(Arena arena, long blockSize) {
        MemorySegment all = arena.grow(arena.allocate(1), blockSize);
        all.fill((byte) 0x5A);
        arena.reset();
        return all.address();
    }

    private String state(Arena arena) {
        return arena + " " + arena.statistics() + " out=" + blocks.outstandingBytes() + " blocks="
                + blocks.allocatedBlocks();
    }

    private static boolean inBlock(MemorySegment slice, long block, long blockSize) {
        return slice.address() >= block && slice.address() + slice.byteSize() <= block + blockSize;
    }

    static List<Arguments> alignments() {
        List<Arguments> alignments = new ArrayList<>();
        for (long blockSize : new long[] {256, 1000, 1 << 20}) {
            for (long alignment = 1; alignment <= 4096; alignment <<= 1) {
                alignments.add(Arguments.of(blockSize, alignment));
            }
        }
        return alignments;
    }

    /**
     * At a round's start a request is large exactly when its size plus the worst padding of its
     * alignment in a new block exceeds a quarter block, whatever the kept block's real padding:
     * one byte below the edge is carved at the kept block's first aligned byte, one byte above
     * gets a block of its own, and the kept block still serves the next small request.
     */
    @ParameterizedTest(name = "blocks of {0}, aligned to {1}")
    @MethodSource("alignments")
    void theQuarterBlockRuleCountsTheWorstPaddingAtARoundsStart(long blockSize, long alignment) {
        long edge = blockSize / 4 - Math.max(0, alignment - 16);
        try (Arena arena = arenas(blockSize).build()) {
            long kept = dirtyRound(arena, blockSize);
            if (edge >= 0) {
                MemorySegment regular = arena.allocate(edge, alignment);
                assertTrue(inBlock(regular, kept, blockSize), "at the edge: carved in the kept block");
                assertEquals(NothingKeptModel.alignUp(kept, alignment), regular.address());
                assertTrue(TestSupport.isZero(regular));
                assertEquals(0, arena.statistics().largeBlocks());
                arena.reset();
            }
            long outBefore = blocks.allocatedBlocks();
            MemorySegment large = arena.allocate(Math.max(0, edge + 1), alignment);
            assertEquals(0, large.address() % alignment);
            assertFalse(large.address() < kept + blockSize && kept < large.address() + Math.max(1, large.byteSize()),
                    "beyond the edge: not in the kept block");
            assertEquals(1, arena.statistics().largeBlocks(), "a block of its own: " + arena);
            assertEquals(outBefore + 1, blocks.allocatedBlocks());
            assertTrue(TestSupport.isZero(large));
            assertEquals(kept, arena.allocate(1).address(), "the kept block serves the next small request");
            assertEquals(1, arena.statistics().regularBlocks());
        }
        blocks.assertAllFreed();
    }

    /**
     * A refused request at a round's start changes nothing: not the figures, not the native
     * memory, not the kept block, which still serves the next request without a new block. With
     * and without a checkpoint taken at the round's start.
     */
    @ParameterizedTest(name = "checkpoint first: {0}")
    @ValueSource(booleans = {false, true})
    void aRefusalAtARoundsStartChangesNothingAndTheKeptBlockStillServes(boolean checkpointFirst) {
        try (Arena arena = arenas(BLOCK).maxBytes(3 * BLOCK).build()) {
            long kept = dirtyRound(arena, BLOCK);
            Arena.Checkpoint checkpoint = checkpointFirst ? arena.checkpoint() : null;
            String before = state(arena);
            for (long[] request : new long[][] {{3 * BLOCK + 1, 1}, {3 * BLOCK - 15, 32}, {0, 1L << 20},
                    {Long.MAX_VALUE - 8, 8}, {3 * BLOCK - 4079, 4096}}) {
                assertThrows(ArenaLimitException.class, () -> arena.allocate(request[0], request[1]),
                        request[0] + " aligned to " + request[1]);
                assertEquals(before, state(arena), "a refused request changes nothing");
            }
            long allocated = blocks.allocatedBlocks();
            MemorySegment slice = arena.allocate(64);
            assertEquals(kept, slice.address(), "the kept block serves");
            assertTrue(TestSupport.isZero(slice));
            assertEquals(allocated, blocks.allocatedBlocks());
            MemorySegment large = arena.allocate(2 * BLOCK);     // the kept block in use, and this: the limit
            assertEquals(3 * BLOCK, arena.statistics().reservedBytes());
            assertTrue(TestSupport.isZero(large));
            if (checkpoint != null) {
                checkpoint.close();
                assertThrows(IllegalStateException.class, () -> large.get(JAVA_BYTE, 0));
                // Unused again: the whole limit is there for one large request.
                assertEquals(3 * BLOCK - 16, arena.allocate(3 * BLOCK - 16).byteSize());
                assertEquals(0, arena.statistics().regularBlocks(), "the kept block was given up to make room");
            }
        }
        blocks.assertAllFreed();
    }

    /**
     * Under a pool's budget, a lease at its round's start asks for more than the idle arenas and
     * its own kept block could make room for, beside another leased arena: nothing is freed. Then
     * for exactly what they make room for: all of it is freed, the idle arenas first.
     */
    @Test
    void aLeaseRefusedUnderTheBudgetFreesNoIdleArenaAndItsOwnKeptBlockStays() {
        try (ArenaPool pool = ArenaPool.builder().name("edges").arenas(arenas(BLOCK)).maxTotalBytes(4 * BLOCK)
                .leakDetection(LeakDetection.OFF).build()) {
            Arena first = pool.acquire();
            Arena second = pool.acquire();
            Arena other = pool.acquire();
            Arena lease = pool.acquire();
            for (Arena arena : List.of(first, second, other, lease)) {
                arena.allocate(1).fill((byte) 7);
            }
            first.close();
            second.close();
            lease.reset();                                    // its kept block, unused
            String before = lease + " " + pool.statistics() + " out=" + blocks.outstandingBytes();
            assertEquals(2, pool.statistics().idle());
            ArenaLimitException refused = assertThrows(ArenaLimitException.class, () -> lease.allocate(3 * BLOCK + 1));
            assertEquals("edges", refused.poolName());
            assertEquals(before, lease + " " + pool.statistics() + " out=" + blocks.outstandingBytes(),
                    "a refused request frees no idle arena and changes nothing");
            long kept = lease.statistics().reservedBytes();
            assertEquals(BLOCK, kept);
            MemorySegment large = lease.allocate(3 * BLOCK);  // room: both idle arenas and its kept block
            assertTrue(TestSupport.isZero(large));
            ArenaPool.Statistics figures = pool.statistics();
            assertEquals(0, figures.idle());
            assertEquals(4 * BLOCK, figures.reservedBytes());
            assertEquals(3 * BLOCK, lease.statistics().reservedBytes(), "its kept block was given up too");
            assertThrows(ArenaLimitException.class, () -> lease.allocate(1), "a regular block would cross it");
            lease.close();
            other.close();
        }
        blocks.assertAllFreed();
    }

    /**
     * calloc fails for a large request at a round's start under a limit that made the arena give
     * its kept block up first: the kept block is allocated again, the figures are as they were,
     * and the round still starts in a kept block.
     */
    @ParameterizedTest(name = "checkpoint first: {0}")
    @ValueSource(booleans = {false, true})
    void callocFailingAfterTheKeptBlockWasGivenUpLeavesTheRoundAsItWas(boolean checkpointFirst) {
        try (Arena arena = arenas(BLOCK).maxBytes(2 * BLOCK).build()) {
            dirtyRound(arena, BLOCK);
            Arena.Checkpoint checkpoint = checkpointFirst ? arena.checkpoint() : null;
            Arena.Statistics before = arena.statistics();
            long out = blocks.outstandingBytes();
            blocks.failNext(1);
            assertThrows(OutOfMemoryError.class, () -> arena.allocate(2 * BLOCK - 16));
            assertEquals(before, arena.statistics(), "figures as they were");
            assertEquals(out, blocks.outstandingBytes(), "the kept block allocated again");
            long allocated = blocks.allocatedBlocks();
            MemorySegment slice = arena.allocate(BLOCK / 4);
            assertTrue(TestSupport.isZero(slice), "the block allocated again reads as zeros");
            assertEquals(allocated, blocks.allocatedBlocks(), "the round starts in a kept block");
            if (checkpoint != null) {
                checkpoint.close();
                assertEquals(2 * BLOCK - 16, arena.allocate(2 * BLOCK - 16).byteSize(), "unused again");
            }
        }
        blocks.assertAllFreed();
    }

    /**
     * An empty slice aligned beyond a small block is large (its worst padding alone is beyond a
     * quarter block): a block of its own, refused under a limit it would cross, with nothing
     * changed, while an empty slice aligned to 16 takes the kept block.
     */
    @Test
    void anEmptySliceAlignedBeyondTheBlockIsLargeAtARoundsStart() {
        try (Arena arena = arenas(256).maxBytes(2048).build()) {
            long kept = dirtyRound(arena, 256);
            String before = state(arena);
            assertThrows(ArenaLimitException.class, () -> arena.allocate(0, 4096), "4080 bytes at worst");
            assertEquals(before, state(arena));
            MemorySegment empty = arena.allocate(0, 1024);         // 1008 bytes at worst: under the limit
            assertEquals(0, empty.address() % 1024);
            assertEquals(1, arena.statistics().largeBlocks());
            assertEquals(256 + 1008, arena.statistics().reservedBytes());
            assertEquals(kept, arena.allocate(0, 16).address(), "an empty slice aligned to 16 takes the kept block");
        }
        blocks.assertAllFreed();
    }

    /**
     * The round's first slice, empty, grows in place over the whole kept block, reading zeros
     * where an earlier round wrote; one byte more is a copy to a block of its own. In a
     * checkpoint taken at the round's start, the close makes the block unused again.
     */
    @Test
    void theFirstSliceOfARoundGrowsInPlaceOverTheDirtiedKeptBlock() {
        try (Arena arena = arenas(BLOCK).build()) {
            long kept = dirtyRound(arena, BLOCK);
            try (var _ = arena.checkpoint()) {
                MemorySegment body = arena.allocate(0);
                assertEquals(kept, body.address());
                body = arena.grow(body, BLOCK / 4 + 1);
                body = arena.grow(body, BLOCK);
                assertEquals(kept, body.address(), "in place up to the block's end");
                assertTrue(TestSupport.isZero(body), "an earlier round's bytes were cleared");
                body.fill((byte) 0x33);
                MemorySegment copy = arena.grow(body, BLOCK + 1);
                assertFalse(inBlock(copy, kept, BLOCK), "one byte more: copied out");
                assertEquals(1, arena.statistics().largeBlocks());
                assertTrue(TestSupport.allBytes(copy, 0, BLOCK, 0x33), "the copy starts with the slice's bytes");
                assertTrue(TestSupport.allBytes(copy, BLOCK, BLOCK + 1, 0), "and goes on with zeros");
            }
            MemorySegment large = arena.allocate(BLOCK / 4 + 1);
            assertFalse(inBlock(large, kept, BLOCK), "the kept block is unused again: large goes elsewhere");
            MemorySegment quarter = arena.allocate(BLOCK / 4);
            assertEquals(kept, quarter.address());
            assertTrue(TestSupport.isZero(quarter), "the checkpoint's close cleared what its level wrote");
        }
        blocks.assertAllFreed();
    }

    /**
     * Leases of a pool on one thread: each dirties its whole kept block and the next lease's first
     * slices, aligned or not, read as zeros, whether the block was entered through an empty slice,
     * an aligned one, or the fast path.
     */
    @Test
    void everyLeaseReadsZerosInTheBlockTheLastLeaseDirtied() {
        try (ArenaPool pool = ArenaPool.builder().arenas(arenas(BLOCK)).leakDetection(LeakDetection.OFF).build()) {
            long kept;
            try (Arena lease = pool.acquire()) {
                kept = dirtyRound(lease, BLOCK);
                lease.grow(lease.allocate(1), BLOCK).fill((byte) 0x5A);
            }
            long[][] firsts = {{0, 1}, {1, 1}, {BLOCK / 4, 16}, {8, 64}, {0, 32}, {100, 8}, {BLOCK / 4 - 496, 512}};
            for (long[] first : firsts) {
                try (Arena lease = pool.acquire()) {
                    MemorySegment slice = lease.allocate(first[0], first[1]);
                    assertTrue(inBlock(slice, kept, BLOCK), "the lease starts in the kept block");
                    MemorySegment rest = lease.grow(slice, kept + BLOCK - slice.address());
                    assertEquals(slice.address(), rest.address(), "grows in place to the block's end");
                    assertTrue(TestSupport.isZero(rest), "zeros where the last lease wrote: " + first[0]);
                    rest.fill((byte) 0x5A);
                }
            }
            assertEquals(1, blocks.allocatedBlocks());
        }
        blocks.assertAllFreed();
    }

    /** How a round or a level ends while cleanup actions of its slices run. */
    enum End { RESET, CHECKPOINT, DISOWN, LEASE }

    /**
     * While the cleanup actions of a round or a level run, the arena refuses to allocate, reset
     * or take a checkpoint, even though the next round is about to start in the kept block whose
     * fast path the arena arms; once they ran, the round starts in the kept block as it should:
     * a large request goes elsewhere, a small one to the block's start. A cleanup that throws
     * does not change that.
     */
    @ParameterizedTest(name = "{0}, a cleanup throws: {1}")
    @MethodSource("ends")
    void cleanupActionsRunningAtTheEndOfARoundCannotCarveFromTheNextRoundsKeptBlock(End end, boolean throwing)
            throws Exception {
        ArenaPool pool = end == End.LEASE ? ArenaPool.builder().arenas(arenas(BLOCK))
                .leakDetection(LeakDetection.OFF).build() : null;
        Arena arena = pool != null ? pool.acquire() : arenas(BLOCK).build();
        long kept = dirtyRound(arena, BLOCK);
        Arena.Checkpoint checkpoint = end == End.CHECKPOINT ? arena.checkpoint() : null;
        List<Throwable> refused = new ArrayList<>();
        Arena during = arena;
        List<Runnable> calls = List.of(() -> during.allocate(8), () -> during.allocate(0),
                () -> during.allocate(8, 64), () -> during.allocate(BLOCK / 4 + 1), during::checkpoint, during::reset);
        MemorySegment watched = arena.allocate(16);
        watched.reinterpret(arena, _ -> {
            for (Runnable call : calls) {
                try {
                    call.run();
                    refused.add(null);
                } catch (Throwable t) {
                    refused.add(t);
                }
            }
            if (throwing) {
                throw new IllegalArgumentException("a cleanup failed (test)");
            }
        });
        Runnable ending = switch (end) {
            case RESET -> arena::reset;
            case CHECKPOINT -> checkpoint::close;
            case DISOWN -> arena::resetAndDisown;
            case LEASE -> arena::close;
        };
        if (throwing) {
            assertThrows(IllegalArgumentException.class, ending::run, "rethrown once the end is complete");
        } else {
            ending.run();
        }
        assertEquals(calls.size(), refused.size());
        for (Throwable t : refused) {
            assertTrue(t instanceof IllegalStateException, "refused while cleanups run: " + t);
        }
        Arena next = end == End.LEASE ? pool.acquire() : arena;
        assertEquals(0, next.statistics().allocatedBytes());
        MemorySegment large = next.allocate(BLOCK / 4 + 1);
        assertFalse(inBlock(large, kept, BLOCK), "large: a block of its own");
        MemorySegment small = next.allocate(8);
        assertEquals(kept, small.address(), "the round starts in the kept block");
        assertTrue(TestSupport.isZero(small) && TestSupport.isZero(large));
        next.close();
        if (pool != null) {
            pool.close();
        }
        blocks.assertAllFreed();
    }

    static List<Arguments> ends() {
        List<Arguments> ends = new ArrayList<>();
        for (End end : End.values()) {
            ends.add(Arguments.of(end, false));
            ends.add(Arguments.of(end, true));
        }
        return ends;
    }

    /**
     * A reset, a hand-off or a checkpoint's close refused because a downcall holds a slice of
     * the kept block changes nothing: the block stays in use, so a request above a quarter block
     * that fits beside the held slice is carved there, not given a block of its own as in an
     * unused kept block.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reset", "resetAndDisown", "checkpoint"})
    void anEndRefusedByADowncallLeavesTheKeptBlockInUse(String how) {
        try (Arena arena = arenas(BLOCK).build()) {
            long kept = dirtyRound(arena, BLOCK);
            Arena.Checkpoint checkpoint = how.equals("checkpoint") ? arena.checkpoint() : null;
            MemorySegment held = arena.allocate(8);
            assertEquals(kept, held.address());
            String before = state(arena);
            Throwable thrown = TestSupport.whileHeldByDowncall(held, switch (how) {
                case "reset" -> arena::reset;
                case "resetAndDisown" -> arena::resetAndDisown;
                default -> checkpoint::close;
            });
            assertTrue(thrown instanceof IllegalStateException, "refused: " + thrown);
            assertEquals(before, state(arena), "a refused end changes nothing");
            assertTrue(held.scope().isAlive());
            MemorySegment beside = arena.allocate(BLOCK / 2);
            assertEquals(kept + 8, beside.address(), "carved beside the held slice: the block is in use");
            assertEquals(0, arena.statistics().largeBlocks());
            assertTrue(TestSupport.isZero(beside));
        }
        blocks.assertAllFreed();
    }
}
