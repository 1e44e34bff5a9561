package io.arena4j;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The lifetimes of one {@link Arena}, as a stack: level 0 is the generation, which a reset ends,
 * and levels 1 to {@link #depth()} are the open checkpoints, innermost last. For each checkpoint
 * it keeps where the arena stood when it was taken (the mark), and for each level the scope of
 * its slices once it has one.
 *
 * <p>Marks are kept in a primitive array, and a {@link Arena.Checkpoint} only names its level
 * and serial number, so that taking and closing a checkpoint writes no object reference into
 * the long-lived arena: such writes cost a memory fence in G1's write barrier (about 4.5 ns on
 * the benchmark machine), and were most of the cost of a checkpoint. A mark is taken only when
 * the arena first changes inside its level: a request that allocates nothing writes no mark,
 * and its close has nothing to rewind. For the same reason a
 * level's address space is kept here only once a level above it opens and the arena's own
 * field stops pointing at it: until then the arena's field is the only copy.
 */
final class Levels {

    // The fields of one mark, at level * FIELDS in marks.
    private static final int CURSOR = 0;
    private static final int BLOCK_START = 1;
    private static final int BLOCK_PADDING = 2;
    private static final int HANDED_OUT = 3;
    private static final int PADDING_BEFORE = 4;
    private static final int UNUSED_TAILS = 5;
    private static final int BLOCK_AND_LARGE = 6;    // the chain's current block and large count, as two ints
    private static final int BLOCK_CHANGES = 7;      // BlockChain.changes() when the mark was taken
    private static final int SERIAL = 8;
    private static final int FIELDS = 9;
    private static final long[] NO_MARKS = {};

    // Sized for the generation alone: a pooled arena gets new Levels at every lease, and most
    // leases of a server that does not use checkpoints never take one.
    private long[] marks = NO_MARKS;
    /** The JDK arena of each level whose scope is open, or null; level 0's is the generation. */
    private java.lang.foreign.Arena[] scopes = new java.lang.foreign.Arena[1];
    /**
     * All of memory bound to each open scope (see {@code Arena.addressSpace}): the generation's
     * always, a checkpoint's once a level above it has opened, null otherwise.
     */
    private MemorySegment[] spaces = new MemorySegment[1];
    private int depth;
    /** Levels 1 to marked have their marks; those above have seen no change of the arena yet. */
    private int marked;
    private long lastSerial;

    /** {@return the number of open checkpoints: the innermost level} */
    int depth() {
        return depth;
    }

    /** Makes {@code scope} the generation's, level 0, with no checkpoint above it. */
    void startGeneration(java.lang.foreign.Arena scope, MemorySegment space) {
        discardAbove(0);
        scopes[0] = scope;
        spaces[0] = space;
    }

    /** {@return the generation's JDK arena} */
    java.lang.foreign.Arena generation() {
        return scopes[0];
    }

    /**
     * Opens a level above the innermost one, with no mark and no scope yet: {@link #mark} takes
     * its mark, and {@link #open} gives it a scope, when it hands out its first slice.
     *
     * @return the serial number that names this level while it is open
     */
    long push() {
        int level = ++depth;
        if ((level + 1) * FIELDS > marks.length) {
            int levels = Math.max(4, scopes.length * 2);
            marks = Arrays.copyOf(marks, levels * FIELDS);
            scopes = Arrays.copyOf(scopes, levels);
            spaces = Arrays.copyOf(spaces, levels);
        }
        return marks[level * FIELDS + SERIAL] = ++lastSerial;
    }

    /**
     * Takes the mark of every level that has none yet. The arena calls it before it changes
     * anything while such a level is open, so that all of them were taken where the arena
     * stands now.
     */
    void mark(long cursor, long blockStart, long blockPadding, long handedOutBefore, long paddingBefore,
              long unusedTails, int markBlock, int markLarge, long blockChanges) {
        for (int level = marked + 1; level <= depth; level++) {
            int at = level * FIELDS;
            marks[at + CURSOR] = cursor;
            marks[at + BLOCK_START] = blockStart;
            marks[at + BLOCK_PADDING] = blockPadding;
            marks[at + HANDED_OUT] = handedOutBefore;
            marks[at + PADDING_BEFORE] = paddingBefore;
            marks[at + UNUSED_TAILS] = unusedTails;
            marks[at + BLOCK_AND_LARGE] = ((long) markBlock << 32) | (markLarge & 0xFFFF_FFFFL);
            marks[at + BLOCK_CHANGES] = blockChanges;
        }
        marked = depth;
    }

    /**
     * {@return whether {@code level} has its mark} A level without one has seen no change of
     * the arena since it was taken, and neither has any level inside it.
     */
    boolean isMarked(int level) {
        return level <= marked;
    }

    /** {@return whether the checkpoint with this level and serial number is still open} */
    boolean isOpen(int level, long serial) {
        return level <= depth && marks[level * FIELDS + SERIAL] == serial;
    }

    /** {@return whether the innermost level is a checkpoint that has no scope yet} */
    boolean pending() {
        return scopes[depth] == null;
    }

    /**
     * Gives the innermost level its scope. The level below it that has a scope is shadowed from
     * now on: its address space, {@code shadowed}, is kept unless it is kept already.
     */
    void open(java.lang.foreign.Arena scope, MemorySegment shadowed) {
        assert pending();
        int below = openLevelBelow(depth);
        if (spaces[below] == null) {
            assert shadowed != null : "a level not kept here is the arena's current one";
            spaces[below] = shadowed;
        }
        scopes[depth] = scope;
    }

    /** {@return the JDK arena of {@code level}, or null if it has no scope} */
    java.lang.foreign.Arena scope(int level) {
        return scopes[level];
    }

    /**
     * {@return the kept address space of the innermost level below {@code level} that has a
     * scope, or null if it is not kept: then no level above it has opened, and it is the arena's
     * current one}
     */
    MemorySegment spaceBelow(int level) {
        return spaces[openLevelBelow(level)];
    }

    /** {@return the kept address space of the innermost level that has a scope; see {@link #spaceBelow}} */
    MemorySegment innermostSpace() {
        return spaceBelow(depth + 1);
    }

    /** {@return the address space of the generation} */
    MemorySegment generationSpace() {
        return spaces[0];
    }

    private int openLevelBelow(int level) {
        int below = level - 1;
        while (scopes[below] == null) {
            below--;           // level 0 always has one
        }
        return below;
    }

    /** Forgets {@code level} and those inside it, which have no mark, and so no scope, yet. */
    void dropUnmarked(int level) {
        assert !isMarked(level) && level <= depth;
        depth = level - 1;
    }

    /** Forgets every level above {@code level}, whose scopes are closed; their marks stay readable. */
    void discardAbove(int level) {
        for (int i = depth; i > level; i--) {
            if (scopes[i] != null) {      // writing null only where needed keeps the barrier away
                scopes[i] = null;
                spaces[i] = null;
            }
        }
        depth = Math.min(depth, level);
        marked = Math.min(marked, level);
    }

    long cursor(int level) {
        return marks[level * FIELDS + CURSOR];
    }

    long blockStart(int level) {
        return marks[level * FIELDS + BLOCK_START];
    }

    long blockPadding(int level) {
        return marks[level * FIELDS + BLOCK_PADDING];
    }

    long handedOutBefore(int level) {
        return marks[level * FIELDS + HANDED_OUT];
    }

    long paddingBefore(int level) {
        return marks[level * FIELDS + PADDING_BEFORE];
    }

    long unusedTails(int level) {
        return marks[level * FIELDS + UNUSED_TAILS];
    }

    long blockChanges(int level) {
        return marks[level * FIELDS + BLOCK_CHANGES];
    }

    int markBlock(int level) {
        return (int) (marks[level * FIELDS + BLOCK_AND_LARGE] >> 32);
    }

    int markLarge(int level) {
        return (int) marks[level * FIELDS + BLOCK_AND_LARGE];
    }
}
