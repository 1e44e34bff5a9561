/**
 * Request- and connection-scoped off-heap memory.
 *
 * <p>{@link io.arena4j.Arena} is a per-connection bump allocator: a chain of native blocks from
 * which slices of any size are carved by moving an offset, all freed at once by
 * {@link io.arena4j.Arena#reset()}. It is a {@link java.lang.foreign.Arena}, with the temporal
 * safety and thread confinement of {@link java.lang.foreign.Arena#ofConfined()}.
 *
 * {@snippet :
 * try (io.arena4j.Arena arena = io.arena4j.Arena.create()) {
 *     MemorySegment request = arena.allocate(4096);
 *     arena.reset();                     // request is inaccessible from here on
 * }
 * }
 */
package io.arena4j;
