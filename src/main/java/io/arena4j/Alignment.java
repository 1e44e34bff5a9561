package io.arena4j;

/** Alignment arithmetic shared by the allocators. */
final class Alignment {

    private Alignment() {}

    /** Whether {@code alignment} is a valid alignment: a positive power of two. */
    static boolean isValid(long alignment) {
        return alignment > 0 && (alignment & (alignment - 1)) == 0;
    }

    /**
     * Whether {@code alignment} is valid and at most {@link NativeMemory#MALLOC_ALIGNMENT}, which
     * every block has: a slice at a block's start needs no padding for it, so its real padding
     * there and the worst padding in any new block agree.
     */
    static boolean isValidWithinMallocAlignment(long alignment) {
        return ((alignment - 1) & -NativeMemory.MALLOC_ALIGNMENT) == 0 && (alignment & (alignment - 1)) == 0;
    }

    /** Rounds {@code value} up to a multiple of {@code alignment}, a positive power of two. */
    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
