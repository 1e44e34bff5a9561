package io.arena4j;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ObjIntConsumer;

/**
 * A per-connection bump allocator: a chain of large native blocks from which slices are carved
 * by moving an offset, all freed at once by {@link #reset()}.
 *
 * <p>Allocating is a pointer bump: no lock, no native call, no per-slice bookkeeping. Nothing is
 * freed slice by slice; a server resets the arena when a request or connection ends, and the
 * arena keeps a few blocks for the next one, so that in the steady state no native memory is
 * allocated at all.
 *
 * {@snippet :
 * try (Arena arena = Arena.create()) {                   // one per connection
 *     for (int request = 0; request < 3; request++) {
 *         MemorySegment header = arena.allocate(256, 8);   // zeroed, 8-byte aligned
 *         MemorySegment name = arena.allocateFrom("alice"); // the whole SegmentAllocator API works
 *         header.set(ValueLayout.JAVA_INT, 0, 42);
 *         arena.reset();                                   // frees both; header is now inaccessible
 *     }
 * }                                                        // close() frees the blocks
 * }
 *
 * <p>{@link Builder} sets the block size, the limit, what a reset keeps and whether slices are
 * zeroed; the package summary says what each costs. A refused request changes nothing.
 * {@link #checkpoint()} gives a request a scope inside a connection's arena, and
 * {@link #grow(MemorySegment, long)} reads data of unknown length into one slice.
 *
 * <h2>Temporal safety</h2>
 * Every slice belongs to the arena's current <em>generation</em>, a confined JDK arena that
 * {@code reset()} and {@code close()} close. Reading or writing a slice after that throws
 * {@link IllegalStateException}, exactly like a segment of a closed JDK arena, so a stale slice
 * can never read the next connection's data. The generation behaves as the JDK's confined arena
 * does when it is closed:
 * <ul>
 * <li>If its scope is held, because a slice is in use by a downcall whose upcall now resets or
 *     closes the arena, the call throws {@link IllegalStateException} and changes nothing: every
 *     slice stays alive, and the arena can be reset or closed once the downcall has returned.
 * <li>Cleanup actions registered with
 *     {@link MemorySegment#reinterpret(java.lang.foreign.Arena, java.util.function.Consumer)} run
 *     at every reset and at close. If one throws, the others still run, the reset or close is
 *     completed (a new live generation after a reset, every block freed or returned after a
 *     close), and then the first exception is rethrown with the others suppressed.
 * <li>While cleanup actions run, the arena refuses to allocate, reset or close with
 *     {@link IllegalStateException}, as a JDK arena being closed does.
 * </ul>
 *
 * <h2>Threads</h2>
 * Like {@link java.lang.foreign.Arena#ofConfined()}, an arena belongs to one thread, its owner:
 * the thread that created it. Allocating, resetting and closing it, and accessing its slices, from
 * any other thread throws {@link WrongThreadException}. To hand an arena to another thread, its
 * owner calls {@link #resetAndDisown()}; the next thread whose allocation, reset or close of it
 * succeeds becomes its owner, and a refused call claims nothing once it has returned: while it
 * runs, the arena is its thread's, and a call from another thread gets WrongThreadException. The
 * hand-off is safe without further synchronisation, and two threads can never both become the
 * owner.
 *
 * <p>{@link #statistics()}, {@link #toString()} and {@link #scope()} may be read from any thread.
 * The owner reads exact figures; any other thread reads those the owner last published when it
 * changed blocks (but entered a round's first, kept, block), reset or closed the arena: figures
 * the arena really had together, without the slices carved from the current block since.
 *
 * <h2>Native access</h2>
 * Blocks come from the C library through FFM downcalls: run with
 * {@code --enable-native-access=ALL-UNNAMED} (or {@code =io.arena4j} on the module path).
 */
public final class Arena extends OwnedByOneThread implements java.lang.foreign.Arena {

    /** Size of a regular block unless {@link Builder#blockSize(long)} says otherwise: 64 KiB. */
    public static final long DEFAULT_BLOCK_SIZE = ArenaSettings.DEFAULT_BLOCK_SIZE;

    /** The value of {@link Builder#maxBytes(long)} that means "no limit", the default. */
    public static final long UNLIMITED = ArenaSettings.UNLIMITED;

    /**
     * The limit that traps the fast path: no request fits below it, not even one of zero bytes,
     * since the cursor is at least 1. See {@link #rearm()}.
     */
    private static final long TRAP = 0;

    // A checkpoint's mark, in its ScopeStack slot: the cursor, as its offset in the current block,
    // and the padding of the fast path, then what Usage and BlockChain save of their own.
    private static final int CURSOR_OFFSET = 0;
    private static final int BLOCK_PADDING = 1;
    private static final int USAGE = 2;
    private static final int CHAIN = USAGE + Usage.SAVED;
    private static final int MARK_WIDTH = CHAIN + BlockChain.SAVED;

    /** What ScopeStack calls when a held scope stops it half-way: a lambda that captures nothing. */
    private static final ObjIntConsumer<Arena> REWIND = Arena::rewindTo;
    private static final VarHandle PUBLISHED;

    static {
        try {
            PUBLISHED = MethodHandles.lookup().findVarHandle(Arena.class, "published", Statistics.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The figures a closed arena shows to every thread. */
    private static final Statistics CLOSED = new Statistics(0, 0, 0, 0, 0, 0);

    // The fast path reads cursor, limit, owner and addressSpace; it writes cursor, and
    // blockPadding when it has to align up.
    /** Address of the first free byte of the current block; the block's start outside one. */
    private long cursor;
    /**
     * How far the fast path may carve: TRAP while it may not carve at all, the end of the current
     * block while it may. In the round's first block, unused, it stops at a quarter of the block,
     * so that a large request takes the slow path; once a slice is carved there it stays so until
     * the next slow path, which re-arms it to the block's end (see allocateSlow). Only rearm()
     * sets it to anything but TRAP.
     */
    private long limit;
    /** Bytes skipped for alignment in the current block: the rest up to the cursor is handed out. */
    private long blockPadding;
    /**
     * All of memory in the scope of the innermost level. Slices are cut from it at their absolute
     * address, as the JDK's slicing allocator cuts from its segment, so moving to another block
     * costs no new binding. It is never handed out, and every offset used lies in a block of this
     * arena.
     */
    private MemorySegment addressSpace;

    private final ArenaSettings settings;
    /** The native blocks and the current one: called only off the fast path. */
    private final BlockChain blocks;
    /** The generation and the open checkpoints, with their marks and scopes. */
    private final ScopeStack scopes = new ScopeStack(MARK_WIDTH);
    private final Usage usage = new Usage();
    /** Where close() sends the blocks. */
    private final ChainRecycler recycler;
    /** The watch for a leak, or null: see LeakDetection. */
    private final LeakWatch leakWatch;
    /**
     * What threads other than the owner read: see "Threads" above. Written with release
     * semantics, read with acquire: a reader sees a whole record, and the owner pays no fence.
     */
    private volatile Statistics published;
    // The blocks' figures when the arena got them: what other threads read until the owner
    // publishes a change. A lease over a kept chain then allocates no figures for them.
    private final long reservedAtStart;
    private final int regularBlocksAtStart;
    private final int largeBlocksAtStart;

    /**
     * An arena owned by the calling thread, carving from {@code blocks}, which {@code recycler}
     * takes at close, and watched for a leak by {@code leakWatch}, or not if it is null.
     */
    Arena(ArenaSettings settings, BlockChain blocks, ChainRecycler recycler, LeakWatch leakWatch) {
        this.settings = settings;
        this.blocks = blocks;
        this.recycler = recycler;
        this.leakWatch = leakWatch;
        this.reservedAtStart = blocks.reservedBytes();
        this.regularBlocksAtStart = blocks.regularBlocks();
        this.largeBlocksAtStart = blocks.largeBlocks();
        this.cursor = blocks.currentStart();      // a chain from a pool starts in its first kept block
        try {
            this.addressSpace = scopes.startGeneration(leakWatch);
            rearm();
        } catch (RuntimeException | Error refused) {     // no arena was made: nothing can leak
            if (leakWatch != null) {
                leakWatch.closed();
            }
            throw refused;
        }
    }

    /**
     * Creates an arena with the defaults, which suit a server connection whose requests need a few
     * KiB to a few hundred KiB: 64 KiB blocks, one block retained across resets, no limit, zeroed
     * slices. No native memory is allocated until the first request.
     *
     * {@snippet :
     * try (Arena arena = Arena.create()) {
     *     MemorySegment buffer = arena.allocate(1000);
     * }
     * }
     *
     * @return a new arena owned by the calling thread
     */
    public static Arena create() {
        return builder().build();
    }

    /**
     * Starts configuring an arena.
     *
     * {@snippet :
     * Arena arena = Arena.builder()
     *         .blockSize(1 << 20)          // 1 MiB blocks
     *         .retainBytes(8 << 20)        // keep up to 8 MiB across resets
     *         .maxBytes(64 << 20)          // never hold more than 64 MiB
     *         .zeroed(false)               // the caller overwrites every slice
     *         .build();
     * }
     *
     * @return a builder holding the defaults of {@link #create()}
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a slice of {@code byteSize} bytes whose address is a multiple of
     * {@code byteAlignment}. It reads as zeros unless the arena was built with
     * {@code zeroed(false)}, and it stays accessible, from the owner thread only, until the next
     * {@link #reset()} or {@link #close()}. A refused request changes nothing, and once it has
     * returned it claims nothing for a thread that did not own the arena.
     *
     * <p>Two slices alive at the same time never overlap; this is the one deliberate difference
     * from {@link java.lang.foreign.Arena#allocate(long, long)}, whose segments never overlap at
     * all. After a reset, or a checkpoint's close, a new slice may lie where a dead one lay: that
     * memory's reuse is the point, and any access through the dead slice throws.
     *
     * {@snippet :
     * MemorySegment page = arena.allocate(4096, 4096);
     * assert page.address() % 4096 == 0 && page.byteSize() == 4096;
     * arena.reset();
     * MemorySegment next = arena.allocate(4096, 4096);   // may have page's address: page is dead
     * }
     *
     * @throws IllegalArgumentException if {@code byteSize < 0} or {@code byteAlignment} is not a
     *         positive power of two
     * @throws ArenaLimitException if the blocks holding this round's slices and the block the
     *         request needs would cross the limit (kept, unused blocks never count)
     * @throws OutOfMemoryError if the C library has no memory for a new block, or the size is too
     *         large to allocate at all
     * @throws IllegalStateException if the arena is closed, or its cleanup actions are running
     * @throws WrongThreadException if another thread owns the arena
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize <= 0 || !Alignment.isValidWithinMallocAlignment(byteAlignment)) {
            return allocateEmptyOrOverAligned(byteSize, byteAlignment);
        }
        if (owner != Thread.currentThread()) {
            return allocateAsNewOwner(byteSize, byteAlignment);
        }
        return bump(byteSize, byteAlignment);
    }

    /** Carves the request from the current block if it fits below limit, or takes the slow path. */
    private MemorySegment bump(long byteSize, long byteAlignment) {
        // Everything that can make this arena refuse to carve from its current block (no block,
        // closed, cleanups running, a checkpoint without its scope yet, a stale address space)
        // has set limit to TRAP: one comparison sends all of them to the slow path. In the
        // round's first block, unused, limit also sends large requests there.
        long start = Alignment.alignUp(cursor, byteAlignment);
        if (byteSize > limit - start) {
            return allocateSlow(byteSize, byteAlignment);
        }
        return carve(start, byteSize);
    }

    /**
     * Serves an empty request, or one aligned beyond 16 bytes, or refuses a bad one. In the
     * round's first block, unused, the fast path tells a large request by where it fits, which is
     * right only for a slice that moves the cursor and needs no padding at the block's start; so
     * these are judged here, by the rule of a block never entered (see BlockChain).
     */
    private MemorySegment allocateEmptyOrOverAligned(long byteSize, long byteAlignment) {
        checkRequest(byteSize, byteAlignment);
        if (owner != Thread.currentThread()) {
            return allocateAsNewOwner(byteSize, byteAlignment);
        }
        if (!scopes.carving()) {
            readyToCarve();
        }
        if (inUnusedFirstBlock()) {
            long needed = blockBytesFor(byteSize, byteAlignment);
            if (needed > settings.largeThreshold()) {
                return allocateLarge(byteSize, byteAlignment, needed);
            }
            blocks.claimUnusedFirst();     // the block is this request's, even for an empty slice
            rearm();
        }
        return bump(byteSize, byteAlignment);
    }

    /** Cuts the slice at {@code start} off the current block and moves the cursor past it. */
    private MemorySegment carve(long start, long byteSize) {
        if (start != cursor) {
            blockPadding += start - cursor;
        }
        cursor = start + byteSize;
        return addressSpace.asSlice(start, byteSize);
    }

    /**
     * Lets the fast path carve from the current block if the scopes allow it, and traps it
     * otherwise. In the round's first block, unused, it carves only requests that are not large:
     * the block counts as used only once a request needs it, and a large one gets a block of its
     * own there, as in an arena that kept nothing.
     */
    private void rearm() {
        if (!scopes.carving()) {
            limit = TRAP;
        } else if (inUnusedFirstBlock()) {
            limit = blocks.currentStart() + settings.largeThreshold();
        } else {
            limit = blocks.currentEnd();
        }
    }

    /** {@return whether the current block is the round's first, from which nothing was carved yet} */
    private boolean inUnusedFirstBlock() {
        return blocks.inUnusedFirst(cursor - blocks.currentStart());
    }

    /** The request does not fit in the current block: move to another block, or give it its own. */
    private MemorySegment allocateSlow(long byteSize, long byteAlignment) {
        if (!scopes.carving()) {
            readyToCarve();
            return allocate(byteSize, byteAlignment);
        }
        if (limit != blocks.currentEnd() && !inUnusedFirstBlock()) {
            rearm();         // the round's first block is used now: all of it may be carved (see limit)
            return allocate(byteSize, byteAlignment);
        }
        long needed = blockBytesFor(byteSize, byteAlignment);
        assert needed > settings.largeThreshold() || !inUnusedFirstBlock() : "the first block serves a regular request";
        return needed > settings.largeThreshold()
                ? allocateLarge(byteSize, byteAlignment, needed)
                : allocateInNextBlock(byteSize, byteAlignment);
    }

    /** {@return the bytes of a new block that holds the request wherever the block lies} */
    private static long blockBytesFor(long byteSize, long byteAlignment) {
        long needed = byteSize + alignmentSlack(byteAlignment);
        // Beyond any address space: a limit or a budget refuses it as it refuses any request too
        // large for it (ArenaLimitException), and without one the C library does.
        return needed < 0 ? Long.MAX_VALUE : needed;
    }

    /** Sees to what trapped the fast path but the block: see {@link ScopeStack#carving()}. */
    private void readyToCarve() {
        if (scopes.closedOrEnding()) {
            throw alreadyClosed();
        }
        if (scopes.pending()) {
            openLevel();
        } else {
            addressSpace = scopes.unstale();
        }
        rearm();
    }

    /**
     * The caller does not own the arena: it becomes the owner if nobody is, but only if its
     * request succeeds. A refused request gives the claim back, so that the thread the arena was
     * meant for can still take it.
     */
    private MemorySegment allocateAsNewOwner(long byteSize, long byteAlignment) {
        java.lang.foreign.Arena lastGeneration = scopes.generation();
        MemorySegment lastSpace = addressSpace;
        claimAndStartGeneration();
        try {
            return allocate(byteSize, byteAlignment);
        } catch (RuntimeException | Error refused) {
            assert cursor == blocks.currentStart() : "a refused request carves nothing";
            scopes.generation().close();   // opened by the claim and empty: nothing can hold it
            scopes.restoreGeneration(lastGeneration);
            addressSpace = lastSpace;
            limit = TRAP;                  // as resetAndDisown() left it
            disown();
            throw refused;
        }
    }

    private MemorySegment allocateInNextBlock(long byteSize, long byteAlignment) {
        long start = blocks.currentStart();
        long end = blocks.currentEnd();
        boolean allocated = blocks.enterNext(cursor - start, byteSize, byteAlignment);
        boolean firstOfRound = end == BlockChain.NO_BLOCK_END;
        if (!firstOfRound) {
            usage.leftBlock(cursor - start - blockPadding, blockPadding, end - cursor);
        }
        blockPadding = 0;
        cursor = blocks.currentStart();
        rearm();
        long sliceStart = Alignment.alignUp(cursor, byteAlignment);
        assert byteSize <= limit - sliceStart : "a fresh block holds any regular request";
        MemorySegment slice = carve(sliceStart, byteSize);
        // Entering the round's first block again, after the round left it unused (for a large
        // request, or rewinding to a mark taken there), changes no figure but the cursor's.
        if (!firstOfRound || allocated) {
            publish();
        }
        return slice;
    }

    private MemorySegment allocateLarge(long byteSize, long byteAlignment, long blockBytes) {
        long usedOfCurrent = cursor - blocks.currentStart();
        Block block;
        try {
            block = blocks.takeLarge(usedOfCurrent, byteSize, byteAlignment, blockBytes);
        } finally {
            // Granted or refused, the chain leaves the round's first block if it is unused.
            cursor = blocks.currentStart() + usedOfCurrent;
            rearm();
        }
        long start = block.address() + block.used - byteSize;
        usage.leftBlock(byteSize, start - block.address(), block.size() - block.used);
        MemorySegment slice = addressSpace.asSlice(start, byteSize);
        publish();
        return slice;
    }

    /**
     * Marks the current position: closing the returned checkpoint frees every slice allocated
     * after it, and keeps every slice allocated before it. Checkpoints nest, so a connection's
     * arena can serve each request in a level of its own:
     *
     * {@snippet :
     * try (Arena arena = Arena.create()) {                     // the connection
     *     MemorySegment settings = arena.allocate(64);          // lives as long as the connection
     *     for (int request = 0; request < 3; request++) {
     *         try (var _ = arena.checkpoint()) {
     *             MemorySegment head = arena.allocate(8192);     // freed when the request ends
     *         }
     *     }
     *     assert settings.scope().isAlive();
     * }
     * }
     *
     * <p>Slices allocated in a level belong to its scope, which {@link #scope()} returns: a
     * confined JDK arena opened at its first slice, so that they die, as JDK segments do, when it
     * closes. A thread may take a checkpoint of an arena nobody owns, and becomes its owner.
     *
     * @return the checkpoint, open until it, a checkpoint outside it, {@link #reset()} or
     *         {@link #close()} closes it
     * @throws IllegalStateException if the arena is closed, or its cleanup actions are running
     * @throws WrongThreadException if another thread owns the arena
     */
    public Checkpoint checkpoint() {
        ensureOwnedByCaller();
        long serial = scopes.push();
        limit = TRAP;       // the level's first request takes the slow path, which opens it
        return new Checkpoint(this, scopes.depth(), serial);
    }

    /**
     * Opens the scope of the innermost level: from now on, slices are cut in it. The arena is
     * about to change for the first time since the levels without a mark were taken, so their
     * marks are taken first.
     */
    private void openLevel() {
        int depth = scopes.depth();
        if (!scopes.isMarked(depth)) {
            long[] marks = scopes.marks();
            int at = scopes.markAt(depth);
            marks[at + CURSOR_OFFSET] = cursor - blocks.currentStart();
            marks[at + BLOCK_PADDING] = blockPadding;
            usage.saveTo(marks, at + USAGE);
            blocks.saveTo(marks, at + CHAIN, cursor - blocks.currentStart());
            scopes.markUnmarked();
        }
        addressSpace = scopes.open(leakWatch, addressSpace);
    }

    /** Closes {@code level} and every level inside it, then rewinds to its mark: see {@link Checkpoint#close()}. */
    private void close(Checkpoint checkpoint) {
        refuseOtherOwner();
        if (scopes.closedOrEnding()) {
            throw alreadyClosed();
        }
        if (!scopes.isOpen(checkpoint.level, checkpoint.serial)) {
            throw new IllegalStateException("Checkpoint already closed");
        }
        // A level without a mark has allocated nothing: neither it nor any level inside it has a scope to end.
        Throwable cleanupFailure = scopes.isMarked(checkpoint.level) ? endLevels(checkpoint.level) : null;
        rewindTo(checkpoint.level);
        ScopeStack.rethrow(cleanupFailure);
    }

    /**
     * Moves the cursor and the blocks back to where they were when {@code level} was taken, and
     * makes the level around it the innermost. Its slices and those of the levels inside it must
     * be dead already.
     */
    private void rewindTo(int level) {
        boolean blocksChanged = false;
        if (scopes.isMarked(level)) {
            long[] marks = scopes.marks();
            int at = scopes.markAt(level);
            blocksChanged = blocks.rewindTo(marks, at + CHAIN, cursor - blocks.currentStart());
            cursor = blocks.currentStart() + marks[at + CURSOR_OFFSET];
            blockPadding = marks[at + BLOCK_PADDING];
            usage.restoreFrom(marks, at + USAGE);
        }
        scopes.rewoundTo(level, addressSpace);
        rearm();
        if (blocksChanged) {
            publish();                // last: the figures of the blocks and of the mark together
        }
    }

    /**
     * Returns a slice of {@code newByteSize} bytes that starts with the bytes of {@code slice}; the
     * bytes after them read as zeros unless the arena was built with {@code zeroed(false)}. A body
     * of unknown length can so be read into one slice:
     *
     * {@snippet :
     * MemorySegment body = arena.allocate(0);
     * for (byte[] chunk : chunks) {
     *     long length = body.byteSize();
     *     body = arena.grow(body, length + chunk.length);
     *     MemorySegment.copy(chunk, 0, body, ValueLayout.JAVA_BYTE, length, chunk.length);
     * }
     * }
     *
     * <p>The last slice of the current block grows <em>in place</em> while the block has room:
     * same address, nothing copied. Otherwise the bytes are copied to a slice allocated as
     * {@link #allocate(long, long)} would, aligned as {@code slice} was (up to 16 bytes).
     * {@code slice} stays valid until its level ends. A refused call changes nothing.
     *
     * @param slice a live slice of this arena's innermost level, or part of one
     * @param newByteSize the size of the result, at least that of {@code slice}
     * @return the grown slice, in the same level
     * @throws IllegalArgumentException if {@code slice} is not of the innermost level, is
     *         read-only, or is larger than {@code newByteSize}
     * @throws IllegalStateException if {@code slice} is dead, or the arena closed or ending
     * @throws ArenaLimitException if a copy would take the arena over its limit
     * @throws OutOfMemoryError if the C library has no memory for the copy's block
     * @throws WrongThreadException if another thread owns the arena
     */
    public MemorySegment grow(MemorySegment slice, long newByteSize) {
        refuseOtherOwner();
        if (scopes.closedOrEnding() || !slice.scope().isAlive()) {
            throw alreadyClosed();
        }
        if (scopes.stale()) {
            addressSpace = scopes.unstale();
            rearm();
        }
        if (scopes.pending() || !slice.scope().equals(addressSpace.scope())) {
            throw new IllegalArgumentException("Not a slice of this arena's innermost level: " + slice);
        }
        if (slice.isReadOnly()) {
            throw new IllegalArgumentException("Cannot grow a read-only segment: " + slice);
        }
        long oldSize = slice.byteSize();
        if (newByteSize < oldSize) {
            throw new IllegalArgumentException("The new size " + newByteSize + " is smaller than the slice: "
                    + oldSize);
        }
        long start = slice.address();
        if (start + oldSize == cursor && start >= blocks.currentStart()
                && newByteSize - oldSize <= blocks.currentEnd() - cursor) {
            cursor = start + newByteSize;
            return addressSpace.asSlice(start, newByteSize);
        }
        MemorySegment grown = allocate(newByteSize, Long.lowestOneBit(start | NativeMemory.MALLOC_ALIGNMENT));
        MemorySegment.copy(slice, 0, grown, 0, oldSize);
        return grown;
    }

    /**
     * Frees every slice at once and rewinds to the first block. Blocks are kept for the next
     * round up to {@linkplain Builder#retainBytes(long) retainBytes}, cleared if the arena is
     * zeroed; the rest are freed. Every slice allocated before becomes inaccessible, its cleanup
     * actions run, every open checkpoint is discarded, and {@link #scope()} returns a new scope.
     *
     * {@snippet :
     * MemorySegment stale = arena.allocate(100);
     * arena.reset();
     * stale.get(ValueLayout.JAVA_BYTE, 0);      // throws IllegalStateException
     * }
     *
     * @throws IllegalStateException if the arena is closed, or if a slice is in use by a downcall
     *         (the arena is then unchanged)
     * @throws WrongThreadException if another thread owns the arena
     * @throws RuntimeException what a cleanup action threw, after the reset is complete
     */
    public void reset() {
        ensureOwnedByCaller();
        Throwable cleanupFailure = endLevels(0);
        recycleBlocks();
        addressSpace = scopes.startGeneration(leakWatch);
        rearm();
        publishFreshRound();
        ScopeStack.rethrow(cleanupFailure);
    }

    /**
     * Resets the arena, then gives up its ownership, so that another thread can take it over: the
     * next thread whose allocation, reset or close of it succeeds becomes its owner. Until then
     * {@link #scope()} returns the closed scope of the last generation.
     *
     * {@snippet :
     * Arena arena = Arena.create();
     * arena.resetAndDisown();
     * Thread.ofVirtual().start(() -> {
     *     try (arena) {
     *         arena.allocate(100);              // this thread now owns the arena
     *     }
     * });
     * }
     *
     * @throws IllegalStateException if the arena is closed, or if a slice is in use by a downcall
     *         (the arena is then unchanged and still owned)
     * @throws WrongThreadException if another thread owns the arena
     * @throws RuntimeException what a cleanup action threw, after the arena was reset and disowned
     */
    public void resetAndDisown() {
        ensureOwnedByCaller();
        Throwable cleanupFailure = endLevels(0);
        recycleBlocks();
        publishFreshRound();
        disown();        // publishes everything the arena holds to the thread that claims it next
        ScopeStack.rethrow(cleanupFailure);
    }

    /**
     * Frees all native memory; the arena is finished. Every slice becomes inaccessible, its
     * cleanup actions run, and any later call other than the statistics throws
     * {@link IllegalStateException}. An arena that is never closed keeps its blocks until the
     * process ends, like an unclosed {@link java.lang.foreign.Arena#ofConfined()}. An arena from
     * an {@link ArenaPool} is reset and its blocks go back to the pool instead; this arena is
     * closed all the same.
     *
     * {@snippet :
     * try (Arena arena = Arena.create()) {
     *     arena.allocate(100);
     * }                                         // closed here
     * }
     *
     * @throws IllegalStateException if the arena is already closed, or if a slice is in use by a
     *         downcall (the arena is then unchanged, and may be closed once the downcall returns)
     * @throws WrongThreadException if another thread owns the arena, or owned it when it closed
     * @throws RuntimeException what a cleanup action threw, after the arena was closed
     */
    @Override
    public void close() {
        ensureOwnedByCaller();
        Throwable cleanupFailure = endLevels(0);
        scopes.close();
        if (leakWatch != null) {
            leakWatch.closed();   // first: a recovery must never free blocks that serve the next lease
        }
        long usedOfCurrent = cursor - blocks.currentStart();
        forgetRound(BlockChain.NO_BLOCK_START);    // with no block: the chain is not this arena's any more
        PUBLISHED.setRelease(this, CLOSED);
        try {
            recycler.recycle(blocks, usedOfCurrent);  // the blocks are not this arena's any more
        } catch (RuntimeException | Error failed) {
            if (cleanupFailure != null) {
                failed.addSuppressed(cleanupFailure);
            }
            throw failed;
        }
        ScopeStack.rethrow(cleanupFailure);
    }

    /**
     * Ends the levels from the innermost down to {@code last}: see {@link ScopeStack#endLevels}.
     * While their cleanup actions run, the fast path is trapped, so that one that allocates
     * reaches the slow path, and is refused.
     */
    private Throwable endLevels(int last) {
        limit = TRAP;      // and stays trapped: the caller rewinds or recycles, and re-arms
        Throwable failure;
        try {
            failure = scopes.endLevels(last, this, REWIND);
        } catch (RuntimeException | Error held) {
            rearm();       // a held scope: the arena is as it was, or rewound to a level inside it
            throw held;
        }
        if (last == 0) {
            MemorySegment generationSpace = scopes.generationSpace(addressSpace);
            if (addressSpace != generationSpace) {
                addressSpace = generationSpace;      // what an unowned or closed arena shows
            }
        }
        return failure;
    }

    /**
     * Keeps blocks up to retainBytes, cleared if zeroed, and frees the rest; the next round starts
     * in the first kept block, if any, once {@link #rearm()} lets it.
     */
    private void recycleBlocks() {
        blocks.recycle(cursor - blocks.currentStart());
        forgetRound(blocks.currentStart());
    }

    /** Forgets the round's figures and puts the cursor at {@code start}, with the fast path trapped. */
    private void forgetRound(long start) {
        cursor = start;
        limit = TRAP;
        blockPadding = 0;
        usage.reset();
    }

    /**
     * Returns the scope of the slices the arena hands out now: those of the innermost open
     * checkpoint, or, with none open, those handed out since the last reset. It stops being alive
     * when that checkpoint closes, or at the next {@link #reset()} or {@link #close()}, and a new
     * scope takes its place after a reset. Asked by the owner, it gives a checkpoint that has
     * handed out nothing yet its scope.
     *
     * <p>Any other thread may ask too, and is given a scope the arena really had, as it is given
     * figures the arena really had (see "Threads" above): usually a recent one, possibly closed
     * since, with no promise of which.
     *
     * {@snippet :
     * MemorySegment.Scope before = arena.scope();
     * arena.reset();
     * assert !before.isAlive() && arena.scope().isAlive();
     * }
     */
    @Override
    public MemorySegment.Scope scope() {
        if (!ownedByCaller()) {
            // Not the scope stack: the owner changes it without publishing. addressSpace only
            // ever holds segments bound to the arena's scopes, and a segment's fields are final,
            // so even a racy read gives a whole segment and one of those scopes.
            return addressSpace.scope();
        }
        if (scopes.pending() && !scopes.closedOrEnding()) {
            openLevel();
            rearm();
        }
        return scopes.innermostSpace(addressSpace).scope();
    }

    /**
     * {@return the arena's figures, taken together} The owner reads them exact; any other thread
     * reads those the owner last published (see "Threads" above); a closed arena's are all zero.
     *
     * {@snippet :
     * Arena arena = Arena.builder().blockSize(4096).build();
     * arena.allocate(1);
     * arena.allocate(8, 8);                     // 7 bytes skipped to reach an 8-byte boundary
     * Arena.Statistics figures = arena.statistics();
     * assert figures.allocatedBytes() == 9 && figures.paddingBytes() == 7;
     * assert figures.reservedBytes() == 4096 && figures.blockCount() == 1;
     * }
     */
    public Statistics statistics() {
        if (ownedByCaller() && !scopes.closed()) {
            return exactStatistics();
        }
        Statistics last = (Statistics) PUBLISHED.getAcquire(this);
        return last != null ? last : new Statistics(0, 0, 0, reservedAtStart, regularBlocksAtStart, largeBlocksAtStart);
    }

    /** Publishes the current figures to other threads; called on the owner thread after a change of blocks. */
    private void publish() {
        PUBLISHED.setRelease(this, exactStatistics());
    }

    /**
     * Publishes the figures of a round that has handed out nothing yet, unless other threads see
     * exactly those already. A round that stayed in its first, kept, block published nothing, so
     * they still see the figures of its start: a server's typical round then ends without
     * allocating a record or paying a store.
     */
    private void publishFreshRound() {
        assert usage.allocatedBytes(0) == 0 && blockPadding == 0 : "called between rounds";
        // The owner is the only writer: a plain read gives its own last write.
        Statistics seen = (Statistics) PUBLISHED.get(this);
        boolean unchanged = seen == null
                ? blocks.reservedBytes() == reservedAtStart && blocks.regularBlocks() == regularBlocksAtStart
                        && blocks.largeBlocks() == largeBlocksAtStart
                : seen.allocatedBytes() == 0 && seen.paddingBytes() == 0 && seen.unusedTailBytes() == 0
                        && seen.reservedBytes() == blocks.reservedBytes()
                        && seen.regularBlocks() == blocks.regularBlocks() && seen.largeBlocks() == blocks.largeBlocks();
        if (!unchanged) {
            publish();
        }
    }

    private Statistics exactStatistics() {
        long inCurrentBlock = cursor - blocks.currentStart() - blockPadding;     // 0 outside a block
        return new Statistics(usage.allocatedBytes(inCurrentBlock), usage.paddingBytes(blockPadding),
                usage.unusedTailBytes(), blocks.reservedBytes(), blocks.regularBlocks(), blocks.largeBlocks());
    }

    /**
     * The figures of an {@link Arena} at one moment, from {@link Arena#statistics()}.
     *
     * {@snippet :
     * Arena.Statistics figures = arena.statistics();
     * assert figures.allocatedBytes() + figures.paddingBytes() + figures.unusedTailBytes()
     *         <= figures.reservedBytes();
     * }
     *
     * @param allocatedBytes  the bytes handed out since the last reset: the sum of the requested
     *                        sizes, without alignment padding or unused block space
     * @param paddingBytes    the bytes skipped since the last reset to align slices: memory in
     *                        use that holds no requested byte
     * @param unusedTailBytes the bytes left free since the last reset at the end of blocks the
     *                        arena moved on from, because the next request did not fit, and at
     *                        the end of large blocks; not the free end of the current block, which
     *                        the next requests can still use
     * @param reservedBytes   the native memory the arena holds: every block, used or kept
     * @param regularBlocks   the regular blocks it holds, of {@code blockSize} bytes each
     * @param largeBlocks     the blocks of large requests it holds, in use or kept
     */
    public record Statistics(long allocatedBytes, long paddingBytes, long unusedTailBytes, long reservedBytes,
                             int regularBlocks, int largeBlocks) {

        /** {@return the native blocks the arena holds, regular and large} */
        public int blockCount() {
            return regularBlocks + largeBlocks;
        }
    }

    /**
     * Describes the arena in one line, for logs and debuggers, for example:
     * {@code Arena[allocated=5000000, padding=0, unusedTails=40736, reserved=5242880 in 80 blocks (80 regular, 0 large), blockSize=65536, retain=8388608, max=unlimited, zeroed, owner=main]}.
     */
    @Override
    public String toString() {
        Statistics figures = statistics();
        return "Arena[allocated=" + figures.allocatedBytes()
                + ", padding=" + figures.paddingBytes() + ", unusedTails=" + figures.unusedTailBytes()
                + ", reserved=" + figures.reservedBytes() + " in " + figures.blockCount()
                + (figures.blockCount() == 1 ? " block (" : " blocks (") + figures.regularBlocks() + " regular, "
                + figures.largeBlocks() + " large)"
                + ", " + settings + (figures == CLOSED ? ", closed" : ", owner=" + ownerName()) + "]";
    }

    private void ensureOwnedByCaller() {
        if (!ownedByCaller()) {
            claimAndStartGeneration();
        } else if (scopes.closedOrEnding()) {
            throw alreadyClosed();
        }
    }

    /** Takes an arena nobody owns and opens a generation for its new owner; refuses anything else. */
    private void claimAndStartGeneration() {
        claim();
        assert !scopes.closed() : "a closed arena keeps the owner that closed it";
        addressSpace = scopes.startGeneration(leakWatch);
        rearm();
    }

    /** The JDK's message when a closed arena, or a slice of one, is used. */
    private static IllegalStateException alreadyClosed() {
        return new IllegalStateException("Already closed");
    }

    private static void checkRequest(long byteSize, long byteAlignment) {
        if (byteSize < 0 || !Alignment.isValid(byteAlignment)) {
            throw new IllegalArgumentException(byteSize < 0
                    ? "The provided allocation size is negative: " + byteSize
                    : "Invalid alignment constraint : " + byteAlignment);     // the JDK's words
        }
    }

    /** Bytes a fresh block may need to skip to reach {@code alignment}: blocks are malloc-aligned. */
    private static long alignmentSlack(long alignment) {
        return Math.max(0, alignment - NativeMemory.MALLOC_ALIGNMENT);
    }

    /**
     * A mark in an {@link Arena}, taken by {@link Arena#checkpoint()}: closing it frees, at once,
     * every slice allocated since, and the arena allocates from the mark again. It is the scope of
     * one request inside the arena of a connection.
     *
     * {@snippet :
     * MemorySegment kept = arena.allocate(100);
     * try (var _ = arena.checkpoint()) {
     *     MemorySegment temporary = arena.allocate(100);
     * }                                        // temporary is now inaccessible; kept is intact
     * }
     */
    public static final class Checkpoint implements AutoCloseable {

        private final Arena arena;
        /** Its level: 1 for a checkpoint of the generation, 2 for one inside it, and so on. */
        private final int level;
        /** Tells this checkpoint from a later one at the same level: see ScopeStack. */
        private final long serial;

        private Checkpoint(Arena arena, int level, long serial) {
            this.arena = arena;
            this.level = level;
            this.serial = serial;
        }

        /**
         * Rewinds the arena to this mark, closing checkpoints taken inside it first: every slice
         * allocated since dies, as at {@link Arena#reset()}, and its cleanup actions run; slices
         * allocated before stay intact. Blocks entered since are kept or freed as a reset would.
         *
         * {@snippet :
         * Arena.Checkpoint request = arena.checkpoint();
         * MemorySegment head = arena.allocate(8192);
         * request.close();
         * head.get(ValueLayout.JAVA_BYTE, 0);      // throws IllegalStateException
         * }
         *
         * <p>If a slice of a level being closed is in use by a downcall, that level and those
         * around it stay open and {@link IllegalStateException} is thrown, as the JDK refuses to
         * close a held arena; levels inside the held one are closed, as their own close would.
         *
         * @throws IllegalStateException if this checkpoint is closed already, or was discarded by
         *         a checkpoint outside it or a reset ("Checkpoint already closed"); if the arena is
         *         closed or its cleanup actions are running ("Already closed"); or if a slice of a
         *         level it closes is in use by a downcall (see above)
         * @throws WrongThreadException if another thread owns the arena
         * @throws RuntimeException what a cleanup action threw, after the checkpoint was closed
         */
        @Override
        public void close() {
            arena.close(this);
        }
    }

    /**
     * Configures an {@link Arena}, or every arena of an {@link ArenaPool}: the package summary
     * says what each setting costs. Setters check their own argument; {@link #build()} checks how
     * they fit together. Every setter returns this builder.
     *
     * {@snippet :
     * Arena arena = Arena.builder().blockSize(256 * 1024).maxBytes(4 << 20).build();
     * }
     */
    public static final class Builder extends SettingsBuilder<Builder> {

        /** Standalone arenas built so far, for {@link LeakDetection#SAMPLED}. */
        private static final AtomicLong STANDALONE_ARENAS = new AtomicLong();

        private Builder() {}

        // Overridden so that the public signatures, not only the generic ones, return this type.
        @Override public Builder blockSize(long bytes) { return super.blockSize(bytes); }
        @Override public Builder maxBytes(long bytes) { return super.maxBytes(bytes); }
        @Override public Builder retainBytes(long bytes) { return super.retainBytes(bytes); }
        @Override public Builder zeroed(boolean zeroed) { return super.zeroed(zeroed); }
        @Override public Builder leakDetection(LeakDetection level) { return super.leakDetection(level); }

        /**
         * Creates the arena, owned by the calling thread. It holds no native memory yet.
         *
         * @return a new arena with these settings
         * @throws IllegalArgumentException if the block size or the retained bytes exceed the
         *         limit, or no level of leak detection is set and the system property names none
         */
        public Arena build() {
            ArenaSettings settings = settings();
            BlockChain blocks = new BlockChain(settings, BlockBudget.NONE);
            boolean watched = settings.leakDetectionOr(null).watches(STANDALONE_ARENAS.getAndIncrement());
            LeakWatch watch = watched ? new LeakWatch(blocks, null, () -> {}) : null;
            return new Arena(settings, blocks, ChainRecycler.FREE, watch);
        }
    }
}
