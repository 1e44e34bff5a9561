package io.arena4j;

/**
 * What the blocks of several arenas may hold together: an {@link ArenaPool}'s
 * {@linkplain ArenaPool.Builder#maxTotalBytes(long) maxTotalBytes}. A {@link BlockChain} takes
 * bytes from it before it allocates a block, and gives them back after it freed one, so that the
 * budget's count is never below the native memory actually held, and never above its limit.
 */
interface BlockBudget {

    /** The budget of a standalone arena: no bound, nothing counted. */
    BlockBudget NONE = new BlockBudget() {
        @Override
        public void take(long bytes, long requestedBytes, long byteAlignment, long blockBytes) {}

        @Override
        public void giveBack(long bytes) {}
    };

    /**
     * Takes {@code bytes} for a block about to be allocated, or refuses and changes nothing.
     *
     * @param bytes          what the budget must grant, positive
     * @param requestedBytes the request the block is for, for the exception's message
     * @param byteAlignment  that request's alignment
     * @param blockBytes     the block's size
     * @throws ArenaLimitException if granting them would cross the budget's limit
     */
    void take(long bytes, long requestedBytes, long byteAlignment, long blockBytes);

    /** Gives back {@code bytes} of blocks already freed. */
    void giveBack(long bytes);
}
