package io.arena4j;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import javax.management.JMException;
import javax.management.ObjectName;

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
 * <h2>Statistics</h2>
 * {@link #statistics()} takes a snapshot of the pool's figures: arenas leased and idle, acquires,
 * arenas created and freed, bytes trimmed on return, and native memory reserved now and at its
 * peak. Built with {@link Builder#registerMXBean(boolean) registerMXBean(true)}, the pool also
 * shows them to JConsole and JMX monitoring as the platform MXBean
 * {@code io.arena4j:type=ArenaPool,name=}<em>its name</em>.
 *
 * <h2>Leaks</h2>
 * An arena that is never closed is lost to the pool. With {@link LeakDetection} (one lease in
 * every 1024 by default, see {@link Builder#leakDetection(LeakDetection)}), a watched lease that
 * becomes unreachable without being closed is reported, with where it was acquired, and its
 * memory is freed and counted out of the pool.
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

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final String name;
    private final Arena.Builder arenaSettings;
    private final int maxIdle;
    private final long maxIdleBytes;
    /** Registered as this pool's platform MXBean, or null. */
    private final ObjectName mxBeanName;

    // Figures of statistics(): the memory ones change only when a block is allocated or freed.
    private final AtomicLong reserved = new AtomicLong();
    private final AtomicLong peakReserved = new AtomicLong();
    private final AtomicLong acquires = new AtomicLong();
    private final AtomicLong arenasCreated = new AtomicLong();
    private final AtomicLong arenasFreed = new AtomicLong();
    private final AtomicLong bytesTrimmed = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock:
    private final ArrayDeque<Arena> idle = new ArrayDeque<>();
    private long idleBytes;
    private boolean closed;

    /** Arenas handed out and not yet returned. A count, not a set: a leaked arena must become unreachable. */
    private final AtomicInteger leased = new AtomicInteger();
    private final AtomicLong leaks = new AtomicLong();
    private final LeakDetection leakDetection;

    private ArenaPool(Builder settings) {
        this.name = settings.name != null ? settings.name : "arena-pool-" + POOLS.incrementAndGet();
        this.arenaSettings = settings.arenaSettings.copy();
        this.arenaSettings.blockAllocator(new CountedBlocks(arenaSettings.blockAllocator()));
        this.maxIdle = settings.maxIdle;
        this.maxIdleBytes = settings.maxIdleBytes;
        this.leakDetection = settings.leakDetection != null
                ? settings.leakDetection
                : LeakDetection.fromSystemProperty();
        this.mxBeanName = settings.registerMXBean ? registerMXBean() : null;
        Events.watch(this);
    }

    /** {@return the pool's name, as {@link Builder#name(String)} set it or as it was given} */
    String name() {
        return name;
    }

    /** The blocks of every arena of the pool come from here, so that it knows what they hold. */
    private final class CountedBlocks implements BlockAllocator {

        private final BlockAllocator blocks;

        CountedBlocks(BlockAllocator blocks) {
            this.blocks = blocks;
        }

        @Override
        public MemorySegment allocate(long byteSize, boolean zeroed) {
            MemorySegment block = blocks.allocate(byteSize, zeroed);
            long now = reserved.addAndGet(byteSize);
            peakReserved.accumulateAndGet(now, Math::max);
            return block;
        }

        @Override
        public void free(MemorySegment block) {
            blocks.free(block);
            reserved.addAndGet(-block.byteSize());
        }
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
        long serial = acquires.getAndIncrement();
        if (arena == null) {
            arena = arenaSettings.build(this);
            arenasCreated.incrementAndGet();
        } else {
            arena.claimOrThrow();           // nobody else can hold it: it was idle
        }
        if (leakDetection.watches(serial)) {
            arena.watchForLeaks();
        }
        leased.incrementAndGet();
        return arena;
    }

    /**
     * Called by {@link Arena#close()} on its owner thread, after the arena was reset and freed
     * {@code trimmed} bytes beyond its retainBytes: keeps its blocks for the next lease if the
     * bounds allow, frees them otherwise.
     */
    void takeBack(Arena returned, long trimmed) {
        leased.decrementAndGet();
        long bytes = returned.reservedBytes();
        lock.lock();
        try {
            if (!closed && idle.size() < maxIdle && bytes <= maxIdleBytes - idleBytes) {
                idle.addLast(returned.handOver());
                idleBytes += bytes;
                bytesTrimmed.addAndGet(trimmed);
                return;
            }
        } finally {
            lock.unlock();
        }
        returned.freeBlocks();
        bytesTrimmed.addAndGet(trimmed + bytes);
        arenasFreed.incrementAndGet();
    }

    /**
     * Called by the leak detector once a leased arena that was never closed became unreachable,
     * and its blocks were freed.
     */
    void leaked() {
        leased.decrementAndGet();
        arenasFreed.incrementAndGet();
        leaks.incrementAndGet();
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
     * {@return the native memory held by the arenas of this pool, idle and leased, right now}
     *
     * {@snippet :
     * assert pool.reservedBytes() <= maxIdleBytes + leasedArenas * maxBytesPerArena;
     * }
     */
    public long reservedBytes() {
        return reserved.get();
    }

    /**
     * {@return a snapshot of this pool's figures} Each figure is exact when read; figures read
     * while other threads acquire and return arenas may be of slightly different moments.
     *
     * {@snippet :
     * ArenaPool.Statistics figures = pool.statistics();
     * System.out.println(figures.leased() + " connections, " + figures.reservedBytes() + " bytes");
     * }
     */
    public Statistics statistics() {
        return new Statistics(leased.get(), idleCount(), acquires.get(), arenasCreated.get(), arenasFreed.get(),
                bytesTrimmed.get(), reserved.get(), peakReserved.get(), leaks.get());
    }

    /**
     * The figures of an {@link ArenaPool} at one moment, from {@link ArenaPool#statistics()}.
     *
     * {@snippet :
     * ArenaPool.Statistics figures = pool.statistics();
     * assert figures.reservedBytes() <= figures.peakReservedBytes();
     * }
     *
     * @param leased            arenas acquired and not yet closed
     * @param idle              arenas waiting for the next acquire
     * @param acquires          calls of {@link ArenaPool#acquire()} that returned an arena
     * @param arenasCreated     arenas made because none was idle
     * @param arenasFreed       arenas whose blocks were freed, on their return beyond the idle
     *                          bounds, when the pool closed, or when they leaked
     * @param bytesTrimmed      native memory freed as arenas came back: blocks beyond their
     *                          {@code retainBytes}, and whole arenas beyond the idle bounds
     * @param reservedBytes     native memory held by the pool's arenas, idle and leased
     * @param peakReservedBytes the most native memory they ever held at once
     * @param leaks             leased arenas found unreachable without having been closed, and
     *                          freed: see {@link LeakDetection}
     */
    public record Statistics(int leased, int idle, long acquires, long arenasCreated, long arenasFreed,
                             long bytesTrimmed, long reservedBytes, long peakReservedBytes, long leaks) {}

    private ObjectName registerMXBean() {
        try {
            ObjectName objectName = ObjectName.getInstance("io.arena4j:type=ArenaPool,name=" + ObjectName.quote(name));
            ManagementFactory.getPlatformMBeanServer().registerMBean(new PoolMXBean(), objectName);
            return objectName;
        } catch (JMException e) {
            throw new IllegalStateException("Cannot register the MXBean of pool " + name, e);
        }
    }

    /** What JMX sees of the pool: its statistics, read afresh at every request. */
    private final class PoolMXBean implements ArenaPoolMXBean {
        @Override public String getName() { return name; }
        @Override public int getLeased() { return leased.get(); }
        @Override public int getIdle() { return idleCount(); }
        @Override public long getAcquires() { return acquires.get(); }
        @Override public long getArenasCreated() { return arenasCreated.get(); }
        @Override public long getArenasFreed() { return arenasFreed.get(); }
        @Override public long getBytesTrimmed() { return bytesTrimmed.get(); }
        @Override public long getReservedBytes() { return reserved.get(); }
        @Override public long getPeakReservedBytes() { return peakReserved.get(); }
        @Override public long getLeaks() { return leaks.get(); }
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
        arenasFreed.addAndGet(toFree.size());
        Events.unwatch(this);
        if (mxBeanName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(mxBeanName);
            } catch (JMException e) {
                throw new IllegalStateException("Cannot unregister the MXBean of pool " + name, e);
            }
        }
    }

    /**
     * Describes the pool in one line, for example
     * {@code ArenaPool[arena-pool-1, idle=3, leased=12, reserved=1048576, maxIdle=64, maxIdleBytes=8388608]}.
     */
    @Override
    public String toString() {
        return "ArenaPool[" + name + ", idle=" + idleCount() + ", leased=" + leased.get() + ", reserved=" + reservedBytes()
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
        private String name;
        private boolean registerMXBean;
        private LeakDetection leakDetection;    // null: the system property's

        private Builder() {}

        /**
         * Names the pool in its {@code toString()}, its MXBean and its reports; by default
         * {@code arena-pool-1}, {@code arena-pool-2}, ... in the order pools are built.
         *
         * @param name a name that is not blank
         * @return this builder
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public Builder name(String name) {
            if (name.isBlank()) {
                throw new IllegalArgumentException("A pool's name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * Sets how closely the pool's leases are watched for arenas never closed, as
         * {@link LeakDetection} describes; by default the system property
         * {@value LeakDetection#PROPERTY} decides, and one lease in every sampling interval is
         * watched. A leaked arena is reported, and its memory freed.
         *
         * @param level how closely to watch
         * @return this builder
         */
        public Builder leakDetection(LeakDetection level) {
            this.leakDetection = java.util.Objects.requireNonNull(level, "level");
            return this;
        }

        /**
         * Sets whether the pool registers its {@link ArenaPool#statistics() statistics} as the
         * platform MXBean {@code io.arena4j:type=ArenaPool,name=}<em>its name</em> when built, and
         * unregisters it when closed. Off by default.
         *
         * @param register whether to register the MXBean
         * @return this builder
         */
        public Builder registerMXBean(boolean register) {
            this.registerMXBean = register;
            return this;
        }

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
         * @throws IllegalStateException if the MXBean cannot be registered, for example because
         *         a pool of the same name registered one already
         */
        public ArenaPool build() {
            arenaSettings.validate();
            return new ArenaPool(this);
        }
    }
}
