package io.arena4j;

import java.util.ArrayList;
import java.util.List;

/**
 * A model of an arena that kept nothing from earlier rounds, for tests that check the promise
 * that kept blocks never make an arena refuse: which regular and large blocks its round uses, and
 * its cursor in the last regular block. It refuses a request exactly when the blocks in use and
 * the one the request needs would cross {@code limit}.
 *
 * <p>It knows where slices lie only for alignments of at most 16, the alignment of every block:
 * where a slice lies then depends on offsets alone.
 */
final class ReferenceArena {

    /** Where a slice lies: a regular block and the offset in it, or a large block. */
    record Place(int regularBlock, long offset) {
        static final Place LARGE = new Place(-1, -1);
    }

    private final long blockSize;
    private final long limit;
    private int regularBlocks;
    private long offset;
    private final List<Long> largeBlocks = new ArrayList<>();

    ReferenceArena(long blockSize, long limit) {
        this.blockSize = blockSize;
        this.limit = limit;
    }

    /** {@return where the request goes, or null if it is refused (nothing changes then)} */
    Place allocate(long size, long alignment) {
        assert alignment <= NativeMemory.MALLOC_ALIGNMENT : "the model knows only offsets";
        if (regularBlocks > 0) {
            long start = Alignment.alignUp(offset, alignment);
            if (start <= blockSize - size) {
                offset = start + size;
                return new Place(regularBlocks - 1, start);
            }
        }
        if (size > blockSize / 4) {
            if (size > limit - inUse()) {
                return null;
            }
            largeBlocks.add(size);
            return Place.LARGE;
        }
        if (blockSize > limit - inUse()) {
            return null;
        }
        regularBlocks++;
        offset = size;
        return new Place(regularBlocks - 1, 0);
    }

    /** {@return whether a slice of {@code size} bytes at {@code place} can grow by {@code more} bytes where it is} */
    boolean growsInPlace(Place place, long size, long more) {
        return place != Place.LARGE && place.regularBlock() == regularBlocks - 1 && place.offset() + size == offset
                && more <= blockSize - offset;
    }

    void growInPlace(long more) {
        offset += more;
    }

    long inUse() {
        return regularBlocks * blockSize + largeBlocks.stream().mapToLong(Long::longValue).sum();
    }

    /** {@return where the round stands now, for {@link #rewind}} */
    long[] mark() {
        return new long[] {regularBlocks, offset, largeBlocks.size()};
    }

    void rewind(long[] mark) {
        regularBlocks = (int) mark[0];
        offset = mark[1];
        largeBlocks.subList((int) mark[2], largeBlocks.size()).clear();
    }

    void reset() {
        rewind(new long[] {0, 0, 0});
    }
}
