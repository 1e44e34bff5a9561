package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A seeded random churn of a million acquires and releases per case against a simple model: the
 * counters stay exact, every acquired slot is zeroed and disjoint from the live ones, and the data
 * written into each live slot is intact when it is released and at every full check.
 */
class SlotPoolModelTest {

    private static final long SLOT_SIZE = 48;
    private static final int OPERATIONS = 1_000_000;

    /** A slot the model holds; {@code overflow} says whether the table was full when it was taken. */
    private record Live(MemorySegment slot, long stamp, boolean overflow) {}

    @ParameterizedTest(name = "seed {0}: capacity {1}, maxOverflow {2}, invalidate {3}")
    @CsvSource({
            "1, 64, 2147483647, true",
            "2, 64, 16, true",
            "3, 500, 0, false",
            "4, 1, 2147483647, false",
            "5, 6000, 2147483647, true",
    })
    void randomChurnMatchesTheModel(long seed, int capacity, int maxOverflow, boolean invalidate) {
        SplittableRandom random = new SplittableRandom(seed);
        try (SlotPool pool = SlotPool.builder().slotSize(SLOT_SIZE).capacity(capacity).maxOverflow(maxOverflow)
                .invalidateOnRelease(invalidate).build()) {
            List<Live> live = new ArrayList<>();
            int liveOverflow = 0;
            long overflows = 0;
            // Drift up and down: long runs of logins, then long runs of logouts, past the table and back.
            int target = capacity / 2;
            for (int op = 0; op < OPERATIONS; op++) {
                if (op % 20_000 == 0) {
                    target = random.nextInt(0, capacity + capacity / 4 + 20);
                }
                boolean login = live.isEmpty() || (live.size() < target ? random.nextInt(4) != 0 : random.nextInt(4) == 0);
                if (login) {
                    boolean tableFull = live.size() - liveOverflow >= capacity;
                    if (tableFull && liveOverflow >= maxOverflow) {
                        assertThrows(SlotPoolExhaustedException.class, pool::acquire);
                    } else {
                        MemorySegment slot = pool.acquire();
                        assertEquals(SLOT_SIZE, slot.byteSize());
                        assertEquals(0, slot.get(JAVA_LONG, 0), "zeroed");
                        assertEquals(0, slot.get(JAVA_LONG, SLOT_SIZE - 8), "zeroed");
                        long stamp = random.nextLong();
                        slot.set(JAVA_LONG, 0, stamp);
                        slot.set(JAVA_LONG, SLOT_SIZE - 8, ~stamp);
                        live.add(new Live(slot, stamp, tableFull));
                        if (tableFull) {
                            liveOverflow++;
                            overflows++;
                        }
                    }
                } else {
                    int victim = random.nextInt(live.size());
                    Live gone = live.get(victim);
                    live.set(victim, live.getLast());
                    live.removeLast();
                    checkIntact(gone);
                    pool.release(gone.slot());
                    if (gone.overflow()) {
                        liveOverflow--;
                    }
                }
                assertEquals(live.size(), pool.inUse(), "inUse at op " + op);
                assertEquals(capacity - (live.size() - liveOverflow), pool.available(), "available at op " + op);
                assertEquals(overflows, pool.overflowCount(), "overflowCount at op " + op);
                if (op % 100_000 == 0) {
                    live.forEach(SlotPoolModelTest::checkIntact);
                    assertDisjoint(live);
                }
            }
            live.forEach(SlotPoolModelTest::checkIntact);
            assertTrue(overflows > 0 || maxOverflow == 0, "the churn reached past the table");
        }
    }

    private static void checkIntact(Live l) {
        assertEquals(l.stamp(), l.slot().get(JAVA_LONG, 0), "record overwritten");
        assertEquals(~l.stamp(), l.slot().get(JAVA_LONG, SLOT_SIZE - 8), "record overwritten");
    }

    private static void assertDisjoint(List<Live> live) {
        long[] starts = live.stream().mapToLong(l -> l.slot().address()).sorted().toArray();
        for (int i = 1; i < starts.length; i++) {
            assertTrue(starts[i - 1] + SLOT_SIZE <= starts[i], "two live slots overlap");
        }
    }
}
