package io.arena4j;

import static io.arena4j.TestSupport.isZero;
import static io.arena4j.TestSupport.onAnotherThread;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArenaPoolTest {

    private static final long KiB = 1024;

    @Test
    void createGivesAPoolWithTheDefaultsOfItsBuilderAndOfArenaCreate() {
        try (ArenaPool pool = ArenaPool.create()) {
            try (Arena arena = pool.acquire()) {
                arena.allocate(1);
                assertEquals(Arena.DEFAULT_BLOCK_SIZE, arena.statistics().reservedBytes());
            }
            assertEquals(1, pool.idleCount(), "the arena's block waits for the next lease");
            assertTrue(pool.toString().endsWith(", maxIdle=" + ArenaPool.DEFAULT_MAX_IDLE + ", maxIdleBytes="
                    + ArenaPool.DEFAULT_MAX_IDLE_BYTES + "]"), pool.toString());
        }
    }

    @Test
    void aClosedArenaGoesBackAndItsBlocksServeTheNextLease() {
        try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB)).build()) {
            Arena first = pool.acquire();
            long address = first.allocate(100).address();
            first.close();
            assertEquals(1, pool.idleCount());
            assertEquals(4 * KiB, pool.reservedBytes());

            Arena second = pool.acquire();
            assertNotSame(first, second, "every lease is a new handle");
            assertEquals(0, pool.idleCount());
            assertEquals(4 * KiB, second.statistics().reservedBytes(), "the kept block came along");
            assertEquals(address, second.allocate(100).address(), "no new native memory");
            second.close();
        }
    }

    @Test
    void theNextConnectionSeesOnlyZerosAndNoStaleSliceSurvives() {
        try (ArenaPool pool = ArenaPool.builder().build()) {
            Arena first = pool.acquire();
            MemorySegment secret = first.allocate(64);
            secret.fill((byte) 0x5A);
            first.close();
            assertThrows(IllegalStateException.class, () -> secret.get(JAVA_BYTE, 0));

            try (Arena second = pool.acquire()) {
                MemorySegment fresh = second.allocate(64);
                assertEquals(secret.address(), fresh.address());
                assertTrue(isZero(fresh), "the last connection's bytes were cleared");
            }
        }
    }

    @Test
    void aClosedHandleStaysClosedAndClosingItAgainLeavesThePoolAlone() {
        try (ArenaPool pool = ArenaPool.builder().build()) {
            Arena stale = pool.acquire();
            stale.allocate(10);
            stale.close();
            try (Arena next = pool.acquire()) {
                next.allocate(10);
                assertThrows(IllegalStateException.class, stale::close);
                assertThrows(IllegalStateException.class, () -> stale.allocate(10));
                assertEquals(0, pool.idleCount(), "the second close returned nothing");
                assertEquals(10, next.statistics().allocatedBytes(), "the stale handle never reached the new lease");
            }
            assertEquals(1, pool.idleCount());
        }
    }

    @Test
    void anArenaReturnedOnOneThreadAndAcquiredOnAnotherBelongsToTheNewThread() throws InterruptedException {
        try (ArenaPool pool = ArenaPool.builder().build()) {
            long[] address = new long[1];
            assertNull(onAnotherThread(() -> {
                try (Arena arena = pool.acquire()) {
                    address[0] = arena.allocate(100).address();
                }
            }));
            try (Arena mine = pool.acquire()) {
                assertEquals(address[0], mine.allocate(100).address(), "the same blocks, now this thread's");
                assertTrue(onAnotherThread(() -> mine.allocate(1)) instanceof WrongThreadException);
            }
        }
    }

    @Test
    void anArenaThatGrewIsTrimmedBeforeItWaitsIdle() {
        try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB).retainBytes(8 * KiB))
                .build()) {
            try (Arena arena = pool.acquire()) {
                for (int i = 0; i < 100; i++) {
                    arena.allocate(1000);
                }
                arena.allocate(1 << 20);
                assertTrue(arena.statistics().reservedBytes() > (1 << 20));
            }
            assertEquals(8 * KiB, pool.reservedBytes(), "back to retainBytes");
        }
    }

    @Test
    void theArenaLimitHoldsForPooledArenas() {
        try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB).maxBytes(16 * KiB)).build();
             Arena arena = pool.acquire()) {
            assertThrows(ArenaLimitException.class, () -> arena.allocate(64 * KiB));
            assertEquals(10, arena.allocate(10).byteSize());
        }
    }

    @Test
    void maxIdleAndMaxIdleBytesBoundWhatWaits() {
        try (ArenaPool byCount = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB)).maxIdle(2).build();
             ArenaPool byBytes = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB)).maxIdleBytes(12 * KiB)
                     .build()) {
            for (ArenaPool pool : List.of(byCount, byBytes)) {
                List<Arena> leased = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    Arena arena = pool.acquire();
                    arena.allocate(100);
                    leased.add(arena);
                }
                assertEquals(5 * 4 * KiB, pool.reservedBytes(), "leased arenas count too");
                leased.forEach(Arena::close);
            }
            assertEquals(2, byCount.idleCount());
            assertEquals(8 * KiB, byCount.reservedBytes());
            assertEquals(3, byBytes.idleCount());
            assertEquals(12 * KiB, byBytes.reservedBytes());
        }
    }

    @Test
    void closeFreesIdleArenasAtOnceAndLeasedOnesWhenTheyComeBack() {
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB)).build();
        Arena idle = pool.acquire();
        idle.allocate(10);
        idle.close();
        Arena leased = pool.acquire();
        leased.allocate(10);
        Arena other = pool.acquire();
        other.allocate(10);
        pool.close();
        assertEquals(0, pool.idleCount());
        assertEquals(8 * KiB, pool.reservedBytes(), "the two leased arenas still hold their blocks");
        assertEquals(10, leased.allocate(10).byteSize(), "a leased arena keeps working");
        leased.close();
        other.close();
        assertEquals(0, pool.reservedBytes());
        assertEquals(0, pool.idleCount());
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(IllegalStateException.class, pool::close);
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().maxIdle(-1));
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().maxIdleBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().arenas(Arena.builder().blockSize(0)));
        assertThrows(IllegalArgumentException.class,
                () -> ArenaPool.builder().arenas(Arena.builder().blockSize(64 * KiB).maxBytes(16 * KiB)).build());
    }

    @Test
    void laterChangesToTheBuilderDoNotReachTheBuiltPool() {
        Arena.Builder arenas = Arena.builder().blockSize(4 * KiB);
        try (ArenaPool pool = ArenaPool.builder().arenas(arenas).build()) {
            arenas.blockSize(8 * KiB);
            try (Arena arena = pool.acquire()) {
                arena.allocate(1);
                assertEquals(4 * KiB, arena.statistics().reservedBytes());
            }
        }
    }

    /**
     * Many connections on many threads at once: no arena is ever leased twice, every connection
     * sees zeros and keeps its own data intact, the counters add up, and idle memory stays bounded.
     */
    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void concurrentConnectionsKeepEveryInvariant(boolean virtual) throws Exception {
        int maxIdle = 6;
        long blockSize = 4 * KiB;
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(blockSize).retainBytes(2 * blockSize))
                .maxIdle(maxIdle).build();
        Set<Arena> leased = ConcurrentHashMap.newKeySet();
        AtomicInteger connections = new AtomicInteger();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService threads = virtual ? Executors.newVirtualThreadPerTaskExecutor()
                : Executors.newFixedThreadPool(8)) {
            List<Future<?>> tasks = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                long seed = t;
                tasks.add(threads.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    for (int c = 0; c < 300; c++) {
                        try (Arena arena = pool.acquire()) {
                            assertTrue(leased.add(arena), "an arena leased twice at once");
                            List<MemorySegment> slices = new ArrayList<>();
                            for (int i = 0; i < random.nextInt(1, 40); i++) {
                                MemorySegment slice = arena.allocate(random.nextInt(8, 3000), 8);
                                assertTrue(isZero(slice), "a connection saw another's bytes");
                                slice.set(JAVA_LONG, 0, seed << 32 | i);
                                slices.add(slice);
                            }
                            for (int i = 0; i < slices.size(); i++) {
                                assertEquals(seed << 32 | i, slices.get(i).get(JAVA_LONG, 0), "data overwritten");
                            }
                            assertTrue(leased.remove(arena));
                            connections.incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                        if (c % 50 == 0) {
                            assertTrue(pool.idleCount() <= maxIdle);
                        }
                    }
                }));
            }
            for (Future<?> task : tasks) {
                task.get();
            }
        }
        assertEquals(List.of(), failures);
        assertEquals(16 * 300, connections.get());
        assertTrue(pool.idleCount() <= maxIdle, "idle " + pool.idleCount());
        assertTrue(pool.reservedBytes() <= maxIdle * 2 * blockSize, "idle memory bounded: " + pool.reservedBytes());
        pool.close();
        assertEquals(0, pool.reservedBytes(), "everything freed");
        assertFalse(pool.toString().isEmpty());
    }
}
