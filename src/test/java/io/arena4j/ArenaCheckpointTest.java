package io.arena4j;

import static io.arena4j.TestSupport.allBytes;
import static io.arena4j.TestSupport.isZero;
import static io.arena4j.TestSupport.onAnotherThread;
import static io.arena4j.TestSupport.whileHeldByDowncall;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checkpoints: the scope of a request inside the arena of a connection. Every rule of
 * {@link Arena#checkpoint()} and {@link Arena.Checkpoint#close()}, refused calls included, with
 * the native blocks counted.
 */
class ArenaCheckpointTest {

    private static final long BLOCK = 4096;

    private static String state(Arena arena) {
        return arena + " scopeAlive=" + arena.scope().isAlive();
    }

    private static Arena arena(CountingBlocks blocks) {
        return Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(2 * BLOCK).build();
    }

    private static MemorySegment filled(Arena arena, long size, int value) {
        MemorySegment slice = arena.allocate(size);
        slice.fill((byte) value);
        return slice;
    }

    @Nested
    class Lifetimes {

        @Test
        void closingFreesTheSlicesAllocatedSinceAndKeepsTheOlderOnesIntact() {
            try (Arena arena = Arena.create()) {
                MemorySegment settings = filled(arena, 100, 7);
                long before = arena.statistics().allocatedBytes();
                MemorySegment head;
                try (var _ = arena.checkpoint()) {
                    head = filled(arena, 8192, 9);
                    assertEquals(before + 8192, arena.statistics().allocatedBytes());
                }
                assertFalse(head.scope().isAlive());
                assertThrows(IllegalStateException.class, () -> head.get(JAVA_BYTE, 0));
                assertTrue(settings.scope().isAlive());
                assertTrue(allBytes(settings, 7), "the connection's slice is intact");
                assertEquals(before, arena.statistics().allocatedBytes());
            }
        }

        @Test
        void theMemoryOfAClosedLevelIsReusedAndReadsAsZerosAgain() {
            try (Arena arena = Arena.create()) {
                filled(arena, 100, 7);
                Arena.Checkpoint request = arena.checkpoint();
                MemorySegment first = filled(arena, 1000, 0x55);
                request.close();
                MemorySegment again = arena.allocate(1000);
                assertEquals(first.address(), again.address(), "the next allocation starts at the mark");
                assertTrue(isZero(again), "rewound bytes are cleared");
            }
        }

        @Test
        void anArenaThatDoesNotZeroReusesTheMemoryWithoutClearingIt() {
            try (Arena arena = Arena.builder().zeroed(false).build()) {
                Arena.Checkpoint request = arena.checkpoint();
                MemorySegment first = filled(arena, 1000, 0x55);
                request.close();
                MemorySegment again = arena.allocate(1000);
                assertEquals(first.address(), again.address());
                assertTrue(allBytes(again, 0x55), "nothing was cleared, as with malloc");
            }
        }

        @Test
        void scopeIsTheScopeOfTheInnermostLevel() {
            try (Arena arena = Arena.create()) {
                MemorySegment.Scope connection = arena.scope();
                Arena.Checkpoint outer = arena.checkpoint();
                MemorySegment a = arena.allocate(10);
                assertEquals(a.scope(), arena.scope());
                assertNotEquals(connection, arena.scope());
                Arena.Checkpoint inner = arena.checkpoint();
                MemorySegment.Scope innerScope = arena.scope();   // asked before any slice: opens the level
                MemorySegment b = arena.allocate(10);
                assertEquals(innerScope, b.scope());
                assertNotEquals(a.scope(), b.scope());
                inner.close();
                assertFalse(innerScope.isAlive());
                assertEquals(a.scope(), arena.scope());
                outer.close();
                assertFalse(a.scope().isAlive());
                assertSame(connection, arena.scope());
                assertTrue(connection.isAlive());
            }
        }

        @Test
        void aLevelThatHandsOutNothingLeavesTheArenaAsItWas() {
            try (Arena arena = Arena.create()) {
                MemorySegment kept = arena.allocate(10);
                String before = state(arena);
                arena.checkpoint().close();
                assertEquals(before, state(arena));
                assertEquals(kept.scope(), arena.scope());
                assertEquals(kept.address() + 10, arena.allocate(1).address());
            }
        }

        @Test
        void anOuterCheckpointThatHandedOutNothingRewindsWhatTheInnerOnesAllocated() {
            try (Arena arena = Arena.create()) {
                MemorySegment kept = filled(arena, 10, 7);
                Arena.Checkpoint outer = arena.checkpoint();          // its mark is taken late,
                Arena.Checkpoint inner = arena.checkpoint();
                MemorySegment a = filled(arena, 100, 1);               // when this level first allocates
                Arena.Checkpoint innermost = arena.checkpoint();
                MemorySegment b = arena.allocate(50);
                innermost.close();
                assertTrue(allBytes(a, 1));
                assertEquals(110, arena.statistics().allocatedBytes());

                outer.close();

                assertFalse(a.scope().isAlive());
                assertFalse(b.scope().isAlive());
                assertThrows(IllegalStateException.class, inner::close);
                assertEquals(10, arena.statistics().allocatedBytes());
                assertEquals(kept.scope(), arena.scope());
                assertTrue(allBytes(kept, 7));
                MemorySegment next = arena.allocate(100);
                assertEquals(a.address(), next.address(), "the outer mark was where the arena stood when it was taken");
                assertTrue(isZero(next));
            }
        }

        @Test
        void slicesOfALevelAreAlignedAndDisjointFromTheOuterOnes() {
            try (Arena arena = Arena.create()) {
                MemorySegment outer = arena.allocate(3);
                try (var _ = arena.checkpoint()) {
                    MemorySegment inner = arena.allocate(64, 64);
                    assertEquals(0, inner.address() % 64);
                    assertTrue(inner.address() >= outer.address() + 3);
                }
            }
        }

        @Test
        void afterALevelClosesEveryCallCutsSlicesInTheRightLevel() {
            try (Arena arena = Arena.create()) {
                MemorySegment outer = arena.allocate(10);
                for (int round = 0; round < 3; round++) {
                    try (var _ = arena.checkpoint()) {
                        assertNotEquals(outer.scope(), arena.allocate(10).scope());
                    }
                    try (var _ = arena.checkpoint()) {           // has no scope yet
                        assertThrows(IllegalArgumentException.class, () -> arena.grow(outer, 20));
                        MemorySegment slice = arena.allocate(10);
                        assertNotEquals(outer.scope(), slice.scope(), "cut in the new level, not the outer one");
                        assertEquals(arena.scope(), slice.scope());
                    }
                    assertEquals(outer.scope(), arena.scope());
                    MemorySegment again = arena.allocate(10);
                    assertEquals(outer.scope(), again.scope(), "back in the outer level");
                    MemorySegment grown = arena.grow(again, 30);
                    assertEquals(again.address(), grown.address());
                }
            }
        }

        @Test
        void aSliceMayBeBoundToALevelWithACleanupThatRunsWhenTheLevelCloses() {
            try (Arena arena = Arena.create()) {
                List<String> ran = new ArrayList<>();
                MemorySegment outer = arena.allocate(8);
                reinterpret(outer, arena, () -> ran.add("connection"));
                try (var _ = arena.checkpoint()) {
                    reinterpret(arena.allocate(8), arena, () -> ran.add("request"));
                }
                assertEquals(List.of("request"), ran);
                arena.reset();
                assertEquals(List.of("request", "connection"), ran);
            }
        }
    }

    @SuppressWarnings("restricted")
    private static void reinterpret(MemorySegment slice, Arena arena, Runnable cleanup) {
        slice.reinterpret(arena, s -> cleanup.run());
    }

    @Nested
    class Nesting {

        @Test
        void closingAnOuterCheckpointClosesTheInnerOnes() {
            try (Arena arena = Arena.create()) {
                Arena.Checkpoint one = arena.checkpoint();
                MemorySegment a1 = filled(arena, 10, 1);
                Arena.Checkpoint two = arena.checkpoint();
                MemorySegment a2 = filled(arena, 10, 2);
                Arena.Checkpoint three = arena.checkpoint();
                MemorySegment a3 = filled(arena, 10, 3);

                two.close();

                assertFalse(a2.scope().isAlive());
                assertFalse(a3.scope().isAlive());
                assertTrue(allBytes(a1, 1));
                assertEquals(a1.scope(), arena.scope());
                String before = state(arena);
                IllegalStateException refused = assertThrows(IllegalStateException.class, three::close);
                assertEquals("Checkpoint already closed", refused.getMessage());
                assertEquals(before, state(arena), "closing a discarded checkpoint changes nothing");
                assertEquals(10, arena.statistics().allocatedBytes());
                one.close();
                assertFalse(a1.scope().isAlive());
                assertEquals(0, arena.statistics().allocatedBytes());
            }
        }

        @Test
        void closingACheckpointTwiceIsRefusedAndChangesNothing() {
            try (Arena arena = Arena.create()) {
                Arena.Checkpoint request = arena.checkpoint();
                arena.allocate(10);
                request.close();
                MemorySegment after = filled(arena, 20, 4);
                String before = state(arena);
                assertThrows(IllegalStateException.class, request::close);
                assertEquals(before, state(arena));
                assertTrue(allBytes(after, 4));
            }
        }

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"reset", "resetAndDisown", "close"})
        void resetAndCloseDiscardEveryCheckpoint(String call) {
            Arena arena = Arena.create();
            Arena.Checkpoint one = arena.checkpoint();
            MemorySegment a1 = arena.allocate(10);
            Arena.Checkpoint two = arena.checkpoint();
            MemorySegment a2 = arena.allocate(10);
            switch (call) {
                case "reset" -> arena.reset();
                case "resetAndDisown" -> arena.resetAndDisown();
                default -> arena.close();
            }
            assertFalse(a1.scope().isAlive());
            assertFalse(a2.scope().isAlive());
            assertThrows(IllegalStateException.class, two::close);
            assertThrows(IllegalStateException.class, one::close);
            if (!call.equals("close")) {
                assertEquals(16, arena.allocate(16).byteSize(), "the arena works on, in its generation");
                assertTrue(arena.scope().isAlive());
                arena.close();
            }
        }

        @Test
        void checkpointsNestDeeperThanTheLevelsFirstMade() {
            try (Arena arena = Arena.create()) {
                List<Arena.Checkpoint> checkpoints = new ArrayList<>();
                List<MemorySegment> slices = new ArrayList<>();
                for (int level = 1; level <= 20; level++) {
                    checkpoints.add(arena.checkpoint());
                    slices.add(filled(arena, 10, level));
                }
                for (int level = 20; level > 10; level--) {
                    checkpoints.get(level - 1).close();
                    assertFalse(slices.get(level - 1).scope().isAlive());
                    assertTrue(allBytes(slices.get(level - 2), level - 1), "the level around it is intact");
                }
                checkpoints.getFirst().close();
                assertTrue(slices.stream().noneMatch(slice -> slice.scope().isAlive()));
                assertEquals(0, arena.statistics().allocatedBytes());
                assertThrows(IllegalStateException.class, () -> checkpoints.get(5).close());
            }
        }

        @Test
        void levelsThatHandOutNothingNestToo() {
            try (Arena arena = Arena.create()) {
                MemorySegment.Scope connection = arena.scope();
                Arena.Checkpoint one = arena.checkpoint();          // never hands out a slice
                Arena.Checkpoint two = arena.checkpoint();
                MemorySegment a2 = arena.allocate(10);
                two.close();
                assertFalse(a2.scope().isAlive());
                MemorySegment a1 = arena.allocate(10);
                assertNotEquals(connection, a1.scope());
                one.close();
                assertFalse(a1.scope().isAlive());
                assertTrue(connection.isAlive());
            }
        }
    }

    @Nested
    class Refusals {

        @Test
        void onlyTheOwnerTakesOrClosesACheckpoint() throws InterruptedException {
            try (Arena arena = Arena.create()) {
                Arena.Checkpoint request = arena.checkpoint();
                MemorySegment slice = arena.allocate(10);
                String before = state(arena);
                assertInstanceOf(WrongThreadException.class, onAnotherThread(request::close));
                assertInstanceOf(WrongThreadException.class, onAnotherThread(arena::checkpoint));
                assertEquals(before, state(arena));
                assertTrue(slice.scope().isAlive());
                request.close();
            }
        }

        @Test
        void aThreadTakingACheckpointOfAnArenaNobodyOwnsBecomesItsOwner() throws InterruptedException {
            Arena arena = Arena.create();
            arena.resetAndDisown();
            Throwable thrown = onAnotherThread(() -> {
                Arena.Checkpoint request = arena.checkpoint();
                arena.allocate(10);
                request.close();
                arena.close();
            });
            assertEquals(null, thrown);
        }

        @Test
        void aCheckpointOfAClosedArenaIsRefused() {
            Arena arena = Arena.create();
            arena.close();
            assertThrows(IllegalStateException.class, arena::checkpoint);
        }

        @Test
        void closingALevelWhoseSliceADowncallHoldsIsRefusedAndChangesNothing() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = arena(blocks)) {
                Arena.Checkpoint request = arena.checkpoint();
                MemorySegment held = arena.allocate(JAVA_INT, 2);
                held.set(JAVA_INT, 0, 42);
                String before = state(arena);
                Throwable refused = whileHeldByDowncall(held, request::close);
                assertInstanceOf(IllegalStateException.class, refused);
                assertEquals(before, state(arena));
                assertEquals(42, held.get(JAVA_INT, 0));
                request.close();            // the downcall has returned
                assertFalse(held.scope().isAlive());
            }
            blocks.assertAllFreed();
        }

        @Test
        void whenAnOuterLevelIsHeldTheInnerOnesCloseAsTheirOwnCloseWouldAndTheRestStaysOpen() {
            try (Arena arena = Arena.create()) {
                Arena.Checkpoint outer = arena.checkpoint();
                MemorySegment held = arena.allocate(JAVA_INT, 2);
                held.set(JAVA_INT, 0, 42);
                Arena.Checkpoint inner = arena.checkpoint();
                MemorySegment innerSlice = arena.allocate(100);
                long afterOuter = 8;

                Throwable refused = whileHeldByDowncall(held, outer::close);

                assertInstanceOf(IllegalStateException.class, refused);
                assertFalse(innerSlice.scope().isAlive(), "the inner level was closed");
                assertThrows(IllegalStateException.class, inner::close);
                assertTrue(held.scope().isAlive());
                assertEquals(held.scope(), arena.scope(), "the outer level is the innermost open one");
                assertEquals(afterOuter, arena.statistics().allocatedBytes(), "rewound to the inner level's mark");
                assertEquals(held.address() + 8, arena.allocate(1).address());
                outer.close();
                assertFalse(held.scope().isAlive());
            }
        }

        @Test
        void whenAnOuterLevelIsHeldTheInnerOnesThatHandedOutNothingAreDiscarded() {
            try (Arena arena = Arena.create()) {
                Arena.Checkpoint outer = arena.checkpoint();
                MemorySegment held = arena.allocate(JAVA_INT, 2);
                Arena.Checkpoint inner = arena.checkpoint();
                Arena.Checkpoint innermost = arena.checkpoint();
                String before = state(arena);

                Throwable refused = whileHeldByDowncall(held, outer::close);

                assertInstanceOf(IllegalStateException.class, refused);
                assertThrows(IllegalStateException.class, innermost::close);
                assertThrows(IllegalStateException.class, inner::close);
                assertEquals(before, state(arena), "the empty levels changed nothing when they were discarded");
                assertEquals(held.scope(), arena.scope());
                assertEquals(held.address() + 8, arena.allocate(1).address());
                outer.close();
                assertFalse(held.scope().isAlive());
                assertEquals(0, arena.statistics().allocatedBytes());
            }
        }

        @Test
        void aResetRefusedBecauseTheConnectionLevelIsHeldClosesTheCheckpointsAndKeepsTheRest() {
            try (Arena arena = Arena.create()) {
                MemorySegment held = arena.allocate(JAVA_INT, 2);
                Arena.Checkpoint request = arena.checkpoint();
                MemorySegment innerSlice = arena.allocate(100);
                Throwable refused = whileHeldByDowncall(held, arena::reset);
                assertInstanceOf(IllegalStateException.class, refused);
                assertFalse(innerSlice.scope().isAlive());
                assertThrows(IllegalStateException.class, request::close);
                assertTrue(held.scope().isAlive());
                assertEquals(8, arena.statistics().allocatedBytes());
            }
        }

        @Test
        void aCleanupThatThrowsIsRethrownAfterTheCheckpointIsClosed() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = arena(blocks)) {
                MemorySegment kept = filled(arena, 10, 3);
                Arena.Checkpoint request = arena.checkpoint();
                RuntimeException failure = new RuntimeException("cleanup");
                RuntimeException second = new RuntimeException("second cleanup");
                reinterpret(arena.allocate(8), arena, () -> {
                    throw second;
                });
                Arena.Checkpoint inner = arena.checkpoint();
                MemorySegment slice = arena.allocate(1 << 16);     // a large block, to be kept or freed
                reinterpret(slice, arena, () -> {
                    throw failure;
                });

                RuntimeException thrown = assertThrows(RuntimeException.class, request::close);

                assertSame(failure, thrown, "the innermost level's cleanup ran first");
                assertEquals(List.of(second), List.of(thrown.getSuppressed()));
                assertFalse(slice.scope().isAlive());
                assertThrows(IllegalStateException.class, inner::close);
                assertThrows(IllegalStateException.class, request::close);
                assertEquals(10, arena.statistics().allocatedBytes(), "rewound");
                assertTrue(allBytes(kept, 3));
                assertTrue(arena.statistics().reservedBytes() <= 2 * BLOCK, "blocks kept as a reset keeps them");
                assertEquals(blocks.outstandingBytes(), arena.statistics().reservedBytes());
            }
            blocks.assertAllFreed();
        }

        @Test
        void whileALevelsCleanupRunsTheArenaRefusesEverything() {
            try (Arena arena = Arena.create()) {
                MemorySegment kept = arena.allocate(10);
                List<Class<?>> refused = new ArrayList<>();
                Arena.Checkpoint request = arena.checkpoint();
                reinterpret(arena.allocate(8), arena, () -> {
                    for (Runnable call : List.<Runnable>of(() -> arena.allocate(1), arena::checkpoint, arena::reset,
                            () -> arena.grow(kept, 20))) {
                        try {
                            call.run();
                        } catch (IllegalStateException e) {
                            refused.add(e.getClass());
                        }
                    }
                });
                request.close();
                assertEquals(4, refused.size(), "each call from the cleanup was refused");
                assertEquals(10, arena.statistics().allocatedBytes());
            }
        }
    }

    /** Allocates slices until {@code count} more blocks have been entered. */
    private static void fillBlocks(Arena arena, int count) {
        int blocks = arena.statistics().blockCount();
        while (arena.statistics().blockCount() < blocks + count) {
            arena.allocate(BLOCK / 4);
        }
    }

    @Nested
    class Blocks {

        @Test
        void blocksEnteredSinceTheMarkAreKeptUpToRetainBytesAndFreedBeyond() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = arena(blocks)) {
                MemorySegment kept = filled(arena, 100, 5);
                try (var _ = arena.checkpoint()) {
                    fillBlocks(arena, 9);
                    assertEquals(10 * BLOCK, arena.statistics().reservedBytes());
                }
                assertEquals(2 * BLOCK, arena.statistics().reservedBytes(), "kept what a reset keeps");
                assertEquals(2 * BLOCK, blocks.outstandingBytes());
                assertEquals(100, arena.statistics().allocatedBytes());
                assertTrue(allBytes(kept, 5));
                MemorySegment next = arena.allocate(BLOCK / 4);
                assertEquals(2 * BLOCK, arena.statistics().reservedBytes(), "the next request uses a kept block");
                assertTrue(isZero(next));
            }
            blocks.assertAllFreed();
        }

        @Test
        void blocksTheOuterLevelUsesAreNeverFreedEvenBeyondRetainBytes() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = arena(blocks)) {
                List<MemorySegment> connection = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    connection.add(filled(arena, BLOCK / 4, i + 1));     // four full blocks
                }
                try (var _ = arena.checkpoint()) {
                    arena.allocate(BLOCK / 4);
                    arena.allocate(3 * BLOCK);                 // large
                }
                assertEquals(4 * BLOCK, arena.statistics().reservedBytes(), "the four blocks in use, nothing beyond");
                for (int i = 0; i < 16; i++) {
                    assertTrue(allBytes(connection.get(i), i + 1));
                }
            }
            blocks.assertAllFreed();
        }

        @Test
        void largeBlocksMadeSinceTheMarkAreKeptWithinRetainBytes() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(4 * BLOCK)
                    .build()) {
                arena.allocate(10);
                try (var _ = arena.checkpoint()) {
                    MemorySegment body = filled(arena, 2 * BLOCK, 0x77);
                    arena.allocate(8 * BLOCK);                 // beyond what may be kept
                }
                assertEquals(BLOCK + 2 * BLOCK, arena.statistics().reservedBytes(),
                        "the regular block and the smaller large block: " + arena);
                long allocatedBefore = blocks.allocatedBlocks();
                MemorySegment again = arena.allocate(2 * BLOCK);
                assertEquals(allocatedBefore, blocks.allocatedBlocks(), "the kept large block served it");
                assertTrue(isZero(again));
            }
            blocks.assertAllFreed();
        }

        @Test
        void aHundredThousandRequestsHoldNoMoreMemoryThanTheLargestOne() {
            CountingBlocks blocks = new CountingBlocks();
            SplittableRandom random = new SplittableRandom(9);
            try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(8 * BLOCK)
                    .build()) {
                MemorySegment settings = filled(arena, 200, 6);
                long blocksAfterWarmUp = -1;
                for (int request = 0; request < 100_000; request++) {
                    try (var _ = arena.checkpoint()) {
                        for (int i = 0; i < 20; i++) {
                            arena.allocate(random.nextInt(1, 600));
                        }
                        if (request % 10 == 0) {
                            arena.allocate(2 * BLOCK);             // a body: a large block
                        }
                    }
                    if (request == 10_000) {
                        blocksAfterWarmUp = blocks.allocatedBlocks();
                    }
                    assertTrue(arena.statistics().reservedBytes() <= 8 * BLOCK, "no more than retainBytes: " + arena);
                    assertEquals(200, arena.statistics().allocatedBytes());
                }
                assertTrue(allBytes(settings, 6));
                assertEquals(blocksAfterWarmUp, blocks.allocatedBlocks(),
                        "once the largest request has been seen, no block is allocated any more");
            }
            blocks.assertAllFreed();
        }
    }

    @Nested
    class Limits {

        @Test
        void blocksARewoundLevelKeptNeverCauseARefusal() {
            CountingBlocks blocks = new CountingBlocks(8 * BLOCK);
            try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(8 * BLOCK)
                    .maxBytes(8 * BLOCK).build()) {
                arena.allocate(10);
                try (var _ = arena.checkpoint()) {
                    fillBlocks(arena, 7);
                }
                assertEquals(8 * BLOCK, arena.statistics().reservedBytes(), "seven unused blocks kept");
                MemorySegment body = arena.allocate(6 * BLOCK);      // needs the room of kept blocks
                assertEquals(6 * BLOCK, body.byteSize());
                assertTrue(arena.statistics().reservedBytes() <= 8 * BLOCK);
            }
            blocks.assertAllFreed();
        }

        @Test
        void aMarkOnAnUntouchedFirstBlockSurvivesTheBlockBeingGivenUp() {
            CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
            try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(BLOCK)
                    .maxBytes(4 * BLOCK).build()) {
                arena.allocate(10);
                arena.reset();                              // the round starts in the kept, untouched block
                try (var _ = arena.checkpoint()) {
                    arena.allocate(4 * BLOCK - 64);         // large: the untouched block is given up for it
                    assertThrows(ArenaLimitException.class, () -> arena.allocate(10));
                }
                MemorySegment next = arena.allocate(100);
                assertTrue(isZero(next));
                assertEquals(100, arena.statistics().allocatedBytes());
                assertEquals(blocks.outstandingBytes(), arena.statistics().reservedBytes());
                assertTrue(arena.statistics().reservedBytes() <= BLOCK);
            }
            blocks.assertAllFreed();
        }

        @Test
        void theLevelsOfAPooledArenaEndWhenItReturnsToThePool() {
            try (ArenaPool pool = ArenaPool.builder().build()) {
                Arena arena = pool.acquire();
                Arena.Checkpoint request = arena.checkpoint();
                MemorySegment slice = arena.allocate(100);
                arena.close();
                assertFalse(slice.scope().isAlive());
                assertThrows(IllegalStateException.class, request::close);
                try (Arena next = pool.acquire()) {
                    MemorySegment fresh = next.allocate(100);
                    assertTrue(isZero(fresh));
                }
            }
        }
    }
}
