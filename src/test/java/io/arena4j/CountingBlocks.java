package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;

/**
 * The C library's blocks, counted: how many were allocated and freed, how many bytes are out and
 * their peak. It can refuse the next allocations as {@code calloc} does when memory runs out, and
 * fails the test at once if the bytes out would ever cross a ceiling.
 */
final class CountingBlocks implements BlockAllocator {

    private final long ceiling;
    private long allocatedBlocks;
    private long freedBlocks;
    private long outstandingBytes;
    private long peakBytes;
    private int failures;

    /** Counts blocks, with no ceiling: only the C library refuses them. */
    CountingBlocks() {
        this(Long.MAX_VALUE);
    }

    /** Counts blocks, and throws {@link AssertionError} from the allocation that would cross {@code ceiling}. */
    CountingBlocks(long ceiling) {
        this.ceiling = ceiling;
    }

    /** Makes the next {@code count} allocations fail as the C library fails when it has no memory. */
    synchronized void failNext(int count) {
        failures = count;
    }

    @Override
    public synchronized MemorySegment allocate(long byteSize, boolean zeroed) {
        if (failures > 0) {
            failures--;
            throw new OutOfMemoryError("Cannot allocate " + byteSize + " bytes of native memory (test)");
        }
        if (ceiling != Long.MAX_VALUE && byteSize > ceiling - outstandingBytes) {
            throw new AssertionError("a block of " + byteSize + " bytes would take the native memory held from "
                    + outstandingBytes + " over " + ceiling + " bytes");
        }
        MemorySegment block = NativeMemory.LIBC.allocate(byteSize, zeroed);
        allocatedBlocks++;
        outstandingBytes += byteSize;
        peakBytes = Math.max(peakBytes, outstandingBytes);
        return block;
    }

    @Override
    public synchronized void free(MemorySegment block) {
        NativeMemory.LIBC.free(block);
        freedBlocks++;
        outstandingBytes -= block.byteSize();
    }

    synchronized long outstandingBytes() {
        return outstandingBytes;
    }

    synchronized long peakBytes() {
        return peakBytes;
    }

    synchronized long allocatedBlocks() {
        return allocatedBlocks;
    }

    /** Asserts that every block allocated was freed, and no byte is left out. */
    synchronized void assertAllFreed() {
        assertEquals(allocatedBlocks, freedBlocks, "blocks allocated and freed");
        assertEquals(0, outstandingBytes, "native bytes still held");
    }
}
