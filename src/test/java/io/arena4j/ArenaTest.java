package io.arena4j;

import static io.arena4j.TestSupport.isZero;
import static io.arena4j.TestSupport.onAnotherThread;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArenaTest {

    private static final long KiB = 1024;

    @Nested
    class Allocation {

        @Test
        void slicesHaveTheRequestedSizeAlignmentAndDoNotOverlap() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).build()) {
                MemorySegment a = arena.allocate(10, 1);
                MemorySegment b = arena.allocate(24, 8);
                MemorySegment c = arena.allocate(100, 64);
                MemorySegment d = arena.allocate(0, 4096);
                for (MemorySegment s : List.of(a, b, c, d)) {
                    assertTrue(s.isNative());
                    assertEquals(arena.scope(), s.scope());
                }
                assertEquals(List.of(10L, 24L, 100L, 0L), List.of(a.byteSize(), b.byteSize(), c.byteSize(), d.byteSize()));
                assertEquals(0, b.address() % 8);
                assertEquals(0, c.address() % 64);
                assertEquals(0, d.address() % 4096);
                assertTrue(b.address() >= a.address() + 10, "bump order: b after a");
                assertTrue(c.address() >= b.address() + 24, "bump order: c after b");
                assertEquals(134, arena.statistics().allocatedBytes());
            }
        }

        @Test
        void slicesOfAZeroedArenaReadAsZerosAndAreWritable() {
            try (Arena arena = Arena.create()) {
                MemorySegment s = arena.allocate(1000);
                assertTrue(isZero(s));
                s.fill((byte) 7);
                assertEquals(7, s.get(JAVA_BYTE, 999));
            }
        }

        @Test
        void noNativeMemoryUntilTheFirstRequestThenOneBlock() {
            try (Arena arena = Arena.create()) {
                assertEquals(0, arena.statistics().reservedBytes());
                assertEquals(0, arena.statistics().blockCount());
                arena.allocate(0);
                assertEquals(Arena.DEFAULT_BLOCK_SIZE, arena.statistics().reservedBytes());
                assertEquals(1, arena.statistics().blockCount());
                assertNotEquals(0, arena.allocate(0).address(), "a zero-size slice still has a real address");
            }
        }

        @Test
        void aFullBlockLinksANewOne() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).build()) {
                for (int i = 0; i < 4; i++) {
                    arena.allocate(1000);
                }
                assertEquals(1, arena.statistics().blockCount());
                MemorySegment fifth = arena.allocate(1000);
                assertEquals(2, arena.statistics().blockCount());
                assertEquals(8 * KiB, arena.statistics().reservedBytes());
                assertTrue(isZero(fifth));
            }
        }

        @Test
        void aLargeRequestGetsABlockOfItsOwnAndTheCurrentBlockStaysCurrent() {
            try (Arena arena = Arena.builder().blockSize(64 * KiB).build()) {
                MemorySegment small1 = arena.allocate(10);
                MemorySegment big = arena.allocate(1024 * KiB);
                MemorySegment small2 = arena.allocate(10);
                assertEquals(2, arena.statistics().blockCount(), "one regular block and one large block");
                assertEquals(64 * KiB + 1024 * KiB, arena.statistics().reservedBytes(),
                        "the large block is sized to the request");
                assertEquals(small1.address() + 10, small2.address(), "the small requests share the regular block");
                assertTrue(isZero(big));
                big.set(JAVA_LONG, big.byteSize() - 8, -1L);
            }
        }

        @Test
        void aRequestThatStillFitsInTheCurrentBlockIsBumpedEvenIfLarge() {
            try (Arena arena = Arena.builder().blockSize(64 * KiB).build()) {
                MemorySegment first = arena.allocate(10);
                MemorySegment second = arena.allocate(20 * KiB);  // above a quarter of a block, but it fits
                assertEquals(1, arena.statistics().blockCount());
                assertEquals(first.address() + 10, second.address());
            }
        }

        @Test
        void aLargeAlignmentIsHonouredInADedicatedBlock() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).build()) {
                arena.allocate(1);
                MemorySegment s = arena.allocate(10, 1 << 20);
                assertEquals(0, s.address() % (1 << 20));
                assertEquals(10, s.byteSize());
            }
        }

        @Test
        void theSegmentAllocatorDefaultsWork() {
            try (Arena arena = Arena.create()) {
                MemorySegment text = arena.allocateFrom("héllo");
                assertEquals("héllo", text.getString(0));
                assertEquals("héllo".getBytes(StandardCharsets.UTF_8).length + 1, text.byteSize());
                MemorySegment ints = arena.allocate(JAVA_INT, 5);
                assertEquals(20, ints.byteSize());
                assertEquals(0, ints.address() % 4);
                MemorySegment from = arena.allocateFrom(JAVA_INT, 1, 2, 3);
                assertArrayEquals(new int[] {1, 2, 3}, from.toArray(JAVA_INT));
                MemorySegment struct = arena.allocate(MemoryLayout.structLayout(JAVA_LONG, JAVA_INT));
                assertEquals(0, struct.address() % 8);
                assertEquals(arena.scope(), struct.scope());
            }
        }

        @Test
        void allocatedBytesCountsRequestedSizesOnly() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).build()) {
                arena.allocate(3, 1);
                arena.allocate(5, 256);
                arena.allocate(2 * KiB);
                arena.allocate(10 * KiB);
                assertEquals(3 + 5 + 2 * KiB + 10 * KiB, arena.statistics().allocatedBytes());
            }
        }
    }

    @Nested
    class Reset {

        @Test
        void rewindsToTheFirstBlockAndReusesIt() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).build()) {
                long first = arena.allocate(100).address();
                arena.reset();
                assertEquals(0, arena.statistics().allocatedBytes());
                assertEquals(first, arena.allocate(100).address());
                assertEquals(1, arena.statistics().blockCount());
            }
        }

        @Test
        void keepsBlocksUpToRetainBytesAndFreesTheRest() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).retainBytes(8 * KiB).build()) {
                for (int i = 0; i < 20; i++) {
                    arena.allocate(1000);
                }
                assertEquals(5, arena.statistics().blockCount());
                arena.reset();
                assertEquals(2, arena.statistics().blockCount());
                assertEquals(8 * KiB, arena.statistics().reservedBytes());
            }
        }

        @Test
        void retainBytesZeroFreesEverything() {
            try (Arena arena = Arena.builder().retainBytes(0).build()) {
                arena.allocate(100);
                arena.allocate(1 << 20);
                arena.reset();
                assertEquals(0, arena.statistics().reservedBytes());
                assertEquals(0, arena.statistics().blockCount());
                assertTrue(isZero(arena.allocate(100)));
            }
        }

        @Test
        void keepsALargeBlockOnlyIfItFitsTheBudgetAndReusesIt() {
            try (Arena kept = Arena.builder().blockSize(4 * KiB).retainBytes(4 * KiB + 64 * KiB).build();
                 Arena dropped = Arena.builder().blockSize(4 * KiB).retainBytes(4 * KiB + 32 * KiB).build()) {
                for (Arena arena : List.of(kept, dropped)) {
                    arena.allocate(10);
                    arena.allocate(64 * KiB).fill((byte) 1);
                    arena.reset();
                }
                assertEquals(4 * KiB + 64 * KiB, kept.statistics().reservedBytes());
                assertEquals(4 * KiB, dropped.statistics().reservedBytes());

                MemorySegment again = kept.allocate(60 * KiB, 8);
                assertEquals(4 * KiB + 64 * KiB, kept.statistics().reservedBytes(),
                        "the kept large block served the request");
                assertTrue(isZero(again), "the kept large block was cleared");
            }
        }

        @Test
        void theDocumentsWorkloadAllocatesNoNativeMemoryAfterTheFirstRound() {
            try (Arena arena = Arena.builder().retainBytes(8 << 20).build()) {
                MemorySegment[] memory = new MemorySegment[5000];
                long reservedAfterFirstRound = -1;
                int blocksAfterFirstRound = -1;
                for (int round = 0; round < 1000; round++) {
                    for (int j = 0; j < memory.length; j++) {
                        memory[j] = arena.allocate(1000);
                    }
                    assertEquals(5_000_000, arena.statistics().allocatedBytes());
                    if (round == 0) {
                        reservedAfterFirstRound = arena.statistics().reservedBytes();
                        blocksAfterFirstRound = arena.statistics().blockCount();
                    } else {
                        assertEquals(reservedAfterFirstRound, arena.statistics().reservedBytes(), "round " + round);
                        assertEquals(blocksAfterFirstRound, arena.statistics().blockCount(), "round " + round);
                    }
                    arena.reset();
                }
                assertTrue(reservedAfterFirstRound < 6_000_000, "little waste: " + reservedAfterFirstRound);
            }
        }

        @Test
        void aStaleSliceIsInaccessibleAfterReset() {
            try (Arena arena = Arena.create()) {
                MemorySegment stale = arena.allocate(100);
                MemorySegment.Scope before = arena.scope();
                stale.set(JAVA_INT, 0, 42);
                arena.reset();
                assertFalse(before.isAlive());
                assertFalse(stale.scope().isAlive());
                assertTrue(arena.scope().isAlive());
                assertThrows(IllegalStateException.class, () -> stale.get(JAVA_INT, 0));
                assertThrows(IllegalStateException.class, () -> stale.set(JAVA_INT, 0, 1));
                MemorySegment fresh = arena.allocate(100);
                assertEquals(stale.address(), fresh.address(), "same memory, new generation");
                assertEquals(0, fresh.get(JAVA_INT, 0), "the next round never sees the last round's data");
            }
        }

        @Test
        void keptBlocksAreClearedSoTheNextRoundReadsZeros() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).retainBytes(1 << 20).build()) {
                for (int i = 0; i < 50; i++) {
                    arena.allocate(1000, 8).fill((byte) 0x5A);
                }
                arena.allocate(300 * KiB).fill((byte) 0x5A);
                arena.reset();
                for (int i = 0; i < 50; i++) {
                    assertTrue(isZero(arena.allocate(1000, 8)), "slice " + i);
                }
                assertTrue(isZero(arena.allocate(300 * KiB)));
            }
        }

        @Test
        void zeroedFalseDoesNotClearKeptBlocks() {
            try (Arena arena = Arena.builder().zeroed(false).build()) {
                arena.allocate(100).fill((byte) 0x5A);
                arena.reset();
                MemorySegment again = arena.allocate(100);
                assertEquals(0x5A, again.get(JAVA_BYTE, 99), "like malloc: the caller overwrites");
            }
        }
    }

    @Nested
    class Close {

        @Test
        void freesEverythingAndKillsEverySlice() {
            Arena arena = Arena.create();
            MemorySegment slice = arena.allocate(100);
            arena.allocate(1 << 20);
            arena.close();
            assertEquals(0, arena.statistics().reservedBytes());
            assertEquals(0, arena.statistics().blockCount());
            assertFalse(arena.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> slice.get(JAVA_BYTE, 0));
        }

        @Test
        void everyCallAfterCloseThrowsIllegalStateException() {
            Arena arena = Arena.create();
            arena.close();
            assertAll(
                    () -> assertThrows(IllegalStateException.class, () -> arena.allocate(1)),
                    () -> assertThrows(IllegalStateException.class, () -> arena.allocate(0, 1)),
                    () -> assertThrows(IllegalStateException.class, () -> arena.allocateFrom("x")),
                    () -> assertThrows(IllegalStateException.class, arena::reset),
                    () -> assertThrows(IllegalStateException.class, arena::resetAndDisown),
                    () -> assertThrows(IllegalStateException.class, arena::close));
            assertTrue(arena.toString().contains("closed"), arena.toString());
        }
    }

    @Nested
    class BadInput {

        @ParameterizedTest
        @ValueSource(longs = {-1, Long.MIN_VALUE})
        void negativeSizeIsRefused(long size) {
            try (Arena arena = Arena.create()) {
                arena.allocate(8);
                var e = assertThrows(IllegalArgumentException.class, () -> arena.allocate(size, 1));
                assertTrue(e.getMessage().contains("negative"), e.getMessage());
                assertEquals(8, arena.statistics().allocatedBytes());
            }
        }

        @ParameterizedTest
        @ValueSource(longs = {0, -1, -8, 3, 6, 24, Long.MIN_VALUE, Long.MAX_VALUE})
        void alignmentThatIsNotAPositivePowerOfTwoIsRefused(long alignment) {
            try (Arena arena = Arena.create()) {
                var e = assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, alignment));
                try (java.lang.foreign.Arena jdk = java.lang.foreign.Arena.ofConfined()) {
                    var jdkRefusal = assertThrows(IllegalArgumentException.class, () -> jdk.allocate(8, alignment));
                    assertEquals(jdkRefusal.getMessage(), e.getMessage(), "the JDK's words");
                }
                assertEquals(0, arena.statistics().reservedBytes());
                assertEquals(0, arena.statistics().allocatedBytes());
            }
        }

        @ParameterizedTest
        @ValueSource(longs = {Long.MAX_VALUE, Long.MAX_VALUE - 100, 1L << 62})
        void sizesTooLargeForMemoryFailWithoutWrapAround(long size) {
            try (Arena arena = Arena.create()) {
                arena.allocate(8);
                long reserved = arena.statistics().reservedBytes();
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(size, 4096));
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(size, 1L << 62));
                assertEquals(reserved, arena.statistics().reservedBytes());
                assertEquals(8, arena.statistics().allocatedBytes());
                assertEquals(8, arena.allocate(8).byteSize());
            }
        }

        @Test
        void nonsensicalBuilderValuesAreRefused() {
            assertAll(
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().blockSize(0)),
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().blockSize(-4096)),
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().blockSize(100)),
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().blockSize(1L << 40)),
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().maxBytes(0)),
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().maxBytes(-1)),
                    () -> assertThrows(IllegalArgumentException.class, () -> Arena.builder().retainBytes(-1)),
                    () -> assertThrows(IllegalArgumentException.class,
                            () -> Arena.builder().blockSize(64 * KiB).maxBytes(32 * KiB).build()),
                    () -> assertThrows(IllegalArgumentException.class,
                            () -> Arena.builder().blockSize(4 * KiB).maxBytes(64 * KiB).retainBytes(128 * KiB).build()));
        }
    }

    @Nested
    class Limits {

        @Test
        void aRequestOverTheLimitIsRefusedAndChangesNothing() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(16 * KiB).build()) {
                MemorySegment live = arena.allocate(1000);
                live.fill((byte) 3);
                String before = arena.toString();
                var e = assertThrows(ArenaLimitException.class, () -> arena.allocate(64 * KiB));
                assertTrue(e.getMessage().contains(String.valueOf(64 * KiB)), "names the request: " + e.getMessage());
                assertTrue(e.getMessage().contains(String.valueOf(16 * KiB)), "names the limit: " + e.getMessage());
                assertTrue(e.getMessage().contains(String.valueOf(4 * KiB)), "names the reservation: " + e.getMessage());
                assertEquals(64 * KiB, e.requestedBytes());
                assertEquals(16 * KiB, e.limitBytes());
                assertEquals(4 * KiB, e.reservedBytes());
                assertEquals(before, arena.toString(), "nothing changed");
                assertEquals(3, live.get(JAVA_BYTE, 999), "live slices are intact");
                assertEquals(10, arena.allocate(10).byteSize(), "the arena stays usable");
            }
        }

        @Test
        void regularBlocksStopAtTheLimit() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(16 * KiB).build()) {
                int allocated = 0;
                try {
                    while (true) {
                        arena.allocate(1000);
                        allocated++;
                    }
                } catch (ArenaLimitException e) {
                    assertEquals(16, allocated, "four blocks of four slices");
                    assertEquals(1000, e.requestedBytes(), "the request, not the block");
                    assertEquals(16 * KiB, arena.statistics().reservedBytes());
                }
                arena.reset();
                assertEquals(1000, arena.allocate(1000).byteSize());
            }
        }

        @Test
        void keptButUnusedBlocksMakeRoomForANewRequestUnderTheLimit() {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(16 * KiB).retainBytes(16 * KiB).build()) {
                for (int i = 0; i < 16; i++) {
                    arena.allocate(1000);
                }
                arena.reset();
                assertEquals(16 * KiB, arena.statistics().reservedBytes(), "four blocks kept");
                arena.allocate(10);
                MemorySegment big = arena.allocate(8 * KiB);
                assertEquals(8 * KiB, big.byteSize());
                assertTrue(arena.statistics().reservedBytes() <= 16 * KiB);
                assertTrue(isZero(big));
            }
        }
    }

    @Nested
    class Threads {

        @Test
        void anotherThreadCannotAllocateResetCloseOrTouchSlices() throws InterruptedException {
            try (Arena arena = Arena.create()) {
                MemorySegment slice = arena.allocate(100);
                assertTrue(onAnotherThread(() -> arena.allocate(8)) instanceof WrongThreadException);
                assertTrue(onAnotherThread(arena::reset) instanceof WrongThreadException);
                assertTrue(onAnotherThread(arena::resetAndDisown) instanceof WrongThreadException);
                assertTrue(onAnotherThread(arena::close) instanceof WrongThreadException);
                Throwable access = onAnotherThread(() -> slice.get(JAVA_BYTE, 0));
                assertTrue(access instanceof WrongThreadException, String.valueOf(access));
                assertEquals(100, arena.statistics().allocatedBytes(), "the failed calls changed nothing");
                assertTrue(arena.scope().isAlive());
                assertEquals(0, slice.get(JAVA_BYTE, 0));
            }
        }

        @Test
        void statisticsMayBeReadFromAnyThread() throws InterruptedException {
            try (Arena arena = Arena.create()) {
                arena.allocate(100);
                long[] seen = new long[2];
                assertEquals(null, onAnotherThread(() -> {
                    seen[0] = arena.statistics().allocatedBytes();
                    seen[1] = arena.statistics().reservedBytes();
                    arena.toString();
                    arena.statistics().blockCount();
                    arena.scope();
                }));
                assertArrayEquals(new long[] {100, Arena.DEFAULT_BLOCK_SIZE}, seen);
            }
        }

        @Test
        void resetAndDisownHandsTheArenaToTheNextThreadThatUsesIt() throws InterruptedException {
            Arena arena = Arena.create();
            MemorySegment stale = arena.allocate(100);
            stale.fill((byte) 9);
            arena.resetAndDisown();
            assertThrows(IllegalStateException.class, () -> stale.get(JAVA_BYTE, 0));
            assertFalse(arena.scope().isAlive(), "no generation until the next owner claims it");

            MemorySegment[] taken = new MemorySegment[1];
            assertEquals(null, onAnotherThread(() -> {
                taken[0] = arena.allocate(100);
                assertEquals(0, taken[0].get(JAVA_BYTE, 0), "the new owner sees zeros");
                arena.resetAndDisown();
            }));
            assertFalse(taken[0].scope().isAlive());

            assertEquals(10, arena.allocate(10).byteSize(), "the first thread may take it back");
            assertTrue(onAnotherThread(() -> arena.allocate(10)) instanceof WrongThreadException);
            arena.close();
        }

        @Test
        void anUnownedArenaMayBeClaimedByCloseOrReset() throws InterruptedException {
            Arena arena = Arena.create();
            arena.allocate(100);
            arena.resetAndDisown();
            assertEquals(null, onAnotherThread(() -> {
                arena.reset();
                assertTrue(arena.scope().isAlive());
                arena.close();
            }));
            assertEquals(0, arena.statistics().reservedBytes());
        }

        @Test
        void twoThreadsRacingForAnUnownedArenaCannotBothWin() throws Exception {
            for (int trial = 0; trial < 200; trial++) {
                Arena arena = Arena.create();
                arena.resetAndDisown();
                var start = new CountDownLatch(1);
                var bothTried = new CountDownLatch(2);
                List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            start.await();
                            arena.allocate(8);
                            bothTried.countDown();
                            bothTried.await();
                            arena.resetAndDisown();     // the winner lets the test close the arena
                        } catch (Throwable e) {
                            failures.add(e);
                            bothTried.countDown();
                        }
                    }));
                }
                start.countDown();
                for (Thread thread : threads) {
                    thread.join();
                }
                assertEquals(1, failures.size(), "trial " + trial + ": exactly one thread loses");
                assertTrue(failures.getFirst() instanceof WrongThreadException, failures.toString());
                arena.close();
            }
        }
    }

    @Test
    void toStringShowsTheFiguresInOneLine() {
        try (Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(1 << 20).build()) {
            arena.allocate(1000);
            arena.allocate(100 * KiB);
            String s = arena.toString();
            assertFalse(s.contains("\n"));
            for (String expected : List.of("allocated=103400", "reserved=" + (4 * KiB + 100 * KiB), "2 blocks",
                    "1 regular", "1 large", "blockSize=4096", "max=1048576", "zeroed",
                    "owner=" + Thread.currentThread().getName())) {
                assertTrue(s.contains(expected), expected + " in " + s);
            }
        }
    }

    @Test
    void anArenaIsAJavaLangForeignArena() {
        try (java.lang.foreign.Arena arena = Arena.create()) {
            MemorySegment s = arena.allocate(16, 16);
            assertSame(arena.scope(), s.scope());
            assertTrue(s.isAccessibleBy(Thread.currentThread()));
        }
    }
}
