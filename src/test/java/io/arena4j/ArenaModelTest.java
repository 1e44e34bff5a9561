package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Long seeded random sequences of allocate, grow, checkpoints taken and closed, and reset,
 * checked against a model after every step: every slice is aligned, sized, disjoint from every
 * live slice and zeroed when it should be; a grown slice starts with the bytes it had; the byte
 * pattern written into each live slice is intact whenever a level ends; the slices of a closed
 * level and of a reset fail; the counters match; limits are never crossed, and a refused call
 * changes nothing.
 */
class ArenaModelTest {

    private static final int BLOCK_SIZE = 4096;

    static List<Arguments> seeds() {
        List<Arguments> seeds = new ArrayList<>();
        for (long seed = 1; seed <= 12; seed++) {
            boolean zeroed = seed % 3 != 0;
            long maxBytes = seed % 4 == 0 ? 96 * 1024 : Arena.UNLIMITED;
            long retainBytes = (seed % 5) * 3 * BLOCK_SIZE + (seed % 2) * 20_000;
            seeds.add(Arguments.of(seed, zeroed, maxBytes, Math.min(retainBytes, maxBytes)));
        }
        return seeds;
    }

    /** A slice the model expects alive, its pattern, and the level it belongs to: 0 is the round itself. */
    private record Live(MemorySegment slice, byte pattern, int level) {}

    /** An open checkpoint and the bytes handed out when it was taken. */
    private record Level(Arena.Checkpoint checkpoint, long allocatedAtMark) {}

    @ParameterizedTest(name = "seed {0}, zeroed {1}, max {2}, retain {3}")
    @MethodSource("seeds")
    void randomSequencesOfAllocateGrowCheckpointAndResetKeepEveryInvariant(long seed, boolean zeroed, long maxBytes, long retainBytes) {
        SplittableRandom random = new SplittableRandom(seed);
        try (Arena arena = Arena.builder().blockSize(BLOCK_SIZE).maxBytes(maxBytes)
                .retainBytes(retainBytes).zeroed(zeroed).build()) {
            TreeMap<Long, Live> live = new TreeMap<>();
            List<MemorySegment> stale = new ArrayList<>();
            List<Level> levels = new ArrayList<>();
            List<Arena.Checkpoint> closed = new ArrayList<>();
            Map<String, Integer> seen = new TreeMap<>();
            long allocated = 0;
            for (int step = 0; step < 20_000; step++) {
                int dice = random.nextInt(300);
                if (dice < 2) {
                    checkPatterns(live);
                    live.values().forEach(l -> stale.add(l.slice()));
                    live.clear();
                    levels.forEach(l -> closed.add(l.checkpoint()));
                    levels.clear();
                    allocated = 0;
                    arena.reset();
                    assertTrue(arena.statistics().reservedBytes() <= retainBytes, "reset keeps at most retainBytes");
                    checkStaleSlicesFail(stale, random);
                    continue;
                }
                if (dice < 7 && levels.size() < 6) {
                    levels.add(new Level(arena.checkpoint(), allocated));
                    continue;
                }
                if (dice < 11 && !levels.isEmpty()) {
                    int level = 1 + random.nextInt(levels.size());      // closes this level and those inside it
                    checkPatterns(live);
                    live.values().removeIf(l -> {
                        if (l.level() >= level) {
                            stale.add(l.slice());
                            return true;
                        }
                        return false;
                    });
                    seen.merge(levels.size() > level ? "nested close" : "close", 1, Integer::sum);
                    allocated = levels.get(level - 1).allocatedAtMark();
                    levels.get(level - 1).checkpoint().close();
                    while (levels.size() >= level) {
                        closed.add(levels.removeLast().checkpoint());
                    }
                    assertEquals(allocated, arena.statistics().allocatedBytes(), "rewound to the mark");
                    checkStaleSlicesFail(stale, random);
                    continue;
                }
                if (dice < 12 && !closed.isEmpty()) {
                    String before = arena.toString();
                    Arena.Checkpoint discarded = closed.get(random.nextInt(closed.size()));
                    assertThrows(IllegalStateException.class, discarded::close);
                    assertEquals(before, arena.toString(), "closing a closed checkpoint changes nothing");
                    seen.merge("closed twice", 1, Integer::sum);
                    continue;
                }
                int depth = levels.size();
                if (dice < 40) {
                    List<Live> growable = live.values().stream().filter(l -> l.level() == depth).toList();
                    if (!growable.isEmpty()) {
                        Live old = growable.get(random.nextInt(growable.size()));
                        long newSize = old.slice().byteSize() + randomSize(random) / 2;
                        String before = arena.toString();
                        MemorySegment grown;
                        try {
                            grown = arena.grow(old.slice(), newSize);
                        } catch (ArenaLimitException e) {
                            assertTrue(maxBytes != Arena.UNLIMITED, "no limit, no limit exception");
                            assertEquals(before, arena.toString(), "a refused grow changes nothing");
                            continue;
                        }
                        long oldSize = old.slice().byteSize();
                        assertEquals(newSize, grown.byteSize());
                        assertEquals(arena.scope(), grown.scope());
                        assertEquals(-1, grown.asSlice(0, oldSize).mismatch(old.slice()), "starts with the slice's bytes");
                        if (zeroed) {
                            assertTrue(TestSupport.isZero(grown.asSlice(oldSize)), "the new bytes read as zeros");
                        }
                        boolean inPlace = grown.address() == old.slice().address();
                        seen.merge(inPlace ? "grown in place" : "grown by copy", 1, Integer::sum);
                        if (inPlace) {
                            live.remove(old.slice().address());
                            allocated += newSize - oldSize;
                        } else {
                            allocated += newSize;
                        }
                        addLive(live, grown, depth, random);
                        if (!inPlace) {
                            checkPatterns(Map.of(old.slice().address(), old));   // the old slice is untouched
                        }
                        assertEquals(allocated, arena.statistics().allocatedBytes());
                        assertTrue(arena.statistics().reservedBytes() <= maxBytes, "limit respected");
                        continue;
                    }
                }
                long size = randomSize(random);
                long alignment = 1L << random.nextInt(13);   // 1 to 4096
                String before = arena.toString();
                MemorySegment slice;
                try {
                    slice = arena.allocate(size, alignment);
                } catch (ArenaLimitException e) {
                    assertTrue(maxBytes != Arena.UNLIMITED, "no limit, no limit exception");
                    assertEquals(before, arena.toString(), "a refused request changes nothing");
                    continue;
                }
                assertEquals(size, slice.byteSize());
                assertEquals(0, slice.address() % alignment, "aligned");
                assertEquals(arena.scope(), slice.scope());
                if (zeroed) {
                    assertTrue(TestSupport.isZero(slice), "zeroed slice of " + size + " bytes at step " + step);
                }
                addLive(live, slice, depth, random);
                allocated += size;
                assertEquals(allocated, arena.statistics().allocatedBytes());
                assertTrue(arena.statistics().reservedBytes() <= maxBytes, "limit respected");
                assertTrue(arena.statistics().reservedBytes() >= allocated, "every slice lies in a block");
            }
            checkPatterns(live);
            assertEquals(List.of("close", "closed twice", "grown by copy", "grown in place", "nested close"),
                    List.copyOf(seen.keySet()), "every kind of step happened: " + seen);
        }
    }

    /**
     * Checks that a new or grown slice overlaps no live one, fills it with a fresh pattern, and
     * records it as live in {@code level} (zero-byte slices occupy nothing and are not recorded).
     */
    private static void addLive(TreeMap<Long, Live> live, MemorySegment slice, int level, SplittableRandom random) {
        if (slice.byteSize() > 0) {
            assertDisjoint(live, slice);
        }
        byte pattern = (byte) random.nextInt(1, 256);
        slice.fill(pattern);
        if (slice.byteSize() > 0) {
            live.put(slice.address(), new Live(slice, pattern, level));
        }
    }

    /** Mostly small requests, some near a block, a few of several blocks. */
    private static long randomSize(SplittableRandom random) {
        return switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1, 2, 3, 4, 5 -> random.nextInt(1, 200);
            case 6, 7 -> random.nextInt(200, BLOCK_SIZE);
            case 8 -> random.nextInt(BLOCK_SIZE / 4, BLOCK_SIZE + 1);
            default -> random.nextInt(BLOCK_SIZE, 4 * BLOCK_SIZE);
        };
    }

    private static void assertDisjoint(TreeMap<Long, Live> live, MemorySegment slice) {
        long start = slice.address();
        long end = start + slice.byteSize();
        Map.Entry<Long, Live> below = live.floorEntry(start);
        if (below != null) {
            assertTrue(below.getKey() + below.getValue().slice().byteSize() <= start, "overlaps the slice below");
        }
        Map.Entry<Long, Live> above = live.ceilingEntry(start);
        if (above != null) {
            assertTrue(end <= above.getKey(), "overlaps the slice above");
        }
    }

    private static void checkPatterns(Map<Long, Live> live) {
        for (Live l : live.values()) {
            MemorySegment slice = l.slice();
            long mismatch = slice.mismatch(MemorySegment.ofArray(filled((int) slice.byteSize(), l.pattern())));
            assertEquals(-1, mismatch, "pattern of the slice at " + slice.address() + " overwritten");
        }
    }

    private static byte[] filled(int size, byte value) {
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, value);
        return bytes;
    }

    private static void checkStaleSlicesFail(List<MemorySegment> stale, SplittableRandom random) {
        for (int i = 0; i < Math.min(5, stale.size()); i++) {
            MemorySegment slice = stale.get(random.nextInt(stale.size()));
            assertFalse(slice.scope().isAlive());
            if (slice.byteSize() > 0) {
                assertThrows(IllegalStateException.class, () -> slice.get(JAVA_BYTE, 0));
            }
        }
        stale.clear();
    }
}
