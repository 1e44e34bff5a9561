package io.arena4j;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * A thread-safe pool of {@link Arena}s: one per connection, returned when the connection ends.
 *
 * <p>{@link #acquire()} hands the calling thread an idle arena, or a new one; closing the arena
 * gives it back. On the way back it is reset, as {@link Arena#reset()} does: every slice of the
 * connection dies, the blocks it keeps are cleared, and blocks beyond its
 * {@linkplain Arena.Builder#retainBytes(long) retainBytes} are freed, so that an arena that grew for
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
 * <p>Threads that lease at once share no lock and no counter, unless their thread ids fall on
 * the same stripe. The pool keeps its idle arenas and its figures in stripes (twice the machine's
 * processors, rounded up to a power of two, at most 64), each with a lock of its own: a thread
 * leases from and returns to the stripe of its thread id (the next free one if another thread
 * holds it), so a connection served by one thread, platform or virtual, usually gets back the
 * arena it returned last, its blocks still in cache. A lease whose stripe has no idle arena looks
 * for one in the other stripes before it makes a new one (one returned while it looks may be
 * missed). Arenas belong to stripes, not to threads or carriers: a thread that ends, or a
 * virtual thread that moves to another carrier, loses none and pins none. The bounds below hold
 * for the whole pool all the same: each stripe keeps at most its share of them, and a stripe
 * whose share is used up takes unused share from the others, with all of them locked. With the
 * defaults that happens only near a bound; with fewer idle arenas allowed than about four per
 * stripe, returns often take that slow path. A lease and its arena are counted under one lock,
 * so {@link #statistics()}, which locks every stripe, gives counts of one moment that add up.
 * Leak detection samples one lease in every 1024 of each stripe. Under
 * {@linkplain Builder#maxLeased(int) maxLeased} every lease also takes a slot from one shared
 * line: the price of a bound on all threads' leases together.
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
 *
 * <p>Two bounds make the whole pool's memory one number a server can trust, whatever the number
 * of connections:
 * {@snippet :
 * ArenaPool pool = ArenaPool.builder()
 *         .maxTotalBytes(512L << 20)   // all arenas, leased and idle, never hold more
 *         .maxLeased(2000)             // at most this many arenas out at once
 *         .build();
 * try (Arena arena = pool.acquire(Duration.ofMillis(100))) {   // or answer 503
 *     // ...
 * }
 * }
 * <ul>
 * <li>{@linkplain Builder#maxTotalBytes(long) maxTotalBytes} holds at every instant, across all
 *     threads. It is checked only when an arena needs a new block, never on the allocation fast
 *     path. A block that would cross it first takes memory back from idle arenas, those idle
 *     longest first (in turn from each stripe), then from blocks the arena kept from earlier
 *     rounds and has not used in this one. If the two together cannot make room, nothing is
 *     freed: the allocation throws {@link ArenaLimitException}, whose
 *     {@link ArenaLimitException#poolName() poolName()} names the pool, and the arena and the
 *     pool are left as they were.
 * <li>{@linkplain Builder#maxLeased(int) maxLeased} makes {@link #acquire()} wait while that many
 *     arenas are out, and {@link #acquire(Duration)} wait at most its timeout. Waiters are served
 *     in the order they came, each as an arena comes back; a virtual thread waits without
 *     holding its carrier. Closing the pool ends every wait with {@link IllegalStateException}.
 * </ul>
 */
public final class ArenaPool implements AutoCloseable {

    /** Idle arenas kept unless {@link Builder#maxIdle(int)} says otherwise. */
    public static final int DEFAULT_MAX_IDLE = 64;

    /** Idle native memory kept unless {@link Builder#maxIdleBytes(long)} says otherwise: 8 MiB. */
    public static final long DEFAULT_MAX_IDLE_BYTES = 8L << 20;

    /** maxLeased when it is not set: arenas are leased without waiting. */
    private static final int UNBOUNDED_LEASES = Integer.MAX_VALUE;

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final String name;
    private final ArenaSettings arenaSettings;
    private final int maxIdle;
    private final long maxIdleBytes;
    private final int maxLeased;
    private final LeakDetection leakDetection;
    private final PoolBudget budget;
    /** The idle chains and the counters, by stripe. */
    private final PoolStripes stripes;
    /** A slot per arena that may still be leased under maxLeased; null without that bound. */
    private final LeaseSlots leaseSlots;
    /** Registered as this pool's platform MXBean, or null. */
    private final ObjectName mxBeanName;

    // What the pool's arenas and its leak watches call back; one each per pool.
    private final ChainRecycler takeBack = this::takeBack;
    private final PoolStripes.Leaser<Arena> arenaOverChain = this::arenaOver;
    private final Runnable onLeak = this::leaked;
    /** Emits the pool's JFR statistics event; held weakly by Events, so as long as the pool lives. */
    private final Runnable statisticsEvent = this::emitStatisticsEvent;

    private ArenaPool(Builder settings, ArenaSettings arenaSettings) {
        this.name = settings.name != null ? settings.name : "arena-pool-" + POOLS.incrementAndGet();
        this.arenaSettings = arenaSettings;
        this.maxIdle = settings.maxIdle;
        this.maxIdleBytes = settings.maxIdleBytes;
        this.maxLeased = settings.maxLeased;
        this.leakDetection = arenaSettings.leakDetectionOr(settings.leakDetection);
        this.stripes = new PoolStripes(PoolStripes.stripesForThisMachine(), maxIdle, maxIdleBytes);
        this.budget = new PoolBudget(name, settings.maxTotalBytes, this::reclaimIdle);
        this.leaseSlots = maxLeased == UNBOUNDED_LEASES ? null : new LeaseSlots(maxLeased);
        this.mxBeanName = settings.registerMXBean ? registerMXBean() : null;
        Events.watch(statisticsEvent);
    }

    /**
     * Frees idle chains, those idle longest first, for a block that the budget has no room for:
     * see {@link PoolBudget.Reclaimer}. Their bytes stay in the budget's count, now for that block.
     */
    private long reclaimIdle(long bytes, long unusedBytes) {
        List<BlockChain> chains = stripes.giveUp(bytes, unusedBytes);
        return chains == null ? -1 : free(chains, true);
    }

    /**
     * Frees chains that are no longer idle, and were counted freed. {@code forAnotherChain}: their
     * bytes stay in the budget's count, for a block of another arena.
     *
     * @return the bytes they held
     */
    private long free(List<BlockChain> chains, boolean forAnotherChain) {
        long bytes = 0;
        for (BlockChain chain : chains) {
            bytes += chain.reservedBytes();
            if (forAnotherChain) {
                chain.freeAllForAnotherChain();
            } else {
                chain.freeAll();
            }
        }
        return bytes;
    }

    /**
     * Creates a pool with the defaults: arenas as {@link Arena#create()} makes them, at most
     * {@value #DEFAULT_MAX_IDLE} idle arenas holding at most 8 MiB, no bound on the memory of all
     * the arenas or on their number.
     *
     * {@snippet :
     * try (ArenaPool pool = ArenaPool.create(); Arena arena = pool.acquire()) {
     *     arena.allocate(100);
     * }
     * }
     *
     * @return a new pool, holding no arena yet
     */
    public static ArenaPool create() {
        return builder().build();
    }

    /**
     * Starts configuring a pool: the settings of its arenas, as {@link Arena.Builder} has them,
     * and the bounds on what it keeps idle.
     *
     * {@snippet :
     * ArenaPool pool = ArenaPool.builder()
     *         .arenas(Arena.builder().maxBytes(16 << 20))  // per arena
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
     * Closing the arena returns it. Under {@linkplain Builder#maxLeased(int) maxLeased}, waits
     * while that many arenas are leased, for as long as it takes; as with
     * {@link java.util.concurrent.locks.Lock#lock()}, an interrupt does not end the wait (the
     * thread's interrupt status stays set), and closing the pool does.
     *
     * {@snippet :
     * try (Arena arena = pool.acquire()) {
     *     arena.allocate(100);
     * }
     * }
     *
     * @return an arena owned by the calling thread, with no slice alive
     * @throws IllegalStateException if the pool is closed, or is closed while the caller waits
     */
    public Arena acquire() {
        if (leaseSlots != null) {
            leaseSlots.acquire();
        }
        return leaseInSlot();
    }

    /**
     * Leases an arena as {@link #acquire()} does, waiting at most {@code timeout} while
     * {@linkplain Builder#maxLeased(int) maxLeased} arenas are leased. Waiters are served in the
     * order they came; a zero or negative timeout takes an arena only if one is free now. An
     * interrupt does not end the wait (the thread's interrupt status stays set).
     *
     * {@snippet :
     * try (Arena arena = pool.acquire(Duration.ofMillis(100))) {
     *     // serve the request
     * } catch (ArenaPoolExhaustedException full) {
     *     // answer "503 Service Unavailable"
     * }
     * }
     *
     * @param timeout how long to wait at most
     * @return an arena owned by the calling thread, with no slice alive
     * @throws ArenaPoolExhaustedException if maxLeased arenas stayed leased for the whole timeout
     * @throws IllegalStateException if the pool is closed, or is closed while the caller waits
     */
    public Arena acquire(Duration timeout) {
        long nanos = TimeUnit.NANOSECONDS.convert(timeout);   // saturates; NullPointerException for null
        if (leaseSlots != null && !leaseSlots.acquire(nanos)) {
            throw new ArenaPoolExhaustedException(name, maxLeased, timeout);
        }
        return leaseInSlot();
    }

    /**
     * Leases an arena once the caller has its permit, if there is a bound. A caller that cannot
     * lease one (the pool was closed) passes the permit on, so that every waiter wakes in turn.
     */
    private Arena leaseInSlot() {
        try {
            return lease();
        } catch (RuntimeException | Error e) {
            releaseSlot();
            throw e;
        }
    }

    /**
     * A new arena over the newest idle chain of the caller's stripe, of another stripe, or a new
     * chain: a stale reference to an earlier lease stays closed.
     */
    private Arena lease() {
        return stripes.lease(arenaOverChain);
    }

    /** Makes the arena of a lease counted by the stripes; see {@link PoolStripes#lease}. */
    private Arena arenaOver(BlockChain idleChain, long serial) {
        BlockChain chain = idleChain;
        try {
            if (chain == null) {
                chain = new BlockChain(arenaSettings, budget);
            }
            LeakWatch watch = leakDetection.watches(serial) ? new LeakWatch(chain, name, onLeak) : null;
            return new Arena(arenaSettings, chain, takeBack, watch);
        } catch (RuntimeException | Error refused) {     // for example, native access denied
            // The lease was counted: so is its end.
            if (chain != null) {
                giveBackOrFree(chain, 0);
            } else {
                stripes.countReturnOfFreedChain(0);
            }
            throw refused;
        }
    }

    /**
     * Takes the chain of an arena closed on its owner thread: trims it to its retainBytes, as a
     * reset would, and keeps it for the next lease if the idle bounds allow, frees it otherwise.
     */
    private void takeBack(BlockChain chain, long usedOfCurrent) {
        try {
            long before = chain.reservedBytes();
            try {
                chain.recycle(usedOfCurrent);      // clears what a reset keeps
            } catch (RuntimeException | Error failed) {     // a block the allocator could not free
                stripes.countReturnOfFreedChain(chain.reservedBytes());
                try {
                    free(List.of(chain), false);
                } catch (RuntimeException | Error again) {
                    failed.addSuppressed(again);
                }
                throw failed;
            }
            giveBackOrFree(chain, before - chain.reservedBytes());
        } finally {
            releaseSlot();                      // last: a waiter it wakes finds the chain idle
        }
    }

    private void giveBackOrFree(BlockChain chain, long trimmedBytes) {
        if (!stripes.giveBack(chain, trimmedBytes)) {
            free(List.of(chain), false);
        }
    }

    /** Lets the next waiter under maxLeased lease an arena. */
    private void releaseSlot() {
        if (leaseSlots != null) {
            leaseSlots.release();
        }
    }

    /** Called by a leak watch once a leased arena never closed became unreachable, and its blocks were freed. */
    private void leaked() {
        stripes.countLeak();
        releaseSlot();
    }

    /**
     * {@return the number of arenas waiting idle for the next acquire} It locks every stripe of
     * the pool, as {@link #statistics()} does.
     *
     * {@snippet :
     * pool.acquire().close();
     * assert pool.idleCount() == 1;
     * }
     */
    public int idleCount() {
        return stripes.figures().idle();
    }

    /**
     * {@return the native memory held by the arenas of this pool, idle and leased, right now}
     *
     * {@snippet :
     * assert pool.reservedBytes() <= maxIdleBytes + leasedArenas * maxBytesPerArena;
     * }
     */
    public long reservedBytes() {
        return budget.reservedBytes();
    }

    /**
     * {@return a snapshot of this pool's figures} The counts of arenas and {@code bytesTrimmed}
     * are of one moment, however many threads lease meanwhile, so they add up:
     * {@code arenasCreated - arenasFreed == leased + idle}. The bytes reserved and their peak,
     * and the threads waiting, are each exact when read, and may be of a slightly different
     * moment. It locks every stripe of the pool (see "Threads" above): call it to monitor, not
     * per request. The MXBean and the JFR event show these figures.
     *
     * {@snippet :
     * ArenaPool.Statistics figures = pool.statistics();
     * System.out.println(figures.leased() + " connections, " + figures.reservedBytes() + " bytes");
     * }
     */
    public Statistics statistics() {
        long reserved = budget.reservedBytes();
        // The budget records a peak just after it grants the bytes: a reader in between must not
        // see more reserved than the peak.
        long peak = Math.max(budget.peakReservedBytes(), reserved);
        PoolStripes.Figures counted = stripes.figures();
        return new Statistics(counted.leased(), counted.idle(), leaseSlots == null ? 0 : leaseSlots.waiting(),
                counted.acquires(), counted.arenasCreated(), counted.arenasFreed(), counted.bytesTrimmed(), reserved,
                peak, counted.leaks());
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
     * @param waiting           threads waiting in {@code acquire} because
     *                          {@linkplain Builder#maxLeased(int) maxLeased} arenas are leased
     * @param acquires          calls of {@link ArenaPool#acquire()} that returned an arena
     * @param arenasCreated     arenas made because the lease found none idle
     * @param arenasFreed       arenas whose blocks were freed, on their return beyond the idle
     *                          bounds, when the budget took their memory back while they were
     *                          idle, when the pool closed, or when they leaked
     * @param bytesTrimmed      native memory freed as arenas came back: blocks beyond their
     *                          {@code retainBytes}, and whole arenas beyond the idle bounds or
     *                          after the pool closed
     * @param reservedBytes     native memory held by the pool's arenas, idle and leased
     * @param peakReservedBytes the most native memory they ever held at once
     * @param leaks             leased arenas found unreachable without having been closed, and
     *                          freed: see {@link LeakDetection}
     */
    public record Statistics(int leased, int idle, int waiting, long acquires, long arenasCreated, long arenasFreed,
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

    /** What JMX sees of the pool: its statistics, taken afresh for every attribute read. */
    private final class PoolMXBean implements ArenaPoolMXBean {
        @Override public String getName() { return name; }
        @Override public int getLeased() { return statistics().leased(); }
        @Override public int getIdle() { return statistics().idle(); }
        @Override public int getWaiting() { return statistics().waiting(); }
        @Override public long getAcquires() { return statistics().acquires(); }
        @Override public long getArenasCreated() { return statistics().arenasCreated(); }
        @Override public long getArenasFreed() { return statistics().arenasFreed(); }
        @Override public long getBytesTrimmed() { return statistics().bytesTrimmed(); }
        @Override public long getReservedBytes() { return statistics().reservedBytes(); }
        @Override public long getPeakReservedBytes() { return statistics().peakReservedBytes(); }
        @Override public long getLeaks() { return statistics().leaks(); }
    }

    private void emitStatisticsEvent() {
        Statistics figures = statistics();
        Events.poolStatistics(name, figures.idle(), figures.leased(), figures.waiting(), figures.reservedBytes(),
                figures.peakReservedBytes(), figures.acquires());
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
        List<BlockChain> chains = stripes.close();
        releaseSlot();      // the first waiter wakes, finds the pool closed, and passes it on
        free(chains, false);
        Events.unwatch(statisticsEvent);
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
     * {@code ArenaPool[arena-pool-1, idle=3, leased=12, reserved=1048576, maxIdle=64, maxIdleBytes=8388608]},
     * with {@code maxTotalBytes} and {@code maxLeased} when they are set.
     */
    @Override
    public String toString() {
        PoolStripes.Figures counted = stripes.figures();
        return "ArenaPool[" + name + ", idle=" + counted.idle() + ", leased=" + counted.leased()
                + ", reserved=" + reservedBytes()
                + ", maxIdle=" + maxIdle + ", maxIdleBytes=" + maxIdleBytes
                + (budget.bounded() ? ", maxTotalBytes=" + budget.maxTotalBytes() : "")
                + (maxLeased == UNBOUNDED_LEASES ? "" : ", maxLeased=" + maxLeased)
                + (counted.closed() ? ", closed" : "") + "]";
    }

    /**
     * Configures an {@link ArenaPool}: the settings of every arena, as {@link Arena.Builder} has
     * them, and the bounds on idle arenas. Setters check their own argument; {@link #build()}
     * checks the rest.
     *
     * {@snippet :
     * ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().retainBytes(256 * 1024)).maxIdle(32).build();
     * }
     */
    public static final class Builder {

        private Arena.Builder arenas = Arena.builder();
        private int maxIdle = DEFAULT_MAX_IDLE;
        private long maxIdleBytes = DEFAULT_MAX_IDLE_BYTES;
        private long maxTotalBytes = ArenaSettings.UNLIMITED;
        private int maxLeased = UNBOUNDED_LEASES;
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
         * {@link LeakDetection} describes; by default the level of the {@link #arenas arenas}'
         * builder, and if that sets none the system property {@value LeakDetection#PROPERTY},
         * under which one lease in every sampling interval is watched. A leaked arena is
         * reported, and its memory freed.
         *
         * @param level how closely to watch
         * @return this builder
         */
        public Builder leakDetection(LeakDetection level) {
            this.leakDetection = Objects.requireNonNull(level, "level");
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
         * Sets the settings of every arena of the pool, as {@code arenas} holds them when the pool
         * is built; by default those of {@link Arena#create()}. The pool watches its leases for
         * leaks at the level of {@code arenas} unless {@link #leakDetection(LeakDetection)} sets
         * one for the pool.
         *
         * {@snippet :
         * ArenaPool pool = ArenaPool.builder()
         *         .arenas(Arena.builder().blockSize(16 * 1024).maxBytes(1 << 20))
         *         .build();
         * }
         *
         * @param arenas the settings of each arena
         * @return this builder
         */
        public Builder arenas(Arena.Builder arenas) {
            this.arenas = Objects.requireNonNull(arenas, "arenas");
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
         * Sets the most native memory all the pool's arenas, leased and idle, may hold together;
         * no bound by default. It holds at every instant: an arena that needs a new block beyond
         * it first takes memory back from idle arenas, then from the blocks it kept and has not
         * used this round, and if those cannot make room throws {@link ArenaLimitException},
         * changing nothing.
         *
         * {@snippet :
         * ArenaPool pool = ArenaPool.builder().maxTotalBytes(512L << 20).build();
         * }
         *
         * @param bytes a positive number of bytes, at least one block
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes <= 0}
         */
        public Builder maxTotalBytes(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("maxTotalBytes must be positive: " + bytes);
            }
            this.maxTotalBytes = bytes;
            return this;
        }

        /**
         * Sets the most arenas leased at once; no bound by default. Beyond it,
         * {@link ArenaPool#acquire()} waits for an arena to come back, and
         * {@link ArenaPool#acquire(Duration)} waits at most its timeout.
         *
         * {@snippet :
         * ArenaPool pool = ArenaPool.builder().maxLeased(2000).build();
         * }
         *
         * @param arenas a positive number
         * @return this builder
         * @throws IllegalArgumentException if {@code arenas <= 0}
         */
        public Builder maxLeased(int arenas) {
            if (arenas <= 0) {
                throw new IllegalArgumentException("maxLeased must be positive: " + arenas);
            }
            this.maxLeased = arenas;
            return this;
        }

        /**
         * Creates the pool. It holds no arena yet.
         *
         * @return a new pool
         * @throws IllegalArgumentException if the arena settings do not fit together, as
         *         {@link Arena.Builder#build()} checks them, or maxTotalBytes is less than a block
         * @throws IllegalStateException if the MXBean cannot be registered, for example because
         *         a pool of the same name registered one already
         */
        public ArenaPool build() {
            ArenaSettings arenaSettings = arenas.settings();
            if (maxTotalBytes < arenaSettings.blockSize()) {
                throw new IllegalArgumentException("maxTotalBytes (" + maxTotalBytes + ") is less than blockSize ("
                        + arenaSettings.blockSize() + "): no block could ever be allocated");
            }
            return new ArenaPool(this, arenaSettings);
        }
    }
}
