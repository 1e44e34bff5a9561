package io.arena4j;

import java.lang.foreign.MemorySegment;

/**
 * Where an {@link Arena}'s blocks come from and go back to: the C library in production
 * ({@link NativeMemory#LIBC}), a counting or failing stand-in in tests. Called only when an arena
 * links in or frees a block, never per slice.
 */
interface BlockAllocator {

    /**
     * Allocates a block aligned to {@link NativeMemory#MALLOC_ALIGNMENT}.
     *
     * @param byteSize the block's size in bytes, positive
     * @param zeroed   whether the block must read as zeros
     * @return the whole block, as a segment of the global scope
     * @throws OutOfMemoryError if there is no memory for it; nothing is allocated then
     */
    MemorySegment allocate(long byteSize, boolean zeroed);

    /** Frees a block returned by {@link #allocate}. */
    void free(MemorySegment block);
}
