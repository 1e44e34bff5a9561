package io.arena4j;

import java.util.ArrayList;
import java.util.List;

/**
 * A model of an arena that kept nothing from earlier rounds, for every alignment, written from
 * the documentation alone: a request that fits in the current regular block is carved there at
 * the first aligned byte; otherwise it is large if its size plus the worst padding of its
 * alignment in a new block ({@code alignment - 16} beyond 16, blocks being 16-aligned) exceeds a
 * quarter block, and gets a block of its own of that many bytes; otherwise it takes a new
 * regular block. A request is refused exactly when the blocks in use and the block it needs would
 * cross the limit. Unlike {@link ReferenceArena}, it knows absolute addresses: it learns where
 * each regular block starts from the first slice carved there, so it can say where a slice of any
 * alignment lands in the current block.
 */
final class NothingKeptModel {

    /** What the arena that kept nothing does with a request. */
    sealed interface Outcome permits Fits, NewRegular, Large, Refused {}

    /** Carved in the current regular block at {@code address}. */
    record Fits(long address) implements Outcome {}

    /** Carved at the first aligned byte of a regular block the round did not use yet. */
    record NewRegular() implements Outcome {}

    /** Given a block of its own of {@code blockBytes}. */
    record Large(long blockBytes) implements Outcome {}

    /** Refused: {@link ArenaLimitException}, nothing changes. */
    record Refused() implements Outcome {}

    static final Refused REFUSED = new Refused();
    static final long BLOCK_ALIGNMENT = 16;

    private final long blockSize;
    /** Start addresses of the regular blocks the round uses, in the order it entered them. */
    private final List<Long> bases = new ArrayList<>();
    /** The first free address of the current (last) regular block. */
    private long cursor;
    /** Bytes of the large blocks the round uses. */
    private final List<Long> large = new ArrayList<>();
    /**
     * Whether the arena's blocks in use are exactly the model's. A large request aligned beyond 16
     * may be served from a kept large block smaller than the {@code size + alignment - 16} bytes a
     * new one takes, when the block's address happens to leave room: the arena then holds less
     * than the model counts, and may serve what the model refuses (the documentation promises
     * only that it refuses nothing the model serves). Without a limit, a large request may be
     * served from a kept large block larger than it needs.
     */
    boolean exact = true;

    NothingKeptModel(long blockSize) {
        this.blockSize = blockSize;
    }

    static long slack(long alignment) {
        return Math.max(0, alignment - BLOCK_ALIGNMENT);
    }

    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    /** {@return the bytes a large request needs, or Long.MAX_VALUE if that overflows} */
    static long need(long size, long alignment) {
        long need = size + slack(alignment);
        return need < size ? Long.MAX_VALUE : need;
    }

    boolean isLarge(long size, long alignment) {
        return need(size, alignment) > blockSize / 4;
    }

    Outcome decide(long size, long alignment, long limit) {
        if (!bases.isEmpty()) {
            long base = bases.getLast();
            long start = alignUp(cursor, alignment);
            if (start - base <= blockSize - size) {
                return new Fits(start);
            }
        }
        long need = need(size, alignment);
        if (need > blockSize / 4) {
            return need > limit - inUse() ? REFUSED : new Large(need);
        }
        return blockSize > limit - inUse() ? REFUSED : new NewRegular();
    }

    /** The slice ending at {@code end} was carved in the current block. */
    void carved(long end) {
        cursor = end;
    }

    /** The round entered a regular block at {@code base}, its first slice ending at {@code end}. */
    void entered(long base, long end) {
        bases.add(base);
        cursor = end;
    }

    void largeBlock(long bytes) {
        large.add(bytes);
    }

    /** {@return whether a slice of the block at {@code base} (-1: large) grows in place to newSize} */
    boolean growsInPlace(long base, long address, long size, long newSize) {
        return base != -1 && !bases.isEmpty() && base == bases.getLast() && address + size == cursor
                && newSize - size <= base + blockSize - cursor;
    }

    boolean hasBlock() {
        return !bases.isEmpty();
    }

    long currentBase() {
        return bases.getLast();
    }

    long cursor() {
        return cursor;
    }

    /** {@return the bytes left in the current block after aligning to alignment, or -1 without one} */
    long room(long alignment) {
        return bases.isEmpty() ? -1 : bases.getLast() + blockSize - alignUp(cursor, alignment);
    }

    /** {@return the start of the round's first regular block, or -1} */
    long firstBase() {
        return bases.isEmpty() ? -1 : bases.getFirst();
    }

    int regularBlocks() {
        return bases.size();
    }

    int largeBlocks() {
        return large.size();
    }

    long inUse() {
        long sum = bases.size() * blockSize;
        for (long bytes : large) {
            sum += bytes;
        }
        return sum;
    }

    /** {@return whether [address, address + max(size, 1)) meets a regular block the round uses} */
    boolean meetsRegularBlock(long address, long size) {
        long end = address + Math.max(size, 1);
        for (long base : bases) {
            if (address < base + blockSize && base < end) {
                return true;
            }
        }
        return false;
    }

    long[] mark() {
        return new long[] {bases.size(), cursor, large.size(), exact ? 1 : 0};
    }

    void rewind(long[] mark) {
        bases.subList((int) mark[0], bases.size()).clear();
        cursor = mark[1];
        large.subList((int) mark[2], large.size()).clear();
        exact = mark[3] == 1;
    }

    void reset() {
        bases.clear();
        large.clear();
        cursor = 0;
        exact = true;
    }

    @Override
    public String toString() {
        return "NothingKept[blocks=" + bases.size() + ", cursor="
                + (bases.isEmpty() ? "-" : Long.toString(cursor - bases.getLast())) + ", large=" + large
                + ", inUse=" + inUse() + (exact ? "" : ", inexact") + "]";
    }
}
