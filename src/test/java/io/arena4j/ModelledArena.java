package io.arena4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.arena4j.NothingKeptModel.Fits;
import io.arena4j.NothingKeptModel.Large;
import io.arena4j.NothingKeptModel.NewRegular;
import io.arena4j.NothingKeptModel.Outcome;
import io.arena4j.NothingKeptModel.Refused;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One arena driven beside a {@link NothingKeptModel}: random requests of every alignment from 1
 * to 4096, empty slices, sizes at the edges of the large rule and of the block's room and of the
 * limit, grows, checkpoints and resets. Every answer must be the model's: refused exactly when it
 * refuses (and then nothing changes: {@code state}), carved at the very address it says when the
 * slice fits in the current block, in a block the round does not use when it is large, at the
 * first aligned byte of a block when it takes a new one. Slices read as zeros when they come (in
 * a zeroed arena), keep the pattern written into them while they live, and never overlap.
 */
final class ModelledArena {

    /** A live slice: the start of its regular block (-1: large), its pattern, its level. */
    record Live(MemorySegment slice, long base, byte pattern, int level) {}

    final long blockSize;
    final boolean zeroed;
    final SplittableRandom random;
    /** Counts native blocks, for the checks that need them; null when other threads share it. */
    final CountingBlocks blocks;
    /** What a refused call must leave as it was. */
    final Supplier<String> state;
    final NothingKeptModel model;
    Arena arena;

    final List<Live> live = new ArrayList<>();
    final List<MemorySegment> dead = new ArrayList<>();
    final List<Arena.Checkpoint> checkpoints = new ArrayList<>();
    final List<long[]> marks = new ArrayList<>();
    long allocated;
    /** The last calls, to name the sequence that failed. */
    final java.util.ArrayDeque<String> trace = new java.util.ArrayDeque<>();

    /**
     * Where the round's first regular block must be, if the arena kept it (-1: no promise), and
     * the regular blocks the arena held when the round started: while it still holds as many, no
     * kept block was given up, and the first one is where the round's first regular slice goes.
     */
    long expectedFirstBase = -1;
    int regularBlocksAtRoundStart;
    /** Whether the arena held as many regular blocks after every call since the round started. */
    boolean firstKeptIntact;

    int served;
    int refused;
    int grownInPlace;
    int grownByCopy;
    int roundStartChecks;
    int largeAtRoundStart;
    int servedBeyond;
    /** Whether the calling thread owns the arena: false from a hand-off until a call succeeds. */
    boolean owned = true;

    ModelledArena(Arena arena, long blockSize, boolean zeroed, SplittableRandom random, CountingBlocks blocks,
                  Supplier<String> state) {
        this.arena = arena;
        this.blockSize = blockSize;
        this.zeroed = zeroed;
        this.random = random;
        this.blocks = blocks;
        this.state = state;
        this.model = new NothingKeptModel(blockSize);
        this.regularBlocksAtRoundStart = arena.statistics().regularBlocks();
    }

    long randomAlignment() {
        return random.nextInt(10) < 6 ? 1L << random.nextInt(5) : 1L << random.nextInt(5, 13);
    }

    /** Sizes at the edges of the rules for this alignment, and random ones between them. */
    long randomSize(long alignment, long limit) {
        long quarter = blockSize / 4;
        long slack = NothingKeptModel.slack(alignment);
        boolean limited = limit < Long.MAX_VALUE / 4;
        long size = switch (random.nextInt(22)) {
            case 0, 1 -> 0;
            case 2, 3 -> quarter - slack + random.nextInt(-1, 2);                      // either side of large
            case 4, 5 -> model.hasBlock() ? model.room(alignment) + random.nextInt(-1, 2)   // fills the block
                    : random.nextLong(1, quarter + 2);
            case 6 -> limited ? limit - model.inUse() - slack + random.nextInt(-1, 2)     // the limit's edge
                    : random.nextLong(1, 2 * blockSize);
            case 7 -> limited ? (random.nextBoolean() ? Long.MAX_VALUE - random.nextInt(64) : limit + 1)
                    : random.nextLong(1, 64);
            case 8 -> blockSize + random.nextInt(-1, 2);
            case 9, 10 -> random.nextLong(blockSize, 3 * blockSize);
            case 11, 12, 13, 14 -> random.nextLong(quarter / 2, blockSize);
            default -> random.nextLong(1, 64);
        };
        return Math.max(0, size);
    }

    private String where(String what, long size, long alignment, long limit, Outcome expected) {
        return what + " " + size + " bytes aligned to " + alignment + " under limit " + limit + ", expected "
                + expected + ", model " + model + ", arena " + arena;
    }

    /** One request of a random size and alignment. */
    void allocate(long limit) {
        long alignment = randomAlignment();
        allocate(randomSize(alignment, limit), alignment, limit);
    }

    MemorySegment allocate(long size, long alignment, long limit) {
        Outcome expected = model.decide(size, alignment, limit);
        trace("allocate(" + size + ", " + alignment + ") limit " + limit + " expect " + expected);
        String before = state.get();
        Arena.Statistics figures = arena.statistics();
        long nativeBlocks = blocks == null ? -1 : blocks.allocatedBlocks();
        MemorySegment slice;
        try {
            slice = arena.allocate(size, alignment);
        } catch (ArenaLimitException e) {
            if (!(expected instanceof Refused)) {
                fail(where("refused", size, alignment, limit, expected) + ": " + e.getMessage());
            }
            assertEquals(before, state.get(), "a refused request changes nothing");
            refused++;
            return null;
        }
        if (expected instanceof Refused) {
            // Served what the model refuses: allowed only once the arena holds less than the model
            // counts, or when this very request, large and aligned beyond 16, may have taken a kept
            // large block smaller than a new one (see NothingKeptModel.exact).
            boolean keptLargeMayServe = alignment > NothingKeptModel.BLOCK_ALIGNMENT && model.isLarge(size, alignment)
                    && figures.largeBlocks() > model.largeBlocks();
            if (model.exact && !keptLargeMayServe) {
                fail(where("served", size, alignment, limit, expected) + " at " + Long.toHexString(slice.address()));
            }
            expected = model.decide(size, alignment, Long.MAX_VALUE);   // what it holds is the model's at most
            servedBeyond++;
        }
        assertEquals(size, slice.byteSize());
        assertEquals(0, slice.address() % alignment, "aligned");
        long base = place(expected, slice, alignment, figures, nativeBlocks, limit);
        if (zeroed) {
            assertTrue(TestSupport.isZero(slice), "a new slice reads as zeros");
        }
        allocated += size;
        served++;
        owned = true;
        trace("  -> " + Long.toHexString(slice.address()));
        add(slice, base);
        return slice;
    }

    /** Checks the slice lies where the model says, records it there, and returns its block's start. */
    private long place(Outcome expected, MemorySegment slice, long alignment, Arena.Statistics before,
                       long nativeBlocks, long limit) {
        long address = slice.address();
        long size = slice.byteSize();
        String where = where("placed", size, alignment, limit, expected) + " at " + Long.toHexString(address);
        switch (expected) {
            case Fits fits -> {
                assertEquals(fits.address(), address, "carved where an arena that kept nothing carves it: " + where);
                if (blocks != null) {
                    assertEquals(nativeBlocks, blocks.allocatedBlocks(), "no new block for a slice that fits");
                }
                model.carved(address + size);
                return model.currentBase();
            }
            case NewRegular _ -> {
                long padding = arena.statistics().paddingBytes() - before.paddingBytes();
                long base = address - padding;
                assertEquals(0, base % NothingKeptModel.BLOCK_ALIGNMENT, "a block starts 16-aligned: " + where);
                assertEquals(address, NothingKeptModel.alignUp(base, alignment),
                        "the first aligned byte of a block: " + where);
                assertFalse(model.meetsRegularBlock(base, blockSize), "a block the round does not use: " + where);
                if (blocks != null && before.regularBlocks() > model.regularBlocks()) {
                    assertEquals(nativeBlocks, blocks.allocatedBlocks(),
                            "a regular block kept and unused serves before a new one is allocated: " + where);
                }
                if (model.regularBlocks() == 0 && expectedFirstBase != -1 && firstKeptIntact
                        && before.regularBlocks() == regularBlocksAtRoundStart) {
                    assertEquals(expectedFirstBase, base, "the round's first regular slice is carved in its first "
                            + "kept block: " + where);
                    roundStartChecks++;
                }
                model.entered(base, address + size);
                return base;
            }
            case Large large -> {
                assertFalse(model.meetsRegularBlock(address, size), "a large request is not carved in a regular "
                        + "block the round uses: " + where);
                if (model.regularBlocks() == 0 && expectedFirstBase != -1 && firstKeptIntact  // still held
                        && arena.statistics().regularBlocks() == regularBlocksAtRoundStart) {
                    assertFalse(address < expectedFirstBase + blockSize && expectedFirstBase < address
                            + Math.max(size, 1), "a large request at a round's start is not carved in the kept "
                            + "block: " + where);
                    largeAtRoundStart++;
                }
                // It may have taken a kept large block: smaller than a new one when the request is
                // aligned beyond 16 and the block's address leaves room, larger without a limit.
                if ((alignment > NothingKeptModel.BLOCK_ALIGNMENT || limit == Long.MAX_VALUE)
                        && before.largeBlocks() > model.largeBlocks()) {
                    model.exact = false;
                }
                model.largeBlock(large.blockBytes());
                return -1;
            }
            case Refused _ -> throw new AssertionError(where);
        }
    }

    /** Grows the last slice of the innermost level, most often, or another one of it. */
    void grow(long limit) {
        int depth = checkpoints.size();
        List<Live> innermost = live.stream().filter(l -> l.level() == depth).toList();
        if (innermost.isEmpty()) {
            return;
        }
        Live old = random.nextInt(3) > 0 ? innermost.getLast() : innermost.get(random.nextInt(innermost.size()));
        if (old.slice().byteSize() >= 2 && random.nextInt(5) == 0) {
            growPart(old, limit);
            return;
        }
        long oldSize = old.slice().byteSize();
        long more = switch (random.nextInt(8)) {
            case 0 -> model.hasBlock() ? model.room(1) + random.nextInt(-1, 2) : 1;   // to the block's end
            case 1 -> blockSize / 4 - oldSize + random.nextInt(-1, 2);               // to large's edge
            case 2 -> random.nextLong(1, 2 * blockSize);
            case 3 -> limit < Long.MAX_VALUE / 4 ? limit - model.inUse() - oldSize + random.nextInt(-1, 2) : 7;
            default -> random.nextLong(1, 64);
        };
        grow(old, oldSize + Math.max(1, more), limit);
    }

    MemorySegment grow(Live old, long newSize, long limit) {
        MemorySegment slice = old.slice();
        long oldSize = slice.byteSize();
        boolean inPlace = model.growsInPlace(old.base(), slice.address(), oldSize, newSize);
        long alignment = Long.lowestOneBit(slice.address() | NothingKeptModel.BLOCK_ALIGNMENT);
        Outcome copy = inPlace ? null : model.decide(newSize, alignment, limit);
        trace("grow(" + Long.toHexString(slice.address()) + "+" + oldSize + ", " + newSize + ") limit " + limit
                + (inPlace ? " in place" : " copy " + copy));
        String before = state.get();
        Arena.Statistics figures = arena.statistics();
        long nativeBlocks = blocks == null ? -1 : blocks.allocatedBlocks();
        String what = "grow of " + oldSize + " bytes at " + Long.toHexString(slice.address()) + " (block "
                + Long.toHexString(old.base()) + ") to " + newSize + " under limit " + limit + ", in place "
                + inPlace + ", copy " + copy + ", model " + model + ", arena " + arena;
        MemorySegment grown;
        try {
            grown = arena.grow(slice, newSize);
        } catch (ArenaLimitException e) {
            if (!(copy instanceof Refused)) {
                fail("refused " + what + ": " + e.getMessage());
            }
            assertEquals(before, state.get(), "a refused grow changes nothing");
            refused++;
            return null;
        }
        if (copy instanceof Refused) {
            if (model.exact) {
                fail("served " + what);
            }
            copy = model.decide(newSize, alignment, Long.MAX_VALUE);
            servedBeyond++;
        }
        assertEquals(newSize, grown.byteSize());
        assertEquals(inPlace, grown.address() == slice.address(), "in place exactly when the model says: " + what);
        assertEquals(-1, grown.asSlice(0, oldSize).mismatch(slice), "starts with the slice's bytes");
        if (zeroed) {
            assertTrue(TestSupport.isZero(grown.asSlice(oldSize)), "the new bytes read as zeros: " + what);
        }
        trace("  -> " + Long.toHexString(grown.address()));
        if (inPlace) {
            if (blocks != null) {
                assertEquals(nativeBlocks, blocks.allocatedBlocks(), "in place allocates nothing");
            }
            model.carved(slice.address() + newSize);
            live.removeIf(l -> l == old);     // by identity: segments at one address are equal whatever their size
            allocated += newSize - oldSize;
            grownInPlace++;
            add(grown, old.base());
        } else {
            assertEquals(0, grown.address() % Math.min(alignment, NothingKeptModel.BLOCK_ALIGNMENT),
                    "a copy is aligned as the slice was, up to 16");
            long base = place(copy, grown, alignment, figures, nativeBlocks, limit);
            allocated += newSize;
            grownByCopy++;
            add(grown, base);
        }
        served++;
        owned = true;
        return grown;
    }

    /**
     * Grows a part of a live slice, "or part of one" as grow's Javadoc allows: its end, which
     * grows in place when the slice is the block's last, or its start, which is copied.
     */
    private void growPart(Live whole, long limit) {
        MemorySegment slice = whole.slice();
        long offset = random.nextLong(1, slice.byteSize());
        boolean end = random.nextBoolean();
        MemorySegment part = end ? slice.asSlice(offset) : slice.asSlice(0, offset);
        long newSize = part.byteSize() + random.nextLong(1, blockSize / 2);
        // While the part grows, the whole slice stays live as the model has it; an in-place grow
        // leaves the whole slice's start before the part, and the part grown.
        Live partLive = new Live(part, whole.base(), whole.pattern(), whole.level());
        live.removeIf(l -> l == whole);
        live.add(partLive);
        MemorySegment grown = grow(partLive, newSize, limit);
        if (grown != null && grown.address() == part.address() && end) {
            live.add(new Live(slice.asSlice(0, offset), whole.base(), whole.pattern(), whole.level()));
        } else {
            live.removeIf(l -> l == partLive);
            live.add(whole);
        }
    }

    /** Asks for the innermost level's scope: it opens the level if nothing did, and must be alive. */
    void scope() {
        trace("scope()");
        String before = state.get();
        // Disowned, and not claimed yet: "scope() returns the closed scope of the last generation".
        assertEquals(owned, arena.scope().isAlive(), "the innermost level's scope is alive, once owned");
        assertEquals(before, state.get(), "asking for the scope changes no figure");
    }

    /**
     * Grows a slice the arena must refuse: one of an outer level, a dead one, a read-only view, a
     * heap segment or another arena's slice. Nothing changes.
     */
    void growForbiddenKinds() {
        String before = state.get();
        List<Live> innermost = live.stream().filter(l -> l.level() == checkpoints.size()).toList();
        switch (random.nextInt(3)) {
            case 0 -> {
                if (!innermost.isEmpty()) {
                    MemorySegment readOnly = innermost.getLast().slice().asReadOnly();
                    assertThrows(IllegalArgumentException.class, () -> arena.grow(readOnly, readOnly.byteSize() + 1));
                }
            }
            case 1 -> {
                MemorySegment heap = MemorySegment.ofArray(new byte[16]);
                assertThrows(IllegalArgumentException.class, () -> arena.grow(heap, 32));
            }
            default -> {
                try (java.lang.foreign.Arena another = java.lang.foreign.Arena.ofConfined()) {
                    MemorySegment foreign = another.allocate(8);
                    assertThrows(IllegalArgumentException.class, () -> arena.grow(foreign, 16));
                }
            }
        }
        assertEquals(before, state.get(), "a refused grow changes nothing");
        growForbidden();
    }

    /** Grows a slice of an outer level, or a dead one: refused, and nothing changes. */
    void growForbidden() {
        int depth = checkpoints.size();
        List<Live> outer = live.stream().filter(l -> l.level() < depth).toList();
        String before = state.get();
        if (!outer.isEmpty() && random.nextBoolean()) {
            MemorySegment slice = outer.get(random.nextInt(outer.size())).slice();
            assertThrows(IllegalArgumentException.class, () -> arena.grow(slice, slice.byteSize() + 8));
        } else if (!dead.isEmpty()) {
            MemorySegment stale = dead.get(random.nextInt(dead.size()));
            assertThrows(IllegalStateException.class, () -> arena.grow(stale, stale.byteSize() + 1));
            if (stale.byteSize() > 0) {
                assertThrows(IllegalStateException.class, () -> stale.get(JAVA_BYTE, 0));
            }
        }
        assertEquals(before, state.get(), "a refused grow changes nothing");
    }

    void checkpoint() {
        trace("checkpoint() level " + (checkpoints.size() + 1));
        checkpoints.add(arena.checkpoint());
        marks.add(model.mark());
        owned = true;
    }

    /** Closes a random open level, and those inside it. */
    void closeCheckpoint() {
        if (checkpoints.isEmpty()) {
            return;
        }
        int level = 1 + random.nextInt(checkpoints.size());
        trace("close level " + level);
        checkPatterns();
        live.removeIf(l -> l.level() >= level && dead.add(l.slice()));
        checkpoints.get(level - 1).close();
        model.rewind(marks.get(level - 1));
        checkpoints.subList(level - 1, checkpoints.size()).clear();
        marks.subList(level - 1, marks.size()).clear();
        allocated = live.stream().mapToLong(l -> l.slice().byteSize()).sum();
        trimDead();
    }

    /** Ends the round: the caller then resets the arena, disowns it, or takes a new lease. */
    void endRound() {
        trace("end of round");
        checkPatterns();
        live.forEach(l -> dead.add(l.slice()));
        live.clear();
        checkpoints.clear();
        marks.clear();
        trimDead();
    }

    /**
     * Starts the model's next round. If the arena is the same and keeps a regular block (retained
     * at least one), the round's first regular block is where the next round starts.
     */
    void startRound(boolean sameBlocks, long retainBytes) {
        expectedFirstBase = sameBlocks && retainBytes >= blockSize ? model.firstBase() : -1;
        model.reset();
        allocated = 0;
        Arena.Statistics figures = arena.statistics();
        regularBlocksAtRoundStart = figures.regularBlocks();
        firstKeptIntact = true;
        assertEquals(0, figures.allocatedBytes());
        assertEquals(0, figures.paddingBytes());
        assertEquals(0, figures.unusedTailBytes());
        assertTrue(figures.reservedBytes() <= retainBytes, "a new round holds at most retainBytes: " + arena);
        if (expectedFirstBase != -1) {
            assertTrue(figures.regularBlocks() >= 1, "the round's first regular block was kept: " + arena);
        }
    }

    void reset(long retainBytes) {
        endRound();
        arena.reset();
        owned = true;
        startRound(true, retainBytes);
    }

    private void trimDead() {
        if (dead.size() > 200) {
            dead.subList(0, 100).clear();
        }
    }

    private void add(MemorySegment slice, long base) {
        for (Live other : live) {
            if (slice.byteSize() > 0 && other.slice().byteSize() > 0) {
                long a = slice.address();
                long b = other.slice().address();
                assertTrue(a + slice.byteSize() <= b || b + other.slice().byteSize() <= a,
                        "live slices overlap: " + slice + " and " + other.slice());
            }
        }
        byte pattern = (byte) random.nextInt(1, 256);
        slice.fill(pattern);
        live.add(new Live(slice, base, pattern, checkpoints.size()));
    }

    void checkPatterns() {
        for (Live l : live) {
            assertTrue(TestSupport.allBytes(l.slice(), l.pattern()), "a live slice kept its bytes");
        }
    }

    /** The owner's figures: exact, and as the model has them. */
    void checkFigures(long maxBytes) {
        Arena.Statistics figures = arena.statistics();
        if (figures.regularBlocks() < regularBlocksAtRoundStart) {
            firstKeptIntact = false;          // a kept block was given up: the first may be another now
        }
        assertEquals(allocated, figures.allocatedBytes(), "allocatedBytes");
        assertTrue(figures.allocatedBytes() + figures.paddingBytes() + figures.unusedTailBytes()
                <= figures.reservedBytes(), "the figures add up: " + figures);
        assertTrue(figures.reservedBytes() <= maxBytes, "maxBytes holds: " + figures);
        assertTrue(figures.regularBlocks() >= model.regularBlocks(), "regular blocks: " + figures + " " + model);
        assertTrue(figures.largeBlocks() >= model.largeBlocks(), "large blocks: " + figures + " " + model);
        if (model.exact && owned) {
            // Every byte of the blocks the round uses is handed out, padding, a tail left behind,
            // or the room left in the current block; unused kept blocks are none of these.
            long room = model.hasBlock() ? model.currentBase() + blockSize - model.cursor() : 0;
            assertEquals(model.inUse(), figures.allocatedBytes() + figures.paddingBytes()
                    + figures.unusedTailBytes() + room, "the round's bytes: " + figures + " " + model);
        }
        long beyondRegular = figures.reservedBytes() - figures.regularBlocks() * blockSize;
        if (figures.largeBlocks() == 0) {
            assertEquals(0, beyondRegular, "regular blocks only: " + figures);
        } else {
            assertTrue(beyondRegular >= figures.largeBlocks() * (blockSize / 4 + 1),
                    "every large block is above a quarter block: " + figures);
        }
    }

    void trace(String call) {
        if (trace.size() == 60) {
            trace.removeFirst();
        }
        trace.addLast(call);
    }

    String counts() {
        return served + " served, " + refused + " refused, " + grownInPlace + " grown in place, " + grownByCopy
                + " grown by copy, " + roundStartChecks + " first slices checked in the kept block, "
                + largeAtRoundStart + " large requests at a round's start, " + servedBeyond
                + " served beyond the model after a kept large block served an alignment beyond 16";
    }
}
