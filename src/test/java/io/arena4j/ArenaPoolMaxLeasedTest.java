package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * {@code maxLeased}: {@code acquire()} waits while that many arenas are out, first come first
 * served, without holding a virtual thread's carrier; {@code acquire(Duration)} gives up after
 * its timeout; closing the pool ends every wait.
 */
class ArenaPoolMaxLeasedTest {

    private static ArenaPool pool(int maxLeased) {
        return ArenaPool.builder().arenas(Arena.builder().blockSize(4096)).name("bounded").maxLeased(maxLeased)
                .leakDetection(LeakDetection.OFF).build();
    }

    /** Waits, yielding, until {@code condition} holds: for a thread to reach its wait, not for time to pass. */
    private static void awaitUntil(BooleanSupplier condition) {
        while (!condition.getAsBoolean()) {
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static void waitingThreads(ArenaPool pool, int count) {
        awaitUntil(() -> pool.statistics().waiting() == count);
    }

    @Test
    void acquireWaitsWhileMaxLeasedArenasAreOutAndTakesTheOneThatComesBack() throws InterruptedException {
        ArenaPool pool = pool(1);
        Arena held = pool.acquire();
        held.allocate(100);
        CountDownLatch leased = new CountDownLatch(1);
        AtomicInteger leasedWhileHeld = new AtomicInteger(-1);
        Thread waiter = Thread.ofVirtual().start(() -> {
            try (Arena arena = pool.acquire()) {
                leasedWhileHeld.set(pool.statistics().leased());
                arena.allocate(10);
                leased.countDown();
            }
        });
        waitingThreads(pool, 1);
        assertEquals(1, pool.statistics().leased());
        assertEquals(1, leased.getCount(), "still waiting");

        held.close();
        waiter.join();
        assertEquals(1, leasedWhileHeld.get());
        assertEquals(0, leased.getCount());
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(0, figures.leased());
        assertEquals(0, figures.waiting());
        assertEquals(1, figures.arenasCreated(), "the waiter got the arena that came back");
        pool.close();
    }

    @Test
    void waitersAreServedInTheOrderTheyCame() throws InterruptedException {
        ArenaPool pool = pool(1);
        Arena held = pool.acquire();
        List<Integer> served = new CopyOnWriteArrayList<>();
        List<Thread> waiters = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            int number = i;
            Runnable waiter = () -> {
                try (var _ = pool.acquire()) {
                    served.add(number);
                }
            };
            waiters.add(i % 2 == 0 ? Thread.ofVirtual().start(waiter) : Thread.ofPlatform().start(waiter));
            waitingThreads(pool, i + 1);          // the next one comes after this one waits
        }
        held.close();
        for (Thread waiter : waiters) {
            waiter.join();
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), served);
        pool.close();
    }

    /**
     * Two threads lease and return the only arena in a tight loop. A third that waits for it is
     * served after at most the leases queued before it: the looping threads queue behind it,
     * instead of taking the arena back each time it is returned. Leases are counted from the
     * moment the waiter is parked in its wait, so the count does not depend on scheduling.
     */
    @Test
    void noWaiterStarvesBehindThreadsThatLeaseInATightLoop() throws InterruptedException {
        ArenaPool pool = pool(1);
        CountDownLatch stop = new CountDownLatch(1);
        List<Thread> hogs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            hogs.add(Thread.ofPlatform().start(() -> {
                while (stop.getCount() > 0) {
                    pool.acquire().close();
                }
            }));
        }
        awaitUntil(() -> pool.statistics().acquires() > 1000);     // every class loaded, the loop hot
        for (int round = 0; round < 20; round++) {
            AtomicLong servedAt = new AtomicLong();
            Thread waiter = Thread.ofPlatform().start(() -> {
                try (var _ = pool.acquire()) {
                    servedAt.set(pool.statistics().acquires());
                }
            });
            awaitUntil(() -> waiter.getState() == Thread.State.WAITING || servedAt.get() != 0);
            long queuedAt = pool.statistics().acquires();
            waiter.join();
            long overtakers = servedAt.get() - queuedAt - 1;
            assertTrue(overtakers <= 2, "round " + round + ": " + overtakers + " leases went first");
        }
        stop.countDown();
        for (Thread hog : hogs) {
            hog.join();
        }
        pool.close();
    }

    @Test
    void aTimedAcquireGivesUpAfterItsTimeoutAndChangesNothing() {
        ArenaPool pool = pool(2);
        Arena first = pool.acquire(Duration.ofSeconds(1));
        Arena second = pool.acquire(Duration.ofSeconds(1));
        ArenaPool.Statistics before = pool.statistics();
        long start = System.nanoTime();

        ArenaPoolExhaustedException full = assertThrows(ArenaPoolExhaustedException.class,
                () -> pool.acquire(Duration.ofMillis(50)));

        assertTrue(System.nanoTime() - start >= Duration.ofMillis(50).toNanos(), "it waited its timeout");
        assertEquals(2, full.maxLeased());
        assertEquals(Duration.ofMillis(50), full.timeout());
        assertTrue(full.getMessage().contains("All 2 arenas of pool bounded (maxLeased) stayed leased for PT0.05S"),
                full.getMessage());
        assertEquals(before, pool.statistics());
        assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(Duration.ZERO));
        assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(Duration.ofMillis(-1)));

        second.close();
        try (var _ = pool.acquire(Duration.ofSeconds(Long.MAX_VALUE))) {   // too long for toNanos()
            assertEquals(2, pool.statistics().leased());
        }
        first.close();
        assertThrows(NullPointerException.class, () -> pool.acquire(null));
        pool.close();
    }

    /**
     * A timeout too negative for toNanos() saturates to Long.MIN_VALUE nanoseconds, which a
     * deadline of nanoTime() plus the timeout turns into a wait of centuries. Like every zero
     * or negative timeout, it must take an arena only if one is free now. The preemptive
     * timeout turns a regression into a failure instead of a hang (the waiting thread, which an
     * interrupt does not stop, is one of JUnit's daemon threads).
     */
    @Test
    void aTimeoutTooNegativeForNanosecondsTakesAnArenaOnlyIfOneIsFreeNow() {
        ArenaPool pool = pool(1);
        Duration mostNegative = Duration.ofSeconds(Long.MIN_VALUE);
        try (var _ = pool.acquire(mostNegative)) {
            ArenaPool.Statistics before = pool.statistics();

            ArenaPoolExhaustedException full = assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(mostNegative)));

            assertEquals(mostNegative, full.timeout());
            assertEquals(before, pool.statistics());
            assertEquals(1, pool.statistics().leased());
        }
        assertEquals(0, pool.statistics().leased(), "the permit came back");
        pool.close();
    }

    @Test
    void closingThePoolEndsEveryWaitWithIllegalStateException() throws InterruptedException {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockAllocator(blocks)).maxLeased(1)
                .leakDetection(LeakDetection.OFF)
                .build();
        Arena held = pool.acquire();
        held.allocate(100);
        ConcurrentLinkedQueue<Throwable> thrown = new ConcurrentLinkedQueue<>();
        List<Thread> waiters = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Runnable waiter = i % 3 == 0
                    ? () -> catchInto(thrown, () -> pool.acquire(Duration.ofMinutes(5)))
                    : () -> catchInto(thrown, pool::acquire);
            waiters.add(i % 2 == 0 ? Thread.ofVirtual().start(waiter) : Thread.ofPlatform().start(waiter));
        }
        waitingThreads(pool, 6);

        pool.close();
        for (Thread waiter : waiters) {
            waiter.join();
        }
        assertEquals(6, thrown.size());
        for (Throwable e : thrown) {
            assertInstanceOf(IllegalStateException.class, e);
            assertEquals("ArenaPool is closed", e.getMessage());
        }
        assertEquals(1, pool.statistics().leased());
        held.close();                           // freed: the pool is closed
        assertEquals(0, pool.statistics().leased());
        blocks.assertAllFreed();
        assertThrows(IllegalStateException.class, pool::acquire);
    }

    private static void catchInto(ConcurrentLinkedQueue<Throwable> thrown, Runnable action) {
        try {
            action.run();
            thrown.add(new AssertionError("acquired from a closed pool"));
        } catch (Throwable e) {
            thrown.add(e);
        }
    }

    @Test
    void anInterruptDoesNotEndTheWaitAndStaysSet() throws InterruptedException {
        ArenaPool pool = pool(1);
        Arena held = pool.acquire();
        List<Boolean> interruptedAfter = new CopyOnWriteArrayList<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try (var _ = pool.acquire()) {
                interruptedAfter.add(Thread.currentThread().isInterrupted());
            }
            try (var _ = pool.acquire(Duration.ofMinutes(5))) {
                interruptedAfter.add(Thread.currentThread().isInterrupted());
            }
        });
        waitingThreads(pool, 1);
        waiter.interrupt();
        held.close();
        waiter.join();
        assertEquals(List.of(true, true), interruptedAfter);
        pool.close();
    }

    /**
     * Many more virtual threads wait than the scheduler has carriers, and the thread that holds
     * the arenas is virtual too: it can run and return them only if the waiters do not pin their
     * carriers.
     */
    @Test
    void virtualThreadsWaitWithoutHoldingTheirCarriers() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            ArenaPool pool = pool(2);
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread holder = Thread.ofVirtual().start(() -> {
                Arena a = pool.acquire();
                Arena b = pool.acquire();
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                a.close();
                b.close();
            });
            holding.await();
            int waiters = 4 * Runtime.getRuntime().availableProcessors() + 16;
            AtomicInteger leasedMax = new AtomicInteger();
            AtomicInteger leasedNow = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < waiters; i++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    try (Arena arena = pool.acquire()) {
                        leasedMax.accumulateAndGet(leasedNow.incrementAndGet(), Math::max);
                        arena.allocate(64);
                        Thread.yield();
                        leasedNow.decrementAndGet();
                    }
                }));
            }
            waitingThreads(pool, waiters);
            release.countDown();
            holder.join();
            for (Thread thread : threads) {
                thread.join();
            }
            assertTrue(leasedMax.get() <= 2, "at most maxLeased at once: " + leasedMax.get());
            assertEquals(waiters + 2, pool.statistics().acquires());
            pool.close();
        });
    }

    /** Threads of both kinds lease and return arenas in a storm; no more than maxLeased are ever out. */
    @Test
    void aStormNeverHasMoreThanMaxLeasedOut() throws InterruptedException {
        ArenaPool pool = pool(3);
        AtomicInteger out = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger timeouts = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 24; t++) {
            boolean timed = t % 3 == 0;
            Runnable work = () -> {
                try {
                    for (int i = 0; i < 300; i++) {
                        Arena arena;
                        try {
                            arena = timed ? pool.acquire(Duration.ofMillis(1)) : pool.acquire();
                        } catch (ArenaPoolExhaustedException e) {
                            timeouts.incrementAndGet();
                            continue;
                        }
                        try (arena) {
                            most.accumulateAndGet(out.incrementAndGet(), Math::max);
                            int leased = pool.statistics().leased();
                            if (leased > 3) {
                                throw new AssertionError(leased + " arenas leased");
                            }
                            arena.allocate(128).fill((byte) 1);
                            out.decrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofVirtual().start(work) : Thread.ofPlatform().start(work));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(List.of(), List.copyOf(failures));
        assertTrue(most.get() <= 3, "at most 3 out at once: " + most.get());
        ArenaPool.Statistics figures = pool.statistics();
        assertEquals(0, figures.leased());
        assertEquals(0, figures.waiting());
        assertEquals(24 * 300 - timeouts.get(), figures.acquires());
        pool.close();
    }

    @Test
    void maxLeasedMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().maxLeased(0));
        assertThrows(IllegalArgumentException.class, () -> ArenaPool.builder().maxLeased(-5));
        try (ArenaPool pool = pool(7)) {
            assertTrue(pool.toString().contains("maxLeased=7"), pool.toString());
        }
    }
}
