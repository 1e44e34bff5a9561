package io.arena4j;

/**
 * What an {@link Arena} handed out since its last reset, outside its current block: the bytes of
 * slices in blocks it left and in large blocks, the padding among them, and the free ends of
 * those blocks. The current block's share is the arena's cursor and padding, which the fast path
 * keeps; the figures are the two added, without a counter on the fast path.
 *
 * <p>A checkpoint saves these figures when it marks the arena and restores them when it closes.
 */
final class Usage {

    /** The longs {@link #saveTo} writes. */
    static final int SAVED = 3;

    private long handedOut;
    private long padding;
    private long unusedTails;

    /** The arena leaves a block in which it handed out {@code handedOut} bytes after {@code padding}. */
    void leftBlock(long handedOut, long padding, long unusedTail) {
        this.handedOut += handedOut;
        this.padding += padding;
        this.unusedTails += unusedTail;
    }

    /** {@return the bytes handed out, {@code inCurrentBlock} among them} */
    long allocatedBytes(long inCurrentBlock) {
        return handedOut + inCurrentBlock;
    }

    /** {@return the alignment padding, {@code inCurrentBlock} among it} */
    long paddingBytes(long inCurrentBlock) {
        return padding + inCurrentBlock;
    }

    /** {@return the free ends of blocks the arena left, and of large blocks} */
    long unusedTailBytes() {
        return unusedTails;
    }

    /** Starts a new round: nothing handed out. */
    void reset() {
        handedOut = 0;
        padding = 0;
        unusedTails = 0;
    }

    /** Saves the figures at {@code at} in {@code marks}: {@link #SAVED} longs. */
    void saveTo(long[] marks, int at) {
        marks[at] = handedOut;
        marks[at + 1] = padding;
        marks[at + 2] = unusedTails;
    }

    /** Goes back to the figures saved at {@code at} in {@code marks}. */
    void restoreFrom(long[] marks, int at) {
        handedOut = marks[at];
        padding = marks[at + 1];
        unusedTails = marks[at + 2];
    }
}
