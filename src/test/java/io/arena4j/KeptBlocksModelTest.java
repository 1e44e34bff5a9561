package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The promise that kept blocks never make an arena refuse: seeded programs of allocate, grow,
 * checkpoints closed in and out of order, reset and new leases, run on an arena that keeps
 * blocks from its earlier rounds, and beside it on a {@link ReferenceArena}, the arena with the
 * same settings that kept nothing. Every request must be served exactly when that one serves it,
 * under the arena's own limit, under a pool's budget with idle arenas to take memory back from,
 * and under both. A refused call changes nothing: not the arena, not the pool, not the native
 * memory held. After every call the native bytes out are the bytes the arena or pool accounts
 * for, and the live slices hold what was written into them.
 *
 * <p>Alignments stay at most 16, the alignment of every block, so that the reference knows
 * exactly which blocks an arena that kept nothing uses.
 */
class KeptBlocksModelTest {

    private static final long BLOCK = 4096;
    private static final long LARGE_THRESHOLD = BLOCK / 4;   // for the sizes at its edges

    enum Bound { ARENA_LIMIT, POOL_BUDGET, BOTH }

    static List<Arguments> programs() {
        List<Arguments> programs = new ArrayList<>();
        for (Bound bound : Bound.values()) {
            for (long seed = 1; seed <= 4; seed++) {
                programs.add(Arguments.of(bound, seed));
            }
        }
        return programs;
    }

    /** A live slice: where the reference put it, the pattern written into it, and its level. */
    private record Live(MemorySegment slice, ReferenceArena.Place place, byte pattern, int level) {}

    /** A limit of 6 to 16 blocks and a part of one. */
    private static long randomLimit(SplittableRandom random) {
        return random.nextLong(6, 16) * BLOCK + random.nextLong(BLOCK);
    }

    /** What a refused call must leave exactly as it was. */
    private static String state(Arena arena, ArenaPool pool, CountingBlocks blocks) {
        return arena + " " + (pool == null ? "" : pool.statistics()) + " out=" + blocks.outstandingBytes()
                + " blocks=" + blocks.allocatedBlocks();
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("programs")
    void keptBlocksNeverMakeTheArenaRefuseWhatAnArenaThatKeptNothingServes(Bound bound, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long maxBytes = bound == Bound.POOL_BUDGET ? Arena.UNLIMITED : randomLimit(random);
        long maxTotalBytes = bound == Bound.ARENA_LIMIT ? Arena.UNLIMITED : randomLimit(random);
        long limit = Math.min(maxBytes, maxTotalBytes);
        long retainBytes = random.nextLong(0, Math.min(limit, 12 * BLOCK) + 1);
        boolean zeroed = random.nextBoolean();
        CountingBlocks blocks = new CountingBlocks(bound == Bound.ARENA_LIMIT ? Long.MAX_VALUE : maxTotalBytes);
        ArenaPool pool = bound == Bound.ARENA_LIMIT ? null : ArenaPool.builder().arenas(Arena.builder()
                .blockAllocator(blocks).blockSize(BLOCK).maxBytes(maxBytes).retainBytes(retainBytes).zeroed(zeroed))
                        .maxTotalBytes(maxTotalBytes).leakDetection(LeakDetection.OFF).build();
        Arena arena = pool != null ? pool.acquire() : Arena.builder().blockAllocator(blocks).blockSize(BLOCK)
                .maxBytes(maxBytes).retainBytes(retainBytes).zeroed(zeroed).leakDetection(LeakDetection.OFF).build();
        ReferenceArena reference = new ReferenceArena(BLOCK, limit);
        TreeMap<Long, Live> live = new TreeMap<>();
        List<MemorySegment> dead = new ArrayList<>();
        List<Arena.Checkpoint> checkpoints = new ArrayList<>();
        List<long[]> marks = new ArrayList<>();
        long allocated = 0;
        int served = 0;
        int refused = 0;
        int grownInPlace = 0;
        int grownByCopy = 0;

        for (int step = 0; step < 6_000; step++) {
            int dice = random.nextInt(200);
            if (dice < 3 || (dice < 5 && pool != null)) {        // the round ends: reset, or a new lease
                checkPatterns(live);
                if (dead.size() > 200) {
                    dead.subList(0, 100).clear();
                }
                live.values().forEach(l -> dead.add(l.slice()));
                live.clear();
                checkpoints.clear();
                marks.clear();
                if (dice < 3) {
                    arena.reset();
                } else {
                    arena.close();
                    if (random.nextBoolean()) {
                        TestSupport.leaveIdleArenas(pool, random, BLOCK, 5);
                    }
                    arena = pool.acquire();
                }
                reference.reset();
                allocated = 0;
                assertTrue(arena.statistics().reservedBytes() <= retainBytes, "a new round holds at most retainBytes");
            } else if (dice < 12 && checkpoints.size() < 5) {
                checkpoints.add(arena.checkpoint());
                marks.add(reference.mark());
            } else if (dice < 18 && !checkpoints.isEmpty()) {
                int level = 1 + random.nextInt(checkpoints.size());   // closes this level and those inside it
                checkPatterns(live);
                live.values().removeIf(l -> l.level() >= level && dead.add(l.slice()));
                checkpoints.get(level - 1).close();
                reference.rewind(marks.get(level - 1));
                checkpoints.subList(level - 1, checkpoints.size()).clear();
                marks.subList(level - 1, marks.size()).clear();
                allocated = live.values().stream().mapToLong(l -> l.slice().byteSize()).sum();
            } else if (dice < 20 && !dead.isEmpty()) {
                MemorySegment stale = dead.get(random.nextInt(dead.size()));
                String before = state(arena, pool, blocks);
                Arena current = arena;
                assertThrows(IllegalStateException.class, () -> current.grow(stale, stale.byteSize() + 1));
                assertEquals(before, state(arena, pool, blocks), "growing a dead slice changes nothing");
                if (stale.byteSize() > 0) {
                    assertThrows(IllegalStateException.class, () -> stale.get(JAVA_BYTE, 0));
                }
            } else if (dice < 60) {
                int depth = checkpoints.size();
                List<Live> innermost = live.values().stream().filter(l -> l.level() == depth).toList();
                List<Live> outer = live.values().stream().filter(l -> l.level() < depth).toList();
                if (!outer.isEmpty() && random.nextInt(8) == 0) {
                    Live old = outer.get(random.nextInt(outer.size()));
                    String before = state(arena, pool, blocks);
                    Arena current = arena;
                    assertThrows(IllegalArgumentException.class,
                            () -> current.grow(old.slice(), old.slice().byteSize() + 8));
                    assertEquals(before, state(arena, pool, blocks), "growing an outer level's slice changes nothing");
                    continue;
                }
                if (innermost.isEmpty()) {
                    continue;
                }
                // The last slice most often, since that is what grows in place.
                Live old = random.nextBoolean()
                        ? innermost.stream().max(Comparator.comparingLong(l -> l.slice().address())).orElseThrow()
                        : innermost.get(random.nextInt(innermost.size()));
                long oldSize = old.slice().byteSize();
                long newSize = oldSize + randomSize(random, limit) / 4;
                boolean inPlace = reference.growsInPlace(old.place(), oldSize, newSize - oldSize);
                ReferenceArena.Place copy = null;
                if (!inPlace) {
                    copy = reference.allocate(newSize, Long.lowestOneBit(old.slice().address() | 16));
                }
                String before = state(arena, pool, blocks);
                MemorySegment grown;
                try {
                    grown = arena.grow(old.slice(), newSize);
                } catch (ArenaLimitException e) {
                    assertTrue(!inPlace && copy == null, "refused a grow the reference serves, at step " + step
                            + ": " + e.getMessage());
                    assertEquals(before, state(arena, pool, blocks), "a refused grow changes nothing");
                    refused++;
                    continue;
                }
                assertTrue(inPlace || copy != null, "served a grow the reference refuses, at step " + step);
                assertEquals(inPlace, grown.address() == old.slice().address(),
                        "in place exactly when the reference grows it there");
                assertEquals(-1, grown.asSlice(0, oldSize).mismatch(old.slice()), "starts with the slice's bytes");
                if (zeroed) {
                    assertTrue(TestSupport.isZero(grown.asSlice(oldSize)), "the new bytes read as zeros");
                }
                if (inPlace) {
                    reference.growInPlace(newSize - oldSize);
                    live.remove(old.slice().address());
                    allocated += newSize - oldSize;
                    grownInPlace++;
                    addLive(live, grown, old.place(), depth, random);
                } else {
                    allocated += newSize;
                    grownByCopy++;
                    addLive(live, grown, copy, depth, random);
                }
                served++;
            } else {
                long size = randomSize(random, limit);
                long alignment = 1L << random.nextInt(5);
                ReferenceArena.Place expected = reference.allocate(size, alignment);
                String before = state(arena, pool, blocks);
                MemorySegment slice;
                try {
                    slice = arena.allocate(size, alignment);
                } catch (ArenaLimitException e) {
                    assertTrue(expected == null, "refused " + size + " bytes aligned to " + alignment
                            + " that an arena which kept nothing serves, at step " + step + ": " + e.getMessage());
                    assertEquals(before, state(arena, pool, blocks), "a refused request changes nothing");
                    refused++;
                    continue;
                }
                assertTrue(expected != null, "served " + size + " bytes that an arena which kept nothing refuses, "
                        + "at step " + step + ": " + arena);
                assertEquals(size, slice.byteSize());
                assertEquals(0, slice.address() % alignment, "aligned");
                if (zeroed) {
                    assertTrue(TestSupport.isZero(slice), "zeroed");
                }
                addLive(live, slice, expected, checkpoints.size(), random);
                allocated += size;
                served++;
            }
            assertEquals(allocated, arena.statistics().allocatedBytes());
            assertTrue(arena.statistics().reservedBytes() <= maxBytes, "the arena's limit holds");
            assertEquals(pool == null ? arena.statistics().reservedBytes() : pool.reservedBytes(),
                    blocks.outstandingBytes(),
                    "every native byte out is accounted for");
            assertTrue(pool == null || pool.reservedBytes() <= maxTotalBytes, "the pool's budget holds");
        }
        checkPatterns(live);
        arena.close();
        if (pool != null) {
            pool.close();
        }
        blocks.assertAllFreed();
        assertTrue(served > 1000 && refused > 20 && grownInPlace > 20 && grownByCopy > 20,
                "every kind of outcome happened: " + served + " served, " + refused + " refused, "
                        + grownInPlace + " grown in place, " + grownByCopy + " grown by copy");
    }

    /** Sizes at the edges of the arena's rules, random ones between them, and some beyond any limit. */
    private static long randomSize(SplittableRandom random, long limit) {
        return switch (random.nextInt(16)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> LARGE_THRESHOLD - 1 + random.nextInt(3);       // either side of a large request
            case 3 -> BLOCK - 1 + random.nextInt(3);                 // either side of a block
            case 4 -> limit == Arena.UNLIMITED ? 1L << 40 : limit + random.nextInt(2);   // beyond the limit, or at it
            case 5, 6 -> random.nextLong(BLOCK, 3 * BLOCK);
            case 7, 8, 9 -> random.nextLong(200, BLOCK);
            default -> random.nextLong(1, 200);
        };
    }

    /** Checks that the slice overlaps no live one, writes a fresh pattern into it, and records it. */
    private static void addLive(TreeMap<Long, Live> live, MemorySegment slice, ReferenceArena.Place place, int level,
                                SplittableRandom random) {
        byte pattern = (byte) random.nextInt(1, 256);
        if (slice.byteSize() == 0) {
            return;                        // occupies nothing
        }
        var below = live.floorEntry(slice.address());
        assertTrue(below == null || below.getKey() + below.getValue().slice().byteSize() <= slice.address(),
                "overlaps below");
        var above = live.ceilingEntry(slice.address());
        assertTrue(above == null || slice.address() + slice.byteSize() <= above.getKey(), "overlaps above");
        slice.fill(pattern);
        live.put(slice.address(), new Live(slice, place, pattern, level));
    }

    private static void checkPatterns(TreeMap<Long, Live> live) {
        for (Live l : live.values()) {
            assertTrue(TestSupport.allBytes(l.slice(), l.pattern()), "the pattern of a live slice was overwritten");
        }
    }
}
