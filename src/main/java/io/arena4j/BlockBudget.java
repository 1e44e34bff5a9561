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
        public long take(long bytes, long unusedBytes, long requestedBytes, long byteAlignment, long blockBytes) {
            return 0;
        }

        @Override
        public void giveBack(long bytes) {}

        @Override
        public boolean bounded() {
            return false;
        }
    };

    /**
     * Grants {@code bytes} for a block about to be allocated, as far as it can: from the room
     * under its limit, then by freeing idle arenas; what it cannot grant, the caller frees of its
     * own unused blocks. Or it refuses, having changed nothing: idle arenas are freed only when
     * they and the caller's unused blocks make room together.
     *
     * @param bytes          what the budget must grant, positive
     * @param unusedBytes    what the caller could free of its own: kept blocks its round has not used
     * @param requestedBytes the request the block is for, for the exception's message
     * @param byteAlignment  that request's alignment
     * @param blockBytes     the block's size
     * @return 0 if all the bytes were granted; otherwise how many were not, at most
     *         {@code unusedBytes}: the caller frees that much of its own, and the bytes of those
     *         blocks stay counted, now for the new block
     * @throws ArenaLimitException if neither idle arenas nor the caller's unused blocks can make room
     */
    long take(long bytes, long unusedBytes, long requestedBytes, long byteAlignment, long blockBytes);

    /** Gives back {@code bytes} of blocks already freed. */
    void giveBack(long bytes);

    /** {@return whether {@link #take} can ever refuse or fall short} */
    boolean bounded();
}
