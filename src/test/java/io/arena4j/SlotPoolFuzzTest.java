package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link SlotPool} driven by the fuzzer's bytes: the settings, then a program of acquires,
 * releases, stale and foreign releases, releases from another thread, and a close, checked after
 * every step against a model (the slots alive, which of them overflowed, the counters). Every
 * live slot keeps the bytes written into it; every refused call changes nothing.
 *
 * <p>{@code mvn verify} replays the saved inputs in {@code src/test/resources}; see
 * docs/testing.md, "Fuzzing", for how to fuzz for real.
 */
class SlotPoolFuzzTest {

    private static final long[] SLOT_SIZES = {1, 7, 8, 48, 64, 100, 4096};
    private static final long[] ALIGNMENTS = {1, 2, 8, 16, 64, 4096};

    /** A slot the model expects alive: the byte written into it, and whether it overflowed. */
    private record Live(MemorySegment slot, byte pattern, boolean overflow) {}

    @FuzzTest(maxDuration = "")
    void slotPoolMatchesItsModel(FuzzedDataProvider data) throws InterruptedException {
        long slotSize = data.pickValue(SLOT_SIZES);
        long alignment = data.pickValue(ALIGNMENTS);
        int capacity = data.consumeInt(0, 40);
        int maxOverflow = data.consumeBoolean() ? SlotPool.UNBOUNDED : data.consumeInt(0, 6);
        boolean zeroed = data.consumeBoolean();
        boolean invalidate = data.consumeBoolean();
        SlotPool pool = SlotPool.builder().slotSize(slotSize).slotAlignment(alignment).capacity(capacity)
                .maxOverflow(maxOverflow).zeroed(zeroed).invalidateOnRelease(invalidate).build();
        List<Live> live = new ArrayList<>();
        List<MemorySegment> released = new ArrayList<>();
        long overflows = 0;
        boolean closed = false;
        try (SlotPool other = SlotPool.builder().slotSize(slotSize).capacity(1).build()) {
            for (int step = 0; step < 400 && data.remainingBytes() > 0 && !closed; step++) {
                String before = figures(pool);
                switch (data.consumeInt(0, 9)) {
                    case 0, 1, 2 -> {
                        long liveOverflow = live.stream().filter(Live::overflow).count();
                        boolean tableFull = live.size() - liveOverflow >= capacity;
                        if (tableFull && liveOverflow >= maxOverflow) {
                            assertThrows(SlotPoolExhaustedException.class, pool::acquire);
                            assertEquals(before, figures(pool), "a refused acquire changes nothing");
                            break;
                        }
                        MemorySegment slot = pool.acquire();
                        assertEquals(slotSize, slot.byteSize());
                        assertEquals(0, slot.address() % alignment, "aligned");
                        if (zeroed) {
                            assertTrue(TestSupport.isZero(slot), "zeroed");
                        }
                        for (Live l : live) {
                            assertTrue(slot.address() + slotSize <= l.slot().address()
                                    || l.slot().address() + slotSize <= slot.address(), "overlaps a live slot");
                        }
                        byte pattern = data.consumeByte();
                        slot.fill(pattern);
                        live.add(new Live(slot, pattern, tableFull));
                        overflows += tableFull ? 1 : 0;
                    }
                    case 3, 4 -> {
                        if (live.isEmpty()) {
                            break;
                        }
                        Live gone = live.remove(data.consumeInt(0, live.size() - 1));
                        assertTrue(TestSupport.allBytes(gone.slot(), gone.pattern()), "the slot kept its bytes");
                        pool.release(gone.slot());
                        released.add(gone.slot());
                        if (invalidate || gone.overflow()) {
                            assertFalse(gone.slot().scope().isAlive(), "a released slot is dead");
                            assertThrows(IllegalStateException.class, () -> gone.slot().get(JAVA_BYTE, 0));
                        }
                    }
                    case 5 -> {
                        if (released.isEmpty()) {
                            break;
                        }
                        MemorySegment stale = released.get(data.consumeInt(0, released.size() - 1));
                        assertThrows(IllegalStateException.class, () -> pool.release(stale));
                        assertEquals(before, figures(pool), "a stale release changes nothing");
                    }
                    case 6 -> {
                        MemorySegment foreign = foreignSegment(data, live, other, slotSize);
                        RuntimeException refused = assertThrows(RuntimeException.class, () -> pool.release(foreign));
                        assertTrue(refused instanceof IllegalArgumentException
                                || refused instanceof IllegalStateException, "refused as not this pool's: " + refused);
                        assertEquals(before, figures(pool), "a foreign release changes nothing");
                    }
                    case 7 -> {
                        MemorySegment target = live.isEmpty() ? null : live.getFirst().slot();
                        Throwable thrown = TestSupport.onAnotherThread(
                                data.consumeBoolean() || target == null ? pool::acquire : () -> pool.release(target));
                        assertInstanceOf(WrongThreadException.class, thrown);
                        assertEquals(before, figures(pool), "a call from another thread changes nothing");
                    }
                    case 8 -> {
                        pool.close();
                        closed = true;
                        for (Live l : live) {
                            assertFalse(l.slot().scope().isAlive(), "close kills every slot");
                        }
                        assertThrows(IllegalStateException.class, pool::acquire);
                        assertThrows(IllegalStateException.class, pool::close);
                    }
                    default -> live.forEach(l -> assertTrue(TestSupport.allBytes(l.slot(), l.pattern()),
                            "a live slot kept its bytes"));
                }
                if (!closed) {
                    long liveOverflow = live.stream().filter(Live::overflow).count();
                    assertEquals(live.size(), pool.inUse());
                    assertEquals(capacity - (live.size() - liveOverflow), pool.available());
                    assertEquals(overflows, pool.overflowCount());
                }
            }
        } finally {
            if (!closed) {
                pool.close();
            }
        }
    }

    /** Memory that is not a slot of {@code pool}: a heap segment, another pool's slot, a slice of a live slot. */
    private static MemorySegment foreignSegment(FuzzedDataProvider data, List<Live> live, SlotPool other,
                                                long slotSize) {
        return switch (data.consumeInt(0, 2)) {
            case 0 -> MemorySegment.ofArray(new byte[(int) slotSize]);
            case 1 -> {
                MemorySegment slot = other.acquire();
                other.release(slot);
                yield slot;
            }
            default -> live.isEmpty() || slotSize < 2
                    ? MemorySegment.ofArray(new byte[1])
                    : live.get(data.consumeInt(0, live.size() - 1)).slot().asSlice(1);
        };
    }

    private static String figures(SlotPool pool) {
        return pool.inUse() + "/" + pool.available() + "/" + pool.overflowCount();
    }
}
