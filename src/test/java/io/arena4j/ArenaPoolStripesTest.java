package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool's stripes: each thread leases from and gives back to a stripe of its own, and the
 * pool-wide bounds, figures and leak accounting stay exact across them. Blocks come from
 * {@link CountingBlocks}, which fails the test the moment the memory held would cross the budget.
 */
class ArenaPoolStripesTest {

    private static final long BLOCK = 4096;

    /**
     * A storm of platform and virtual threads leasing from one pool with every bound set: no
     * chain is ever leased twice at once, no bound is ever crossed, and the figures add up.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void aStormOfPlatformAndVirtualThreadsKeepsEveryBoundExact(long seed) throws Exception {
        int maxIdle = 5;
        long maxIdleBytes = 7 * BLOCK;
        // Above the 40 or so blocks that 12 leases at once hold on average: the budget still refuses
        // now and then, but not most leases, which the end of the test checks.
        long maxTotalBytes = 64 * BLOCK;
        int maxLeased = 12;
        CountingBlocks blocks = new CountingBlocks(maxTotalBytes);
        ArenaPool pool = ArenaPool.builder()
                .arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(2 * BLOCK))
                .maxIdle(maxIdle).maxIdleBytes(maxIdleBytes).maxTotalBytes(maxTotalBytes).maxLeased(maxLeased)
                .leakDetection(LeakDetection.OFF).build();
        // The first slice of a lease starts its chain's first block: two leases of one chain
        // at once would show the same address.
        Set<Long> firstBlocksLeased = ConcurrentHashMap.newKeySet();
        AtomicInteger leasedNow = new AtomicInteger();
        AtomicInteger leases = new AtomicInteger();
        AtomicInteger refusedByBudget = new AtomicInteger();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean storming = new AtomicBoolean(true);
        Thread observer = Thread.ofPlatform().start(() -> {
            while (storming.get()) {
                ArenaPool.Statistics figures = pool.statistics();
                if (figures.idle() > maxIdle || figures.leased() > maxLeased || figures.leased() < 0
                        || figures.reservedBytes() > maxTotalBytes || figures.peakReservedBytes() > maxTotalBytes) {
                    failures.add(new AssertionError("a bound crossed: " + figures));
                    return;
                }
                Thread.onSpinWait();
            }
        });
        List<Thread> threads = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < 24; t++) {
            SplittableRandom random = new SplittableRandom(seed * 100 + t);
            Runnable connections = () -> {
                try {
                    start.await();
                    for (int c = 0; c < 150; c++) {
                        lease(pool, random, firstBlocksLeased, leasedNow, maxLeased, refusedByBudget);
                        leases.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofPlatform().start(connections) : Thread.ofVirtual().start(connections));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        storming.set(false);
        observer.join();

        assertEquals(List.of(), failures);
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(24 * 150, leases.get());
        assertEquals(24 * 150, figures.acquires(), "every lease counted once, on whichever stripe");
        assertEquals(0, figures.leased());
        assertEquals(figures.arenasCreated() - figures.arenasFreed(), figures.idle(), "made, freed and idle add up");
        assertTrue(figures.idle() <= maxIdle, figures.toString());
        assertTrue(figures.reservedBytes() <= maxIdleBytes, "idle memory within maxIdleBytes: " + figures);
        assertEquals(blocks.outstandingBytes(), figures.reservedBytes(), "the budget counts what is held");
        assertTrue(blocks.peakBytes() <= maxTotalBytes);
        assertTrue(refusedByBudget.get() < leases.get() / 2, "most leases were served: " + refusedByBudget);
        pool.close();
        blocks.assertAllFreed();
    }

    private static void lease(ArenaPool pool, SplittableRandom random, Set<Long> firstBlocksLeased,
                              AtomicInteger leasedNow, int maxLeased, AtomicInteger refusedByBudget) {
        try (Arena arena = pool.acquire()) {
            int now = leasedNow.incrementAndGet();
            assertTrue(now <= maxLeased, now + " leases at once");
            long first;
            try {
                first = arena.allocate(8, 8).address();
            } catch (ArenaLimitException full) {
                refusedByBudget.incrementAndGet();        // the budget is exact, so it may be full
                leasedNow.decrementAndGet();
                return;
            }
            assertTrue(firstBlocksLeased.add(first), "a chain leased twice at once");
            try {
                for (int i = random.nextInt(1, 7); i > 0; i--) {     // now and then a large slice
                    long size = random.nextInt(10) == 0 ? 2 * BLOCK : random.nextLong(1, BLOCK);
                    MemorySegment slice = arena.allocate(size);
                    assertTrue(TestSupport.isZero(slice), "a lease saw another's bytes");
                    slice.fill((byte) 7);
                }
            } catch (ArenaLimitException full) {
                refusedByBudget.incrementAndGet();
            } finally {
                firstBlocksLeased.remove(first);
                leasedNow.decrementAndGet();
            }
        }
    }

    /**
     * A chain given back by a thread that then ended is neither lost nor leaked: the next lease,
     * on any other thread, gets it, and closing the pool frees it.
     */
    @ParameterizedTest(name = "virtual: {0}")
    @ValueSource(booleans = {false, true})
    void theChainsOfAThreadThatEndedServeOtherThreads(boolean virtual) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK))
                .leakDetection(LeakDetection.OFF).build();
        for (int t = 0; t < 8; t++) {                     // each new thread: most likely a new stripe
            Runnable connection = () -> {
                try (Arena arena = pool.acquire()) {
                    arena.allocate(100);
                }
            };
            (virtual ? Thread.ofVirtual().start(connection) : Thread.ofPlatform().start(connection)).join();
        }
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(1, figures.arenasCreated(), "each thread found the chain the one before gave back");
        assertEquals(1, figures.idle());
        assertEquals(1, blocks.allocatedBlocks());
        pool.close();
        blocks.assertAllFreed();
    }

    /** maxIdle holds for the pool, not per stripe: one idle chain, whichever threads give back. */
    @Test
    void aBoundOfOneIdleChainHoldsAcrossThreads() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK))
                .maxIdle(1).leakDetection(LeakDetection.OFF).build();
        Arena[] two = new Arena[2];
        for (int t = 0; t < 8; t++) {
            Thread.ofPlatform().start(() -> {
                two[0] = pool.acquire();
                two[1] = pool.acquire();
                two[0].allocate(100);
                two[1].allocate(100);
                two[0].close();
                two[1].close();
            }).join();
            assertEquals(1, pool.idleCount(), "after thread " + t);
            assertEquals(BLOCK, pool.reservedBytes());
        }
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(9, figures.arenasCreated(), "one new chain per thread beside the idle one");
        assertEquals(8, figures.arenasFreed());
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * maxIdleBytes holds for the pool, not per stripe: a chain larger than a stripe's share of it
     * is kept when the pool as a whole has room.
     */
    @Test
    void aChainLargerThanAStripesShareIsKeptWhenThePoolHasRoom() {
        CountingBlocks blocks = new CountingBlocks();
        long maxIdleBytes = 8 * BLOCK;
        ArenaPool pool = ArenaPool.builder()
                .arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK).retainBytes(maxIdleBytes))
                .maxIdleBytes(maxIdleBytes).leakDetection(LeakDetection.OFF).build();
        try (Arena arena = pool.acquire()) {
            arena.allocate(maxIdleBytes - 64);            // one large block of all the idle bytes
        }
        assertEquals(1, pool.idleCount());
        assertEquals(pool.reservedBytes(), blocks.outstandingBytes());
        assertTrue(pool.reservedBytes() <= maxIdleBytes);
        pool.close();
        blocks.assertAllFreed();
    }

    /** The budget takes back idle chains from every stripe, not only from the caller's. */
    @Test
    void theBudgetReclaimsIdleChainsOfOtherThreadsStripes() throws Exception {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK))
                .maxTotalBytes(4 * BLOCK).leakDetection(LeakDetection.OFF).build();
        Arena[] held = new Arena[4];
        for (int t = 0; t < 4; t++) {
            int index = t;
            Thread.ofPlatform().start(() -> {
                held[index] = pool.acquire();
                held[index].allocate(100);
                held[index].resetAndDisown();
            }).join();
        }
        for (int t = 0; t < 4; t++) {
            int index = t;
            Thread.ofPlatform().start(() -> held[index].close()).join();      // four threads, four stripes
        }
        assertEquals(4, pool.idleCount());

        try (Arena arena = pool.acquire()) {
            arena.allocate(100);
            assertEquals(3 * BLOCK - 256, arena.allocate(3 * BLOCK - 256).byteSize(), "the other stripes' chains paid");
        }
        ArenaPool.Statistics figures = pool.statistics();
        assertTrue(figures.arenasFreed() >= 3, figures.toString());
        assertTrue(blocks.peakBytes() <= 4 * BLOCK);
        pool.close();
        blocks.assertAllFreed();
    }

    /** A lease leaked on a thread that then ended is still found, reported, freed and counted. */
    @Test
    void aLeaseLeakedByAThreadThatEndedIsRecovered() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks).blockSize(BLOCK))
                .leakDetection(LeakDetection.EVERY).name("stripes-leak").build();
        AtomicReference<WeakReference<Arena>> leaked = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            Arena arena = pool.acquire();
            arena.allocate(100);
            leaked.set(new WeakReference<>(arena));
        }).join();
        for (int i = 0; i < 200 && pool.statistics().leaks() == 0; i++) {
            System.gc();
            Thread.sleep(50);                     // lets the cleaner thread run; no timing is measured
        }
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(1, figures.leaks());
        assertEquals(0, figures.leased());
        assertEquals(1, figures.arenasFreed());
        assertEquals(0, blocks.outstandingBytes());
        pool.close();
        blocks.assertAllFreed();
    }
}
