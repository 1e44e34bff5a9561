package io.arena4j;

import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A thread-safe pool of {@link Arena}s: one per connection, returned when the connection ends.
 *
 * <p>{@link #acquire()} hands the calling thread an idle arena, or a new one; closing the arena
 * gives it back. On the way back it is reset, as {@link Arena#reset()} does: every slice of the
 * connection dies, the blocks it keeps are cleared, and blocks beyond its
 * {@linkplain Builder#retainBytes(long) retainBytes} are freed, so that an arena that grew for
 * one big request shrinks back before it waits for the next connection.
 *
 * {@snippet :
 * ArenaPool pool = ArenaPool.builder().maxIdle(64).build();
 * // on the thread (platform or virtual) that serves one connection:
 * try (Arena arena = pool.acquire()) {
 *     MemorySegment request = arena.allocate(4096);
 *     // ... read, parse and answer requests, arena.reset() between them
 * }                                      // back to the pool
 * }
 *
 * <h2>Threads</h2>
 * Any thread may acquire and return arenas at any time. An arena is owned by the thread that
 * acquired it, exactly as a standalone arena by the thread that built it, and an arena returned on
 * one thread and acquired on another belongs to the new thread. Each lease is a new {@code Arena}
 * object over the same blocks: the closed one stays closed, so a stale reference can never reach
 * the next connection's arena, and closing it twice throws without touching the pool.
 *
 * <h2>Bounds</h2>
 * At most {@linkplain Builder#maxIdle(int) maxIdle} arenas holding at most
 * {@linkplain Builder#maxIdleBytes(long) maxIdleBytes} of native memory wait idle; an arena
 * returned beyond either bound is freed. {@link #close()} frees the idle arenas at once, and
 * leased ones as they come back.
 */
public final class ArenaPool implements AutoCloseable {

    /** Idle arenas kept unless {@link Builder#maxIdle(int)} says otherwise. */
    public static final int DEFAULT_MAX_IDLE = 64;

    /** Idle native memory kept unless {@link Builder#maxIdleBytes(long)} says otherwise: 8 MiB. */
    public static final long DEFAULT_MAX_IDLE_BYTES = 8L << 20;

    private final Arena.Builder arenaSettings;
    private final int maxIdle;
    private final long maxIdleBytes;

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock:
    private final ArrayDeque<Arena> idle = new ArrayDeque<>();
    private long idleBytes;
    private boolean closed;

    /** Arenas handed out and not yet returned, for reservedBytes(). */
    private final Set<Arena> leased = ConcurrentHashMap.newKeySet();

    private ArenaPool(Builder settings) {
        this.arenaSettings = settings.arenaSettings.copy();
        this.maxIdle = settings.maxIdle;
        this.maxIdleBytes = settings.maxIdleBytes;
    }

    /**
     * Starts configuring a pool: the settings of its arenas, as {@link Arena.Builder} has them,
     * and the bounds on what it keeps idle.
     *
     * {@snippet :
     * ArenaPool pool = ArenaPool.builder()
     *         .blockSize(64 * 1024).maxBytes(16 << 20)     // per arena
     *         .maxIdle(128).maxIdleBytes(32 << 20)         // for the pool
     *         .build();
     * }
     *
     * @return a builder with the defaults of {@link Arena#create()} and of this class
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Leases an arena to the calling thread: an idle one if there is one, otherwise a new one.
     * Closing the arena returns it.
     *
     * {@snippet :
     * try (Arena arena = pool.acquire()) {
     *     arena.allocate(100);
     * }
     * }
     *
     * @return an arena owned by the calling thread, with no slice alive
     * @throws IllegalStateException if the pool is closed
     */
    public Arena acquire() {
        Arena arena;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("ArenaPool is closed");
            }
            arena = idle.pollLast();        // the most recently used: its blocks are likely in cache
            if (arena != null) {
                idleBytes -= arena.reservedBytes();
            }
        } finally {
            lock.unlock();
        }
        if (arena == null) {
            arena = arenaSettings.build(this);
        } else {
            arena.claimOrThrow();           // nobody else can hold it: it was idle
        }
        leased.add(arena);
        return arena;
    }

    /**
     * Called by {@link Arena#close()} on its owner thread, after the arena was reset: keeps its
     * blocks for the next lease if the bounds allow, frees them otherwise.
     */
    void takeBack(Arena returned) {
        leased.remove(returned);
        long bytes = returned.reservedBytes();
        lock.lock();
        try {
            if (!closed && idle.size() < maxIdle && bytes <= maxIdleBytes - idleBytes) {
                idle.addLast(returned.handOver());
                idleBytes += bytes;
                return;
            }
        } finally {
            lock.unlock();
        }
        returned.freeBlocks();
    }

    /**
     * {@return the number of arenas waiting idle for the next acquire}
     *
     * {@snippet :
     * pool.acquire().close();
     * assert pool.idleCount() == 1;
     * }
     */
    public int idleCount() {
        lock.lock();
        try {
            return idle.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@return the native memory held by the idle arenas and, as a snapshot, by the leased ones}
     *
     * {@snippet :
     * assert pool.reservedBytes() <= maxIdleBytes + leasedArenas * maxBytesPerArena;
     * }
     */
    public long reservedBytes() {
        long bytes;
        lock.lock();
        try {
            bytes = idleBytes;
        } finally {
            lock.unlock();
        }
        for (Arena arena : leased) {
            bytes += arena.reservedBytes();
        }
        return bytes;
    }

    /**
     * Frees the idle arenas; arenas still leased are freed when they are closed. Acquiring from a
     * closed pool throws {@link IllegalStateException}.
     *
     * {@snippet :
     * pool.close();
     * pool.acquire();                           // throws IllegalStateException
     * }
     *
     * @throws IllegalStateException if the pool is already closed
     */
    @Override
    public void close() {
        ArrayDeque<Arena> toFree;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("ArenaPool is already closed");
            }
            closed = true;
            toFree = new ArrayDeque<>(idle);
            idle.clear();
            idleBytes = 0;
        } finally {
            lock.unlock();
        }
        toFree.forEach(Arena::freeBlocks);
    }

    /**
     * Describes the pool in one line, for example
     * {@code ArenaPool[idle=3, leased=12, reserved=1048576, maxIdle=64, maxIdleBytes=8388608]}.
     */
    @Override
    public String toString() {
        return "ArenaPool[idle=" + idleCount() + ", leased=" + leased.size() + ", reserved=" + reservedBytes()
                + ", maxIdle=" + maxIdle + ", maxIdleBytes=" + maxIdleBytes + (closed ? ", closed" : "") + "]";
    }

    /**
     * Configures an {@link ArenaPool}: the settings of every arena, as {@link Arena.Builder} has
     * them, and the bounds on idle arenas. Setters check their own argument; {@link #build()}
     * checks the rest.
     *
     * {@snippet :
     * ArenaPool pool = ArenaPool.builder().retainBytes(256 * 1024).maxIdle(32).build();
     * }
     */
    public static final class Builder {

        private final Arena.Builder arenaSettings = Arena.builder();
        private int maxIdle = DEFAULT_MAX_IDLE;
        private long maxIdleBytes = DEFAULT_MAX_IDLE_BYTES;

        private Builder() {}

        /**
         * Sets each arena's block size, as {@link Arena.Builder#blockSize(long)}.
         *
         * @param bytes from 256 bytes to 1 GiB
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is outside that range
         */
        public Builder blockSize(long bytes) {
            arenaSettings.blockSize(bytes);
            return this;
        }

        /**
         * Sets each arena's cap on native memory, as {@link Arena.Builder#maxBytes(long)}: one
         * connection can never hold more.
         *
         * @param bytes a positive number of bytes
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes <= 0}
         */
        public Builder maxBytes(long bytes) {
            arenaSettings.maxBytes(bytes);
            return this;
        }

        /**
         * Sets what each arena keeps across a reset and across a return to the pool, as
         * {@link Arena.Builder#retainBytes(long)}; the rest is freed on the way back.
         *
         * @param bytes zero or more bytes
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes < 0}
         */
        public Builder retainBytes(long bytes) {
            arenaSettings.retainBytes(bytes);
            return this;
        }

        /**
         * Sets whether each arena's slices read as zeros, as {@link Arena.Builder#zeroed(boolean)}.
         *
         * @param zeroed whether slices read as zeros
         * @return this builder
         */
        public Builder zeroed(boolean zeroed) {
            arenaSettings.zeroed(zeroed);
            return this;
        }

        /** Gives every arena blocks from {@code allocator}: for tests that count or fail them. */
        Builder blockAllocator(BlockAllocator allocator) {
            arenaSettings.blockAllocator(allocator);
            return this;
        }

        /**
         * Sets how many arenas may wait idle, {@value ArenaPool#DEFAULT_MAX_IDLE} by default.
         *
         * @param arenas zero or more; zero frees every arena as it comes back
         * @return this builder
         * @throws IllegalArgumentException if {@code arenas < 0}
         */
        public Builder maxIdle(int arenas) {
            if (arenas < 0) {
                throw new IllegalArgumentException("maxIdle must not be negative: " + arenas);
            }
            this.maxIdle = arenas;
            return this;
        }

        /**
         * Sets how much native memory idle arenas may hold together, 8 MiB by default.
         *
         * @param bytes zero or more bytes
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes < 0}
         */
        public Builder maxIdleBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxIdleBytes must not be negative: " + bytes);
            }
            this.maxIdleBytes = bytes;
            return this;
        }

        /**
         * Creates the pool. It holds no arena yet.
         *
         * @return a new pool
         * @throws IllegalArgumentException if the arena settings do not fit together, as
         *         {@link Arena.Builder#build()} checks them
         */
        public ArenaPool build() {
            arenaSettings.validate();
            return new ArenaPool(this);
        }
    }
}
