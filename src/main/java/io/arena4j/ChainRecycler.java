package io.arena4j;

/**
 * Where the blocks of an {@link Arena} go when it closes: back to the C library for a standalone
 * arena, back to its {@link ArenaPool} for a leased one. The arena knows no more of its pool than
 * this.
 */
@FunctionalInterface
interface ChainRecycler {

    /** A standalone arena's: every block is freed. */
    ChainRecycler FREE = (blocks, usedOfCurrent) -> blocks.freeAll();

    /**
     * Takes the blocks of an arena that has just closed, whose slices are all dead. The chain is
     * no longer the arena's from now on.
     *
     * @param blocks        the arena's blocks
     * @param usedOfCurrent how many bytes of the current block the arena carved
     */
    void recycle(BlockChain blocks, long usedOfCurrent);
}
