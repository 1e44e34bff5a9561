package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link ArenaPool} shared by two or three threads, each running a program the fuzzer's bytes
 * decide: timed and untimed leases, allocations, resets, returns, leaked leases, and a close of
 * the pool in the middle of it all, under settings the fuzzer picks (a budget, maxLeased, idle
 * bounds, leak detection). At every step of every thread the bounds hold: the native bytes held
 * never cross maxTotalBytes (the counting allocator fails the first block that would), nor does
 * the pool's count, and no more than maxLeased arenas are out; every slice keeps its bytes. At
 * the end, every native byte is one the pool accounts for, and with no leak, every one is freed.
 */
class ArenaPoolFuzzTest {

    private static final long[] BLOCK_SIZES = {256, 1024, 4096};

    /** The bytes one thread's program is decoded from. */
    private static final class Program {
        private final byte[] bytes;
        private int next;

        Program(byte[] bytes) {
            this.bytes = bytes;
        }

        boolean hasNext() {
            return next < bytes.length;
        }

        int nextByte() {
            return next < bytes.length ? bytes[next++] & 0xFF : 0;
        }
    }

    /** An arena a thread holds, with the byte written into its one checked slice, if it got one. */
    private record Held(Arena arena, MemorySegment slice, byte pattern) {}

    @FuzzTest(maxDuration = "")
    void poolBoundsHoldOnEveryThread(FuzzedDataProvider data) throws InterruptedException {
        long blockSize = data.pickValue(BLOCK_SIZES);
        long maxTotalBytes = blockSize * data.consumeLong(1, 16) + data.consumeLong(0, blockSize);
        int maxLeased = data.consumeBoolean() ? 0 : data.consumeInt(1, 4);
        boolean leaks = data.consumeBoolean();
        long maxBytes = data.consumeBoolean() ? Arena.UNLIMITED : blockSize * data.consumeLong(1, 8);
        CountingBlocks blocks = new CountingBlocks(maxTotalBytes);
        ArenaPool.Builder builder = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks)
                .blockSize(blockSize).maxBytes(maxBytes).retainBytes(Math.min(maxBytes, data.consumeLong(0,
                        4 * blockSize)))).maxTotalBytes(maxTotalBytes)
                .maxIdle(data.consumeInt(0, 4)).maxIdleBytes(data.consumeLong(0, 8 * blockSize))
                .leakDetection(leaks ? LeakDetection.EVERY : LeakDetection.OFF);
        if (maxLeased > 0) {
            builder.maxLeased(maxLeased);
        }
        ArenaPool pool = builder.build();
        int threadCount = data.consumeInt(2, 3);
        List<Program> programs = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            programs.add(new Program(data.consumeBytes(200)));
        }

        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean poolClosed = new AtomicBoolean();
        AtomicInteger leaked = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            Program program = programs.get(t);
            boolean closer = t == 0;
            threads.add(Thread.ofPlatform().start(() -> {
                List<Held> held = new ArrayList<>();
                try {
                    start.await();
                    run(program, pool, held, blockSize, maxTotalBytes, maxLeased, leaks, closer, poolClosed, leaked);
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    for (Held h : held) {
                        h.arena().close();
                    }
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        if (poolClosed.compareAndSet(false, true)) {
            pool.close();
        }
        assertEquals(List.of(), List.copyOf(failures));
        assertEquals(pool.reservedBytes(), blocks.outstandingBytes(), "every native byte is one the pool counts");
        assertTrue(blocks.peakBytes() <= maxTotalBytes);
        if (leaked.get() == 0) {
            blocks.assertAllFreed();
        }
    }

    private static void run(Program program, ArenaPool pool, List<Held> held, long blockSize, long maxTotalBytes,
                            int maxLeased, boolean leaks, boolean closer, AtomicBoolean poolClosed,
                            AtomicInteger leaked) {
        while (program.hasNext()) {
            int op = program.nextByte() % 8;
            int arg = program.nextByte();
            switch (op) {
                case 0, 1 -> {
                    if (held.size() >= 2) {
                        break;
                    }
                    Arena arena;
                    try {
                        // With maxLeased, a thread that holds arenas waits only for a while: two
                        // threads each holding some and waiting for more would wait for ever.
                        arena = maxLeased > 0 ? pool.acquire(Duration.ofMillis(arg % 3)) : pool.acquire();
                    } catch (ArenaPoolExhaustedException timedOut) {
                        break;                                 // maxLeased arenas stayed out for the timeout
                    } catch (IllegalStateException closed) {
                        assertTrue(poolClosed.get(), "acquire refused by an open pool: " + closed);
                        break;
                    }
                    MemorySegment slice = null;
                    byte pattern = (byte) arg;
                    try {
                        slice = arena.allocate(1 + arg % 64);
                        slice.fill(pattern);
                    } catch (ArenaLimitException full) {
                        // the budget had no room for the first block; the lease is held all the same
                    }
                    held.add(new Held(arena, slice, pattern));
                }
                case 2 -> {
                    if (!held.isEmpty()) {
                        Held h = held.get(arg % held.size());
                        try {
                            h.arena().allocate(arg * blockSize / 64 + arg % 7);
                        } catch (ArenaLimitException refused) {
                            // the budget or the limit: the arena is as it was
                        }
                    }
                }
                case 3 -> {
                    if (!held.isEmpty()) {
                        Held h = held.remove(arg % held.size());
                        h.arena().close();
                    }
                }
                case 4 -> {
                    if (!held.isEmpty() && leaks) {
                        held.remove(arg % held.size());        // never closed: the leak detector's
                        leaked.incrementAndGet();
                    }
                }
                case 5 -> {
                    if (closer && arg < 16 && poolClosed.compareAndSet(false, true)) {
                        pool.close();
                    }
                }
                default -> {
                    for (Held h : held) {
                        assertTrue(h.slice() == null || TestSupport.allBytes(h.slice(), h.pattern()),
                                "a leased slice lost its bytes");
                    }
                }
            }
            long reserved = pool.reservedBytes();
            assertTrue(reserved <= maxTotalBytes, "the pool counts " + reserved + " bytes, over " + maxTotalBytes);
            if (maxLeased > 0) {
                int leased = pool.statistics().leased();
                assertTrue(leased <= maxLeased, leased + " arenas leased, over maxLeased " + maxLeased);
            }
        }
    }
}
