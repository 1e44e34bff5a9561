package io.arena4j;

import static io.arena4j.TestSupport.allBytes;
import static io.arena4j.TestSupport.isZero;
import static io.arena4j.TestSupport.onAnotherThread;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** {@link Arena#grow(MemorySegment, long)}: in place when it can, a copy when not, refusals that change nothing. */
class ArenaGrowTest {

    private static final long BLOCK = 4096;

    private static String state(Arena arena) {
        return arena + " scopeAlive=" + arena.scope().isAlive();
    }

    private static MemorySegment filled(Arena arena, long size, int value) {
        MemorySegment slice = arena.allocate(size);
        slice.fill((byte) value);
        return slice;
    }

    @Test
    void theLastSliceGrowsInPlaceAndTheOldSegmentStaysValid() {
        try (Arena arena = Arena.create()) {
            MemorySegment slice = filled(arena, 100, 0x11);
            MemorySegment grown = arena.grow(slice, 300);
            assertEquals(slice.address(), grown.address(), "same address: nothing moved");
            assertEquals(300, grown.byteSize());
            assertTrue(allBytes(grown, 0, 100, 0x11), "starts with the slice's bytes");
            assertTrue(isZero(grown.asSlice(100)), "the new bytes read as zeros");
            assertEquals(300, arena.statistics().allocatedBytes());
            grown.set(JAVA_BYTE, 0, (byte) 0x22);
            assertEquals(0x22, slice.get(JAVA_BYTE, 0), "the old segment sees the same memory");
            assertEquals(grown.address() + 300, arena.allocate(1).address(), "the cursor moved past the grown slice");
        }
    }

    @Test
    void aSliceThatIsNotTheLastIsCopiedAndTheOldOneStaysAliveAndIntact() {
        try (Arena arena = Arena.create()) {
            MemorySegment slice = filled(arena, 100, 0x11);
            MemorySegment after = filled(arena, 10, 0x33);
            MemorySegment grown = arena.grow(slice, 200);
            assertNotEquals(slice.address(), grown.address());
            assertTrue(allBytes(grown, 0, 100, 0x11));
            assertTrue(isZero(grown.asSlice(100)));
            assertTrue(allBytes(slice, 0, 100, 0x11), "the old slice is alive and unchanged");
            assertTrue(allBytes(after, 0, 10, 0x33), "the slice after it is untouched");
            assertEquals(310, arena.statistics().allocatedBytes());
        }
    }

    @Test
    void aCopyKeepsTheSlicesAlignmentUpTo16Bytes() {
        try (Arena arena = Arena.create()) {
            MemorySegment slice = arena.allocate(64, 16);
            arena.allocate(1);
            for (long size = 65; size < 100; size++) {
                slice = arena.grow(slice, size);
                arena.allocate(1);                      // never the last slice: always a copy
                assertEquals(0, slice.address() % 16);
            }
        }
    }

    @Test
    void whenTheBlockHasNoRoomTheSliceIsCopiedAsAllocateWouldPlaceIt() {
        CountingBlocks blocks = new CountingBlocks();
        try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(BLOCK).build()) {
            MemorySegment slice = filled(arena, 1000, 0x44);
            arena.allocate(BLOCK / 4);
            arena.allocate(BLOCK / 4);
            MemorySegment inPlace = arena.allocate(BLOCK / 4 - 100);
            MemorySegment grown = arena.grow(inPlace, BLOCK / 4);   // fits exactly: in place
            assertEquals(inPlace.address(), grown.address());
            MemorySegment moved = arena.grow(slice, 1001);          // not the last: a copy, in a new block
            assertEquals(2, arena.statistics().blockCount());
            assertTrue(allBytes(moved, 0, 1000, 0x44));
            MemorySegment large = arena.grow(moved, 3 * BLOCK);     // large: a block of its own
            assertEquals(3, arena.statistics().blockCount());
            assertEquals(2 * BLOCK + 3 * BLOCK, arena.statistics().reservedBytes());
            assertTrue(allBytes(large, 0, 1000, 0x44));
            assertTrue(isZero(large.asSlice(1000)));
        }
        blocks.assertAllFreed();
    }

    @Test
    void growingRespectsTheLimitAndARefusalChangesNothing() {
        CountingBlocks blocks = new CountingBlocks(4 * BLOCK);
        try (Arena arena = Arena.builder().blockAllocator(blocks).blockSize(BLOCK).maxBytes(4 * BLOCK).build()) {
            MemorySegment slice = filled(arena, 500, 0x55);
            String before = state(arena);
            assertThrows(ArenaLimitException.class, () -> arena.grow(slice, 4 * BLOCK));
            assertEquals(before, state(arena));
            assertTrue(allBytes(slice, 0, 500, 0x55));
            blocks.failNext(1);
            assertThrows(OutOfMemoryError.class, () -> arena.grow(slice, 2 * BLOCK));
            assertEquals(before, state(arena), "a copy the C library refused changes nothing");
            assertEquals(3 * BLOCK - 100, arena.grow(slice, 3 * BLOCK - 100).byteSize());
        }
        blocks.assertAllFreed();
    }

    @Test
    void refusedGrowsChangeNothing() {
        try (Arena arena = Arena.create(); Arena other = Arena.create()) {
            MemorySegment outer = filled(arena, 100, 0x66);
            MemorySegment foreign = other.allocate(10);
            MemorySegment dead;
            try (var _ = arena.checkpoint()) {
                dead = arena.allocate(10);
            }
            arena.checkpoint();
            String before = state(arena);
            assertRefused(IllegalArgumentException.class, arena, before, () -> arena.grow(outer, 200),
                    "a slice of an outer level, in a level that has handed out nothing");
            arena.allocate(10);
            String opened = state(arena);
            assertRefused(IllegalArgumentException.class, arena, opened, () -> arena.grow(outer, 200),
                    "a slice of an outer level");
            assertRefused(IllegalArgumentException.class, arena, opened, () -> arena.grow(foreign, 20),
                    "a slice of another arena");
            assertRefused(IllegalArgumentException.class, arena, opened,
                    () -> arena.grow(MemorySegment.ofArray(new byte[10]), 20), "a heap segment");
            assertRefused(IllegalStateException.class, arena, opened, () -> arena.grow(dead, 20), "a dead slice");
            MemorySegment mine = arena.allocate(10);
            String last = state(arena);
            assertRefused(IllegalArgumentException.class, arena, last, () -> arena.grow(mine.asReadOnly(), 20),
                    "a read-only view");
            assertRefused(IllegalArgumentException.class, arena, last, () -> arena.grow(mine, 9), "a smaller size");
            assertRefused(IllegalArgumentException.class, arena, last, () -> arena.grow(mine, -1),
                    "a negative size");
            assertTrue(allBytes(outer, 0, 100, 0x66));
        }
    }

    private static void assertRefused(Class<? extends Throwable> type, Arena arena, String before,
                                      Supplier<MemorySegment> call, String what) {
        assertThrows(type, call::get, what);
        assertEquals(before, state(arena), what + ": nothing changed");
    }

    @Test
    void onlyTheOwnerGrowsASlice() throws InterruptedException {
        try (Arena arena = Arena.create()) {
            MemorySegment slice = arena.allocate(10);
            String before = state(arena);
            assertInstanceOf(WrongThreadException.class, onAnotherThread(() -> arena.grow(slice, 20)));
            assertEquals(before, state(arena));
        }
    }

    @Test
    void aClosedArenaGrowsNothing() {
        Arena arena = Arena.create();
        MemorySegment slice = arena.allocate(10);
        arena.close();
        assertThrows(IllegalStateException.class, () -> arena.grow(slice, 20));
    }

    @Test
    void aSliceGrownInALevelDiesWithItAndItsBytesAreClearedForTheNext() {
        try (Arena arena = Arena.create()) {
            arena.allocate(10);
            MemorySegment grown;
            try (var _ = arena.checkpoint()) {
                MemorySegment slice = filled(arena, 100, 0x77);
                grown = arena.grow(slice, 1000);
                grown.fill((byte) 0x77);
            }
            assertFalse(grown.scope().isAlive());
            MemorySegment next = arena.allocate(1000);
            assertEquals(grown.address(), next.address());
            assertTrue(isZero(next), "every byte the grown slice used was cleared");
        }
    }

    @Test
    void anArenaThatDoesNotZeroGrowsWithoutClearing() {
        try (Arena arena = Arena.builder().zeroed(false).build()) {
            MemorySegment dirty = filled(arena, 200, 0x12);
            arena.reset();
            MemorySegment slice = filled(arena, 100, 0x34);
            MemorySegment grown = arena.grow(slice, 200);
            assertEquals(dirty.address(), grown.address());
            assertTrue(allBytes(grown, 0, 100, 0x34));
            assertTrue(allBytes(grown, 100, 200, 0x12), "left as the last round wrote it, as with malloc");
        }
    }
}
