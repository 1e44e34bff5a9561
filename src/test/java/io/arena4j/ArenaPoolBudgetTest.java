package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A pool's budget, {@code maxTotalBytes}: what all its arenas hold never crosses it, idle arenas
 * give their memory back before a request is refused, and a refusal changes nothing. Every pool
 * here takes its blocks from {@link CountingBlocks}, which fails the test from the allocation
 * that would take the native memory actually held over the budget.
 */
class ArenaPoolBudgetTest {

    private static final long KiB = 1024;
    private static final long BLOCK = 4 * KiB;

    private static ArenaPool.Builder pool(CountingBlocks blocks, long maxTotalBytes) {
        return pool(blocks, maxTotalBytes, Arena.builder());
    }

    /** A pool whose arenas have the settings of {@code arenas}, with blocks of BLOCK bytes from {@code blocks}. */
    private static ArenaPool.Builder pool(CountingBlocks blocks, long maxTotalBytes, Arena.Builder arenas) {
        return ArenaPool.builder().arenas(arenas.blockAllocator(blocks).blockSize(BLOCK)).name("budgeted")
                .maxTotalBytes(maxTotalBytes).leakDetection(LeakDetection.OFF);
    }

    @Test
    void aBlockBeyondTheBudgetIsRefusedNamingThePoolAndChangesNothing() {
        CountingBlocks blocks = new CountingBlocks(3 * BLOCK);
        ArenaPool pool = pool(blocks, 3 * BLOCK).maxIdle(0).build();
        Arena first = pool.acquire();
        Arena second = pool.acquire();
        first.allocate(BLOCK);
        first.allocate(BLOCK);                          // two blocks
        MemorySegment kept = second.allocate(100);      // the third
        kept.fill((byte) 7);
        long allocated = second.statistics().allocatedBytes();
        ArenaPool.Statistics before = pool.statistics();

        ArenaLimitException refused = assertThrows(ArenaLimitException.class, () -> second.allocate(BLOCK));

        assertEquals("budgeted", refused.poolName());
        assertEquals(3 * BLOCK, refused.limitBytes());
        assertEquals(3 * BLOCK, refused.reservedBytes());
        assertEquals(BLOCK, refused.requestedBytes());
        assertTrue(refused.getMessage().contains("pool budgeted (maxTotalBytes) of " + 3 * BLOCK + " bytes"),
                refused.getMessage());
        assertEquals(before, pool.statistics());
        assertEquals(allocated, second.statistics().allocatedBytes());
        assertEquals(BLOCK, second.statistics().reservedBytes());
        assertTrue(TestSupport.allBytes(kept, 7), "the slices alive stay alive");
        assertEquals(3 * BLOCK, blocks.outstandingBytes());

        first.reset();                                  // keeps one block: gives one back
        assertEquals(2 * BLOCK, pool.reservedBytes());
        assertEquals(BLOCK, second.allocate(BLOCK).byteSize());
        first.close();
        second.close();
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void anArenasOwnLimitIsReportedWithoutAPoolName() {
        CountingBlocks blocks = new CountingBlocks();
        try (ArenaPool pool = pool(blocks, 100 * BLOCK, Arena.builder().maxBytes(2 * BLOCK)).build();
             Arena arena = pool.acquire()) {
            ArenaLimitException refused = assertThrows(ArenaLimitException.class, () -> arena.allocate(3 * BLOCK));
            assertNull(refused.poolName());
            assertEquals(2 * BLOCK, refused.limitBytes());
        }
        blocks.assertAllFreed();
    }

    @Test
    void idleArenasGiveTheirMemoryBackLeastRecentlyUsedFirst() {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        ArenaPool pool = pool(blocks, 4 * BLOCK, Arena.builder().retainBytes(2 * BLOCK)).maxIdle(4).build();
        Arena older = pool.acquire();
        Arena newer = pool.acquire();
        older.allocate(BLOCK);
        older.allocate(BLOCK);                          // two blocks, kept idle
        newer.allocate(100);                            // one block, kept idle
        older.close();
        newer.close();
        assertEquals(3 * BLOCK, pool.reservedBytes());

        Arena arena = pool.acquire();                   // the most recently used: one block
        assertEquals(BLOCK, arena.statistics().reservedBytes());
        fillRegularBlock(arena);                        // its kept block
        fillRegularBlock(arena);                        // a new one: 4 blocks held, the budget
        fillRegularBlock(arena);                        // beyond: the idle arena's two blocks go first

        assertEquals(3 * BLOCK, arena.statistics().reservedBytes());
        assertEquals(3 * BLOCK, pool.reservedBytes());
        assertEquals(3 * BLOCK, blocks.outstandingBytes());
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(0, figures.idle());
        assertEquals(1, figures.arenasFreed());
        assertEquals(4 * BLOCK, figures.peakReservedBytes());
        arena.close();
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * Fills one regular block with requests of a quarter block each, the largest that are not
     * large requests (a request of a whole block would get a block of its own).
     */
    private static void fillRegularBlock(Arena arena) {
        for (int i = 0; i < 4; i++) {
            arena.allocate(BLOCK / 4);
        }
    }

    @Test
    void aRefusalFreesNoneOfTheBlocksTheArenaKept() {
        CountingBlocks blocks = new CountingBlocks(3 * BLOCK);
        ArenaPool pool = pool(blocks, 3 * BLOCK, Arena.builder().maxBytes(2 * BLOCK).retainBytes(2 * BLOCK))
                .maxIdle(0).build();
        Arena other = pool.acquire();
        other.allocate(BLOCK);
        other.allocate(BLOCK);                          // two blocks of the three
        Arena arena = pool.acquire();
        arena.allocate(100);
        arena.reset();                                  // keeps its block, unused

        // A large request under the arena's own limit of two blocks: to make room it would give
        // up its kept block, and it needs more than that block from the pool, which has none.
        ArenaLimitException refused = assertThrows(ArenaLimitException.class,
                () -> arena.allocate(BLOCK + BLOCK / 2));

        assertEquals("budgeted", refused.poolName());
        assertEquals(BLOCK, arena.statistics().reservedBytes(), "the kept block is still kept");
        assertEquals(1, arena.statistics().blockCount());
        assertEquals(3 * BLOCK, pool.reservedBytes());
        assertEquals(3 * BLOCK, blocks.outstandingBytes());
        assertEquals(3, blocks.allocatedBlocks(), "nothing was freed and allocated again");

        other.close();                                  // frees its blocks: room for the request
        assertEquals(BLOCK + BLOCK / 2, arena.allocate(BLOCK + BLOCK / 2).byteSize());
        assertEquals(pool.reservedBytes(), blocks.outstandingBytes());
        arena.close();
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * Idle arenas are freed only when that makes room: a request that the idle arena's block
     * cannot make room for is refused with the idle arena still idle, and a smaller one that it
     * can make room for then frees it.
     */
    @Test
    void aRefusalFreesNoIdleArenaWhenFreeingThemCouldNotMakeRoom() {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        ArenaPool pool = pool(blocks, 4 * BLOCK).build();
        Arena idle = pool.acquire();
        Arena arena = pool.acquire();
        idle.allocate(100);
        arena.allocate(100);
        idle.close();                                   // one block idle, one in use, two free
        ArenaPool.Statistics before = pool.statistics();
        String arenaBefore = arena.toString();

        ArenaLimitException refused = assertThrows(ArenaLimitException.class, () -> arena.allocate(4 * BLOCK));

        assertTrue(refused.getMessage().contains("freeing its idle arenas and this arena's unused blocks would not"
                + " make room"), refused.getMessage());
        assertEquals(before, pool.statistics(), "the idle arena is still idle");
        assertEquals(1, pool.statistics().idle());
        assertEquals(arenaBefore, arena.toString());
        assertEquals(2 * BLOCK, blocks.outstandingBytes());

        assertEquals(3 * BLOCK, arena.allocate(3 * BLOCK).byteSize(), "the idle block makes room for this one");
        assertEquals(0, pool.statistics().idle());
        assertEquals(before.arenasFreed() + 1, pool.statistics().arenasFreed());
        assertEquals(4 * BLOCK, blocks.outstandingBytes());
        arena.close();
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * Blocks an arena kept from its last round count as free for the pool's budget, as they do
     * for the arena's own limit: a request that an arena which kept nothing would get is served
     * by giving some of them up.
     */
    @Test
    void anArenasOwnKeptBlocksAreGivenUpForTheBudget() {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        ArenaPool pool = pool(blocks, 4 * BLOCK, Arena.builder().retainBytes(4 * BLOCK)).build();
        Arena arena = pool.acquire();
        for (int block = 0; block < 4; block++) {
            fillRegularBlock(arena);
        }
        arena.reset();                                  // keeps all four: the budget is full
        assertEquals(4 * BLOCK, pool.reservedBytes());

        assertEquals(2 * BLOCK, arena.allocate(2 * BLOCK).byteSize());

        assertEquals(4 * BLOCK, arena.statistics().reservedBytes(), "two kept blocks and the new one of two blocks");
        assertEquals(3, arena.statistics().blockCount());
        assertEquals(4 * BLOCK, blocks.outstandingBytes());
        assertEquals(4 * BLOCK, pool.reservedBytes());
        fillRegularBlock(arena);
        fillRegularBlock(arena);                        // the two kept blocks, used
        assertThrows(ArenaLimitException.class, () -> arena.allocate(1), "nothing is left to give up");
        arena.close();
        pool.close();
        blocks.assertAllFreed();
    }

    /**
     * When both could make room, idle arenas are freed first, least recently used first: they are
     * the coldest memory, while the blocks an arena keeps serve its next round. Its own unused
     * blocks pay for the rest.
     */
    @Test
    void idleArenasAreFreedBeforeTheArenasOwnKeptBlocks() {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        ArenaPool pool = pool(blocks, 4 * BLOCK, Arena.builder().retainBytes(3 * BLOCK)).build();
        Arena idle = pool.acquire();
        Arena arena = pool.acquire();
        idle.allocate(100);
        for (int block = 0; block < 3; block++) {
            fillRegularBlock(arena);
        }
        idle.close();
        arena.reset();                                  // three kept blocks, one idle: the budget is full

        assertEquals(2 * BLOCK, arena.allocate(2 * BLOCK).byteSize());

        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(0, figures.idle());
        assertEquals(1, figures.arenasFreed(), "the idle arena went first");
        assertEquals(4 * BLOCK, arena.statistics().reservedBytes(),
                "then one kept block: two kept and the new one are left");
        assertEquals(3, arena.statistics().blockCount());
        assertEquals(4 * BLOCK, blocks.outstandingBytes());
        arena.close();
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void whenTheCLibraryRefusesTheBudgetGetsBackWhatItGranted() {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        ArenaPool pool = pool(blocks, 4 * BLOCK, Arena.builder().maxBytes(2 * BLOCK).retainBytes(2 * BLOCK))
                .maxIdle(0).build();
        Arena arena = pool.acquire();
        arena.allocate(100);
        arena.reset();                                  // one kept block, which the request gives up
        blocks.failNext(1);

        assertThrows(OutOfMemoryError.class, () -> arena.allocate(BLOCK + BLOCK / 2));

        assertEquals(BLOCK, arena.statistics().reservedBytes(), "the kept block was allocated again");
        assertEquals(BLOCK, pool.reservedBytes());
        assertEquals(BLOCK, blocks.outstandingBytes());
        arena.allocate(BLOCK + BLOCK / 2);
        assertEquals(pool.reservedBytes(), blocks.outstandingBytes());
        arena.close();
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void theBudgetMustHoldAtLeastOneBlock() {
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                () -> ArenaPool.builder().arenas(Arena.builder().blockSize(BLOCK)).maxTotalBytes(BLOCK - 1).build());
        assertTrue(tooSmall.getMessage().contains("maxTotalBytes"), tooSmall.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().maxTotalBytes(0));
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().maxTotalBytes(-1));
    }

    /**
     * Platform and virtual threads lease arenas and allocate seeded random sizes, small and large,
     * from a pool whose budget is far below what they ask for together. The native memory held
     * never crosses it (CountingBlocks checks every allocation), nor does the pool's count, read
     * at every step; some requests are refused and many are served; every byte comes back.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void aStormOfThreadsNeverTakesThePoolOverItsBudget(long seed) throws InterruptedException {
        long budget = 10 * BLOCK;
        CountingBlocks blocks = new CountingBlocks(budget);
        ArenaPool pool = pool(blocks, budget, Arena.builder().maxBytes(4 * BLOCK).retainBytes(2 * BLOCK)).maxIdle(3)
                .build();
        AtomicLong served = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            SplittableRandom random = new SplittableRandom(seed * 1000 + t);
            Runnable work = () -> {
                try {
                    start.await();
                    for (int lease = 0; lease < 200; lease++) {
                        try (Arena arena = pool.acquire()) {
                            for (int i = random.nextInt(1, 6); i > 0; i--) {
                                long size = random.nextBoolean() ? random.nextLong(1, 512) : random.nextLong(1, 2 * BLOCK);
                                try {
                                    MemorySegment slice = arena.allocate(size);
                                    slice.fill((byte) 1);
                                    served.incrementAndGet();
                                } catch (ArenaLimitException e) {
                                    refused.incrementAndGet();
                                }
                                long held = pool.reservedBytes();
                                if (held > budget) {
                                    throw new AssertionError("the pool counts " + held + " bytes, over " + budget);
                                }
                            }
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofPlatform().start(work) : Thread.ofVirtual().start(work));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        failures.forEach(Throwable::printStackTrace);
        assertEquals(List.of(), List.copyOf(failures));
        assertTrue(refused.get() > 0, "the budget refused some requests");
        // The share served depends on how 16 threads are scheduled on the machine's cores: from
        // 47 to 95 % in runs of these seeds on 2 cores, so "most" would fail by chance.
        assertTrue(served.get() * 4 > served.get() + refused.get(),
                "and served many: " + served + " served, " + refused + " refused");
        assertTrue(pool.statistics().peakReservedBytes() <= budget);
        assertTrue(blocks.peakBytes() <= budget);
        assertEquals(pool.reservedBytes(), blocks.outstandingBytes());
        pool.close();
        assertEquals(0, pool.reservedBytes());
        blocks.assertAllFreed();
    }

    @Test
    void aPoolWithoutABudgetIsUnbounded() {
        try (ArenaPool pool = ArenaPool.builder().leakDetection(LeakDetection.OFF).build()) {
            assertSame(false, pool.toString().contains("maxTotalBytes"));
        }
        try (ArenaPool pool = ArenaPool.builder().maxTotalBytes(1 << 20).leakDetection(LeakDetection.OFF).build()) {
            assertTrue(pool.toString().contains("maxTotalBytes=1048576"), pool.toString());
        }
    }
}
