package io.arena4j;

import java.lang.foreign.MemorySegment;

/** One native block of an {@link Arena}, and how much of it the current generation has used. */
final class Block extends CacheLinePadding {

    /** The whole block, in the global scope: never handed out, only sliced, cleared and freed. */
    final MemorySegment memory;
    /** Whether it was made for one large request rather than as a regular block of the chain. */
    final boolean large;

    /** Bytes from the start of the block up to the end of its last slice in this generation. */
    long used;
    // Laid out right after used, before the references: see CacheLinePadding.
    @SuppressWarnings("unused")
    private long p01, p02, p03, p04, p05, p06, p07, p08;

    Block(MemorySegment memory, boolean large) {
        this.memory = memory;
        this.large = large;
    }

    long address() {
        return memory.address();
    }

    long size() {
        return memory.byteSize();
    }

    /** Whether a slice of {@code byteSize} bytes aligned to {@code byteAlignment} fits in an unused block. */
    boolean fits(long byteSize, long byteAlignment) {
        return Alignment.alignUp(address(), byteAlignment) - address() <= size() - byteSize;
    }

    /** Makes the block unused again, clearing what this generation wrote when {@code zeroed}. */
    void recycle(boolean zeroed) {
        rewindTo(0, zeroed);
    }

    /** Gives back what was carved past {@code mark}, clearing it when {@code zeroed}. */
    void rewindTo(long mark, boolean zeroed) {
        if (zeroed && used > mark) {
            memory.asSlice(mark, used - mark).fill((byte) 0);
        }
        used = mark;
    }
}
