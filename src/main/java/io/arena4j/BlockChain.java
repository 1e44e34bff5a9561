package io.arena4j;

import java.util.ArrayList;
import java.util.List;

/**
 * The native blocks of one {@link Arena}, as nginx's pool keeps them: a chain of regular blocks
 * of one size, the blocks of large requests, and large blocks kept from earlier rounds; with the
 * accounting of the arena's limit and of what a round may keep.
 *
 * <p>The chain owns the current block: the arena asks it where the block starts and ends after
 * every call that may change it, and owns only the cursor in it, and so the fast path. This
 * class is called only when the arena needs another block, marks or rewinds, or ends a round; it
 * is told then how far the arena got in the current block.
 *
 * <p>Invariants: regular blocks up to {@code current} are in use by the round; those after it are
 * kept and unused, as are the spare large blocks. The one exception is a round's first block: a
 * round starts in it when it was kept, so that its first slice takes the arena's fast path, and
 * until a slice is carved from it ({@link #inUnusedFirst}), it is as unused as any kept block: a
 * large request leaves it first, so that it never counts against the limit unused and may be
 * freed to make room, and a mark taken in it marks no block. {@link #reservedBytes()} is the size
 * of every block held, and never exceeds the limit, not even while a block is being replaced.
 */
final class BlockChain extends CacheLinePadding {

    /**
     * Where the current block starts and ends while none is: an empty range that no request fits
     * in, not even one of zero bytes, since an aligned start is at least 1.
     */
    static final long NO_BLOCK_START = 1;
    static final long NO_BLOCK_END = 0;

    /** The longs {@link #saveTo} writes. */
    static final int SAVED = 4;

    private final ArenaSettings settings;
    private final long blockSize;
    /** The regular blocks a reset keeps: retainBytes / blockSize, divided once, not every round. */
    private final long retainedBlocks;
    /** What this chain and its pool's other chains may hold together. */
    private final BlockBudget budget;

    private final List<Block> regular = new ArrayList<>();
    private int current = -1;
    private long currentStart = NO_BLOCK_START;
    private long currentEnd = NO_BLOCK_END;
    /**
     * Whether the current block was entered when the round started, not for a request, and no
     * empty slice has claimed it since: see {@link #inUnusedFirst}.
     */
    private boolean enteredAtRoundStart;
    /** Blocks of large requests, each used by one slice of this round. */
    private final List<Block> large = new ArrayList<>();
    private long largeBytesInUse;
    /** Blocks of large requests kept for later large requests, unused. */
    private final List<Block> spareLarge = new ArrayList<>();
    private long reservedBytes;
    /** Counts the calls that may have changed which blocks are in use: see {@link #rewindTo}. */
    private long changes;
    // Laid out after every field above (the JVM puts references after numbers): with the padding
    // of the superclass before them, the fields a lease writes share no cache line with another
    // object's. See CacheLinePadding.
    @SuppressWarnings("unused")
    private Object q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15, q16;

    BlockChain(ArenaSettings settings, BlockBudget budget) {
        this.settings = settings;
        this.blockSize = settings.blockSize();
        this.retainedBlocks = settings.retainBytes() / blockSize;
        this.budget = budget;
    }

    /** {@return the address of the current block, or {@link #NO_BLOCK_START}} */
    long currentStart() {
        return currentStart;
    }

    /** {@return the address one past the current block, or {@link #NO_BLOCK_END}} */
    long currentEnd() {
        return currentEnd;
    }

    private void makeCurrent(int index) {
        current = index;
        enteredAtRoundStart = false;
        if (index < 0) {
            currentStart = NO_BLOCK_START;
            currentEnd = NO_BLOCK_END;
        } else {
            Block block = regular.get(index);
            currentStart = block.address();
            currentEnd = currentStart + block.size();
        }
    }

    /**
     * Leaves the current block, of which the arena used {@code usedOfCurrent} bytes, for the next
     * kept one or a new one. A refused request changes nothing.
     *
     * @return whether a new block was allocated, rather than a kept one entered
     * @throws ArenaLimitException if a new block would take the blocks in use over the limit
     * @throws OutOfMemoryError if the C library has no memory for a new block
     */
    boolean enterNext(long usedOfCurrent, long byteSize, long byteAlignment) {
        assert current < 0 || usedOfCurrent > 0 : "a regular request fits in an unused block";
        changes++;
        boolean allocated = current + 1 == regular.size();
        if (allocated) {
            // A regular request always fits an empty block, so the current one was used.
            regular.add(newBlock(blockSize, byteSize, byteAlignment, false));
        }
        if (current >= 0) {
            regular.get(current).used = usedOfCurrent;
        }
        makeCurrent(current + 1);
        return allocated;
    }

    /**
     * {@return whether the current block is the round's first, entered when the round started,
     * and still unused} The arena has carved {@code usedOfCurrent} bytes of it, and no empty slice
     * has claimed it. Such a block is no block of the round's: see the class's invariants.
     */
    boolean inUnusedFirst(long usedOfCurrent) {
        return enteredAtRoundStart && usedOfCurrent == 0;
    }

    /**
     * Counts the round's first block, unused, as used although the arena carves no byte from it:
     * an empty slice is cut at its start, and uses a block as any other slice does.
     */
    void claimUnusedFirst() {
        assert enteredAtRoundStart;
        enteredAtRoundStart = false;
        changes++;           // a mark taken before marks no block: rewinding to it must say so
    }

    /**
     * Finds a block for a large request of {@code blockBytes}: the smallest kept one that fits, or
     * a new one. Under a limit or a pool's budget, a kept block larger than a new one is not used:
     * it would hold more than an arena that kept nothing, and could make this one refuse a later
     * request that one would serve. A refused request changes no figure. The round's first block,
     * if the arena has carved {@code usedOfCurrent == 0} bytes of it, is left first, refused or
     * not: the arena then has no current block (see the class's invariants).
     *
     * @return the block, in use by the request from now on: its slice ends at {@code used}
     * @throws ArenaLimitException if the blocks in use and the new one would cross the limit
     * @throws OutOfMemoryError if the C library has no memory for a new block
     */
    Block takeLarge(long usedOfCurrent, long byteSize, long byteAlignment, long blockBytes) {
        if (inUnusedFirst(usedOfCurrent)) {
            makeCurrent(-1);       // kept and unused again, as before the round started in it
        }
        changes++;
        boolean bounded = settings.limited() || budget.bounded();
        Block block = takeSpareLarge(byteSize, byteAlignment, bounded ? blockBytes : Long.MAX_VALUE);
        if (block == null) {
            block = newBlock(blockBytes, byteSize, byteAlignment, true);
        }
        block.used = Alignment.alignUp(block.address(), byteAlignment) - block.address() + byteSize;
        large.add(block);
        largeBytesInUse += block.size();
        return block;
    }

    private Block takeSpareLarge(long byteSize, long byteAlignment, long maxSize) {
        int best = -1;
        for (int i = 0; i < spareLarge.size(); i++) {
            Block block = spareLarge.get(i);
            if (block.size() <= maxSize && block.fits(byteSize, byteAlignment)
                    && (best < 0 || block.size() < spareLarge.get(best).size())) {
                best = i;
            }
        }
        return best < 0 ? null : spareLarge.remove(best);
    }

    /**
     * Allocates a block of {@code blockBytes} for a request. Under a limit, the request is refused
     * if the blocks in use and the new one would cross it; otherwise kept, unused blocks are freed
     * first, as far as needed, so that the limit holds at every instant. The pool's budget is
     * charged the difference before anything is freed, so that a refusal changes nothing; when it
     * is short, the kept, unused blocks count as free for it too, as they do for the limit. If the
     * C library then refuses the block, the blocks given up are allocated again.
     */
    private Block newBlock(long blockBytes, long byteSize, long byteAlignment, boolean large) {
        GivenUp givenUp = GivenUp.NOTHING;
        long maxBytes = settings.maxBytes();
        if (settings.limited()) {
            long inUse = bytesInUse();
            if (blockBytes > maxBytes - inUse) {
                Events.limitRefused(byteSize, byteAlignment, blockBytes, maxBytes, inUse);
                throw new ArenaLimitException(byteSize, byteAlignment, blockBytes, maxBytes, inUse, reservedBytes);
            }
            givenUp = unusedBlocksToGiveUp(reservedBytes - (maxBytes - blockBytes));
        }
        // The blocks given up pay for the new one: the budget sees only the difference, taken
        // before they are freed, or given back once the new block is allocated, so that its
        // count never falls below what is held.
        long charge = blockBytes - givenUp.bytes();
        long granted = 0;
        if (charge > 0) {
            long shortBy = budget.take(charge, unusedBytes() - givenUp.bytes(), byteSize, byteAlignment, blockBytes);
            granted = charge - shortBy;
            if (shortBy > 0) {
                givenUp = unusedBlocksToGiveUp(givenUp.bytes() + shortBy);
            }
        }
        giveUp(givenUp);
        try {
            Block block = allocate(blockBytes, large);
            long overpaid = granted + givenUp.bytes() - blockBytes;    // blocks are given up whole
            if (overpaid > 0) {
                budget.giveBack(overpaid);
            }
            return block;
        } catch (OutOfMemoryError e) {
            long lost = takeBack(givenUp, e);
            budget.giveBack(granted + lost);
            throw e;
        }
    }

    /** The one place where the chain takes native memory; the budget was charged for it. */
    private Block allocate(long bytes, boolean large) {
        Block block = new Block(settings.blockAllocator().allocate(bytes, settings.zeroed()), large);
        reservedBytes += bytes;
        Events.blockAllocated(bytes, large);
        return block;
    }

    /** Bytes of the blocks holding this round's slices: what counts against the limit. */
    private long bytesInUse() {
        return (current + 1) * blockSize + largeBytesInUse;
    }

    /** Bytes of the kept blocks this round has not used: all of them may be freed to make room. */
    private long unusedBytes() {
        return reservedBytes - bytesInUse();
    }

    /**
     * Kept, unused blocks to free to make room for a new one: the last {@code large} spare large
     * blocks, and the last {@code regular} regular ones, of {@code bytes} in all.
     */
    private record GivenUp(List<Block> large, int regular, long bytes) {
        static final GivenUp NOTHING = new GivenUp(List.of(), 0, 0);
    }

    /**
     * Chooses kept, unused blocks, large ones first, of at least {@code bytes} in all; frees
     * nothing yet, so that the budget can still refuse.
     */
    private GivenUp unusedBlocksToGiveUp(long bytes) {
        if (bytes <= 0) {
            return GivenUp.NOTHING;
        }
        long chosen = 0;
        int largeCount = 0;
        while (chosen < bytes && largeCount < spareLarge.size()) {
            chosen += spareLarge.get(spareLarge.size() - 1 - largeCount++).size();
        }
        int unusedRegular = regular.size() - (current + 1);
        int regularCount = 0;
        while (chosen < bytes && regularCount < unusedRegular) {
            chosen += blockSize;
            regularCount++;
        }
        assert chosen >= bytes : "the kept, unused blocks cover what must be freed";
        return new GivenUp(List.copyOf(spareLarge.subList(spareLarge.size() - largeCount, spareLarge.size())),
                regularCount, chosen);
    }

    /** Frees the blocks chosen; their bytes pay for the new block, so the budget is not given them. */
    private void giveUp(GivenUp givenUp) {
        for (int i = 0; i < givenUp.large().size(); i++) {
            free(spareLarge.removeLast(), false);
        }
        for (int i = 0; i < givenUp.regular(); i++) {
            free(regular.removeLast(), false);
        }
    }

    /**
     * The C library refused a block after kept blocks were freed to make room for it: allocates
     * those again, with the budget charged for the new block. If it refuses them too, the chain
     * keeps fewer unused blocks; what is in use never changes.
     *
     * @return the bytes of the blocks it could not allocate again
     */
    private long takeBack(GivenUp givenUp, OutOfMemoryError refusal) {
        long restored = 0;
        try {
            for (Block block : givenUp.large()) {
                spareLarge.add(allocate(block.size(), true));
                restored += block.size();
            }
            for (int i = 0; i < givenUp.regular(); i++) {
                regular.add(allocate(blockSize, false));
                restored += blockSize;
            }
        } catch (OutOfMemoryError again) {
            refusal.addSuppressed(again);
        }
        return givenUp.bytes() - restored;
    }

    /**
     * Saves where the chain stands at {@code at} in {@code marks}, {@link #SAVED} longs, for
     * {@link #rewindTo}: the current block, of which the arena used {@code usedOfCurrent} bytes,
     * and the large blocks in use.
     */
    void saveTo(long[] marks, int at, long usedOfCurrent) {
        // A block the round only started in is no block of the mark's: it may be given up since.
        marks[at] = inUnusedFirst(usedOfCurrent) ? -1 : current;
        marks[at + 1] = usedOfCurrent;
        marks[at + 2] = large.size();
        marks[at + 3] = changes;
    }

    /**
     * Gives back everything carved since the mark saved at {@code at} in {@code marks}, of which
     * what the arena carved from the current block ends at {@code usedOfCurrent}. What was carved
     * since is cleared if zeroed. Blocks entered since, and large blocks taken since, are then
     * kept or freed as a reset would: the blocks still in use stay, and the chain keeps no more
     * than retainBytes beyond them. The mark's block is current afterwards.
     *
     * @return whether blocks were entered or taken since the mark; if not, only the bytes after
     *         the mark in the current block were given back, which changes none of the figures
     *         of blocks: the common request, that allocates in one block
     */
    boolean rewindTo(long[] marks, int at, long usedOfCurrent) {
        int markBlock = (int) marks[at];
        long markUsed = marks[at + 1];
        if (marks[at + 3] == changes) {
            if (current >= 0) {
                Block block = regular.get(current);
                block.used = usedOfCurrent;
                block.rewindTo(markUsed, settings.zeroed());
            }
            return false;
        }
        rewind(markBlock, markUsed, (int) marks[at + 2], usedOfCurrent);
        return true;
    }

    /**
     * Ends the round, of which the arena used {@code usedOfCurrent} bytes of the current block:
     * keeps regular blocks, then large ones, while they fit in retainBytes, cleared if zeroed, and
     * frees the rest. The next round starts in the first block kept, unused, if any.
     */
    void recycle(long usedOfCurrent) {
        // The round of nearly every lease and reset: at most the first block used, all kept, no
        // large block. rewind() does the same, but is too big for the JIT to inline.
        if (current <= 0 && large.isEmpty() && spareLarge.isEmpty()
                && regular.size() <= retainedBlocks) {
            changes++;
            if (current == 0) {
                Block first = regular.getFirst();
                first.used = usedOfCurrent;
                first.recycle(settings.zeroed());
            }
        } else {
            rewind(-1, 0, 0, usedOfCurrent);
        }
        startInFirstKept();
    }

    /**
     * Makes the first kept block current, unused: the next round's first slice then takes the
     * arena's fast path, instead of a slow path to enter the block (docs/performance.md, "The
     * round's first slice"). The objects it reads are in cache here, after recycling.
     */
    private void startInFirstKept() {
        makeCurrent(regular.isEmpty() ? -1 : 0);
        enteredAtRoundStart = current == 0;
    }

    /**
     * Gives back everything carved since a mark: the regular block {@code markBlock} (or none, if
     * -1) used up to {@code markUsed} bytes, and {@code markLarge} large blocks were in use.
     */
    private void rewind(int markBlock, long markUsed, int markLarge, long usedOfCurrent) {
        changes++;
        boolean zeroed = settings.zeroed();
        long retainBytes = settings.retainBytes();
        if (current >= 0) {
            regular.get(current).used = usedOfCurrent;
        }
        int keep = Math.max(markBlock + 1, (int) Math.min(regular.size(), retainedBlocks));
        while (regular.size() > keep) {
            free(regular.removeLast());
        }
        for (int i = Math.min(current, keep - 1); i > markBlock; i--) {
            regular.get(i).recycle(zeroed);
        }
        if (markBlock >= 0) {
            regular.get(markBlock).rewindTo(markUsed, zeroed);
        }
        makeCurrent(markBlock);
        while (large.size() > markLarge) {
            Block block = large.removeLast();
            largeBytesInUse -= block.size();
            spareLarge.add(block);
        }
        long budget = retainBytes - keep * blockSize - largeBytesInUse;
        for (int i = spareLarge.size() - 1; i >= 0; i--) {
            Block block = spareLarge.get(i);
            if (block.size() <= budget) {
                budget -= block.size();
                block.recycle(zeroed);
            } else {
                free(spareLarge.remove(i));
            }
        }
    }

    /** Frees every block; the arena has made sure that no slice of them is alive. */
    void freeAll() {
        freeAll(true);
    }

    /**
     * Frees every block, as {@link #freeAll()}, but keeps their bytes in the budget's count:
     * they pay for a block of another chain of the same budget.
     */
    void freeAllForAnotherChain() {
        freeAll(false);
    }

    private void freeAll(boolean toBudget) {
        for (List<Block> blocks : List.of(regular, large, spareLarge)) {
            blocks.forEach(block -> free(block, toBudget));
            blocks.clear();
        }
        makeCurrent(-1);
        largeBytesInUse = 0;
        assert reservedBytes == 0;
    }

    /** Frees a block, and gives its bytes back to the budget. */
    private void free(Block block) {
        free(block, true);
    }

    /**
     * The one place where the chain gives native memory back; the budget gets the bytes unless
     * they pay for a new block.
     */
    private void free(Block block, boolean toBudget) {
        settings.blockAllocator().free(block.memory);
        if (toBudget) {
            budget.giveBack(block.size());
        }
        reservedBytes -= block.size();
        Events.blockFreed(block.size(), block.large);
    }

    /** {@return the native memory held, in bytes: every block, used or kept} */
    long reservedBytes() {
        return reservedBytes;
    }

    /** {@return the number of regular blocks held} */
    int regularBlocks() {
        return regular.size();
    }

    /** {@return the number of large blocks held, in use or kept} */
    int largeBlocks() {
        return large.size() + spareLarge.size();
    }
}
