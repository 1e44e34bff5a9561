package io.arena4j;

import static io.arena4j.TestSupport.allBytes;
import static io.arena4j.TestSupport.isZero;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each lease of a pool is a new {@link Arena} over blocks the last lease returned: a stale
 * reference to a closed lease must refuse everything, show a closed arena's figures, and never
 * reach the lease that now carves from the same blocks, from any thread. Written from the
 * documentation alone, as hostile tests of the redesign that made leases new handles.
 */
@SuppressWarnings("restricted")   // reinterpret: aliases of a lease's memory that must be refused
class PooledLeaseHandleTest {

    private static final long BLOCK = 4096;
    private static final Arena.Statistics ZERO = new Arena.Statistics(0, 0, 0, 0, 0, 0);
    private static final String ALREADY_CLOSED = "Already closed";

    /** What a call on another thread gave: its value or what it threw. */
    record Outcome(Object value, Throwable thrown) {
        Throwable expectThrown() {
            assertNotNull(thrown, "expected a throw, got " + value);
            return thrown;
        }
    }

    static Outcome on(boolean virtual, Callable<?> call) throws InterruptedException {
        AtomicReference<Outcome> result = new AtomicReference<>();
        Runnable body = () -> {
            try {
                result.set(new Outcome(call.call(), null));
            } catch (Throwable t) {
                result.set(new Outcome(null, t));
            }
        };
        Thread thread = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
        thread.join();
        return result.get();
    }

    /**
     * Asserts that a call on a closed lease was refused: with IllegalStateException, or, as the
     * JDK's closed confined arena answers a thread that did not own it, WrongThreadException.
     */
    static void assertRefused(Throwable thrown, String call) {
        assertTrue(thrown instanceof IllegalStateException || thrown instanceof WrongThreadException,
                call + " was not refused: " + thrown);
    }

    static Outcome onRun(boolean virtual, Runnable run) throws InterruptedException {
        return on(virtual, () -> {
            run.run();
            return null;
        });
    }

    static ArenaPool.Builder poolOf(CountingBlocks blocks) {
        return ArenaPool.builder().leakDetection(LeakDetection.OFF)
                .arenas(Arena.builder().blockSize(BLOCK).blockAllocator(blocks).leakDetection(LeakDetection.OFF));
    }

    static Arena standalone(CountingBlocks blocks) {
        return Arena.builder().blockSize(BLOCK).blockAllocator(blocks).leakDetection(LeakDetection.OFF).build();
    }

    /** What the docs let one derive at a quiet moment: every arena is idle or leased unless freed. */
    static void assertPoolConsistent(ArenaPool pool, CountingBlocks blocks) {
        ArenaPool.Statistics s = pool.statistics();
        assertEquals(blocks.outstandingBytes(), s.reservedBytes(), "pool reservedBytes vs native bytes held: " + s);
        assertEquals(pool.reservedBytes(), s.reservedBytes(), "reservedBytes() vs statistics: " + s);
        assertEquals(pool.idleCount(), s.idle(), "idleCount() vs statistics: " + s);
        assertTrue(s.reservedBytes() <= s.peakReservedBytes(), "reserved <= peak: " + s);
        assertEquals(s.arenasCreated() - s.arenasFreed(), (long) s.idle() + s.leased(),
                "arenasCreated - arenasFreed == idle + leased: " + s);
    }

    @Test
    void staleLeaseIsClosedForEveryCallOnTheOwnerThreadAndNeverTouchesTheNextLease() {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena a = pool.acquire();
        MemorySegment deadOfA = a.allocate(100);
        Arena.Checkpoint checkpointOfA = a.checkpoint();
        a.allocate(10);
        MemorySegment.Scope scopeOfA = a.scope();
        a.close();

        Arena b = pool.acquire();
        assertNotSame(a, b, "every lease is a new Arena object");
        MemorySegment slice = b.allocate(777);
        slice.fill((byte) 0x5A);
        Arena.Checkpoint checkpointOfB = b.checkpoint();
        MemorySegment inner = b.allocate(33);
        inner.fill((byte) 0x33);
        Arena.Statistics before = b.statistics();
        ArenaPool.Statistics poolBefore = pool.statistics();
        MemorySegment.Scope scopeOfB = b.scope();

        for (Runnable call : List.<Runnable>of(
                () -> a.allocate(1), () -> a.allocate(0), () -> a.allocate(8, 8), a::reset, a::resetAndDisown,
                a::checkpoint, a::close, () -> a.grow(inner, 1000), () -> a.grow(deadOfA, 200),
                () -> a.allocateFrom("x"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
            assertEquals(ALREADY_CLOSED, e.getMessage());
        }
        assertThrows(IllegalStateException.class, checkpointOfA::close);
        // reinterpreting into the stale arena must not register anything with the next lease
        AtomicInteger cleanups = new AtomicInteger();
        IllegalStateException reinterpret = assertThrows(IllegalStateException.class,
                () -> MemorySegment.ofAddress(slice.address()).reinterpret(8, a, _ -> cleanups.incrementAndGet()));
        assertEquals(ALREADY_CLOSED, reinterpret.getMessage());

        assertEquals(ZERO, a.statistics(), "a closed arena's figures are all zero");
        assertFalse(a.scope().isAlive(), "a stale arena's scope is not alive");
        assertNotEquals(scopeOfB, a.scope());
        assertFalse(scopeOfA.isAlive());
        assertFalse(a.toString().contains("allocated=" + before.allocatedBytes()), a.toString());

        assertEquals(before, b.statistics(), "the next lease is untouched");
        assertEquals(poolBefore, pool.statistics(), "the pool is untouched");
        assertSame(scopeOfB, b.scope());
        assertTrue(scopeOfB.isAlive());
        assertTrue(allBytes(slice, 0x5A));
        assertTrue(allBytes(inner, 0x33));
        checkpointOfB.close();
        assertFalse(inner.scope().isAlive());
        assertTrue(allBytes(slice, 0x5A));
        b.reset();
        assertEquals(0, cleanups.get(), "no cleanup was registered through the stale arena");
        b.close();
        assertPoolConsistent(pool, blocks);
        pool.close();
        blocks.assertAllFreed();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void staleLeaseTouchedFromAnotherThreadNeverTouchesTheNextLease(boolean virtual) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena a = pool.acquire();
        MemorySegment deadOfA = a.allocate(100);
        a.close();
        Arena b = pool.acquire();
        MemorySegment slice = b.allocate(777);
        slice.fill((byte) 0x5A);
        Arena.Statistics before = b.statistics();
        ArenaPool.Statistics poolBefore = pool.statistics();
        MemorySegment.Scope scopeOfB = b.scope();

        for (Runnable call : List.<Runnable>of(
                () -> a.allocate(1), a::reset, a::resetAndDisown, a::checkpoint, a::close,
                () -> a.grow(slice, 1000), () -> a.grow(deadOfA, 200))) {
            Throwable t = onRun(virtual, call).expectThrown();
            assertRefused(t, "a stale call");
        }
        assertEquals(ZERO, on(virtual, a::statistics).value(), "a closed arena's figures are all zero, for any thread");
        MemorySegment.Scope otherScope = (MemorySegment.Scope) on(virtual, a::scope).value();
        assertFalse(otherScope.isAlive());
        assertNotEquals(scopeOfB, otherScope);
        String text = (String) on(virtual, a::toString).value();
        assertFalse(text.contains("allocated=777"), text);

        assertEquals(before, b.statistics());
        assertEquals(poolBefore, pool.statistics());
        assertTrue(allBytes(slice, 0x5A));
        assertSame(scopeOfB, b.scope());
        b.close();
        assertPoolConsistent(pool, blocks);
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void staleLeaseCannotBeUsedByTheThreadThatNowOwnsTheSameBlocks() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena a = pool.acquire();
        a.allocate(100);
        a.close();
        Outcome outcome = on(false, () -> {
            Arena b = pool.acquire();       // same chain, owned by this thread
            MemorySegment slice = b.allocate(100);
            slice.fill((byte) 7);
            Arena.Statistics before = b.statistics();
            List<Throwable> thrown = new ArrayList<>();
            for (Runnable call : List.<Runnable>of(() -> a.allocate(1), a::reset, a::checkpoint, a::close,
                    () -> a.grow(slice, 200), a::resetAndDisown)) {
                try {
                    call.run();
                    thrown.add(null);
                } catch (Throwable t) {
                    thrown.add(t);
                }
            }
            assertEquals(before, b.statistics());
            assertTrue(allBytes(slice, 7));
            assertEquals(ZERO, a.statistics());
            b.close();
            return thrown;
        });
        assertNull(outcome.thrown(), String.valueOf(outcome.thrown()));
        for (Object t : (List<?>) outcome.value()) {
            assertRefused((Throwable) t, "a stale call from the new owner of its blocks");
        }
        assertPoolConsistent(pool, blocks);
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void staleDisownedLeaseClosedElsewhereStaysClosed() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena a = pool.acquire();
        a.allocate(100);
        a.resetAndDisown();
        assertFalse(a.scope().isAlive(), "after resetAndDisown, scope() is the closed scope of the last generation");
        assertNull(onRun(true, () -> {
            a.allocate(5);
            a.close();
        }).thrown(), "another thread may claim and return it");
        assertEquals(0, pool.statistics().leased());
        assertEquals(1, pool.statistics().idle());
        Arena b = pool.acquire();
        MemorySegment slice = b.allocate(64);
        slice.fill((byte) 1);
        Arena.Statistics before = b.statistics();
        ArenaPool.Statistics poolBefore = pool.statistics();
        Throwable owner = assertThrows(Throwable.class, a::close);
        assertRefused(owner, "a stale close on the owner thread");
        Throwable other = onRun(false, () -> a.allocate(1)).expectThrown();
        assertRefused(other, "a stale allocation on another thread");
        assertEquals(before, b.statistics());
        assertEquals(poolBefore, pool.statistics());
        assertTrue(allBytes(slice, 1));
        b.close();
        assertPoolConsistent(pool, blocks);
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void secondCloseOfALeaseThrowsWithoutTouchingThePool() {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).maxLeased(1).build();
        Arena a = pool.acquire();
        a.allocate(10);
        a.close();
        ArenaPool.Statistics before = pool.statistics();
        IllegalStateException e = assertThrows(IllegalStateException.class, a::close);
        assertEquals(ALREADY_CLOSED, e.getMessage());
        assertEquals(before, pool.statistics());
        Arena b = pool.acquire(Duration.ZERO);
        // a second close must not have given back a second permit under maxLeased(1)
        assertThrows(ArenaPoolExhaustedException.class, () -> pool.acquire(Duration.ZERO));
        assertEquals(1, pool.statistics().leased());
        b.close();
        assertPoolConsistent(pool, blocks);
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void staleCheckpointOfAnEarlierLeaseDoesNotCloseALevelOfTheNextLease() throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena a = pool.acquire();
        Arena.Checkpoint staleOuter = a.checkpoint();
        a.allocate(10);
        Arena.Checkpoint staleInner = a.checkpoint();
        a.allocate(10);
        a.close();

        Arena b = pool.acquire();
        Arena.Checkpoint outer = b.checkpoint();
        MemorySegment s1 = b.allocate(10);
        Arena.Checkpoint inner = b.checkpoint();
        MemorySegment s2 = b.allocate(10);
        s1.fill((byte) 1);
        s2.fill((byte) 2);
        Arena.Statistics before = b.statistics();

        assertThrows(IllegalStateException.class, staleInner::close);
        assertThrows(IllegalStateException.class, staleOuter::close);
        Throwable t = onRun(true, staleOuter::close).expectThrown();
        assertRefused(t, "a stale checkpoint close on another thread");
        assertTrue(s1.scope().isAlive() && s2.scope().isAlive(), "the new lease's levels stay open");
        assertTrue(allBytes(s1, 1) && allBytes(s2, 2));
        assertEquals(before, b.statistics());
        inner.close();
        assertFalse(s2.scope().isAlive());
        outer.close();
        assertFalse(s1.scope().isAlive());
        b.close();
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void deadSliceOfAnEarlierLeaseAtTheSameAddressCannotBeGrownByTheNextLease() {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena a = pool.acquire();
        MemorySegment dead = a.allocate(100);
        a.close();
        Arena b = pool.acquire();
        MemorySegment live = b.allocate(100);
        assertEquals(dead.address(), live.address(), "premise: the kept block is reused at the same address");
        live.fill((byte) 9);
        Arena.Statistics before = b.statistics();

        assertThrows(IllegalStateException.class, () -> b.grow(dead, 200), "a dead slice");
        assertThrows(IllegalArgumentException.class,
                () -> b.grow(MemorySegment.ofAddress(live.address()).reinterpret(100), 200),
                "a global-scope alias of the last slice is not a slice of this arena");
        assertThrows(IllegalArgumentException.class, () -> b.grow(live.asReadOnly(), 200), "read-only");
        assertThrows(IllegalArgumentException.class, () -> b.grow(live, 99), "smaller");
        assertThrows(IllegalArgumentException.class, () -> b.grow(MemorySegment.ofArray(new byte[100]), 200));
        assertEquals(before, b.statistics(), "refused grows change nothing");
        MemorySegment grown = b.grow(live, 200);
        assertEquals(live.address(), grown.address(), "the last slice grows in place");
        assertTrue(allBytes(grown, 0, 100, 9));
        assertTrue(allBytes(grown, 100, 200, 0));
        b.close();
        pool.close();
        blocks.assertAllFreed();
    }

    @Test
    void nextLeaseReadsZerosWhereTheLastConnectionWrote() {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = ArenaPool.builder().leakDetection(LeakDetection.OFF)
                .arenas(Arena.builder().blockSize(BLOCK).retainBytes(4 * BLOCK).blockAllocator(blocks)).build();
        Arena a = pool.acquire();
        a.allocate(1000).fill((byte) 0xFF);
        a.allocate(3000).fill((byte) 0xEE);      // large: a block of its own
        a.allocate(100).fill((byte) 0xDD);
        long held = blocks.outstandingBytes();
        a.close();
        assertEquals(held, blocks.outstandingBytes(), "premise: every block kept within retainBytes");
        Arena b = pool.acquire();
        assertTrue(isZero(b.allocate(1000)));
        assertTrue(isZero(b.allocate(3000)));
        assertTrue(isZero(b.allocate(100)));
        b.close();
        pool.close();
        blocks.assertAllFreed();
    }

    // ------------------------------------------------------------------ statistics

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void closedArenaStatisticsAreZeroForOwnerAndOthers(boolean pooled) throws Exception {
        CountingBlocks blocks = new CountingBlocks();
        ArenaPool pool = poolOf(blocks).build();
        Arena arena = pooled ? pool.acquire() : standalone(blocks);
        arena.allocate(10);
        arena.allocate(3000);
        arena.checkpoint();
        arena.allocate(5);
        assertNotEquals(ZERO, arena.statistics());
        arena.close();
        assertEquals(ZERO, arena.statistics());
        assertEquals(ZERO, on(false, arena::statistics).value());
        assertEquals(ZERO, on(true, arena::statistics).value());
        assertEquals(0, arena.statistics().blockCount());
        if (pooled) {
            Arena next = pool.acquire();
            next.allocate(50);
            assertEquals(ZERO, arena.statistics(), "even while the next lease uses the blocks");
            assertEquals(ZERO, on(false, arena::statistics).value());
            next.close();
        }
        pool.close();
        blocks.assertAllFreed();
    }
}
