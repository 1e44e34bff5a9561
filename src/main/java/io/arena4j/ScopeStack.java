package io.arena4j;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.ObjIntConsumer;

/**
 * The lifetimes of one {@link Arena}, as a stack of JDK scopes: level 0 is the generation, which
 * a reset ends, and levels 1 to {@link #depth()} are the open checkpoints, innermost last. A
 * checkpoint's level opens a confined JDK arena of its own only when it hands out its first
 * slice; until then it has a place for a mark, which the arena fills with where it stood, and
 * which it goes back to when the checkpoint closes. Closing levels follows the JDK's rules for
 * closing a confined arena: a held scope refuses, failing cleanup actions are collected.
 *
 * <p>Marks are kept in a primitive array, and a {@link Arena.Checkpoint} only names its level
 * and serial number, so that taking and closing a checkpoint writes no object reference into
 * long-lived objects: such writes cost a memory fence in G1's write barrier (about 4.5 ns on the
 * benchmark machine), and were most of the cost of a checkpoint. For the same reason a level's
 * address space, the generation's included, is kept here only once a level above it opens and
 * the arena's own field stops pointing at it: until then the arena's field is the only copy, and
 * the reset of a round without a checkpoint's scope writes two references (the generation's scope
 * and the arena's address space), not three.
 *
 * <p>Besides the levels, it knows the states in which the arena must not carve from its current
 * block at all: closed, running cleanup actions, a level waiting for its scope, or the arena's
 * address space bound to the scope of a level that has closed (see {@link #stale()}).
 */
final class ScopeStack {

    private static final long[] NO_MARKS = {};
    private static final java.lang.foreign.Arena[] NO_SCOPES = {};
    private static final MemorySegment[] NO_SPACES = {};

    /** The longs of one mark: the arena's, then the serial number of the level. */
    private final int markWidth;
    /** The generation's JDK arena, level 0's scope. */
    private java.lang.foreign.Arena generation;
    // The levels' arrays, the checkpoints' from index 1: allocated at the first checkpoint, since
    // most leases of a server that does not use checkpoints never take one.
    private long[] marks = NO_MARKS;
    /** The JDK arena of each checkpoint whose scope is open, or null. */
    private java.lang.foreign.Arena[] scopes = NO_SCOPES;
    /** All of memory bound to each level's scope, the generation's at 0, once a level above it has opened, or null. */
    private MemorySegment[] spaces = NO_SPACES;
    private int depth;
    /** Levels 1 to marked have their marks; those above have seen no change of the arena yet. */
    private int marked;
    private long lastSerial;
    private boolean stale;
    private boolean ending;
    private boolean closed;

    /** A stack whose marks hold {@code arenaMarkWidth} longs of the arena's each. */
    ScopeStack(int arenaMarkWidth) {
        this.markWidth = arenaMarkWidth + 1;
    }

    /**
     * Opens a new generation, with no checkpoint above it, watched for leaks by {@code watch}
     * (or null).
     *
     * @return all of memory in its scope, for the arena to carve slices from
     */
    MemorySegment startGeneration(LeakWatch watch) {
        java.lang.foreign.Arena generation = java.lang.foreign.Arena.ofConfined();
        MemorySegment space = bind(generation, watch);
        restoreGeneration(generation);
        return space;
    }

    /**
     * Makes {@code generation} the generation, with no level above it: a new one, or the last one
     * again for a claim given back. The caller then points the arena's address space at its space.
     */
    void restoreGeneration(java.lang.foreign.Arena generation) {
        discardAbove(0);
        if (spaces.length > 0 && spaces[0] != null) {
            spaces[0] = null;      // the arena's field is to be its only copy, as in every generation
        }
        this.generation = generation;
        stale = false;
    }

    /** {@return the generation's JDK arena} */
    java.lang.foreign.Arena generation() {
        return generation;
    }

    /** {@return the address space of the generation, kept here or {@code current}, the arena's} */
    MemorySegment generationSpace(MemorySegment current) {
        MemorySegment kept = spaceAt(0);
        return kept == null ? current : kept;
    }

    private java.lang.foreign.Arena scopeAt(int level) {
        return level == 0 ? generation : scopes[level];
    }

    /** {@return the address space of {@code level} if kept here, or null: then it is the arena's} */
    private MemorySegment spaceAt(int level) {
        return level < spaces.length ? spaces[level] : null;
    }

    /** {@return all of memory in {@code scope}, watched for leaks by {@code watch}, or not if null} */
    @SuppressWarnings("restricted")   // binding the blocks' memory to a level is the point
    private static MemorySegment bind(java.lang.foreign.Arena scope, LeakWatch watch) {
        return MemorySegment.NULL.reinterpret(Long.MAX_VALUE, scope, watch == null ? null : watch.keepWatching());
    }

    /**
     * {@return whether the arena may carve from its current block: it is open, no cleanup action
     * runs, the innermost level has its scope, and the arena's address space is bound to it}
     */
    boolean carving() {
        return !closed && !ending && !stale && scopeAt(depth) != null;
    }

    /** {@return whether the arena is closed, or its cleanup actions are running} */
    boolean closedOrEnding() {
        return closed || ending;
    }

    /** Marks the arena closed: its levels have ended. */
    void close() {
        assert depth == 0;
        closed = true;
    }

    /** {@return whether the arena is closed} */
    boolean closed() {
        return closed;
    }

    /** {@return the number of open checkpoints: the innermost level} */
    int depth() {
        return depth;
    }

    /**
     * Opens a level above the innermost one, with no mark and no scope yet.
     *
     * @return the serial number that names this level while it is open
     */
    long push() {
        int level = ++depth;
        if ((level + 1) * markWidth > marks.length) {
            int levels = Math.max(4, scopes.length * 2);
            marks = Arrays.copyOf(marks, levels * markWidth);
            scopes = Arrays.copyOf(scopes, levels);
            spaces = Arrays.copyOf(spaces, levels);
        }
        return marks[serialAt(level)] = ++lastSerial;
    }

    /** {@return whether the checkpoint with this level and serial number is still open} */
    boolean isOpen(int level, long serial) {
        return level <= depth && marks[serialAt(level)] == serial;
    }

    private int serialAt(int level) {
        return level * markWidth + markWidth - 1;
    }

    /** {@return the array of marks, in which {@link #markAt} and {@link #markUnmarked} point} */
    long[] marks() {
        return marks;
    }

    /** {@return where the arena's mark for {@code level} starts in {@link #marks()}} */
    int markAt(int level) {
        return level * markWidth;
    }

    /** {@return whether the innermost level is a checkpoint that has not opened its scope yet} */
    boolean pending() {
        return scopeAt(depth) == null;
    }

    /**
     * Gives every level that has no mark yet the mark the arena wrote for the innermost one: the
     * arena is about to change for the first time since they were taken, so all of them were
     * taken where it stands now.
     */
    void markUnmarked() {
        int innermost = markAt(depth);
        for (int level = marked + 1; level < depth; level++) {
            System.arraycopy(marks, innermost, marks, markAt(level), markWidth - 1);
        }
        marked = depth;
    }

    /**
     * {@return whether {@code level} has its mark} A level without one has seen no change of the
     * arena since it was taken, and neither has any level inside it.
     */
    boolean isMarked(int level) {
        return level <= marked;
    }

    /**
     * Gives the innermost level its scope, watched for leaks by {@code watch} (or null). The
     * level below it that has a scope is shadowed from now on: its address space,
     * {@code shadowed}, the arena's current one unless stale, is kept here unless it is already.
     *
     * @return all of memory in the new scope, for the arena to carve slices from
     */
    MemorySegment open(LeakWatch watch, MemorySegment shadowed) {
        assert pending() && isMarked(depth);
        int below = openLevelBelow(depth);
        if (spaces[below] == null) {
            assert !stale : "a level not kept here is the arena's current one";
            spaces[below] = shadowed;
        }
        java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofConfined();
        scopes[depth] = scope;
        stale = false;
        return bind(scope, watch);
    }

    /**
     * {@return whether the arena's address space is bound to the scope of a checkpoint that has
     * closed} The arena puts the space of the level now innermost back lazily, at its next slow
     * path: doing it at once would write a reference into the long-lived arena at every request,
     * though the next request usually opens a level of its own first.
     */
    boolean stale() {
        return stale;
    }

    /** {@return the address space of the innermost level that has a scope, no longer stale} */
    MemorySegment unstale() {
        stale = false;
        return innermostSpace();
    }

    /** {@return the address space of the innermost level with a scope, kept here or {@code current}} */
    MemorySegment innermostSpace(MemorySegment current) {
        return stale ? innermostSpace() : current;
    }

    private MemorySegment innermostSpace() {
        return spaceAt(openLevelBelow(depth + 1));
    }

    private int openLevelBelow(int level) {
        int below = level - 1;
        while (scopeAt(below) == null) {
            below--;           // level 0 always has one
        }
        return below;
    }

    /**
     * Forgets {@code level} and every level inside it, whose scopes are closed or were never
     * opened, after the arena rewound to its mark; {@code current} is the arena's address space.
     */
    void rewoundTo(int level, MemorySegment current) {
        if (isMarked(level)) {
            MemorySegment outer = spaceAt(openLevelBelow(level));
            if (outer != null && outer != current) {
                stale = true;        // a closed level's scope: put back lazily, see stale()
            }
        }
        discardAbove(level - 1);
    }

    /** Forgets every level above {@code level}; their marks stay readable until pushed over. */
    private void discardAbove(int level) {
        for (int i = depth; i > level; i--) {
            if (scopes[i] != null) {      // writing null only where needed keeps the barrier away
                scopes[i] = null;
                spaces[i] = null;
            }
        }
        depth = Math.min(depth, level);
        marked = Math.min(marked, level);
    }

    /**
     * Closes the scopes of the levels from the innermost down to {@code last}, where level 0 is
     * the generation itself, as the JDK closes confined arenas, and forgets the levels above
     * {@code last}. Afterwards the levels closed hold no live slice, and the arena rewinds or
     * recycles.
     *
     * <p>If a scope is held (a slice is in use by a downcall), the JDK refuses to close it and so
     * does this: that level and those below it stay open, and the exception is thrown. The JDK
     * offers no way to ask whether a scope is held without closing it, so levels above the held
     * one that were already closed stay closed, and {@code rewindTo} is called with {@code arena}
     * and the lowest of them, so that the arena is exactly as their own close would have left it.
     * When the innermost level is the one held, nothing has changed.
     *
     * <p>If a cleanup action throws, the scope is closed all the same, the other levels are still
     * closed, and the first failure is returned, with later ones suppressed, for the arena to
     * rethrow once it is consistent again. While cleanup actions run, {@link #closedOrEnding()}
     * is true, and the arena refuses every call.
     */
    <A> Throwable endLevels(int last, A arena, ObjIntConsumer<A> rewindTo) {
        Throwable failure = null;
        for (int level = depth; level >= last; level--) {
            try {
                failure = firstOf(failure, endScope(scopeAt(level)));
            } catch (RuntimeException | Error held) {
                if (level < depth) {
                    rewindTo.accept(arena, level + 1);
                }
                if (failure != null) {
                    held.addSuppressed(failure);
                }
                throw held;
            }
        }
        discardAbove(last);
        if (last == 0) {
            stale = false;
        }
        return failure;
    }

    /**
     * Closes one scope, or does nothing for a level that never opened one. Throws what the JDK
     * throws if the scope is held, having changed nothing; returns what a cleanup action threw.
     */
    private Throwable endScope(java.lang.foreign.Arena scope) {
        if (scope == null) {
            return null;
        }
        ending = true;
        try {
            scope.close();
            return null;
        } catch (RuntimeException | Error e) {
            if (scope.scope().isAlive()) {
                throw e;
            }
            return e;
        } finally {
            ending = false;
        }
    }

    private static Throwable firstOf(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        if (next != null) {
            first.addSuppressed(next);
        }
        return first;
    }

    /** Throws what a cleanup action threw, if one did: see {@link #endLevels}. */
    static void rethrow(Throwable cleanupFailure) {
        if (cleanupFailure instanceof RuntimeException e) {
            throw e;
        }
        if (cleanupFailure instanceof Error e) {
            throw e;
        }
        assert cleanupFailure == null : "close() throws no checked exception";
    }
}
