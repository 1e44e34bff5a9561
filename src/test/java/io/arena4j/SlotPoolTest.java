package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SlotPoolTest {

    /** Document 000's session record: char c_ip[32]; int c_port; int c_sock; (the link lives outside). */
    static final StructLayout SESSION = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("ip"),
            JAVA_INT.withName("port"),
            JAVA_INT.withName("sock"),
            JAVA_LONG.withName("loginTime"));

    @Nested
    class Table {

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void sixThousandAcquiresGiveDistinctAlignedDisjointZeroedSlotsAndTheNextOverflows(boolean invalidate) {
            try (SlotPool pool = SlotPool.builder().slotLayout(SESSION).capacity(6000)
                    .invalidateOnRelease(invalidate).build()) {
                List<MemorySegment> slots = new ArrayList<>();
                for (int i = 0; i < 6000; i++) {
                    MemorySegment slot = pool.acquire();
                    assertEquals(SESSION.byteSize(), slot.byteSize());
                    assertEquals(0, slot.address() % SESSION.byteAlignment());
                    assertTrue(TestSupport.isZero(slot), "slot " + i + " is zeroed");
                    slot.set(JAVA_INT, 32, i);
                    slots.add(slot);
                }
                slots.sort((a, b) -> Long.compare(a.address(), b.address()));
                for (int i = 1; i < slots.size(); i++) {
                    assertTrue(slots.get(i - 1).address() + SESSION.byteSize() <= slots.get(i).address(), "disjoint");
                }
                long tableStart = slots.getFirst().address();
                long tableEnd = slots.getLast().address() + SESSION.byteSize();
                assertEquals(6000 * SESSION.byteSize(), tableEnd - tableStart, "one contiguous table");
                assertEquals(0, pool.available());
                assertEquals(0, pool.overflowCount());

                MemorySegment extra = pool.acquire();
                assertEquals(1, pool.overflowCount());
                assertEquals(6001, pool.inUse());
                assertTrue(extra.address() < tableStart || extra.address() >= tableEnd, "outside the table");
                assertTrue(TestSupport.isZero(extra));
                Set<Integer> ports = new HashSet<>();
                slots.forEach(s -> ports.add(s.get(JAVA_INT, 32)));
                assertEquals(6000, ports.size(), "every slot kept its own data");
            }
        }

        @Test
        void aSizeThatIsNotAMultipleOfTheAlignmentIsPadded() {
            try (SlotPool pool = SlotPool.of(20, 16, 3)) {
                MemorySegment a = pool.acquire();
                MemorySegment b = pool.acquire();
                assertEquals(20, a.byteSize());
                assertEquals(0, a.address() % 16);
                assertEquals(0, b.address() % 16);
                assertEquals(32, Math.abs(b.address() - a.address()));
            }
        }

        @Test
        void releaseReturnsATableSlotToTheFreeListCleared() {
            try (SlotPool pool = SlotPool.of(SESSION, 4)) {
                MemorySegment slot = pool.acquire();
                long address = slot.address();
                slot.fill((byte) 0x33);
                pool.release(slot);
                assertEquals(4, pool.available());
                assertEquals(0, pool.inUse());
                MemorySegment again = pool.acquire();
                assertEquals(address, again.address(), "the free list is last in, first out");
                assertTrue(TestSupport.isZero(again), "the next session never sees the last one's record");
            }
        }

        @Test
        void zeroedFalseLeavesAReleasedSlotAsItWas() {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(2).zeroed(false).build()) {
                MemorySegment slot = pool.acquire();
                slot.fill((byte) 0x33);
                pool.release(slot);
                assertEquals(0x33, pool.acquire().get(JAVA_BYTE, 47));
            }
        }

        @Test
        void capacityZeroMakesEverySlotAnOverflowSlot() {
            try (SlotPool pool = SlotPool.of(48, 8, 0)) {
                MemorySegment slot = pool.acquire();
                assertEquals(48, slot.byteSize());
                assertEquals(1, pool.overflowCount());
                pool.release(slot);
                assertEquals(0, pool.inUse());
            }
        }
    }

    @Nested
    class Overflow {

        @Test
        void anOverflowSlotIsFreedOnRelease() {
            try (SlotPool pool = SlotPool.of(48, 8, 1)) {
                MemorySegment table = pool.acquire();
                MemorySegment extra = pool.acquire();
                extra.set(JAVA_LONG, 40, 7);
                assertEquals(2, pool.inUse());
                pool.release(extra);
                assertFalse(extra.scope().isAlive(), "its memory went back to the C library");
                assertThrows(IllegalStateException.class, () -> extra.get(JAVA_LONG, 40));
                assertEquals(1, pool.inUse());
                assertEquals(0, pool.available(), "an overflow slot never joins the table");
                assertEquals(1, pool.overflowCount(), "the count is of acquires, not of live slots");
                pool.release(table);
                assertEquals(1, pool.available());
            }
        }

        @Test
        void pastMaxOverflowAcquireThrowsAndChangesNothing() {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(2).maxOverflow(1).build()) {
                pool.acquire();
                pool.acquire();
                MemorySegment extra = pool.acquire();
                var e = assertThrows(SlotPoolExhaustedException.class, pool::acquire);
                assertTrue(e.getMessage().contains("2 slots"), e.getMessage());
                assertTrue(e.getMessage().contains("1 overflow"), e.getMessage());
                assertEquals(2, e.capacity());
                assertEquals(1, e.maxOverflow());
                assertEquals(3, pool.inUse());
                assertEquals(1, pool.overflowCount());
                pool.release(extra);
                assertEquals(48, pool.acquire().byteSize(), "room again once an overflow slot is released");
            }
        }

        @Test
        void maxOverflowZeroMeansTheTableOnly() {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(1).maxOverflow(0).build()) {
                pool.acquire();
                assertThrows(SlotPoolExhaustedException.class, pool::acquire);
                assertEquals(0, pool.overflowCount());
            }
        }
    }

    @Nested
    class RefusedRelease {

        /** Asserts that releasing {@code slot} throws {@code expected} and changes no counter. */
        static void refused(SlotPool pool, MemorySegment slot, Class<? extends Throwable> expected) {
            int available = pool.available();
            int inUse = pool.inUse();
            long overflows = pool.overflowCount();
            assertThrows(expected, () -> pool.release(slot));
            assertEquals(available, pool.available());
            assertEquals(inUse, pool.inUse());
            assertEquals(overflows, pool.overflowCount());
        }

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void foreignMemorySlicesAndSlotsOfAnotherPoolAreRefused(boolean invalidate) {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(2).invalidateOnRelease(invalidate).build();
                 SlotPool other = SlotPool.of(48, 8, 2);
                 java.lang.foreign.Arena foreign = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment slot = pool.acquire();
                MemorySegment extra = pool.acquire();
                MemorySegment overflowSlot = pool.acquire();
                refused(pool, foreign.allocate(48, 8), IllegalArgumentException.class);
                refused(pool, MemorySegment.ofArray(new byte[48]), IllegalArgumentException.class);
                refused(pool, slot.asSlice(8), IllegalArgumentException.class);
                refused(pool, slot.asSlice(0, 24), IllegalArgumentException.class);
                refused(pool, overflowSlot.asSlice(0, 24), IllegalArgumentException.class);
                refused(pool, overflowSlot.asSlice(8), IllegalArgumentException.class);
                refused(pool, other.acquire(), IllegalArgumentException.class);
                refused(pool, forged(slot), IllegalArgumentException.class);
                refused(pool, forged(overflowSlot), IllegalArgumentException.class);
                refused(pool, MemorySegment.NULL, IllegalArgumentException.class);
                assertThrows(NullPointerException.class, () -> pool.release(null));
                pool.release(slot);
                pool.release(extra);
                pool.release(overflowSlot);
                assertEquals(0, pool.inUse());
            }
        }

        /** A segment at the slot's address and of its size, made without the pool. */
        @SuppressWarnings("restricted")
        static MemorySegment forged(MemorySegment slot) {
            return MemorySegment.ofAddress(slot.address()).reinterpret(slot.byteSize());
        }

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void releasingTwiceIsRefused(boolean invalidate) {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(1).invalidateOnRelease(invalidate).build()) {
                MemorySegment slot = pool.acquire();
                MemorySegment extra = pool.acquire();
                pool.release(slot);
                pool.release(extra);
                refused(pool, slot, IllegalStateException.class);
                refused(pool, extra, IllegalStateException.class);
                MemorySegment next = pool.acquire();
                refused(pool, slot, IllegalStateException.class);  // stale, though its memory is leased again
                pool.release(next);
                assertEquals(1, pool.available());
            }
        }
    }

    @Nested
    class TemporalSafety {

        @Test
        void aReleasedSlotIsInaccessible() {
            try (SlotPool pool = SlotPool.of(SESSION, 2)) {
                MemorySegment stale = pool.acquire();
                stale.set(JAVA_INT, 32, 80);
                pool.release(stale);
                MemorySegment nextSession = pool.acquire();
                nextSession.set(JAVA_INT, 32, 443);
                assertEquals(stale.address(), nextSession.address());
                assertThrows(IllegalStateException.class, () -> stale.get(JAVA_INT, 32));
                assertThrows(IllegalStateException.class, () -> stale.set(JAVA_INT, 32, 1));
                assertEquals(443, nextSession.get(JAVA_INT, 32));
            }
        }

        @Test
        void withoutInvalidationAStaleSlotStaysUsableUntilClose() {
            SlotPool pool = SlotPool.builder().slotSize(48).capacity(2).invalidateOnRelease(false).build();
            MemorySegment stale = pool.acquire();
            pool.release(stale);
            assertEquals(0, stale.get(JAVA_INT, 0), "documented: like malloc'd memory after free");
            pool.close();
            assertThrows(IllegalStateException.class, () -> stale.get(JAVA_INT, 0));
        }
    }

    @Nested
    class Lifecycle {

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void closeFreesTableAndOverflowAndKillsEveryLiveSlot(boolean invalidate) {
            SlotPool pool = SlotPool.builder().slotSize(48).capacity(1).invalidateOnRelease(invalidate).build();
            MemorySegment slot = pool.acquire();
            MemorySegment extra = pool.acquire();
            pool.close();
            assertThrows(IllegalStateException.class, () -> slot.get(JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> extra.get(JAVA_BYTE, 0));
            assertEquals(0, pool.inUse());
            assertEquals(0, pool.available());
            assertTrue(pool.toString().contains("closed"), pool.toString());
            assertAll(
                    () -> assertThrows(IllegalStateException.class, pool::acquire),
                    () -> assertThrows(IllegalStateException.class, () -> pool.release(slot)),
                    () -> assertThrows(IllegalStateException.class, pool::close));
        }

        @Test
        void anotherThreadCannotUseThePoolOrItsSlots() throws InterruptedException {
            for (boolean invalidate : new boolean[] {true, false}) {
                try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(2).invalidateOnRelease(invalidate).build()) {
                    MemorySegment slot = pool.acquire();
                    for (Runnable action : List.<Runnable>of(pool::acquire, () -> pool.release(slot), pool::close,
                            () -> slot.get(JAVA_BYTE, 0))) {
                        Throwable thrown = TestSupport.onAnotherThread(action);
                        assertTrue(thrown instanceof WrongThreadException, String.valueOf(thrown));
                        assertTrue(thrown.getMessage().contains("outside owning thread"), thrown.getMessage());
                    }
                    long[] seen = new long[3];
                    assertNull(TestSupport.onAnotherThread(() -> {
                        seen[0] = pool.available();
                        seen[1] = pool.inUse();
                        seen[2] = pool.overflowCount();
                    }));
                    assertEquals(List.of(1L, 1L, 0L), List.of(seen[0], seen[1], seen[2]));
                }
            }
        }

        @Test
        void toStringShowsTheCountersInOneLine() {
            try (SlotPool pool = SlotPool.of(48, 8, 1)) {
                pool.acquire();
                pool.acquire();
                String s = pool.toString();
                for (String expected : List.of("slot=48/8", "capacity=1", "available=0", "inUse=2",
                        "overflowSlots=1", "overflowCount=1", "owner=" + Thread.currentThread().getName())) {
                    assertTrue(s.contains(expected), expected + " in " + s);
                }
            }
        }
    }

    @Nested
    class FailurePaths {

        @Test
        void aBuildThatFailsLeaksNoNativeMemory() {
            // A 2 GiB table of one-byte slots, and free-list arrays too large for any Java heap.
            long before = TestSupport.mallocBytesInUse();
            for (boolean invalidate : new boolean[] {true, false}) {
                assertThrows(OutOfMemoryError.class, () -> SlotPool.builder().slotSize(1).slotAlignment(1)
                        .capacity(Integer.MAX_VALUE).invalidateOnRelease(invalidate).build());
            }
            long leaked = TestSupport.mallocBytesInUse() - before;
            assertTrue(leaked < 1 << 20, "native bytes still held after two failed builds: " + leaked);
        }

        @Test
        void withoutInvalidationAStaleReleaseOfASlotHandedOutAgainIsRefused() {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(1).invalidateOnRelease(false).build()) {
                MemorySegment first = pool.acquire();
                pool.release(first);
                MemorySegment second = pool.acquire();
                second.set(JAVA_LONG, 0, 0x5EC0_0D5E_5510_7L);
                assertEquals(first.address(), second.address(), "the same slot, leased again");

                RefusedRelease.refused(pool, first, IllegalStateException.class);

                assertEquals(0x5EC0_0D5E_5510_7L, second.get(JAVA_LONG, 0), "the second lease was not wiped");
                MemorySegment third = pool.acquire();
                assertTrue(third.address() != second.address(), "the slot is not handed to a second owner");
                pool.release(second);
                pool.release(third);
                assertEquals(0, pool.inUse());
            }
        }

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void releasingASlotADowncallHoldsIsRefusedAndChangesNothing(boolean overflowSlot) {
            try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(1).build()) {
                MemorySegment tableSlot = pool.acquire();
                MemorySegment extra = pool.acquire();
                MemorySegment held = overflowSlot ? extra : tableSlot;
                held.set(JAVA_INT, 0, 42);
                int inUse = pool.inUse();
                int available = pool.available();
                Throwable refused = TestSupport.whileHeldByDowncall(held, () -> pool.release(held));
                assertTrue(refused instanceof IllegalStateException, String.valueOf(refused));
                assertEquals(inUse, pool.inUse());
                assertEquals(available, pool.available());
                assertEquals(42, held.get(JAVA_INT, 0), "still alive");
                pool.release(tableSlot);
                pool.release(extra);
                assertEquals(0, pool.inUse());
            }
        }

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void aCloseRefusedBecauseADowncallHoldsASlotLeavesThePoolOpenAndConsistent(boolean invalidate) {
            SlotPool pool = SlotPool.builder().slotSize(48).capacity(3).invalidateOnRelease(invalidate).build();
            MemorySegment a = pool.acquire();
            MemorySegment held = pool.acquire();
            pool.acquire();
            MemorySegment overflowSlot = pool.acquire();
            Throwable refused = TestSupport.whileHeldByDowncall(held, pool::close);
            assertTrue(refused instanceof IllegalStateException, String.valueOf(refused));
            assertFalse(pool.toString().contains("closed"), pool.toString());
            assertTrue(held.scope().isAlive());
            assertEquals(pool.inUse(), pool.capacity() - pool.available() + (overflowSlot.scope().isAlive() ? 1 : 0));
            if (invalidate) {
                assertFalse(a.scope().isAlive(), "slots closed before the held one were released");
                assertEquals(1, pool.available());
            }
            MemorySegment next = pool.acquire();
            assertTrue(TestSupport.isZero(next));
            pool.close();
            assertFalse(held.scope().isAlive());
            assertFalse(next.scope().isAlive());
            assertEquals(0, pool.inUse());
        }
    }

    @Test
    void badBuilderInputIsRefused() {
        List<Supplier<SlotPool.Builder>> bad = List.of(
                () -> SlotPool.builder().capacity(-1),
                () -> SlotPool.builder().slotSize(0),
                () -> SlotPool.builder().slotSize(-48),
                () -> SlotPool.builder().slotAlignment(0),
                () -> SlotPool.builder().slotAlignment(12),
                () -> SlotPool.builder().slotAlignment(-8),
                () -> SlotPool.builder().maxOverflow(-1),
                () -> SlotPool.builder().slotLayout(MemoryLayout.structLayout()));
        for (Supplier<SlotPool.Builder> setter : bad) {
            assertThrows(IllegalArgumentException.class, setter::get);
        }
        assertAll(
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.builder().capacity(10).build(),
                        "no slot size"),
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.builder().slotSize(48).build(),
                        "no capacity"),
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.of(1L << 62, 8, 4),
                        "table too large to address"),
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.of(Long.MAX_VALUE, 16, 1),
                        "padding overflows"),
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.of(48, 3, 10)),
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.of(0, 8, 10)),
                () -> assertThrows(IllegalArgumentException.class, () -> SlotPool.of(48, 8, -1)));
    }
}
