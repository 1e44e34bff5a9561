package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The promises ArenaPool's documentation makes about threads, attacked: bounds,
 * statistics and leak accounting exact across platform and virtual threads, threads that end,
 * stale leases, close() racing leases, refused calls that change nothing.
 */
class ArenaPoolAcrossThreadsTest {

    private static final long BLOCK = 4096;
    private static final long DEADLINE_NANOS = 10_000_000_000L;

    // ---------------------------------------------------------------- helpers

    private static Arena.Builder arenas(CountingBlocks blocks) {
        return Arena.builder().blockAllocator(blocks).blockSize(BLOCK);
    }

    /** Starts {@code count} threads, alternately platform and virtual, collecting what they throw. */
    private static List<Thread> startMixed(int count, List<Throwable> failures, IntFunction<ThrowingRunnable> body) {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < count; t++) {
            ThrowingRunnable task = body.apply(t);
            Runnable wrapped = () -> {
                try {
                    task.run();
                } catch (Throwable e) {
                    failures.add(e);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofPlatform().start(wrapped) : Thread.ofVirtual().start(wrapped));
        }
        return threads;
    }

    private static void joinAll(List<Thread> threads) throws InterruptedException {
        for (Thread thread : threads) {
            thread.join(DEADLINE_NANOS / 1_000_000);
            if (thread.isAlive()) {
                fail("a thread is still running (hung?): " + thread + " state " + thread.getState());
            }
        }
    }

    /** Polls (no sleeping for timing) until {@code condition} holds, failing after a deadline. */
    private static void await(String what, BooleanSupplier condition) {
        long start = System.nanoTime();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - start > DEADLINE_NANOS) {
                fail("never happened: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static void awaitParked(Thread thread) {
        await(thread + " parked", () -> {
            Thread.State state = thread.getState();
            return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
        });
    }

    /** The bounds every snapshot must respect: "the bounds hold for the whole pool". */
    private static String boundBroken(ArenaPool.Statistics s, int maxIdle, int maxLeased, long maxTotalBytes) {
        if (s.idle() < 0 || s.idle() > maxIdle) {
            return "idle outside [0, maxIdle]";
        }
        if (s.leased() < 0 || s.leased() > maxLeased) {
            return "leased outside [0, maxLeased]";
        }
        if (s.waiting() < 0) {
            return "waiting < 0";
        }
        if (s.reservedBytes() < 0 || s.reservedBytes() > s.peakReservedBytes()
                || s.peakReservedBytes() > maxTotalBytes) {
            return "reservedBytes <= peakReservedBytes <= maxTotalBytes broken";
        }
        return null;
    }

    /**
     * What "one consistent snapshot" implies: every arena made and not freed is idle or leased,
     * and nothing is leased or made without an acquire.
     */
    private static String doesNotAddUp(ArenaPool.Statistics s) {
        if (s.arenasCreated() - s.arenasFreed() != s.idle() + s.leased()) {
            return "created - freed != idle + leased";
        }
        if (s.leased() > s.acquires() || s.arenasCreated() > s.acquires()) {
            return "more leased or created than acquires";
        }
        if (s.leaks() < 0 || s.leaks() > s.arenasFreed() || s.bytesTrimmed() < 0) {
            return "leaks or bytesTrimmed out of range";
        }
        return null;
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Throwable;
    }

    /** Blocks from {@code blocks}, but the calling thread can make its own next allocation fail. */
    static final class FailingOnThisThread implements BlockAllocator {
        private final CountingBlocks blocks;
        private final ThreadLocal<int[]> failures = ThreadLocal.withInitial(() -> new int[1]);

        FailingOnThisThread(CountingBlocks blocks) {
            this.blocks = blocks;
        }

        void failNextOnThisThread() {
            failures.get()[0] = 1;
        }

        @Override
        public MemorySegment allocate(long byteSize, boolean zeroed) {
            int[] left = failures.get();
            if (left[0] > 0) {
                left[0]--;
                throw new OutOfMemoryError("Cannot allocate " + byteSize + " bytes of native memory (test)");
            }
            return blocks.allocate(byteSize, zeroed);
        }

        @Override
        public void free(MemorySegment block) {
            blocks.free(block);
        }
    }

    private static void forceLeakDetection(ArenaPool pool, BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < 400 && !done.getAsBoolean(); i++) {
            System.gc();
            Thread.sleep(25);          // lets the Cleaner thread run; nothing is timed
        }
    }

    // ---------------------------------------------------------------- storms

    /**
     * A storm of platform and virtual threads that lease, allocate, and hand half their leases
     * over to other threads with resetAndDisown(): no snapshot crosses a bound, and at rest it all adds up.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12})
    void everyBoundHoldsWhileLeasesMoveBetweenThreads(long seed) throws Exception {
        int maxIdle = 3;
        long maxIdleBytes = 5 * BLOCK + 17;
        long maxTotalBytes = 30 * BLOCK;
        int maxLeased = 8;
        CountingBlocks blocks = new CountingBlocks(maxTotalBytes);
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks).retainBytes(2 * BLOCK))
                .maxIdle(maxIdle).maxIdleBytes(maxIdleBytes).maxTotalBytes(maxTotalBytes).maxLeased(maxLeased)
                .name("hostile-storm-" + seed).leakDetection(LeakDetection.OFF).build();
        Queue<Arena> handedOver = new ConcurrentLinkedQueue<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean storming = new AtomicBoolean(true);
        AtomicReference<String> badSnapshot = new AtomicReference<>();
        AtomicLong successfulAcquires = new AtomicLong();
        Thread observer = Thread.ofPlatform().start(() -> {
            while (storming.get() && badSnapshot.get() == null) {
                ArenaPool.Statistics s = pool.statistics();
                String why = boundBroken(s, maxIdle, maxLeased, maxTotalBytes);
                if (why != null) {
                    badSnapshot.set(why + ": " + s);
                }
                Thread.yield();
            }
        });
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = startMixed(10, failures, t -> () -> {
            SplittableRandom random = new SplittableRandom(seed * 1000 + t);
            start.await();
            for (int c = 0; c < 250; c++) {
                drain(handedOver);
                Arena arena;
                try {
                    arena = pool.acquire(Duration.ZERO);
                } catch (ArenaPoolExhaustedException full) {
                    drain(handedOver);         // the permits may sit in the queue
                    Thread.yield();
                    continue;
                }
                successfulAcquires.incrementAndGet();
                try {
                    for (int i = random.nextInt(1, 5); i > 0; i--) {
                        long size = random.nextInt(8) == 0 ? 2 * BLOCK : random.nextLong(1, BLOCK);
                        MemorySegment slice = arena.allocate(size);
                        assertTrue(TestSupport.isZero(slice), "a lease saw another lease's bytes");
                        slice.fill((byte) 0x5A);
                    }
                } catch (ArenaLimitException full) {
                    assertEquals("hostile-storm-" + seed, full.poolName());
                }
                if (random.nextBoolean()) {
                    arena.resetAndDisown();
                    handedOver.add(arena);      // another thread will return it
                } else {
                    arena.close();
                }
            }
        });
        start.countDown();
        joinAll(threads);
        drain(handedOver);
        storming.set(false);
        observer.join();

        assertEquals(List.of(), failures);
        assertEquals(null, badSnapshot.get());
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(successfulAcquires.get(), s.acquires(), "acquires counted once each: " + s);
        assertEquals(0, s.leased(), s.toString());
        assertEquals(s.arenasCreated() - s.arenasFreed(), s.idle(), s.toString());
        assertTrue(s.reservedBytes() <= maxIdleBytes, "idle memory within maxIdleBytes: " + s);
        assertEquals(blocks.outstandingBytes(), s.reservedBytes(), "the pool counts what is held: " + s);
        assertTrue(s.peakReservedBytes() >= blocks.peakBytes(), "the pool's peak below what was held: " + s);
        pool.close();
        blocks.assertAllFreed();
    }

    private static void drain(Queue<Arena> handedOver) {
        for (Arena arena; (arena = handedOver.poll()) != null; ) {
            arena.close();                     // claims it, and returns it on this thread's stripe
        }
    }

    /**
     * maxIdle(0) and maxIdleBytes below a block, with mixed threads: no arena holding a block is
     * ever kept idle, so once every lease is back the pool holds no native memory at all.
     */
    @ParameterizedTest(name = "maxIdle {0}")
    @ValueSource(ints = {0, 64})
    void nothingWithABlockStaysIdleUnderZeroOrSubBlockIdleBounds(int maxIdle) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        long maxIdleBytes = maxIdle == 0 ? ArenaPool.DEFAULT_MAX_IDLE_BYTES : BLOCK - 1;
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdle(maxIdle).maxIdleBytes(maxIdleBytes)
                .leakDetection(LeakDetection.OFF).build();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean storming = new AtomicBoolean(true);
        AtomicReference<String> bad = new AtomicReference<>();
        Thread observer = Thread.ofPlatform().start(() -> {
            while (storming.get()) {
                ArenaPool.Statistics s = pool.statistics();
                if (maxIdle == 0 && s.idle() != 0) {
                    bad.compareAndSet(null, "an idle arena under maxIdle(0): " + s);
                }
                Thread.yield();
            }
        });
        List<Thread> threads = startMixed(8, failures, t -> () -> {
            for (int c = 0; c < 200; c++) {
                try (Arena arena = pool.acquire()) {
                    arena.allocate(1 + c % 100);
                }
            }
        });
        joinAll(threads);
        storming.set(false);
        observer.join();
        assertEquals(List.of(), failures);
        assertEquals(null, bad.get());
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(0, s.idle(), s.toString());
        assertEquals(0, s.reservedBytes(), s.toString());
        assertEquals(0, blocks.outstandingBytes(), "native memory held with nothing leased and nothing idle");
        assertEquals(s.arenasCreated(), s.arenasFreed(), s.toString());
        assertEquals(8 * 200, s.acquires());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * The class Javadoc: "statistics() locks every stripe for one consistent snapshot". In one
     * consistent snapshot every arena made and not yet freed is either idle or leased; threads on
     * several stripes lease and return while an observer takes snapshots.
     */
    @ParameterizedTest(name = "maxIdle {0}")
    @ValueSource(ints = {0, 2, 64})
    void everySnapshotIsOneConsistentMoment(int maxIdle) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdle(maxIdle)
                .leakDetection(LeakDetection.OFF).build();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean storming = new AtomicBoolean(true);
        AtomicReference<String> firstBad = new AtomicReference<>();
        AtomicInteger snapshots = new AtomicInteger();
        AtomicInteger badSnapshots = new AtomicInteger();
        Thread observer = Thread.ofPlatform().start(() -> {
            while (storming.get()) {
                ArenaPool.Statistics s = pool.statistics();
                snapshots.incrementAndGet();
                String why = doesNotAddUp(s);
                if (why != null) {
                    badSnapshots.incrementAndGet();
                    firstBad.compareAndSet(null, why + ": " + s);
                }
                Thread.yield();
            }
        });
        joinAll(startMixed(6, failures, t -> () -> {
            for (int c = 0; c < 300; c++) {
                try (Arena arena = pool.acquire()) {
                    arena.allocate(1 + c);
                }
            }
        }));
        storming.set(false);
        observer.join();
        assertEquals(List.of(), failures);
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(null, doesNotAddUp(s), "at rest: " + s);
        assertEquals(null, firstBad.get(), badSnapshots + " of " + snapshots + " snapshots did not add up; the first");
        pool.close();
        blocks.assertAllFreed();
    }

    // ---------------------------------------------------------------- idle bounds, exactly

    /**
     * Sixteen leases, all out at once on sixteen threads, come back together: the pool keeps
     * exactly maxIdle of them (those returned within the bound) and frees the rest, whatever the
     * stripes the threads fall into.
     */
    @ParameterizedTest(name = "maxIdle {0}")
    @ValueSource(ints = {1, 3, 5, 7, 16})
    void concurrentReturnsFillIdleExactlyUpToMaxIdle(int maxIdle) throws Exception {
        for (int round = 0; round < 5; round++) {
            CountingBlocks blocks = new CountingBlocks();
            ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdle(maxIdle)
                    .maxIdleBytes(1L << 30).leakDetection(LeakDetection.OFF).build();
            int threads = 16;
            CyclicBarrier allLeased = new CyclicBarrier(threads);
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            joinAll(startMixed(threads, failures, t -> () -> {
                Arena arena = pool.acquire();
                arena.allocate(100);
                allLeased.await();
                arena.close();
            }));
            assertEquals(List.of(), failures);
            ArenaPool.Statistics s = pool.statistics();
            int kept = Math.min(maxIdle, threads);
            assertEquals(kept, s.idle(),
                    "round " + round + ": idle arenas after 16 returns under maxIdle " + maxIdle + ": " + s);
            assertEquals(threads - kept, s.arenasFreed(), "round " + round + ": " + s);
            assertEquals(kept * BLOCK, s.reservedBytes(), s.toString());
            assertEquals(blocks.outstandingBytes(), s.reservedBytes());
            pool.close();
            blocks.assertAllFreed();
        }
    }

    /**
     * maxIdleBytes of 3 blocks and a bit (not a multiple of the stripes) and of exactly one block
     * (a quarter block per stripe on two cores): concurrent returns of one-block chains keep
     * exactly as many as fit, never more.
     */
    @ParameterizedTest(name = "maxIdleBytes {0}")
    @ValueSource(longs = {BLOCK, 3 * BLOCK + 100, 5 * BLOCK - 1})
    void concurrentReturnsFillIdleBytesExactly(long maxIdleBytes) throws Exception {
        for (int round = 0; round < 5; round++) {
            CountingBlocks blocks = new CountingBlocks();
            ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdleBytes(maxIdleBytes)
                    .leakDetection(LeakDetection.OFF).build();
            int threads = 12;
            CyclicBarrier allLeased = new CyclicBarrier(threads);
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            joinAll(startMixed(threads, failures, t -> () -> {
                Arena arena = pool.acquire();
                arena.allocate(100);
                allLeased.await();
                arena.close();
            }));
            assertEquals(List.of(), failures);
            ArenaPool.Statistics s = pool.statistics();
            long kept = maxIdleBytes / BLOCK;
            assertEquals(kept, s.idle(), "round " + round + ", maxIdleBytes " + maxIdleBytes + ": " + s);
            assertEquals(kept * BLOCK, s.reservedBytes(), s.toString());
            assertEquals(blocks.outstandingBytes(), s.reservedBytes());
            pool.close();
            blocks.assertAllFreed();
        }
    }

    /**
     * All of maxIdle's arenas returned by one thread: a stripe whose share is used up takes the
     * unused share of the others, so one thread can fill the whole bound, and the next is freed.
     */
    @ParameterizedTest(name = "virtual: {0}")
    @ValueSource(booleans = {false, true})
    void oneThreadCanFillTheWholeIdleBound(boolean virtual) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        int maxIdle = 9;
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdle(maxIdle)
                .leakDetection(LeakDetection.OFF).build();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        Runnable body = () -> {
            try {
                List<Arena> leases = new ArrayList<>();
                for (int i = 0; i < maxIdle + 1; i++) {
                    leases.add(pool.acquire());
                    leases.getLast().allocate(10);
                }
                for (Arena arena : leases) {
                    arena.close();
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        };
        (virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body)).join();
        assertEquals(List.of(), failures);
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(maxIdle, s.idle(), s.toString());
        assertEquals(1, s.arenasFreed(), s.toString());
        // and another thread, on any stripe, can take all of them without making a new one
        Thread.ofPlatform().start(() -> {
            List<Arena> leases = new ArrayList<>();
            for (int i = 0; i < maxIdle; i++) {
                leases.add(pool.acquire());
            }
            leases.forEach(Arena::close);
        }).join();
        assertEquals(maxIdle + 1, pool.statistics().arenasCreated(), "the idle arenas of one stripe served another");
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * A chain larger than maxIdleBytes is freed on return, the idle arena another thread gave back
     * earlier stays, and the freed bytes count as trimmed.
     */
    @Test
    void aChainLargerThanMaxIdleBytesIsFreedAndTheOthersStay() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        long maxIdleBytes = 2 * BLOCK;
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks).retainBytes(16 * BLOCK))
                .maxIdleBytes(maxIdleBytes).leakDetection(LeakDetection.OFF).build();
        Arena big = pool.acquire();                          // out before the small chain is made
        Thread.ofVirtual().start(() -> {
            try (Arena arena = pool.acquire()) {
                arena.allocate(100);
            }
        }).join();
        assertEquals(1, pool.idleCount());
        long trimmedBefore = pool.statistics().bytesTrimmed();
        big.allocate(100);
        for (int i = 0; i < 3; i++) {
            big.allocate(BLOCK - 256);                       // a chain of several regular blocks
        }
        long bigBytes = big.statistics().reservedBytes();
        assertTrue(bigBytes > maxIdleBytes, big.toString());
        big.close();
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(1, s.idle(), "only the small chain waits idle: " + s);
        assertEquals(BLOCK, s.reservedBytes(), s.toString());
        assertEquals(blocks.outstandingBytes(), s.reservedBytes());
        assertEquals(bigBytes, s.bytesTrimmed() - trimmedBefore, "a chain freed whole counts as trimmed: " + s);
        pool.close();
        blocks.assertAllFreed();
    }

    /** The thread gets back the arena it returned last, platform or virtual. */
    @ParameterizedTest(name = "virtual: {0}")
    @ValueSource(booleans = {false, true})
    void aThreadGetsBackTheArenaItReturnedLast(boolean virtual) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).leakDetection(LeakDetection.OFF).build();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        Runnable body = () -> {
            try {
                for (int round = 0; round < 20; round++) {
                    Arena x = pool.acquire();
                    Arena y = pool.acquire();
                    long xFirst = x.allocate(8, 8).address();
                    long yFirst = y.allocate(8, 8).address();
                    boolean yLast = round % 2 == 0;
                    (yLast ? x : y).close();
                    Thread.yield();           // a virtual thread may move to another carrier here
                    (yLast ? y : x).close();
                    try (Arena again = pool.acquire()) {
                        assertEquals(yLast ? yFirst : xFirst, again.allocate(8, 8).address(),
                                "round " + round + ": not the arena returned last");
                    }
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        };
        (virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body)).join();
        assertEquals(List.of(), failures);
        assertEquals(2, pool.statistics().arenasCreated());
        pool.close();
        blocks.assertAllFreed();
    }

    // ---------------------------------------------------------------- leases across threads

    /** Leases acquired on one thread and returned on another are counted once, on any stripe. */
    @Test
    void leasesReturnedOnAnotherThreadAreCountedOnce() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(3)
                .leakDetection(LeakDetection.OFF).build();
        List<Arena> leases = Collections.synchronizedList(new ArrayList<>());
        Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 3; i++) {
                Arena arena = pool.acquire();
                arena.allocate(100);
                arena.resetAndDisown();
                leases.add(arena);
            }
        }).join();                                      // the acquiring thread has ended
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(3, s.leased(), s.toString());
        assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(Duration.ZERO));
        Thread.ofVirtual().start(() -> leases.forEach(Arena::close)).join();
        s = pool.statistics();
        assertEquals(0, s.leased(), s.toString());
        assertEquals(3, s.idle(), s.toString());
        // a third thread takes all three back, without making a new arena and under maxLeased
        AtomicReference<ArenaPool.Statistics> during = new AtomicReference<>();
        Thread.ofPlatform().start(() -> {
            List<Arena> again = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                again.add(pool.acquire(Duration.ZERO));
            }
            during.set(pool.statistics());
            again.forEach(Arena::close);
        }).join();
        assertEquals(3, during.get().leased(), during.get().toString());
        assertEquals(0, during.get().idle(), during.get().toString());
        assertEquals(3, during.get().arenasCreated(), during.get().toString());
        assertEquals(6, during.get().acquires(), during.get().toString());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * Two threads race to close one disowned lease, many times: exactly one wins, and the chain
     * goes back to the pool once; were it returned twice, two later leases would share it.
     */
    @Test
    void aDisownedLeaseRacedByTwoClosersGoesBackOnce() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).leakDetection(LeakDetection.OFF).build();
        for (int round = 0; round < 200; round++) {
            Arena arena = pool.acquire();
            arena.allocate(100);
            arena.resetAndDisown();
            AtomicInteger won = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            ThrowingRunnable closer = () -> {
                go.await();
                try {
                    arena.close();
                    won.incrementAndGet();
                } catch (IllegalStateException | WrongThreadException expected) {
                    refused.incrementAndGet();
                }
            };
            List<Thread> threads = startMixed(3, failures, t -> closer);
            go.countDown();
            joinAll(threads);
            assertEquals(List.of(), failures);
            assertEquals(1, won.get(), "round " + round + ": closers that won");
            assertEquals(2, refused.get(), "round " + round);
            ArenaPool.Statistics s = pool.statistics();
            assertEquals(0, s.leased(), "round " + round + ": " + s);
            assertEquals(1, s.idle(), "round " + round + ": the chain is idle once: " + s);
        }
        try (Arena a = pool.acquire(); Arena b = pool.acquire()) {
            assertNotEquals(a.allocate(8, 8).address(), b.allocate(8, 8).address(), "one chain leased twice");
        }
        assertEquals(2, pool.statistics().arenasCreated());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * A disowned lease raced by a thread that allocates from it and one that closes it: one of them
     * claims it, the other is refused, and nothing is returned twice or lost.
     */
    @Test
    void aDisownedLeaseRacedByAnAllocatorAndACloser() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).leakDetection(LeakDetection.OFF).build();
        for (int round = 0; round < 200; round++) {
            Arena arena = pool.acquire();
            arena.allocate(100);
            arena.resetAndDisown();
            CountDownLatch go = new CountDownLatch(1);
            AtomicBoolean allocated = new AtomicBoolean();
            AtomicBoolean closed = new AtomicBoolean();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = startMixed(2, failures, t -> t == 0
                    ? () -> {
                        go.await();
                        try {
                            arena.allocate(64).fill((byte) 1);
                            allocated.set(true);
                            arena.close();             // the allocator owns it now and returns it
                        } catch (IllegalStateException | WrongThreadException lost) {
                            // the closer won
                        }
                    }
                    : () -> {
                        go.await();
                        try {
                            arena.close();
                            closed.set(true);
                        } catch (IllegalStateException | WrongThreadException lost) {
                            // the allocator won
                        }
                    });
            go.countDown();
            joinAll(threads);
            assertEquals(List.of(), failures);
            assertTrue(allocated.get() ^ closed.get(),
                    "round " + round + ": allocated " + allocated + ", closed " + closed);
            ArenaPool.Statistics s = pool.statistics();
            assertEquals(0, s.leased(), "round " + round + ": " + s);
            assertEquals(1, s.idle(), "round " + round + ": " + s);
            assertEquals(1, s.arenasCreated(), "round " + round + ": " + s);
        }
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * A stale reference to a closed lease stays closed, whichever thread touches it, after its
     * chain went to a lease on another thread: every call throws and the pool does not change.
     */
    @Test
    void aStaleLeaseStaysClosedOnEveryThreadAndChangesNothing() throws Throwable {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.OFF).build();
        AtomicReference<Arena> stale = new AtomicReference<>();
        AtomicReference<MemorySegment> staleSlice = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            Arena arena = pool.acquire();
            staleSlice.set(arena.allocate(64));
            arena.close();
            stale.set(arena);
        }).join();                                           // that thread has ended
        Arena current = pool.acquire();                      // the same chain, most likely
        MemorySegment live = current.allocate(64);
        live.fill((byte) 0x33);
        ArenaPool.Statistics before = pool.statistics();
        for (int t = 0; t < 3; t++) {
            ThrowingRunnable poke = () -> {
                Arena arena = stale.get();
                assertThrowsStale(arena::close);
                assertThrowsStale(arena::reset);
                assertThrowsStale(arena::resetAndDisown);
                assertThrowsStale(() -> arena.allocate(8));
                assertThrowsStale(arena::checkpoint);
                assertThrowsStale(() -> staleSlice.get().get(ValueLayout.JAVA_BYTE, 0));
            };
            if (t == 0) {
                poke.run();                                  // on the thread of the current lease
            } else {
                List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
                joinAll(startMixed(1 + t % 2, failures, i -> poke));
                assertEquals(List.of(), failures);
            }
        }
        ArenaPool.Statistics after = pool.statistics();
        assertEquals(before, after, "a refused call on a stale lease changed the pool");
        assertTrue(TestSupport.allBytes(live, 0x33), "the current lease's bytes changed");
        current.allocate(64);                                // still usable
        assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(Duration.ZERO),
                "maxLeased permit given back twice");
        current.close();
        assertEquals(1, pool.idleCount());
        pool.close();
        blocks.assertAllFreed();
    }

    private static void assertThrowsStale(ThrowingRunnable call) {
        try {
            call.run();
        } catch (IllegalStateException | WrongThreadException expected) {
            return;
        } catch (Throwable other) {
            fail("a stale lease threw " + other, other);
        }
        fail("a call on a stale lease succeeded");
    }

    // ---------------------------------------------------------------- close() racing leases

    /**
     * close() races threads that return their leases at the same moment: every arena returned
     * after the pool closed is freed, none slips into the idle list, and nothing is left held.
     */
    @Test
    void closeRacingReturnsLeavesNothingBehind() throws Exception {
        for (int round = 0; round < 40; round++) {
            CountingBlocks blocks = new CountingBlocks();
            ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdle(64)
                    .leakDetection(LeakDetection.OFF).build();
            int threads = 6;
            CyclicBarrier together = new CyclicBarrier(threads + 1);
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> started = startMixed(threads, failures, t -> () -> {
                Arena arena = pool.acquire();
                arena.allocate(100 + t);
                together.await();
                arena.close();
            });
            together.await();
            pool.close();
            joinAll(started);
            assertEquals(List.of(), failures);
            ArenaPool.Statistics s = pool.statistics();
            assertEquals(0, s.idle(), "round " + round + ": idle after close: " + s);
            assertEquals(0, s.leased(), "round " + round + ": " + s);
            assertEquals(0, s.reservedBytes(), "round " + round + ": " + s);
            assertEquals(s.arenasCreated(), s.arenasFreed(), "round " + round + ": " + s);
            assertEquals(0, blocks.outstandingBytes(), "round " + round + ": native memory left after close");
            blocks.assertAllFreed();
            assertThrows(IllegalStateException.class, pool::close, "a second close");
            assertThrows(IllegalStateException.class, pool::acquire);
        }
    }

    /**
     * close() lands in the middle of a storm of acquires on platform and virtual threads: each
     * acquire either returns an arena (counted) or throws IllegalStateException, and once every
     * lease is back nothing is held.
     */
    @Test
    void closeRacingAcquireStormLeavesNothingBehind() throws Exception {
        for (int round = 0; round < 10; round++) {
            CountingBlocks blocks = new CountingBlocks();
            ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxIdle(4)
                    .leakDetection(LeakDetection.OFF).build();
            AtomicLong acquired = new AtomicLong();
            AtomicInteger refusedAfterClose = new AtomicInteger();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = startMixed(8, failures, t -> () -> {
                while (true) {
                    Arena arena;
                    try {
                        arena = pool.acquire();
                    } catch (IllegalStateException closed) {
                        refusedAfterClose.incrementAndGet();
                        return;
                    }
                    acquired.incrementAndGet();
                    arena.allocate(1 + t * 10);
                    if (t % 3 == 0) {
                        Thread.yield();
                    }
                    arena.close();
                }
            });
            await("some leases", () -> acquired.get() > 200);
            pool.close();
            joinAll(threads);
            assertEquals(List.of(), failures);
            assertEquals(8, refusedAfterClose.get());
            ArenaPool.Statistics s = pool.statistics();
            assertEquals(acquired.get(), s.acquires(), "round " + round + ": " + s);
            assertEquals(0, s.idle(), "round " + round + ": " + s);
            assertEquals(0, s.leased(), "round " + round + ": " + s);
            assertEquals(0, s.reservedBytes(), "round " + round + ": " + s);
            assertEquals(s.arenasCreated(), s.arenasFreed(), "round " + round + ": " + s);
            blocks.assertAllFreed();
        }
    }

    /** close() wakes every waiter under maxLeased, platform and virtual, timed and not. */
    @Test
    void closeWakesEveryWaiterAndAnInterruptedOneKeepsItsStatus() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.OFF).build();
        Arena held = pool.acquire();
        held.allocate(100);
        int waiters = 6;
        AtomicInteger woken = new AtomicInteger();
        AtomicInteger interruptedStillSet = new AtomicInteger();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = startMixed(waiters, failures, t -> () -> {
            try {
                Arena arena = t % 3 == 0 ? pool.acquire(Duration.ofMinutes(5)) : pool.acquire();
                arena.close();
                fail("a waiter got an arena from a closed pool");
            } catch (IllegalStateException closed) {
                woken.incrementAndGet();
                if (Thread.currentThread().isInterrupted()) {
                    interruptedStillSet.incrementAndGet();
                }
            }
        });
        await("all waiting", () -> pool.statistics().waiting() == waiters);
        threads.get(0).interrupt();
        threads.get(1).interrupt();
        pool.close();
        joinAll(threads);
        assertEquals(List.of(), failures);
        assertEquals(waiters, woken.get());
        assertEquals(2, interruptedStillSet.get(), "the interrupt status stays set");
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(0, s.waiting(), s.toString());
        assertEquals(1, s.leased(), s.toString());
        assertEquals(1, s.acquires(), s.toString());
        held.close();
        s = pool.statistics();
        assertEquals(0, s.leased(), s.toString());
        assertEquals(0, s.idle(), s.toString());
        blocks.assertAllFreed();
    }

    // ---------------------------------------------------------------- maxLeased and interrupts

    /**
     * An interrupted waiter keeps waiting, keeps its place in line ahead of a later waiter, and
     * keeps its interrupt status.
     */
    @ParameterizedTest(name = "timed: {0}, interrupted: {1}")
    @CsvSource({"false, true", "true, true", "true, false"})
    void anInterruptedWaiterKeepsItsPlaceInLine(boolean timed, boolean interrupted) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.OFF).build();
        Arena held = pool.acquire();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean firstStillInterrupted = new AtomicBoolean();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        Thread first = Thread.ofPlatform().start(() -> {
            try (Arena arena = timed ? pool.acquire(Duration.ofMinutes(5)) : pool.acquire()) {
                order.add("first");
                firstStillInterrupted.set(Thread.currentThread().isInterrupted());
                arena.allocate(10);
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        awaitParked(first);
        await("first waiting", () -> pool.statistics().waiting() == 1);
        Thread second = Thread.ofVirtual().start(() -> {
            try (Arena arena = pool.acquire()) {
                order.add("second");
                arena.allocate(10);
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        awaitParked(second);
        await("both waiting", () -> pool.statistics().waiting() == 2);
        for (int i = 0; i < (interrupted ? 20 : 0); i++) {
            first.interrupt();
            Thread.yield();
            awaitParked(first);
        }
        await("both still waiting", () -> pool.statistics().waiting() == 2);
        assertTrue(first.isAlive(), "an interrupt ended the wait");
        held.close();
        first.join(DEADLINE_NANOS / 1_000_000);
        second.join(DEADLINE_NANOS / 1_000_000);
        assertFalse(first.isAlive() || second.isAlive(), "a waiter hung");
        assertEquals(List.of(), failures);
        assertEquals(List.of("first", "second"), order, "the interrupted waiter lost its place in line");
        assertEquals(interrupted, firstStillInterrupted.get(), "the interrupt status stays set");
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * A positive timeout too large for nanoseconds is a long wait, not an error: the waiter gets
     * the arena when it comes back, and without maxLeased such an acquire returns at once.
     */
    @Test
    void aHugePositiveTimeoutWaitsAndSucceeds() throws Exception {
        Duration huge = Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);
        CountingBlocks blocks = new CountingBlocks();
        try (ArenaPool unbounded = ArenaPool.builder().arenas(arenas(blocks)).leakDetection(LeakDetection.OFF).build();
             Arena arena = unbounded.acquire(huge)) {
            arena.allocate(10);
        }
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.OFF).build();
        Arena held = pool.acquire(huge);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean got = new AtomicBoolean();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try (var _ = pool.acquire(huge)) {
                got.set(true);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        await("waiting or failed", () -> pool.statistics().waiting() == 1 || failure.get() != null);
        held.close();
        waiter.join();
        assertEquals(null, failure.get());
        assertTrue(got.get());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * An interrupted caller that need not wait still gets an arena, and a refused acquire
     * (zero timeout, or a closed pool) leaves every figure as it was.
     */
    @Test
    void refusedAcquiresChangeNothing() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(2)
                .leakDetection(LeakDetection.OFF).build();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                Thread.currentThread().interrupt();
                Arena a = pool.acquire();
                Arena b = pool.acquire(Duration.ofSeconds(1));
                a.allocate(10);
                b.allocate(10);
                ArenaPool.Statistics before = pool.statistics();
                for (Duration timeout
                        : List.of(Duration.ZERO, Duration.ofNanos(-1), Duration.ofSeconds(Long.MIN_VALUE))) {
                    assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(timeout));
                }
                assertEquals(before, pool.statistics(), "refused acquires changed the figures");
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status stays set");
                a.close();
                b.close();
            } catch (Throwable e) {
                failure.set(e);
            }
        }).join();
        assertEquals(null, failure.get());
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(2, s.acquires(), s.toString());
        pool.close();
        ArenaPool.Statistics closed = pool.statistics();
        assertThrows(IllegalStateException.class, pool::acquire);
        assertThrows(IllegalStateException.class, () -> pool.acquire(Duration.ZERO));
        assertThrows(IllegalStateException.class, pool::close);
        assertEquals(closed, pool.statistics(), "refused calls on a closed pool changed the figures");
        blocks.assertAllFreed();
    }

    // ---------------------------------------------------------------- the budget

    /**
     * The budget refuses a block that idle arenas of other threads' stripes could not pay for:
     * nothing is freed, no idle arena and no figure changes; a block they can pay for then frees
     * them.
     */
    @Test
    void aBudgetRefusalWithIdleArenasOnOtherStripesChangesNothing() throws Exception {
        long budget = 8 * BLOCK;
        CountingBlocks blocks = new CountingBlocks(budget);
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxTotalBytes(budget).name("hostile-budget")
                .leakDetection(LeakDetection.OFF).build();
        Arena hog = pool.acquire();
        hog.allocate(4 * BLOCK - 512);                       // a large block held by a lease
        for (int t = 0; t < 2; t++) {                         // two idle one-block chains, other threads
            Runnable connection = () -> {
                try (Arena arena = pool.acquire()) {
                    arena.allocate(100);
                }
            };
            (t == 0 ? Thread.ofPlatform().start(connection) : Thread.ofVirtual().start(connection)).join();
        }
        // the two idle chains may be the same one; make sure two are idle
        Thread.ofPlatform().start(() -> {
            Arena a = pool.acquire();
            Arena b = pool.acquire();
            a.allocate(100);
            b.allocate(100);
            a.close();
            b.close();
        }).join();
        assertEquals(2, pool.idleCount());
        ArenaPool.Statistics before = pool.statistics();
        long free = budget - before.reservedBytes();
        long idleBytes = 2 * BLOCK;
        try (Arena arena = pool.acquire()) {                  // takes one of the idle chains
            ArenaPool.Statistics leased = pool.statistics();
            long outstanding = blocks.outstandingBytes();
            ArenaLimitException refused = assertThrows(ArenaLimitException.class,
                    () -> arena.allocate(free + idleBytes + BLOCK));
            assertEquals("hostile-budget", refused.poolName());
            assertEquals(leased, pool.statistics(), "a refused block changed the pool");
            assertEquals(outstanding, blocks.outstandingBytes(), "a refused block freed memory");
            // a block the idle chain and the lease's kept block can pay for
            MemorySegment slice = arena.allocate(free + idleBytes - 1024);
            assertTrue(TestSupport.isZero(slice));
            assertEquals(0, pool.idleCount(), "the idle chain of another stripe paid");
            assertTrue(pool.reservedBytes() <= budget);
        }
        hog.close();
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(blocks.outstandingBytes(), s.reservedBytes(), s.toString());
        assertTrue(s.peakReservedBytes() <= budget, s.toString());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * A block the C library refuses leaves the budget's count as it was: after many refusals on
     * several threads the pool still counts exactly what is held and lets a lease use the whole
     * budget.
     */
    @Test
    void nativeAllocationFailuresLeakNoBudget() throws Exception {
        // Room for the worst case below, four leases at once each holding a block and asking for
        // a large one: a smaller budget refuses some of them, rightly, and the test fails.
        long budget = 4 * 2 * BLOCK;
        CountingBlocks blocks = new CountingBlocks(budget);
        FailingOnThisThread failing = new FailingOnThisThread(blocks);
        ArenaPool pool = ArenaPool.builder()
                .arenas(Arena.builder().blockAllocator(failing).blockSize(BLOCK).retainBytes(0))
                .maxTotalBytes(budget).leakDetection(LeakDetection.OFF).build();
        try (Arena arena = pool.acquire()) {                 // alone first: the pool's count is unchanged
            failing.failNextOnThisThread();
            OutOfMemoryError refused = assertThrows(OutOfMemoryError.class, () -> arena.allocate(100));
            assertFalse(refused instanceof ArenaLimitException, "the C library refused, not the budget");
            assertEquals(0, pool.reservedBytes(), "a refused block stayed in the budget's count");
            assertEquals(0, arena.statistics().reservedBytes());
        }
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger refusals = new AtomicInteger();
        joinAll(startMixed(4, failures, t -> () -> {
            for (int i = 0; i < 25; i++) {
                try (Arena arena = pool.acquire()) {
                    arena.allocate(10);
                    Arena.Statistics before = arena.statistics();
                    failing.failNextOnThisThread();
                    try {
                        arena.allocate(BLOCK);               // large: needs a block of its own
                        fail("the C library refused, but the allocation succeeded");
                    } catch (ArenaLimitException notThis) {
                        throw notThis;
                    } catch (OutOfMemoryError expected) {
                        refusals.incrementAndGet();
                    }
                    assertEquals(before, arena.statistics(), "a refused block changed the arena");
                    arena.allocate(100);
                }
            }
        }));
        assertEquals(List.of(), failures);
        assertEquals(100, refusals.get());
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(blocks.outstandingBytes(), s.reservedBytes(), "the budget counts what is held: " + s);
        assertEquals(0, s.reservedBytes(), "nothing is held with retainBytes(0): " + s);
        try (Arena arena = pool.acquire()) {
            arena.allocate(budget - 1024);                   // the whole budget, in one large block
        }
        pool.close();
        blocks.assertAllFreed();
    }

    // ---------------------------------------------------------------- leaks

    /**
     * A lease leaked on a thread that ended gives back its maxLeased permit: a thread already
     * waiting for it gets an arena, and the figures add up.
     */
    @Test
    void aLeakedLeasesPermitWakesAWaiter() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.EVERY).name("hostile-leak-permit").build();
        Thread.ofPlatform().start(() -> pool.acquire().allocate(100)).join();     // leaked, thread ended
        AtomicBoolean served = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try (Arena arena = pool.acquire()) {
                arena.allocate(100);
                served.set(true);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        forceLeakDetection(pool, () -> !waiter.isAlive());
        waiter.join(DEADLINE_NANOS / 1_000_000);
        assertFalse(waiter.isAlive(), "the waiter never got the leaked lease's permit: " + pool.statistics());
        assertEquals(null, failure.get());
        assertTrue(served.get());
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(1, s.leaks(), s.toString());
        assertEquals(0, s.leased(), s.toString());
        assertEquals(s.arenasCreated() - s.arenasFreed(), s.idle() + s.leased(), s.toString());
        assertEquals(blocks.outstandingBytes(), s.reservedBytes(), s.toString());
        pool.close();
        blocks.assertAllFreed();
    }

    /** A lease that never allocated, leaked on a thread that ended, is still found. */
    @ParameterizedTest(name = "virtual: {0}")
    @ValueSource(booleans = {false, true})
    void aLeakedLeaseThatNeverAllocatedIsRecovered(boolean virtual) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.EVERY).name("hostile-leak-empty-" + virtual).build();
        Runnable leak = () -> pool.acquire();
        (virtual ? Thread.ofVirtual().start(leak) : Thread.ofPlatform().start(leak)).join();
        forceLeakDetection(pool, () -> pool.statistics().leaks() > 0);
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(1, s.leaks(), "an empty leaked lease never found: " + s);
        assertEquals(0, s.leased(), s.toString());
        try (Arena arena = pool.acquire(Duration.ZERO)) {
            arena.allocate(10);
        }
        pool.close();
        blocks.assertAllFreed();
    }

    /** A lease disowned and never claimed, its thread ended, is a leak found like any other. */
    @Test
    void aDisownedLeaseNobodyClaimedIsRecovered() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).leakDetection(LeakDetection.EVERY)
                .name("hostile-leak-disowned").build();
        Thread.ofVirtual().start(() -> {
            Arena arena = pool.acquire();
            arena.allocate(100);
            arena.allocate(2 * BLOCK);
            arena.resetAndDisown();
        }).join();
        assertTrue(blocks.outstandingBytes() > 0);
        forceLeakDetection(pool, () -> pool.statistics().leaks() > 0);
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(1, s.leaks(), s.toString());
        assertEquals(0, s.leased(), s.toString());
        assertEquals(1, s.arenasFreed(), s.toString());
        assertEquals(0, s.reservedBytes(), s.toString());
        assertEquals(0, blocks.outstandingBytes());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * A leaked lease found after the pool was closed is still freed and counted, and a leaked
     * lease's bytes go back to the budget for other threads.
     */
    @Test
    void aLeakFoundAfterCloseIsFreedAndItsBudgetComesBack() throws Exception {
        long budget = 4 * BLOCK;
        CountingBlocks blocks = new CountingBlocks(budget);
        ArenaPool pool = ArenaPool.builder().arenas(arenas(blocks)).maxTotalBytes(budget)
                .leakDetection(LeakDetection.EVERY).name("hostile-leak-budget").build();
        Thread.ofPlatform().start(() -> pool.acquire().allocate(budget - 1024)).join();   // the whole budget, leaked
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try (Arena arena = pool.acquire()) {
                assertThrows(ArenaLimitException.class, () -> arena.allocate(2 * BLOCK));
            } catch (Throwable e) {
                failure.set(e);
            }
        }).join();
        assertEquals(null, failure.get());
        forceLeakDetection(pool, () -> pool.statistics().leaks() > 0);
        assertEquals(1, pool.statistics().leaks());
        Thread.ofVirtual().start(() -> {
            try (Arena arena = pool.acquire()) {
                arena.allocate(budget - 1024);               // the leaked bytes came back
            } catch (Throwable e) {
                failure.set(e);
            }
        }).join();
        assertEquals(null, failure.get());
        // and once more, with the pool closed while the leak is out
        Thread.ofVirtual().start(() -> pool.acquire().allocate(3 * BLOCK)).join();
        pool.close();
        forceLeakDetection(pool, () -> pool.statistics().leaks() > 1);
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(2, s.leaks(), s.toString());
        assertEquals(0, s.leased(), s.toString());
        assertEquals(0, s.reservedBytes(), s.toString());
        assertEquals(s.arenasCreated(), s.arenasFreed(), s.toString());
        blocks.assertAllFreed();
    }
}
