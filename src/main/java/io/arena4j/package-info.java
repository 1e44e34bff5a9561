/**
 * Request- and connection-scoped off-heap memory.
 *
 * <p>{@link io.arena4j.Arena} is a per-connection bump allocator: a chain of native blocks from
 * which slices of any size are carved by moving an offset, all freed at once by
 * {@link io.arena4j.Arena#reset()}. It is a {@link java.lang.foreign.Arena}, with the temporal
 * safety and thread confinement of {@link java.lang.foreign.Arena#ofConfined()}.
 * {@link io.arena4j.ArenaPool} lends arenas to connections and bounds their memory;
 * {@link io.arena4j.SlotPool} keeps fixed-size records.
 *
 * {@snippet :
 * try (io.arena4j.Arena arena = io.arena4j.Arena.create()) {
 *     MemorySegment request = arena.allocate(4096);
 *     arena.reset();                     // request is inaccessible from here on
 * }
 * }
 *
 * <p>The sections below say what each setting of {@link io.arena4j.Arena.Builder} trades.
 *
 * <h2>Blocks, large requests and limits</h2>
 * Requests are served from regular blocks of {@linkplain io.arena4j.Arena.Builder#blockSize(long) blockSize} bytes.
 * When the current block has too little room, the arena moves on to the next block it kept from
 * an earlier round, and allocates a new one only when none is left; the rest of the old block
 * stays unused until the next reset. A request that does not fit in the current block and is
 * larger than a quarter of a block, counting the padding its alignment may need beyond 16 bytes
 * (the alignment of every block), gets a block of its own, so that one big body between small
 * headers wastes nothing and does not change the size of later blocks. A round starts in its
 * first kept block, but places its first request as an arena that kept nothing would: a regular
 * one is carved from that block, a large one gets its own, and until a slice is carved there the
 * block counts as unused.
 *
 * <p>All native memory counts against {@linkplain io.arena4j.Arena.Builder#maxBytes(long) maxBytes}, at every
 * instant: kept blocks that the current round has not used are freed before a new block is
 * allocated, never after. Those kept blocks never make the arena refuse a request: it throws
 * {@link io.arena4j.ArenaLimitException} only if the blocks holding this round's slices and the block the
 * request needs would cross the limit, so it serves whatever an arena with the same settings that
 * kept nothing would serve. The same holds under the budget of an {@link io.arena4j.ArenaPool}, for which
 * those kept blocks count as free too. A refused request changes nothing.
 *
 * <h2>Reset and retained memory</h2>
 * {@link io.arena4j.Arena#reset()} keeps regular blocks, then blocks of large requests, while their total stays
 * within {@linkplain io.arena4j.Arena.Builder#retainBytes(long) retainBytes}, and frees the rest. It costs a little
 * per block, plus, in a zeroed arena, clearing the bytes the round used.
 *
 * <h2>Zeroing</h2>
 * By default every slice reads as zeros, as with the JDK's arenas and {@code new byte[]}. The
 * cost is paid in bulk, where it is cheapest: new blocks come from {@code calloc}, and
 * {@code reset()} clears only the used prefix of each block it keeps. Allocation itself never
 * writes memory, so {@code allocateFrom(...)} pays nothing to clear bytes it then overwrites, and
 * an idle arena holds none of the last connection's bytes. {@link io.arena4j.Arena.Builder#zeroed(boolean)
 * zeroed(false)} turns clearing off, like {@code malloc}.
 */
package io.arena4j;
