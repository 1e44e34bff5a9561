package io.arena4j;

import static io.arena4j.TestSupport.onAnotherThread;
import static io.arena4j.TestSupport.whileHeldByDowncall;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every way a call can be refused or fail from below, and what the arena looks like afterwards:
 * exactly as before a refused call, consistent after a failure it could not prevent, and never
 * holding a native byte it does not account for.
 */
class ArenaFailurePathsTest {

    private static final long KiB = 1024;

    /** The figures a refused call must leave exactly as they were. */
    private static String state(Arena arena) {
        return arena + " scopeAlive=" + arena.scope().isAlive();
    }

    @Nested
    class HeldScope {

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"close", "reset", "resetAndDisown"})
        void aRefusedEndOfGenerationChangesNothingAndWorksOnceTheScopeIsReleased(String call) {
            CountingBlocks blocks = new CountingBlocks();
            Arena arena = Arena.builder().blockAllocator(blocks).build();
            MemorySegment slice = arena.allocate(JAVA_INT, 2);
            slice.set(JAVA_INT, 0, 42);
            String before = state(arena);

            Throwable refused = whileHeldByDowncall(slice, () -> end(arena, call));

            assertInstanceOf(IllegalStateException.class, refused);
            assertTrue(refused.getMessage().contains("acquired"), refused.getMessage());
            assertEquals(before, state(arena), "a refused " + call + " changes nothing");
            assertEquals(42, slice.get(JAVA_INT, 0), "the slice is still alive and intact");
            assertEquals(8, arena.allocate(8).byteSize(), "the arena is still usable");

            end(arena, call);          // the downcall has returned: the scope is free
            assertFalse(slice.scope().isAlive());
            if (!call.equals("close")) {
                arena.close();
            }
            assertFalse(arena.scope().isAlive());
            assertEquals(0, arena.statistics().reservedBytes());
            blocks.assertAllFreed();
        }

        private static void end(Arena arena, String call) {
            switch (call) {
                case "close" -> arena.close();
                case "reset" -> arena.reset();
                default -> arena.resetAndDisown();
            }
        }

        @Test
        void aRefusedCloseOfAPooledArenaReturnsNothingToThePool() {
            CountingBlocks blocks = new CountingBlocks();
            try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks)).build()) {
                Arena arena = pool.acquire();
                MemorySegment slice = arena.allocate(JAVA_INT, 2);
                String before = state(arena);
                assertInstanceOf(IllegalStateException.class, whileHeldByDowncall(slice, arena::close));
                assertEquals(before, state(arena));
                assertEquals(0, pool.idleCount(), "nothing went back to the pool");
                arena.close();
                assertEquals(1, pool.idleCount());
            }
            blocks.assertAllFreed();
        }
    }

    @Nested
    class CleanupThatThrows {

        /** Registers two cleanups on a slice of {@code arena}: one throws, one counts its runs. */
        private static AtomicInteger throwingCleanup(Arena arena, RuntimeException failure) {
            AtomicInteger runs = new AtomicInteger();
            Consumer<MemorySegment> count = s -> runs.incrementAndGet();
            Consumer<MemorySegment> fail = s -> {
                runs.incrementAndGet();
                throw failure;
            };
            reinterpret(arena.allocate(16), arena, count);
            reinterpret(arena.allocate(16), arena, fail);
            return runs;
        }

        @SuppressWarnings("restricted")
        private static void reinterpret(MemorySegment slice, Arena arena, Consumer<MemorySegment> cleanup) {
            slice.reinterpret(arena, cleanup);
        }

        @Test
        void resetRunsEveryCleanupStartsANewGenerationThenRethrows() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(4 * KiB).build()) {
                MemorySegment old = arena.allocate(100);
                MemorySegment.Scope oldScope = arena.scope();
                RuntimeException boom = new RuntimeException("boom");
                AtomicInteger runs = throwingCleanup(arena, boom);

                assertSame(boom, assertThrows(RuntimeException.class, arena::reset));

                assertEquals(2, runs.get(), "the other cleanup ran too");
                assertFalse(old.scope().isAlive(), "the old generation is closed");
                assertTrue(arena.scope().isAlive(), "a new generation is live");
                assertNotEquals(oldScope, arena.scope());
                assertEquals(0, arena.statistics().allocatedBytes());
                MemorySegment fresh = arena.allocate(100);
                assertTrue(fresh.scope().isAlive());
                assertTrue(TestSupport.isZero(fresh), "kept blocks were cleared as by any reset");
                arena.reset();
                assertEquals(blocks.outstandingBytes(), arena.statistics().reservedBytes());
            }
            blocks.assertAllFreed();
        }

        @Test
        void closeRunsEveryCleanupFreesEveryBlockThenRethrows() {
            CountingBlocks blocks = new CountingBlocks();
            Arena arena = Arena.builder().blockAllocator(blocks).build();
            arena.allocate(1 << 20);
            RuntimeException boom = new IllegalStateException("boom");
            AtomicInteger runs = throwingCleanup(arena, boom);

            assertSame(boom, assertThrows(IllegalStateException.class, arena::close));

            assertEquals(2, runs.get());
            assertFalse(arena.scope().isAlive());
            assertEquals(0, arena.statistics().reservedBytes());
            blocks.assertAllFreed();
            assertThrows(IllegalStateException.class, arena::close, "closed, once and for all");
            assertThrows(IllegalStateException.class, () -> arena.allocate(1));
        }

        @Test
        void aPooledArenaGoesBackToThePoolThenTheFailureIsRethrown() {
            CountingBlocks blocks = new CountingBlocks();
            try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks)).build()) {
                Arena arena = pool.acquire();
                RuntimeException boom = new RuntimeException("boom");
                throwingCleanup(arena, boom);
                assertSame(boom, assertThrows(RuntimeException.class, arena::close));
                assertEquals(1, pool.idleCount());
                assertEquals(blocks.outstandingBytes(), pool.reservedBytes());
                try (Arena next = pool.acquire()) {
                    assertTrue(TestSupport.isZero(next.allocate(64)));
                }
            }
            blocks.assertAllFreed();
        }

        @Test
        void anErrorFromACleanupIsRethrownAfterTheResetToo() {
            try (Arena arena = Arena.create()) {
                AssertionError error = new AssertionError("cleanup bug");
                reinterpret(arena.allocate(8), arena, s -> {
                    throw error;
                });
                assertSame(error, assertThrows(AssertionError.class, arena::reset));
                assertTrue(arena.scope().isAlive());
                assertEquals(8, arena.allocate(8).byteSize());
            }
        }

        @Test
        void aCleanupThatUsesTheArenaItBelongsToIsRefusedAsTheJdkRefusesIt() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = Arena.builder().blockAllocator(blocks).build()) {
                List<Throwable> inside = new ArrayList<>();
                reinterpret(arena.allocate(8), arena, s -> {
                    for (Runnable call : List.<Runnable>of(() -> arena.allocate(8), arena::reset, arena::close,
                            arena::resetAndDisown)) {
                        try {
                            call.run();
                        } catch (Throwable t) {
                            inside.add(t);
                        }
                    }
                });
                arena.reset();
                assertEquals(4, inside.size(), inside.toString());
                inside.forEach(t -> assertInstanceOf(IllegalStateException.class, t));
                assertTrue(arena.scope().isAlive());
                assertEquals(0, arena.statistics().allocatedBytes());
                assertEquals(8, arena.allocate(8).byteSize());
            }
            blocks.assertAllFreed();
        }
    }

    /** An arena at a 16 KiB limit of 4 KiB blocks: four kept blocks, a 10-byte slice in the first. */
    private static Arena oneBlockInUseThreeKeptAtTheLimit(CountingBlocks blocks) {
        Arena arena = Arena.builder().blockAllocator(blocks)
                .blockSize(4 * KiB).maxBytes(16 * KiB).retainBytes(16 * KiB).build();
        for (int i = 0; i < 16; i++) {
            arena.allocate(1000);
        }
        arena.reset();
        arena.allocate(10);
        assertEquals(16 * KiB, blocks.outstandingBytes());
        return arena;
    }

    @Nested
    class Limits {

        @Test
        void aKeptBlockIsGivenUpToServeARequestAnArenaThatKeptNothingWouldServe() {
            CountingBlocks blocks = new CountingBlocks(16 * KiB);
            try (Arena arena = Arena.builder().blockAllocator(blocks)
                    .blockSize(4 * KiB).maxBytes(16 * KiB).retainBytes(16 * KiB).build()) {
                arena.allocate(10);
                arena.reset();
                MemorySegment big = arena.allocate(14 * KiB);
                assertEquals(14 * KiB, big.byteSize());
                assertTrue(TestSupport.isZero(big));
                assertEquals(blocks.outstandingBytes(), arena.statistics().reservedBytes());
                assertEquals(2 * KiB, arena.allocate(2 * KiB).byteSize(), "so does a block that fills the limit");
                assertThrows(ArenaLimitException.class, () -> arena.allocate(10), "as an arena that kept nothing would refuse it");
            }
            blocks.assertAllFreed();
        }

        @Test
        void aPooledArenaThatKeptABlockServesWhatANewOneWould() {
            try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB).maxBytes(16 * KiB)
                    .retainBytes(16 * KiB)).build()) {
                try (Arena arena = pool.acquire()) {
                    arena.allocate(10);
                }
                try (Arena arena = pool.acquire()) {
                    assertEquals(4 * KiB, arena.statistics().reservedBytes(), "the kept block came along");
                    assertEquals(14 * KiB, arena.allocate(14 * KiB).byteSize());
                }
            }
        }

        @Test
        void theLimitHoldsAtEveryInstantNotOnlyBetweenCalls() {
            CountingBlocks blocks = new CountingBlocks(16 * KiB);    // fails the test if ever crossed
            try (Arena arena = oneBlockInUseThreeKeptAtTheLimit(blocks)) {
                assertEquals(12 * KiB, arena.allocate(12 * KiB).byteSize(), "three kept blocks made room");
                assertTrue(blocks.peakBytes() <= 16 * KiB, "peak " + blocks.peakBytes());
            }
            blocks.assertAllFreed();
        }

        @Test
        void aRequestTheBlocksInUseLeaveNoRoomForIsRefusedAndChangesNothing() {
            CountingBlocks blocks = new CountingBlocks(16 * KiB);
            try (Arena arena = oneBlockInUseThreeKeptAtTheLimit(blocks)) {
                String before = state(arena);
                var e = assertThrows(ArenaLimitException.class, () -> arena.allocate(13 * KiB));
                assertEquals(13 * KiB, e.requestedBytes());
                assertEquals(before, state(arena), "the kept blocks were not given up for nothing");
                assertEquals(16 * KiB, blocks.outstandingBytes());
            }
            blocks.assertAllFreed();
        }

        /**
         * A kept block must not take a large request that an arena which kept nothing would give
         * a block of its own: carved from the kept 64 KiB block, the first 40 KiB would make the
         * whole block count as in use, and the second request would cross the 100 KiB limit.
         * Blocks are kept by a reset, by the close of a checkpoint taken before the first
         * request, and by the pool for a new lease.
         */
        @ParameterizedTest
        @ValueSource(strings = {"reset", "checkpoint", "lease"})
        void aKeptBlockNeverTakesALargeRequestThatWouldGetABlockOfItsOwn(String keptBy) {
            CountingBlocks blocks = new CountingBlocks(100 * KiB);
            try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).maxBytes(100 * KiB))
                    .leakDetection(LeakDetection.OFF).build();
                 Arena arena = arenaThatKeptOneBlock(keptBy, blocks, pool)) {
                assertEquals(Arena.DEFAULT_BLOCK_SIZE, arena.statistics().reservedBytes(), "one block kept");

                assertEquals(40 * KiB, arena.allocate(40 * KiB).byteSize());
                assertEquals(40 * KiB, arena.allocate(40 * KiB).byteSize(), "as an arena that kept nothing serves it");

                assertEquals(80 * KiB, arena.statistics().reservedBytes(), "the kept block was given up for the limit");
                assertEquals(80 * KiB, blocks.outstandingBytes());
            }
            blocks.assertAllFreed();
        }

        /**
         * A size whose alignment slack overflows a long is refused as any request too large for
         * the limit or the budget is: with ArenaLimitException, naming the pool under a budget,
         * so that a server can tell "too large" from "full". Without either, the C library
         * refuses it with a plain OutOfMemoryError. Each changes nothing.
         */
        @ParameterizedTest
        @ValueSource(strings = {"maxBytes", "maxTotalBytes", "unlimited"})
        void aSizeBeyondAnyAddressSpaceIsRefusedAsTheLimitOrTheBudgetRefusesIt(String bound) {
            CountingBlocks blocks = new CountingBlocks();
            Arena.Builder arenas = Arena.builder().blockAllocator(blocks).blockSize(4 * KiB);
            ArenaPool.Builder builder = ArenaPool.builder().arenas(arenas).name("huge")
                    .leakDetection(LeakDetection.OFF);
            if (bound.equals("maxBytes")) {
                arenas.maxBytes(64 * KiB);
            } else if (bound.equals("maxTotalBytes")) {
                builder.maxTotalBytes(64 * KiB);
            }
            try (ArenaPool pool = builder.build(); Arena arena = pool.acquire()) {
                arena.allocate(10);
                String before = state(arena);
                OutOfMemoryError refused = assertThrows(OutOfMemoryError.class,
                        () -> arena.allocate(Long.MAX_VALUE - 8, 4096));
                switch (bound) {
                    case "maxBytes" -> assertNull(assertInstanceOf(ArenaLimitException.class, refused).poolName());
                    case "maxTotalBytes" -> assertEquals("huge",
                            assertInstanceOf(ArenaLimitException.class, refused).poolName());
                    default -> assertFalse(refused instanceof ArenaLimitException, refused.toString());
                }
                assertEquals(before, state(arena));
                assertEquals(4 * KiB, blocks.outstandingBytes());
            }
            blocks.assertAllFreed();
        }

        /** An arena with a 100 KiB limit and 64 KiB blocks that kept one block from its last round. */
        private static Arena arenaThatKeptOneBlock(String keptBy, CountingBlocks blocks, ArenaPool pool) {
            if (keptBy.equals("lease")) {
                try (Arena first = pool.acquire()) {
                    first.allocate(100);
                }
                return pool.acquire();
            }
            Arena arena = Arena.builder().blockAllocator(blocks).maxBytes(100 * KiB).build();
            if (keptBy.equals("reset")) {
                arena.allocate(100);
                arena.reset();
            } else {
                try (var _ = arena.checkpoint()) {
                    arena.allocate(100);
                }
            }
            return arena;
        }

        @Test
        void underALimitAKeptLargeBlockServesOnlyRequestsItDoesNotOversize() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(64 * KiB).retainBytes(64 * KiB).build()) {
                arena.allocate(40 * KiB);
                arena.reset();                                   // keeps the 40 KiB block
                arena.allocate(8 * KiB);                         // an arena that kept nothing would hold 8 KiB for it
                assertEquals(56 * KiB, arena.allocate(56 * KiB).byteSize(), "as an arena that kept nothing would");
            }
        }
    }

    @Nested
    class FailureFromTheCLibrary {

        @Test
        void aNewBlockTheCLibraryRefusesLeavesTheArenaAsItWas() {
            CountingBlocks blocks = new CountingBlocks();
            try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(4 * KiB).build()) {
                MemorySegment live = arena.allocate(4000);
                live.fill((byte) 7);
                String before = state(arena);
                blocks.failNext(1);
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(1000));
                blocks.failNext(1);
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(1 << 20), "a large request too");
                assertEquals(before, state(arena));
                assertEquals(7, live.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 3999));
                assertEquals(1000, arena.allocate(1000).byteSize());
            }
            blocks.assertAllFreed();
        }

        @Test
        void keptBlocksGivenUpForABlockTheCLibraryRefusesAreTakenBack() {
            CountingBlocks blocks = new CountingBlocks(16 * KiB);
            try (Arena arena = oneBlockInUseThreeKeptAtTheLimit(blocks)) {
                String before = state(arena);
                blocks.failNext(1);                              // the 12 KiB block
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(12 * KiB));
                assertEquals(before, state(arena), "the three kept blocks are back");
                assertEquals(arena.statistics().reservedBytes(), blocks.outstandingBytes());
                assertEquals(12 * KiB, arena.allocate(12 * KiB).byteSize());
            }
            blocks.assertAllFreed();
        }
    }

    @Nested
    class Ownership {

        @ParameterizedTest(name = "{0}")
        @ValueSource(longs = {Long.MAX_VALUE, 64 * 1024})
        void aRefusedRequestFromAnotherThreadClaimsNothing(long size) throws InterruptedException {
            Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(16 * KiB).build();
            arena.allocate(10);
            arena.resetAndDisown();
            String before = state(arena);

            Throwable refused = onAnotherThread(() -> arena.allocate(size));

            assertInstanceOf(OutOfMemoryError.class, refused);
            assertEquals(before, state(arena), "still unowned, no generation started");
            MemorySegment[] mine = new MemorySegment[1];
            assertNull(onAnotherThread(() -> {
                mine[0] = arena.allocate(100);          // the thread the arena was meant for
                arena.resetAndDisown();
            }));
            assertFalse(mine[0].scope().isAlive());
            arena.close();
            assertEquals(0, arena.statistics().reservedBytes());
        }
    }

    @Nested
    class StatisticsFromAnotherThread {

        /** What {@code Arena.toString()} says of its reservation: "reserved=4096 in 1 block", "... in 2 blocks". */
        private static final Pattern RESERVED_IN_BLOCKS = Pattern.compile("reserved=(\\d+) in (\\d+) blocks?\\b");

        /**
         * The owner allocates slices of 1001 bytes aligned to 8 (so padding lies between them) and
         * resets after every 40; a reader on another thread must only ever see values the arena
         * really had: a multiple of 1001 from 0 to 40 slices, with reservation and block count
         * that agree.
         */
        @Test
        void aReaderOnAnotherThreadSeesOnlyValuesTheArenaReallyHad() throws Exception {
            long blockSize = 4 * KiB;
            try (Arena arena = Arena.builder().blockSize(blockSize).retainBytes(4 * KiB).build()) {
                AtomicBoolean done = new AtomicBoolean();
                List<String> impossible = new ArrayList<>();
                Thread reader = Thread.ofPlatform().start(() -> {
                    while (!done.get() && impossible.size() < 10) {
                        long allocated = arena.statistics().allocatedBytes();
                        if (allocated < 0 || allocated > 40 * 1001 || allocated % 1001 != 0) {
                            impossible.add("allocatedBytes " + allocated);
                        }
                        String s = arena.toString();
                        Matcher figures = RESERVED_IN_BLOCKS.matcher(s);
                        if (!figures.find()) {          // a format the reader cannot check fails the test
                            impossible.add("unreadable: " + s);
                        } else if (Long.parseLong(figures.group(1)) != Long.parseLong(figures.group(2)) * blockSize) {
                            impossible.add(s);
                        }
                    }
                });
                for (int round = 0; round < 20_000 && impossible.isEmpty(); round++) {
                    for (int i = 0; i < 40; i++) {
                        arena.allocate(1001, 8);
                    }
                    arena.reset();
                }
                done.set(true);
                reader.join();
                assertEquals(List.of(), impossible);
            }
        }

        /**
         * A new regular block paid for by giving up a kept large block of the same size leaves
         * the reservation as it was, but not the blocks: another thread must see the change.
         */
        @Test
        void aNewBlockPaidForByAKeptBlockOfTheSameSizeIsPublished() throws Exception {
            long block = 64 * KiB;
            try (Arena arena = Arena.builder().maxBytes(2 * block).retainBytes(2 * block).build()) {
                arena.allocate(100);
                arena.allocate(block);                            // a large request: a block of its own
                arena.reset();                                    // keeps one regular and one large block
                arena.allocate(100);
                for (int i = 0; i < 4; i++) {
                    arena.allocate(16 * KiB);                     // the fourth does not fit the kept block
                }
                assertEquals(2 * block, arena.statistics().reservedBytes(),
                        "the kept large block paid for the new one");
                String[] seen = new String[1];
                assertNull(onAnotherThread(() -> seen[0] = arena.toString()));
                assertTrue(seen[0].contains("(2 regular, 0 large)"), seen[0]);
                assertTrue(seen[0].contains("allocated=" + (100 + 4 * 16 * KiB)),
                        "figures of the moment the block was linked in: " + seen[0]);
            }
        }

        /**
         * While the owner takes checkpoints deep enough to grow the levels' arrays, allocates in
         * them, closes them in and out of order and resets, a reader on another thread asks for
         * {@code scope()} and the statistics. Every scope it is given must be one the owner had;
         * no call may throw. Each arena is new, so that its arrays grow while the reader looks.
         */
        @Test
        void scopeAndStatisticsReadWhileTheOwnerTakesCheckpointsAreOnesTheArenaHad() throws Exception {
            var watched = new java.util.concurrent.atomic.AtomicReference<Arena>();
            java.util.Set<MemorySegment.Scope> ownerSaw = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.Set<MemorySegment.Scope> readerSaw = java.util.concurrent.ConcurrentHashMap.newKeySet();
            AtomicBoolean done = new AtomicBoolean();
            List<Throwable> thrown = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicInteger reads = new AtomicInteger();
            Thread reader = Thread.ofPlatform().start(() -> {
                while (!done.get() && thrown.size() < 10) {
                    Arena arena = watched.get();
                    if (arena == null) {
                        continue;
                    }
                    try {
                        readerSaw.add(arena.scope());
                        String figures = arena.toString();       // one snapshot, unlike two getters
                        long allocated = Long.parseLong(figures.replaceAll(".*allocated=(\\d+).*", "$1"));
                        long reserved = Long.parseLong(figures.replaceAll(".*reserved=(\\d+).*", "$1"));
                        if (allocated > reserved) {
                            thrown.add(new AssertionError("figures the arena never had: " + figures));
                        }
                        reads.incrementAndGet();
                    } catch (Throwable t) {
                        thrown.add(t);
                    }
                }
            });
            java.util.SplittableRandom random = new java.util.SplittableRandom(19);
            for (int round = 0; round < 3_000 && thrown.isEmpty(); round++) {
                Arena arena = Arena.builder().blockSize(4 * KiB).build();
                ownerSaw.add(arena.scope());
                watched.set(arena);
                for (int reset = 0; reset < 4; reset++) {
                    List<Arena.Checkpoint> open = new ArrayList<>();
                    for (int step = 0; step < 40; step++) {
                        int dice = random.nextInt(10);
                        if (dice < 4 && open.size() < 12) {
                            open.add(arena.checkpoint());
                        } else if (dice < 6 && !open.isEmpty()) {
                            int level = random.nextInt(open.size());
                            open.get(level).close();
                            open.subList(level, open.size()).clear();
                        } else if (dice < 7) {
                            ownerSaw.add(arena.scope());
                        } else {
                            ownerSaw.add(arena.allocate(random.nextInt(1, 3000)).scope());
                        }
                    }
                    arena.reset();
                    ownerSaw.add(arena.scope());
                }
                arena.close();
            }
            done.set(true);
            reader.join();
            assertEquals(List.of(), thrown);
            assertTrue(reads.get() > 0, "the reader read");
            readerSaw.removeAll(ownerSaw);
            assertEquals(java.util.Set.of(), readerSaw, "scopes the arena never had");
        }
    }
}
