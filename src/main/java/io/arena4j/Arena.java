package io.arena4j;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

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
 * <h2>Blocks, large requests and limits</h2>
 * Requests are served from regular blocks of {@linkplain Builder#blockSize(long) blockSize} bytes.
 * When the current block has too little room, the arena moves on to the next block it kept from
 * an earlier round, and allocates a new one only when none is left; the rest of the old block
 * stays unused until the next reset. A request that does not fit in the current block and is
 * larger than a quarter of a block, counting the padding its alignment may need beyond 16 bytes
 * (the alignment of every block), gets a block of its own, so that one big body between small
 * headers wastes nothing and does not change the size of later blocks. A round starts with no
 * current block, even in an arena that kept some, so its first request is placed as in an arena
 * that kept nothing: a regular one enters the first kept block, a large one gets its own.
 *
 * <p>All native memory counts against {@linkplain Builder#maxBytes(long) maxBytes}, at every
 * instant: kept blocks that the current round has not used are freed before a new block is
 * allocated, never after. Those kept blocks never make the arena refuse a request: it throws
 * {@link ArenaLimitException} only if the blocks holding this round's slices and the block the
 * request needs would cross the limit, so it serves whatever an arena with the same settings that
 * kept nothing would serve. The same holds under the budget of an {@link ArenaPool}, for which
 * those kept blocks count as free too. A refused request changes nothing.
 *
 * <h2>Reset and retained memory</h2>
 * {@link #reset()} keeps regular blocks, then blocks of large requests, while their total stays
 * within {@linkplain Builder#retainBytes(long) retainBytes}, and frees the rest. It costs a little
 * per block, plus, in a zeroed arena, clearing the bytes the round used.
 *
 * <h2>Request scopes and growing slices</h2>
 * A connection's arena can serve each request in a {@linkplain #checkpoint() checkpoint}:
 * closing it frees everything allocated since, and keeps what was allocated before, such as the
 * bytes read ahead for the next request. Checkpoints nest, and each is a level with a scope of
 * its own. {@link #grow(MemorySegment, long)} extends the last slice in place when its block has
 * room, and copies it otherwise, for data of unknown length.
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
 * <h2>Zeroing</h2>
 * By default every slice reads as zeros, as with the JDK's arenas and {@code new byte[]}. The
 * cost is paid in bulk, where it is cheapest: new blocks come from {@code calloc}, and
 * {@code reset()} clears only the used prefix of each block it keeps. Allocation itself never
 * writes memory, so {@code allocateFrom(...)} pays nothing to clear bytes it then overwrites, and
 * an idle arena holds none of the last connection's bytes. {@link Builder#zeroed(boolean)
 * zeroed(false)} turns clearing off, like {@code malloc}.
 *
 * <h2>Threads</h2>
 * Like {@link java.lang.foreign.Arena#ofConfined()}, an arena belongs to one thread, its owner:
 * the thread that created it. Allocating, resetting and closing it, and accessing its slices, from
 * any other thread throws {@link WrongThreadException}. To hand an arena to another thread, its
 * owner calls {@link #resetAndDisown()}; the next thread whose allocation, reset or close of it
 * succeeds becomes its owner, and a refused call claims nothing. The hand-off is safe without
 * further synchronisation, and two threads can never both become the owner.
 *
 * <p>The statistics ({@link #allocatedBytes()}, {@link #reservedBytes()}, {@link #blockCount()},
 * {@link #toString()}) and {@link #scope()} may be read from any thread. The owner reads exact
 * figures. Any other thread reads the figures the owner last published, which it does whenever it
 * links in or enters a block (but the first block of a round, when it was kept), serves a large
 * request, rewinds blocks at a checkpoint's close, resets or closes the arena: always figures the
 * arena really had together, but without the slices carved from the current block since; and,
 * from {@code scope()}, one of the scopes the arena had.
 *
 * <h2>Native access</h2>
 * Blocks come from the C library through FFM downcalls, and slices are bound to their generation
 * with {@link MemorySegment#reinterpret(long, java.lang.foreign.Arena, java.util.function.Consumer)}:
 * run with {@code --enable-native-access=ALL-UNNAMED} (or {@code =io.arena4j} on the module path)
 * so that the JDK does not print a warning.
 */
public final class Arena implements java.lang.foreign.Arena {

    /** Size of a regular block unless {@link Builder#blockSize(long)} says otherwise: 64 KiB. */
    public static final long DEFAULT_BLOCK_SIZE = 64 * 1024;

    /** The value of {@link Builder#maxBytes(long)} that means "no limit", the default. */
    public static final long UNLIMITED = Long.MAX_VALUE;

    /** Smallest block size: below it almost every request would be a large one. */
    static final long MIN_BLOCK_SIZE = 256;

    /** Largest block size: 1 GiB. Larger requests get a block of their own anyway. */
    static final long MAX_BLOCK_SIZE = 1L << 30;

    /*
     * Outside a block, cursor > limit makes every request, even one of zero bytes, miss the fast
     * path: Alignment.alignUp(1, alignment) >= 1 > 0. blockStart == cursor there, so that the
     * current block adds nothing to allocatedBytes().
     */
    private static final long NO_BLOCK_CURSOR = 1;
    private static final long NO_BLOCK_LIMIT = 0;

    private static final VarHandle OWNER;
    /** Standalone arenas built so far, for {@link LeakDetection#SAMPLED}. */
    private static final AtomicLong STANDALONE_ARENAS = new AtomicLong();

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(Arena.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Requests needing more than this, with alignment slack, get a block of their own. */
    private final long largeThreshold;

    // The fast path reads cursor, limit, owner and addressSpace; it writes cursor, and
    // blockPadding when it has to align up.
    private long cursor = NO_BLOCK_CURSOR;   // address of the first free byte of the current block
    private long limit = NO_BLOCK_LIMIT;     // address one past the end of the current block
    private Thread owner;                    // null between resetAndDisown() and the next claim
    /**
     * All of memory in the generation's scope. Slices are cut from it at their absolute address,
     * as the JDK's slicing allocator cuts from its segment, so moving to another block costs no
     * new binding. It is never handed out, and every offset used lies in a block of this arena.
     */
    private MemorySegment addressSpace;
    /**
     * True when a checkpoint with a scope of its own has closed and addressSpace still binds its
     * dead scope: the next slow path, grow() or scope() puts back the scope of the level now
     * innermost. Putting it back at once would cost a reference write into this long-lived
     * object, a G1 fence, for every request, though the next request usually opens a level of
     * its own first. While true, limit stays NO_BLOCK_LIMIT.
     */
    private boolean spaceStale;
    /** True while cleanup actions of a level run: the arena is then as good as closed. */
    private boolean ending;
    /** The generation (level 0) and the open checkpoints above it, with their marks and scopes. */
    private final Levels levels;
    /** Set while this arena, or this lease of a pooled one, is watched for a leak: see LeakDetection. */
    private LeakWatch leakWatch;
    private long blockStart = NO_BLOCK_CURSOR;   // address of the current block
    /** The end of the current block: limit, unless a level waits to open or cleanup actions run. */
    private long blockEnd = NO_BLOCK_LIMIT;

    /*
     * allocatedBytes() without a counter in the fast path: the bytes between the start of the
     * current block and the cursor, less the alignment padding among them, plus what earlier
     * blocks and large requests handed out in this generation.
     */
    private long blockPadding;
    private long handedOutBefore;
    /*
     * What the figures lose since the last reset, besides blockPadding: the alignment padding of
     * earlier blocks and of large requests, and the free ends of blocks the arena moved on from
     * and of large blocks.
     */
    private long paddingBefore;
    private long unusedTails;

    /** The native blocks, the limit and what a reset keeps: called only off the fast path. */
    private final BlockChain blocks;
    private boolean closed;
    /** Where close() returns this arena's blocks, or null for a standalone arena. */
    private final ArenaPool pool;
    /** What threads other than the owner read: see "Threads" above. */
    private volatile Figures published;

    private Arena(Builder settings, ArenaPool pool) {
        this.largeThreshold = settings.blockSize / 4;
        this.blocks = new BlockChain(settings.blockSize, settings.maxBytes,
                settings.retainBytes < 0 ? settings.blockSize : settings.retainBytes, settings.zeroed,
                settings.blockAllocator, pool == null ? BlockBudget.NONE : pool.budget());
        this.pool = pool;
        this.levels = new Levels();
        this.owner = Thread.currentThread();
        startGeneration();
        publish();
    }

    /**
     * A new handle for the blocks of a pooled arena just closed, which stays closed: a stale
     * reference to it can never reach the next connection's arena. The new one has no owner yet.
     */
    private Arena(Arena closed) {
        this.largeThreshold = closed.largeThreshold;
        this.blocks = closed.blocks.handOver();
        this.pool = closed.pool;
        this.levels = new Levels();
        this.addressSpace = closed.addressSpace;  // closed: scope() is not alive until a claim
        this.levels.startGeneration(closed.levels.generation(), addressSpace);
        closed.publish();
        publish();
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
     * {@link #reset()} or {@link #close()}. A refused request changes nothing, and claims nothing
     * for a thread that does not own the arena.
     *
     * <p>Two slices alive at the same time never overlap. This is the one deliberate difference
     * from the contract of {@link java.lang.foreign.Arena#allocate(long, long)}, which says that
     * no two segments an arena ever returns overlap: after a {@code reset()}, a new slice may lie
     * at the address of a slice of an earlier round, since reusing that memory is the point of a
     * reset. It is safe because the earlier slice is dead: its scope was closed by the reset,
     * and any access through it throws {@link IllegalStateException}, so no two segments through
     * which the same bytes can be reached are ever alive at once. The same holds for the slices of
     * a {@linkplain #checkpoint() checkpoint} after it closes.
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
        checkRequest(byteSize, byteAlignment);
        if (owner != Thread.currentThread()) {
            return allocateAsNewOwner(byteSize, byteAlignment);
        }
        long start = Alignment.alignUp(cursor, byteAlignment);
        if (byteSize > limit - start) {
            return allocateSlow(byteSize, byteAlignment);
        }
        return carve(start, byteSize);
    }

    /** Cuts the slice at {@code start} off the current block and moves the cursor past it. */
    private MemorySegment carve(long start, long byteSize) {
        if (start != cursor) {
            blockPadding += start - cursor;
        }
        cursor = start + byteSize;
        return addressSpace.asSlice(start, byteSize);
    }

    /** The request does not fit in the current block: move to another block, or give it its own. */
    private MemorySegment allocateSlow(long byteSize, long byteAlignment) {
        if (closed || ending) {
            throw alreadyClosed();
        }
        if (levelPending()) {
            openLevel();
            return allocate(byteSize, byteAlignment);
        }
        if (spaceStale) {
            restoreSpace();
            return allocate(byteSize, byteAlignment);
        }
        long needed = byteSize + alignmentSlack(byteAlignment);
        if (needed < 0) {
            // Beyond any address space: a limit or a budget refuses it as it refuses any request
            // too large for it (ArenaLimitException), and without one the C library does.
            needed = Long.MAX_VALUE;
        }
        if (needed > largeThreshold) {
            MemorySegment slice = allocateLarge(byteSize, byteAlignment, needed);
            publish();
            return slice;
        }
        boolean firstOfRound = blockEnd == NO_BLOCK_LIMIT;
        int regularBefore = blocks.regularBlocks();
        MemorySegment slice = allocateInNextBlock(byteSize, byteAlignment);
        // Entering the round's first block when it was kept changes no figure but the cursor's:
        // a round pays nothing for publishing figures that a reset published already.
        if (!firstOfRound || blocks.regularBlocks() != regularBefore) {
            publish();
        }
        return slice;
    }

    /**
     * The caller does not own the arena: it becomes the owner if nobody is, but only if its
     * request succeeds. A refused request gives the claim back, so that the thread the arena was
     * meant for can still take it.
     */
    private MemorySegment allocateAsNewOwner(long byteSize, long byteAlignment) {
        java.lang.foreign.Arena lastGeneration = levels.generation();
        MemorySegment lastAddressSpace = addressSpace;
        claimOrThrow();
        try {
            return allocate(byteSize, byteAlignment);
        } catch (RuntimeException | Error refused) {
            levels.generation().close();   // opened by the claim and empty: nothing can hold it
            levels.startGeneration(lastGeneration, lastAddressSpace);
            addressSpace = lastAddressSpace;
            leaveBlocks();             // as resetAndDisown() left it
            OWNER.setRelease(this, (Thread) null);
            throw refused;
        }
    }

    private MemorySegment allocateInNextBlock(long byteSize, long byteAlignment) {
        Block next = blocks.enterNext(cursor - blockStart, byteSize, byteAlignment);
        if (blockEnd != NO_BLOCK_LIMIT) {
            unusedTails += blockEnd - cursor;
        }
        handedOutBefore += cursor - blockStart - blockPadding;
        paddingBefore += blockPadding;
        blockPadding = 0;
        enter(next);
        long start = Alignment.alignUp(cursor, byteAlignment);
        assert start + byteSize <= limit : "a fresh block holds any regular request";
        return carve(start, byteSize);
    }

    private void enter(Block block) {
        blockStart = block.address();
        cursor = blockStart;
        blockEnd = blockStart + block.size();
        limit = blockEnd;
    }

    private MemorySegment allocateLarge(long byteSize, long byteAlignment, long blockBytes) {
        Block block = blocks.takeLarge(byteSize, byteAlignment, blockBytes);
        long start = Alignment.alignUp(block.address(), byteAlignment);
        block.used = start - block.address() + byteSize;
        handedOutBefore += byteSize;
        paddingBefore += start - block.address();
        unusedTails += block.size() - block.used;
        return addressSpace.asSlice(start, byteSize);
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
     *         try (Arena.Checkpoint scope = arena.checkpoint()) {
     *             MemorySegment head = arena.allocate(8192);     // freed when the request ends
     *         }
     *     }
     *     assert settings.scope().isAlive();
     * }
     * }
     *
     * <p>{@link #scope()} is the scope of the innermost open level, and slices allocated in a level
     * belong to it. A level has no JDK arena until it hands out its first slice or its scope is
     * asked for; then it opens a confined JDK arena of its own, so that its slices die, as JDK
     * segments do, when it is closed. Like {@link #allocate(long, long)}, a thread may take a checkpoint of
     * an arena nobody owns, and becomes its owner.
     *
     * @return the checkpoint, open until it, a checkpoint outside it, {@link #reset()} or
     *         {@link #close()} closes it
     * @throws IllegalStateException if the arena is closed, or its cleanup actions are running
     * @throws WrongThreadException if another thread owns the arena
     */
    public Checkpoint checkpoint() {
        ensureOwnedByCaller();
        long serial = levels.push();
        limit = NO_BLOCK_LIMIT;       // the level's first request takes the slow path, which opens it
        return new Checkpoint(this, levels.depth(), serial);
    }

    /** {@return whether the innermost level has not opened its scope yet: see checkpoint()} */
    private boolean levelPending() {
        return levels.pending();
    }

    /**
     * Opens the scope of the innermost level: from now on, slices are cut in it. The arena is
     * about to change for the first time since the levels without a mark were taken, so their
     * marks are taken first.
     */
    private void openLevel() {
        levels.mark(cursor, blockStart, blockPadding, handedOutBefore, paddingBefore, unusedTails,
                blocks.markBlock(), blocks.markLarge(), blocks.changes());
        java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofConfined();
        levels.open(scope, spaceStale ? null : addressSpace);
        addressSpace = bind(scope);
        spaceStale = false;
        openFastPath();
    }

    /** Binds addressSpace to the scope of the innermost level that has one again: see spaceStale. */
    private void restoreSpace() {
        addressSpace = levels.innermostSpace();
        spaceStale = false;
        openFastPath();
    }

    /**
     * Lets the fast path carve from the current block again, unless a level waits to open its
     * scope or addressSpace is stale: then every request must reach the slow path, which sees to
     * both first.
     */
    private void openFastPath() {
        limit = levelPending() || spaceStale ? NO_BLOCK_LIMIT : blockEnd;
    }

    /** Closes {@code level} and every level inside it, then rewinds to its mark: see {@link Checkpoint#close()}. */
    private void close(Checkpoint checkpoint) {
        refuseOtherOwner();
        if (closed || ending || !levels.isOpen(checkpoint.level, checkpoint.serial)) {
            throw alreadyClosed();
        }
        // A level without a mark has allocated nothing: neither it nor any level inside it has a scope to end.
        Throwable cleanupFailure = levels.isMarked(checkpoint.level) ? endLevels(checkpoint.level) : null;
        rewindTo(checkpoint.level);
        rethrow(cleanupFailure);
    }

    /**
     * Moves the cursor and the blocks back to where they were when {@code level} was taken, and
     * makes the level around it the innermost. Its slices and those of the levels inside it must
     * be dead already.
     */
    private void rewindTo(int level) {
        if (!levels.isMarked(level)) {
            levels.dropUnmarked(level);       // nothing changed since it was taken
            openFastPath();
            return;
        }
        boolean blocksChanged = levels.blockChanges(level) != blocks.changes();
        if (blocksChanged) {
            rewindBlocks(level);
        } else {
            blocks.clear(levels.cursor(level), cursor);   // only the cursor moved: the common request
            cursor = levels.cursor(level);
        }
        blockPadding = levels.blockPadding(level);
        handedOutBefore = levels.handedOutBefore(level);
        paddingBefore = levels.paddingBefore(level);
        unusedTails = levels.unusedTails(level);
        MemorySegment outer = levels.spaceBelow(level);
        if (outer != null && outer != addressSpace) {
            spaceStale = true;        // a closed level's scope: put back lazily, see spaceStale
        }
        levels.discardAbove(level - 1);
        openFastPath();
        if (blocksChanged) {
            publish();                // last: the figures of the blocks and of the mark together
        }
    }

    /** Rewinds the chain to the mark of {@code level}, when blocks were entered or taken since. */
    private void rewindBlocks(int level) {
        int markBlock = levels.markBlock(level);
        blocks.rewind(markBlock, levels.cursor(level) - levels.blockStart(level), levels.markLarge(level),
                cursor - blockStart);
        if (markBlock < 0) {
            leaveBlock();             // as a round starts: see startGeneration()
        } else {
            blockStart = levels.blockStart(level);
            cursor = levels.cursor(level);
            blockEnd = blocks.currentEnd();
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
     * <p>If {@code slice} is the last one carved from the current block and the block has room, it
     * grows <em>in place</em>: the result has the same address, nothing is copied, and
     * {@code slice} stays valid for its own size. Otherwise the bytes are copied to a new slice,
     * allocated as {@link #allocate(long, long)} allocates (so under the same limit, and in a block
     * of its own if it is large) and aligned as {@code slice} was, up to 16 bytes; {@code slice}
     * stays valid until its level ends. A refused call changes nothing.
     *
     * @param slice a live slice of this arena's innermost level, or part of one
     * @param newByteSize the size of the result, at least that of {@code slice}
     * @return the grown slice, in the same level
     * @throws IllegalArgumentException if {@code slice} is not a slice of the innermost level (a
     *         slice of an outer level, of another arena, or a heap segment), is read-only, or is
     *         larger than {@code newByteSize}
     * @throws IllegalStateException if {@code slice} is no longer alive, the arena is closed, or its
     *         cleanup actions are running
     * @throws ArenaLimitException if a copy would take the arena over its limit
     * @throws OutOfMemoryError if the C library has no memory for the copy's block
     * @throws WrongThreadException if another thread owns the arena
     */
    public MemorySegment grow(MemorySegment slice, long newByteSize) {
        refuseOtherOwner();
        if (closed || ending || !slice.scope().isAlive()) {
            throw alreadyClosed();
        }
        if (spaceStale) {
            restoreSpace();
        }
        if (levelPending() || !slice.scope().equals(addressSpace.scope())) {
            throw new IllegalArgumentException("Not a slice of this arena's innermost level: " + slice);
        }
        if (slice.isReadOnly()) {
            throw new IllegalArgumentException("Cannot grow a read-only segment: " + slice);
        }
        long oldSize = slice.byteSize();
        if (newByteSize < oldSize) {
            throw new IllegalArgumentException("The new size " + newByteSize + " is smaller than the slice: " + oldSize);
        }
        long start = slice.address();
        if (start + oldSize == cursor && start >= blockStart && newByteSize - oldSize <= limit - cursor) {
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
        startGeneration();
        publish();
        rethrow(cleanupFailure);
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
        publish();
        // Publishes everything the arena holds to the thread whose claim (a CAS) will see null.
        OWNER.setRelease(this, (Thread) null);
        rethrow(cleanupFailure);
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
     * @throws WrongThreadException if another thread owns the arena
     * @throws RuntimeException what a cleanup action threw, after the arena was closed
     */
    @Override
    public void close() {
        ensureOwnedByCaller();
        Throwable cleanupFailure = endLevels(0);
        closed = true;
        if (pool != null) {
            long beforeTrim = blocks.reservedBytes();
            recycleBlocks();          // what a reset keeps, cleared, goes back to the pool
            pool.takeBack(this, beforeTrim - blocks.reservedBytes());   // publishes the figures
        } else {
            leaveBlocks();
            freeBlocks();
        }
        if (leakWatch != null) {
            leakWatch.closed();
        }
        rethrow(cleanupFailure);
    }

    /**
     * Closes the scopes of the levels from the innermost down to {@code last}, where level 0 is
     * the generation itself, as the JDK closes confined arenas. Afterwards the levels closed hold
     * no live slice, and the caller rewinds or recycles.
     *
     * <p>If a scope is held (a slice is in use by a downcall), the JDK refuses to close it and so
     * does this: that level and those below it stay open, and the exception is thrown. The JDK
     * offers no way to ask whether a scope is held without closing it, so levels above the held
     * one that were already closed stay closed, and the arena is rewound to the mark of the
     * lowest of them, exactly as their own close would have left it. When the innermost level is
     * the one held, nothing has changed.
     *
     * <p>If a cleanup action throws, the scope is closed all the same, the other levels are still
     * closed, and the first failure is returned, with later ones suppressed, for the caller to
     * rethrow once the arena is consistent again.
     */
    private Throwable endLevels(int last) {
        Throwable failure = null;
        for (int level = levels.depth(); level >= last; level--) {
            try {
                failure = firstOf(failure, endScope(levels.scope(level)));
            } catch (RuntimeException | Error held) {
                if (level < levels.depth()) {
                    rewindTo(level + 1);
                }
                if (failure != null) {
                    held.addSuppressed(failure);
                }
                throw held;
            }
        }
        levels.discardAbove(last);
        if (last == 0 && addressSpace != levels.generationSpace()) {
            addressSpace = levels.generationSpace();     // what an unowned or closed arena shows
            spaceStale = false;
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
        long lastLimit = limit;
        limit = NO_BLOCK_LIMIT;          // cleanup actions that allocate reach allocateSlow, and fail
        ending = true;
        try {
            scope.close();
            return null;
        } catch (RuntimeException | Error e) {
            if (scope.scope().isAlive()) {
                limit = lastLimit;
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

    private static void rethrow(Throwable cleanupFailure) {
        if (cleanupFailure instanceof RuntimeException e) {
            throw e;
        }
        if (cleanupFailure instanceof Error e) {
            throw e;
        }
        assert cleanupFailure == null : "close() throws no checked exception";
    }

    /**
     * Opens a new generation. No block is current yet, even if the arena kept some: the first
     * request takes the slow path, which enters the first kept block for a regular request and
     * gives a large one a block of its own, exactly as an arena that kept nothing would. Were a
     * kept block entered at once, a large request would be carved from it, and the whole block
     * would count against the limit for the rest of the round.
     */
    private void startGeneration() {
        java.lang.foreign.Arena generation = java.lang.foreign.Arena.ofConfined();
        addressSpace = bind(generation);
        spaceStale = false;
        levels.startGeneration(generation, addressSpace);
    }

    /** {@return all of memory in the scope of {@code level}: see addressSpace} */
    @SuppressWarnings("restricted")   // binding the blocks' memory to a level is the point
    private MemorySegment bind(java.lang.foreign.Arena level) {
        Consumer<MemorySegment> watching = leakWatch == null ? null : leakWatch.keepWatching();
        return MemorySegment.NULL.reinterpret(Long.MAX_VALUE, level, watching);
    }

    /**
     * Watches this arena for a leak from now on: see {@link LeakWatch}. Its generation, just
     * opened and without a slice, is bound again so that it too keeps the watch's sentinel.
     */
    void watchForLeaks() {
        assert leakWatch == null && levels.depth() == 0 && liveAllocatedBytes() == 0;
        leakWatch = new LeakWatch(blocks, pool);
        addressSpace = bind(levels.generation());
        levels.startGeneration(levels.generation(), addressSpace);
    }

    /** Keeps blocks up to retainBytes, cleared if zeroed, and frees the rest; leaves every block. */
    private void recycleBlocks() {
        blocks.recycle(cursor - blockStart);
        leaveBlocks();
    }

    /** Leaves the current block, if any: every request takes the slow path until one is entered. */
    private void leaveBlock() {
        blockStart = NO_BLOCK_CURSOR;
        cursor = NO_BLOCK_CURSOR;
        blockEnd = NO_BLOCK_LIMIT;
        limit = NO_BLOCK_LIMIT;
    }

    /** Leaves every block at the end of a round: nothing is handed out any more. */
    private void leaveBlocks() {
        leaveBlock();
        blockPadding = 0;
        handedOutBefore = 0;
        paddingBefore = 0;
        unusedTails = 0;
    }

    /** Frees every block; the caller has made sure that no slice of them is alive. */
    void freeBlocks() {
        blocks.freeAll();
        publish();
    }

    /**
     * Frees every block of this idle arena, as {@link #freeBlocks()}, but leaves their bytes in
     * the pool's budget: they pay for a block of another arena of the pool.
     */
    void freeBlocksForAnotherArena() {
        blocks.freeAllForAnotherChain();
        publish();
    }

    /** Moves the blocks of this closed, pooled arena to a new, unowned arena for the next lease. */
    Arena handOver() {
        assert closed && pool != null;
        return new Arena(this);
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
        if (owner != Thread.currentThread()) {
            // Not the levels: the owner changes them without publishing. addressSpace only ever
            // holds segments bound to the arena's scopes, and a segment's fields are final, so
            // even a racy read gives a whole segment and one of those scopes.
            return addressSpace.scope();
        }
        if (levelPending() && !ending) {
            openLevel();
        }
        return spaceStale ? levels.innermostSpace().scope() : addressSpace.scope();
    }

    /**
     * {@return the bytes handed out since the last reset: the sum of the requested sizes, without
     * alignment padding or unused block space} Read from a thread other than the owner, it is the
     * figure the owner last published (see "Threads" above).
     *
     * {@snippet :
     * arena.allocate(10);
     * arena.allocate(20, 16);
     * assert arena.allocatedBytes() == 30;
     * }
     */
    public long allocatedBytes() {
        return Thread.currentThread() == owner ? liveAllocatedBytes() : published.allocatedBytes();
    }

    private long liveAllocatedBytes() {
        return handedOutBefore + cursor - blockStart - blockPadding;     // 0 + 0 outside a block
    }

    /**
     * {@return the bytes skipped since the last reset to align slices: memory in use that holds
     * no requested byte} Read from another thread, it is the figure the owner last published.
     *
     * {@snippet :
     * arena.allocate(1);
     * arena.allocate(8, 8);                     // 7 bytes skipped to reach an 8-byte boundary
     * assert arena.paddingBytes() == 7;
     * }
     */
    public long paddingBytes() {
        return Thread.currentThread() == owner ? paddingBefore + blockPadding : published.paddingBytes();
    }

    /**
     * {@return the bytes left free since the last reset at the end of blocks the arena moved on
     * from, because the next request did not fit, and at the end of large blocks} The free end
     * of the current block is not counted: the next requests can still use it. Read from another
     * thread, it is the figure the owner last published.
     *
     * {@snippet :
     * Arena arena = Arena.builder().blockSize(4096).build();
     * for (int i = 0; i < 5; i++) {
     *     arena.allocate(1000);                 // the fifth does not fit: a new block
     * }
     * assert arena.unusedTailBytes() == 4096 - 4000;
     * }
     */
    public long unusedTailBytes() {
        return Thread.currentThread() == owner ? unusedTails : published.unusedTailBytes();
    }

    /**
     * {@return the native memory this arena holds right now, in bytes: every block, used or kept}
     *
     * {@snippet :
     * Arena arena = Arena.create();
     * assert arena.reservedBytes() == 0;                       // nothing until the first request
     * arena.allocate(10);
     * assert arena.reservedBytes() == Arena.DEFAULT_BLOCK_SIZE;
     * }
     */
    public long reservedBytes() {
        return figures().reservedBytes();
    }

    /**
     * {@return the number of native blocks this arena holds right now, regular and large}
     *
     * {@snippet :
     * arena.allocate(1 << 20);                  // a large request: a block of its own
     * assert arena.blockCount() >= 1;
     * }
     */
    public int blockCount() {
        Figures figures = figures();
        return figures.regularBlocks() + figures.largeBlocks();
    }

    /**
     * Describes the arena in one line, for logs and debuggers, for example:
     * {@code Arena[allocated=5000000, padding=0, unusedTails=40736, reserved=5242880 in 80 blocks (80 regular, 0 large), blockSize=65536, retain=8388608, max=unlimited, zeroed, owner=main]}.
     */
    @Override
    public String toString() {
        Figures figures = figures();
        Thread holder = owner;
        return "Arena[allocated=" + figures.allocatedBytes()
                + ", padding=" + figures.paddingBytes() + ", unusedTails=" + figures.unusedTailBytes()
                + ", reserved=" + figures.reservedBytes() + " in " + (figures.regularBlocks() + figures.largeBlocks())
                + " blocks (" + figures.regularBlocks() + " regular, " + figures.largeBlocks() + " large)"
                + ", " + blocks
                + (figures.closed() ? ", closed" : ", owner=" + (holder == null ? "none" : holder.getName()))
                + "]";
    }

    /** The figures of the statistics, taken together so that a reader never mixes two moments. */
    private record Figures(long allocatedBytes, long paddingBytes, long unusedTailBytes, long reservedBytes,
                           int regularBlocks, int largeBlocks, boolean closed) {}

    /** The owner's exact figures; for any other thread, the last ones the owner published. */
    private Figures figures() {
        if (Thread.currentThread() != owner) {
            return published;
        }
        return currentFigures();
    }

    /** Publishes the current figures to other threads; called on the owner thread after a change of blocks. */
    private void publish() {
        published = currentFigures();
    }

    private Figures currentFigures() {
        return new Figures(liveAllocatedBytes(), paddingBefore + blockPadding, unusedTails, blocks.reservedBytes(),
                blocks.regularBlocks(), blocks.largeBlocks(), closed);
    }

    private void ensureOwnedByCaller() {
        if (owner != Thread.currentThread()) {
            claimOrThrow();
        } else if (closed || ending) {
            throw alreadyClosed();
        }
    }

    /**
     * Called when the caller is not the owner: takes an unowned arena and opens a generation for
     * it, refuses anything else.
     */
    void claimOrThrow() {
        Thread caller = Thread.currentThread();
        Thread holder = (Thread) OWNER.compareAndExchange(this, (Thread) null, caller);
        if (holder != null) {
            throw wrongThread(holder, caller);
        }
        assert !closed : "a closed arena keeps the owner that closed it";
        startGeneration();
    }

    /**
     * Refuses a caller other than the owner, without claiming an arena nobody owns: for calls on
     * slices or checkpoints, which an unowned arena has none of alive (they then fail as dead).
     */
    private void refuseOtherOwner() {
        Thread holder = owner;
        Thread caller = Thread.currentThread();
        if (holder != caller && holder != null) {
            throw wrongThread(holder, caller);
        }
    }

    private static WrongThreadException wrongThread(Thread holder, Thread caller) {
        return new WrongThreadException("Attempted access outside owning thread: the arena is owned by \""
                + holder.getName() + "\", not by the calling thread \"" + caller.getName() + "\"");
    }

    private static IllegalStateException alreadyClosed() {
        return new IllegalStateException("Already closed");
    }

    private static void checkRequest(long byteSize, long byteAlignment) {
        if (byteSize < 0 || !Alignment.isValid(byteAlignment)) {
            throw badRequest(byteSize, byteAlignment);
        }
    }

    private static IllegalArgumentException badRequest(long byteSize, long byteAlignment) {
        return new IllegalArgumentException(byteSize < 0
                ? "The provided allocation size is negative: " + byteSize
                : "Invalid alignment constraint, not a positive power of two: " + byteAlignment);
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
     * try (Arena.Checkpoint request = arena.checkpoint()) {
     *     MemorySegment temporary = arena.allocate(100);
     * }                                        // temporary is now inaccessible; kept is intact
     * }
     */
    public static final class Checkpoint implements AutoCloseable {

        private final Arena arena;
        /** Its level: 1 for a checkpoint of the generation, 2 for one inside it, and so on. */
        private final int level;
        /** Tells this checkpoint from a later one at the same level: see Levels. */
        private final long serial;

        private Checkpoint(Arena arena, int level, long serial) {
            this.arena = arena;
            this.level = level;
            this.serial = serial;
        }

        /**
         * Rewinds the arena to this mark. Checkpoints taken inside this one are closed first, then
         * every slice allocated since the mark becomes inaccessible, as slices do at
         * {@link Arena#reset()}, and its cleanup actions run. Slices allocated before the mark stay
         * alive and intact. The memory is reused by the next allocations, and reads as zeros again
         * if the arena is zeroed; blocks entered since the mark, and blocks of large requests made
         * since, are kept or freed as a reset would keep or free them.
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
         * close a held arena. Nothing changes when the held slice is in the innermost level; when
         * it is in an outer one, the levels inside it have been closed, as their own
         * {@code close()} would have closed them, because the JDK cannot tell whether a scope is
         * held without closing it.
         *
         * @throws IllegalStateException if this checkpoint is closed already, or was discarded by
         *         a checkpoint outside it, a reset or a close; if the arena's cleanup actions are
         *         running; or if a slice of a level it closes is in use by a downcall (see above)
         * @throws WrongThreadException if another thread owns the arena
         * @throws RuntimeException what a cleanup action threw, after the checkpoint was closed
         */
        @Override
        public void close() {
            arena.close(this);
        }
    }

    /**
     * Configures an {@link Arena}. Setters check their own argument; {@link #build()} checks how
     * they fit together. Every setter returns this builder.
     *
     * {@snippet :
     * Arena arena = Arena.builder().blockSize(256 * 1024).maxBytes(4 << 20).build();
     * }
     */
    public static final class Builder {

        private long blockSize = DEFAULT_BLOCK_SIZE;
        private long maxBytes = UNLIMITED;
        private long retainBytes = -1;    // unset: one block
        private boolean zeroed = true;
        private BlockAllocator blockAllocator = NativeMemory.LIBC;
        private LeakDetection leakDetection;    // null: the system property's

        private Builder() {}

        /**
         * Sets the size of a regular block, 64 KiB by default. Bigger blocks mean fewer native
         * allocations and more memory held by an idle arena; requests above a quarter of a block
         * (with their alignment's padding) get blocks of their own.
         *
         * {@snippet :
         * Arena.builder().blockSize(1 << 20).build();
         * }
         *
         * @param bytes from 256 bytes to 1 GiB
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is outside that range
         */
        public Builder blockSize(long bytes) {
            if (bytes < MIN_BLOCK_SIZE || bytes > MAX_BLOCK_SIZE) {
                throw new IllegalArgumentException("blockSize must be from " + MIN_BLOCK_SIZE + " to "
                        + MAX_BLOCK_SIZE + " bytes: " + bytes);
            }
            this.blockSize = bytes;
            return this;
        }

        /**
         * Sets a hard cap on the native memory the arena holds, {@link #UNLIMITED} by default.
         * A request that would cross it throws {@link ArenaLimitException}. Blocks count whole.
         *
         * {@snippet :
         * Arena.builder().maxBytes(16 << 20).build();   // one hostile connection cannot take more
         * }
         *
         * @param bytes a positive number of bytes, at least the block size
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes <= 0}
         */
        public Builder maxBytes(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("maxBytes must be positive: " + bytes);
            }
            this.maxBytes = bytes;
            return this;
        }

        /**
         * Sets how much native memory {@link Arena#reset()} may keep for the next round; by default
         * one block. Zero frees everything at each reset.
         *
         * {@snippet :
         * Arena.builder().retainBytes(8 << 20).build();  // a round of up to 8 MiB allocates nothing
         * }
         *
         * @param bytes zero or more bytes, at most the limit
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes < 0}
         */
        public Builder retainBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("retainBytes must not be negative: " + bytes);
            }
            this.retainBytes = bytes;
            return this;
        }

        /**
         * Sets whether slices read as zeros, {@code true} by default. Turn it off only when every
         * slice is overwritten before it is read: memory then carries bytes from earlier rounds.
         *
         * {@snippet :
         * Arena.builder().zeroed(false).build();
         * }
         *
         * @param zeroed whether slices read as zeros
         * @return this builder
         */
        public Builder zeroed(boolean zeroed) {
            this.zeroed = zeroed;
            return this;
        }

        /** Takes blocks from {@code allocator} instead of the C library: for tests that count or fail them. */
        Builder blockAllocator(BlockAllocator allocator) {
            this.blockAllocator = allocator;
            return this;
        }

        long blockSize() {
            return blockSize;
        }

        /**
         * Creates the arena, owned by the calling thread. It holds no native memory yet.
         *
         * @return a new arena with these settings
         * @throws IllegalArgumentException if the block size or the retained bytes exceed the limit
         */
        public Arena build() {
            validate();
            Arena arena = new Arena(this, null);
            LeakDetection level = leakDetection != null ? leakDetection : LeakDetection.fromSystemProperty();
            if (level.watches(STANDALONE_ARENAS.getAndIncrement())) {
                arena.watchForLeaks();
            }
            return arena;
        }

        /**
         * Sets whether the arena is watched for a leak, as {@link LeakDetection} describes; by
         * default the system property {@value LeakDetection#PROPERTY} decides, and one arena in
         * every sampling interval is watched.
         *
         * @param level how closely to watch
         * @return this builder
         */
        public Builder leakDetection(LeakDetection level) {
            this.leakDetection = java.util.Objects.requireNonNull(level, "level");
            return this;
        }

        /** Builds an arena that {@code close()} returns to {@code pool}. */
        Arena build(ArenaPool pool) {
            return new Arena(this, pool);
        }

        /** {@return a builder with these settings, unaffected by later changes to this one} */
        Builder copy() {
            Builder copy = new Builder();
            copy.blockSize = blockSize;
            copy.maxBytes = maxBytes;
            copy.retainBytes = retainBytes;
            copy.zeroed = zeroed;
            copy.blockAllocator = blockAllocator;
            copy.leakDetection = leakDetection;
            return copy;
        }

        /** Checks how the settings fit together. */
        void validate() {
            if (blockSize > maxBytes) {
                throw new IllegalArgumentException("blockSize (" + blockSize + ") exceeds maxBytes ("
                        + maxBytes + "): no block could ever be allocated");
            }
            if (retainBytes > maxBytes) {
                throw new IllegalArgumentException("retainBytes (" + retainBytes + ") exceeds maxBytes ("
                        + maxBytes + ")");
            }
        }
    }
}
