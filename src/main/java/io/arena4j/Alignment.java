package io.arena4j;

/** Alignment arithmetic shared by the allocators. */
final class Alignment {

    private Alignment() {}

    /** Whether {@code alignment} is a valid alignment: a positive power of two. */
    static boolean isValid(long alignment) {
        return alignment > 0 && (alignment & (alignment - 1)) == 0;
    }

    /** Rounds {@code value} up to a multiple of {@code alignment}, a positive power of two. */
    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
