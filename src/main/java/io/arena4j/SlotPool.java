package io.arena4j;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A preallocated table of fixed-size native slots with a free list, and a fallback to a separate
 * allocation per slot when the table runs dry: the fixed-size session pool that arena4j started
 * from (docs/design.md, "Where it comes from"), in Java.
 *
 * <p>All {@link #capacity()} slots live in one native allocation made at construction.
 * {@link #acquire()} pops a slot off the free list and {@link #release(MemorySegment)} pushes it
 * back, both in constant time and without allocating native memory. When the table is empty,
 * {@code acquire()} falls back to a native allocation for that one slot (an <em>overflow</em>
 * slot, counted by {@link #overflowCount()}), and {@code release} frees it at once: it tells the
 * two kinds apart by address, as the C pool's {@code cache_free} does.
 *
 * {@snippet :
 * StructLayout SESSION = MemoryLayout.structLayout(
 *         MemoryLayout.sequenceLayout(32, JAVA_BYTE).withName("ip"),
 *         JAVA_INT.withName("port"),
 *         JAVA_INT.withName("sock"));
 * try (SlotPool sessions = SlotPool.of(SESSION, 6000)) {
 *     MemorySegment session = sessions.acquire();       // zeroed
 *     session.set(JAVA_INT, 32, 8080);
 *     sessions.release(session);                        // session is now inaccessible
 * }
 * }
 *
 * <h2>Temporal safety</h2>
 * By default each slot handed out has a scope of its own that {@code release} closes: reading or
 * writing a released slot throws {@link IllegalStateException}, so a stale reference can never
 * read the record of the next session that owns the slot. This costs a small object per acquire.
 * {@link Builder#invalidateOnRelease(boolean) invalidateOnRelease(false)} drops it: slots then
 * share the pool's scope and stay accessible until {@link #close()}, like memory from
 * {@code malloc}. What that mode gives up is exactly this: a stale reference can still read and
 * write the slot after it was released, including while the slot belongs to its next user.
 * What it keeps: {@code release} accepts only the very segment {@code acquire} returned for the
 * slot's current lease, so releasing a stale reference twice, or after the slot was handed out
 * again, is refused and can never free someone else's slot.
 *
 * <h2>Free list</h2>
 * The C pool threads its free list through the nodes' own {@code _next} field. Here the links
 * live in an {@code int[]} beside the table, so that a slot's bytes belong wholly to its user and
 * a stray write into a released slot cannot corrupt the pool.
 *
 * <h2>Threads</h2>
 * Like {@link java.lang.foreign.Arena#ofConfined()}, a pool belongs to the thread that built it:
 * acquiring, releasing and closing from another thread, or touching its slots there, throws
 * {@link WrongThreadException}. The statistics may be read from any thread, as a snapshot.
 */
public final class SlotPool implements AutoCloseable {

    /** The value of {@link Builder#maxOverflow(int)} that means "no cap", the default. */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    /** The default slot alignment: enough for any Java primitive in the slot. */
    public static final long DEFAULT_SLOT_ALIGNMENT = 8;

    private static final int END_OF_LIST = -1;
    private static final int IN_USE = -2;

    private final long slotSize;
    private final long slotAlignment;
    /** Distance between two slots: the slot size padded to the alignment. */
    private final long stride;
    private final long tableSize;
    private final int capacity;
    private final int maxOverflow;
    private final boolean zeroed;
    private final Thread owner;

    /** Owns the table: closing it frees the table and kills every slot that shares its scope. */
    private final java.lang.foreign.Arena tableArena;
    private final MemorySegment table;
    /** For a free slot, the index of the next free slot; {@link #IN_USE} for a slot handed out. */
    private final int[] next;
    /** The scope of each table slot handed out, when slots die at release; otherwise null. */
    private final java.lang.foreign.Arena[] leases;
    /**
     * The segment handed out for each table slot, when slots share the table's scope; otherwise
     * null. Only the segment itself releases the slot: a stale one looks like it in every other way.
     */
    private final MemorySegment[] handedOut;
    private int freeHead;
    private int available;

    /** Overflow slots alive, by address, each with the arena that owns its memory. */
    private final Map<Long, java.lang.foreign.Arena> overflow = new HashMap<>();
    private long overflowCount;
    private boolean closed;

    private SlotPool(Builder settings) {
        this.slotSize = settings.slotSize;
        this.slotAlignment = settings.slotAlignment;
        this.stride = Alignment.alignUp(slotSize, slotAlignment);
        this.capacity = settings.capacity;
        this.maxOverflow = settings.maxOverflow;
        this.zeroed = settings.zeroed;
        this.owner = Thread.currentThread();
        this.tableSize = capacity * stride;
        // The heap arrays first: if one of them cannot be allocated, no native memory is lost.
        this.next = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            next[i] = i + 1 < capacity ? i + 1 : END_OF_LIST;
        }
        this.leases = settings.invalidateOnRelease ? new java.lang.foreign.Arena[capacity] : null;
        this.handedOut = settings.invalidateOnRelease ? null : new MemorySegment[capacity];
        this.freeHead = capacity > 0 ? 0 : END_OF_LIST;
        this.available = capacity;
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
        try {
            this.table = arena.allocate(tableSize, slotAlignment);   // zeroed by the JDK
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        this.tableArena = arena;
    }

    /**
     * Creates a pool of {@code capacity} slots shaped like {@code slotLayout}, with the defaults:
     * zeroed slots that die at release, and unbounded overflow.
     *
     * {@snippet :
     * SlotPool points = SlotPool.of(MemoryLayout.structLayout(JAVA_INT.withName("x"), JAVA_INT.withName("y")), 1000);
     * }
     *
     * @param slotLayout the layout of one slot: its size and alignment
     * @param capacity   the number of slots in the table, zero or more
     * @return a new pool owned by the calling thread
     * @throws IllegalArgumentException if the layout's size is zero, {@code capacity < 0}, or the
     *         table would be too large to address
     */
    public static SlotPool of(MemoryLayout slotLayout, int capacity) {
        return builder().slotLayout(slotLayout).capacity(capacity).build();
    }

    /**
     * Creates a pool of {@code capacity} slots of {@code slotSize} bytes aligned to
     * {@code slotAlignment}, with the defaults of {@link #of(MemoryLayout, int)}.
     *
     * {@snippet :
     * SlotPool records = SlotPool.of(48, 8, 6000);
     * }
     *
     * @param slotSize      the size of one slot in bytes, positive
     * @param slotAlignment the alignment of every slot, a positive power of two
     * @param capacity      the number of slots in the table, zero or more
     * @return a new pool owned by the calling thread
     * @throws IllegalArgumentException if an argument is out of range or the table would be too
     *         large to address
     */
    public static SlotPool of(long slotSize, long slotAlignment, int capacity) {
        return builder().slotSize(slotSize).slotAlignment(slotAlignment).capacity(capacity).build();
    }

    /**
     * Starts configuring a pool.
     *
     * {@snippet :
     * SlotPool pool = SlotPool.builder()
     *         .slotSize(48)
     *         .capacity(6000)
     *         .maxOverflow(1000)           // at most 1000 slots beyond the table at once
     *         .build();
     * }
     *
     * @return a builder with the defaults: alignment 8, zeroed, invalidated on release, unbounded overflow
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Takes a free slot of the table, or, when the table is empty, allocates an overflow slot.
     * The slot reads as zeros unless the pool was built with {@code zeroed(false)}, and is
     * accessible from the owner thread until it is released or the pool is closed.
     *
     * {@snippet :
     * MemorySegment slot = pool.acquire();
     * assert slot.byteSize() == 48;
     * }
     *
     * @return a slot of the pool's size and alignment
     * @throws SlotPoolExhaustedException if the table is empty and {@code maxOverflow} overflow
     *         slots are alive
     * @throws IllegalStateException if the pool is closed
     * @throws WrongThreadException if called from a thread other than the owner
     */
    public MemorySegment acquire() {
        checkAccess();
        int index = freeHead;
        if (index == END_OF_LIST) {
            return acquireOverflow();
        }
        freeHead = next[index];
        next[index] = IN_USE;
        available--;
        long offset = index * stride;
        if (leases == null) {
            return handedOut[index] = table.asSlice(offset, slotSize);
        }
        java.lang.foreign.Arena lease = java.lang.foreign.Arena.ofConfined();
        leases[index] = lease;
        return slotOf(table.address() + offset, lease);
    }

    @SuppressWarnings("restricted")   // a table slot gets a scope of its own, closed at release
    private MemorySegment slotOf(long address, java.lang.foreign.Arena lease) {
        return MemorySegment.ofAddress(address).reinterpret(slotSize, lease, null);
    }

    private MemorySegment acquireOverflow() {
        if (overflow.size() >= maxOverflow) {
            throw new SlotPoolExhaustedException(capacity, maxOverflow);
        }
        java.lang.foreign.Arena lease = java.lang.foreign.Arena.ofConfined();
        MemorySegment slot;
        try {
            slot = lease.allocate(slotSize, slotAlignment);    // zeroed by the JDK
        } catch (RuntimeException | OutOfMemoryError e) {
            lease.close();
            throw e;
        }
        overflow.put(slot.address(), lease);
        overflowCount++;
        return slot;
    }

    /**
     * Gives a slot back. A table slot returns to the free list, cleared if the pool is zeroed; an
     * overflow slot's memory is freed at once. Either way the segment becomes inaccessible unless
     * the pool was built with {@code invalidateOnRelease(false)}. A refused call changes nothing.
     *
     * {@snippet :
     * MemorySegment slot = pool.acquire();
     * pool.release(slot);
     * pool.release(slot);                       // throws IllegalStateException
     * }
     *
     * @param slot a segment returned by {@link #acquire()} of this pool and not released since
     * @throws IllegalArgumentException if {@code slot} is not a slot handed out by this pool:
     *         other memory, a slice of a slot, or a slot of another pool
     * @throws IllegalStateException if {@code slot} was released already (even if its memory has
     *         been handed out again since), if it is in use by a downcall (the pool is then
     *         unchanged), or if the pool is closed
     * @throws WrongThreadException if called from a thread other than the owner
     */
    public void release(MemorySegment slot) {
        Objects.requireNonNull(slot, "slot");
        checkAccess();
        long offset = slot.address() - table.address();
        if (slot.isNative() && offset >= 0 && offset < tableSize) {
            releaseToTable(slot, offset);
        } else {
            releaseOverflow(slot);
        }
    }

    private void releaseToTable(MemorySegment slot, long offset) {
        int index = (int) (offset / stride);
        if (offset % stride != 0 || slot.byteSize() != slotSize) {
            throw notASlot(slot);
        }
        boolean currentLease = leases == null ? slot == handedOut[index]
                : leases[index] != null && slot.scope().equals(leases[index].scope());
        if (!currentLease) {
            // Without invalidation every slot shares the table's scope: that scope marks a slot
            // handed out once. With it, a slot handed out once has a closed scope of its own.
            boolean handedOutBefore = leases == null ? slot.scope().equals(table.scope()) : !slot.scope().isAlive();
            throw handedOutBefore ? releasedTwice(slot) : notASlot(slot);
        }
        if (leases != null) {
            leases[index].close();    // first: if a downcall holds the slot, this refuses and nothing changed
            leases[index] = null;
        } else {
            handedOut[index] = null;
        }
        returnToFreeList(index);
    }

    private void returnToFreeList(int index) {
        assert next[index] == IN_USE;
        if (zeroed) {
            table.asSlice(index * stride, slotSize).fill((byte) 0);
        }
        next[index] = freeHead;
        freeHead = index;
        available++;
    }

    private void releaseOverflow(MemorySegment slot) {
        java.lang.foreign.Arena lease = slot.isNative() ? overflow.get(slot.address()) : null;
        if (lease == null || !slot.scope().equals(lease.scope()) || slot.byteSize() != slotSize) {
            // A closed scope belonged to an overflow slot released before; a live one is foreign.
            throw slot.scope().isAlive() ? notASlot(slot) : releasedTwice(slot);
        }
        lease.close();    // frees the slot's memory; first, so that a refusal changes nothing
        overflow.remove(slot.address());
    }

    private static IllegalStateException releasedTwice(MemorySegment slot) {
        return new IllegalStateException("Slot at 0x" + Long.toHexString(slot.address()) + " was released already");
    }

    private IllegalArgumentException notASlot(MemorySegment slot) {
        return new IllegalArgumentException("Not a slot of this pool: " + slot
                + " (slots are " + slotSize + " bytes; the table holds " + capacity + ")");
    }

    /**
     * Frees the table and every overflow slot still alive; the pool is finished. Every slot
     * becomes inaccessible, and any later call other than the statistics throws
     * {@link IllegalStateException}.
     *
     * <p>A slot in use by a downcall (an upcall of that downcall calls {@code close()}) cannot be
     * closed, as a JDK arena cannot: then {@code close()} throws {@link IllegalStateException},
     * the slots it closed before it found that one are released as {@link #release} would have
     * released them, the others stay live, and the pool stays open, to be closed again once the
     * downcall has returned.
     *
     * {@snippet :
     * try (SlotPool pool = SlotPool.of(48, 8, 100)) {
     *     pool.acquire();
     * }                                         // closed here, live slots included
     * }
     *
     * @throws IllegalStateException if the pool is already closed
     * @throws WrongThreadException if called from a thread other than the owner
     */
    @Override
    public void close() {
        checkAccess();
        // Each step leaves the pool consistent if the next one is refused: see the Javadoc.
        for (int i = 0; leases != null && i < capacity; i++) {
            if (leases[i] != null) {
                leases[i].close();
                leases[i] = null;
                returnToFreeList(i);
            }
        }
        for (var slots = overflow.values().iterator(); slots.hasNext(); ) {
            slots.next().close();
            slots.remove();
        }
        tableArena.close();
        closed = true;
        available = 0;
        freeHead = END_OF_LIST;
    }

    /** {@return the number of slots in the preallocated table} */
    public int capacity() {
        return capacity;
    }

    /**
     * {@return the number of free slots in the table right now}
     *
     * {@snippet :
     * SlotPool pool = SlotPool.of(48, 8, 10);
     * pool.acquire();
     * assert pool.available() == 9;
     * }
     */
    public int available() {
        return available;
    }

    /**
     * {@return the number of slots handed out and not released: table slots and overflow slots}
     *
     * {@snippet :
     * SlotPool pool = SlotPool.of(48, 8, 1);
     * pool.acquire();
     * pool.acquire();                           // overflows
     * assert pool.inUse() == 2 && pool.available() == 0;
     * }
     */
    public int inUse() {
        return closed ? 0 : capacity - available + overflow.size();
    }

    /**
     * {@return how many acquires fell back to an overflow slot since the pool was built}
     *
     * {@snippet :
     * SlotPool pool = SlotPool.of(48, 8, 1);
     * pool.acquire();
     * pool.acquire();
     * assert pool.overflowCount() == 1;
     * }
     */
    public long overflowCount() {
        return overflowCount;
    }

    /**
     * Describes the pool in one line, for example
     * {@code SlotPool[slot=48/8 bytes, capacity=6000, available=120, inUse=5900, overflowSlots=20, overflowCount=311, zeroed, invalidateOnRelease, owner=main]}.
     */
    @Override
    public String toString() {
        return "SlotPool[slot=" + slotSize + "/" + slotAlignment + " bytes, capacity=" + capacity
                + ", available=" + available + ", inUse=" + inUse() + ", overflowSlots=" + overflow.size()
                + ", overflowCount=" + overflowCount + (zeroed ? ", zeroed" : "")
                + (leases != null ? ", invalidateOnRelease" : "")
                + (closed ? ", closed" : ", owner=" + owner.getName()) + "]";
    }

    private void checkAccess() {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("Attempted access outside owning thread: the pool is owned by \""
                    + owner.getName() + "\", not by the calling thread \"" + Thread.currentThread().getName() + "\"");
        }
        if (closed) {
            throw new IllegalStateException("Already closed");
        }
    }

    /**
     * Configures a {@link SlotPool}. The slot shape comes from {@link #slotLayout(MemoryLayout)}
     * or from {@link #slotSize(long)} and {@link #slotAlignment(long)}; the capacity is required.
     * Setters check their own argument; {@link #build()} checks the rest.
     *
     * {@snippet :
     * SlotPool pool = SlotPool.builder().slotSize(48).capacity(6000).maxOverflow(0).build();
     * }
     */
    public static final class Builder {

        private long slotSize = -1;
        private long slotAlignment = DEFAULT_SLOT_ALIGNMENT;
        private int capacity = -1;
        private int maxOverflow = UNBOUNDED;
        private boolean zeroed = true;
        private boolean invalidateOnRelease = true;

        private Builder() {}

        /**
         * Sets the slot size and alignment to those of {@code layout}.
         *
         * {@snippet :
         * SlotPool.builder().slotLayout(MemoryLayout.structLayout(JAVA_LONG, JAVA_INT)).capacity(10).build();
         * }
         *
         * @param layout the layout of one slot
         * @return this builder
         * @throws IllegalArgumentException if the layout's size is zero
         */
        public Builder slotLayout(MemoryLayout layout) {
            return slotSize(layout.byteSize()).slotAlignment(layout.byteAlignment());
        }

        /**
         * Sets the size of a slot. A size that is not a multiple of the alignment is padded in the
         * table; the segments handed out have exactly this size.
         *
         * {@snippet :
         * SlotPool.builder().slotSize(48).capacity(10).build();
         * }
         *
         * @param bytes a positive number of bytes
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes <= 0}
         */
        public Builder slotSize(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("slotSize must be positive: " + bytes);
            }
            this.slotSize = bytes;
            return this;
        }

        /**
         * Sets the alignment of every slot, {@value SlotPool#DEFAULT_SLOT_ALIGNMENT} by default.
         *
         * {@snippet :
         * SlotPool.builder().slotSize(64).slotAlignment(64).capacity(10).build();  // one cache line each
         * }
         *
         * @param bytes a positive power of two
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is not a positive power of two
         */
        public Builder slotAlignment(long bytes) {
            if (!Alignment.isValid(bytes)) {
                throw new IllegalArgumentException("slotAlignment is not a positive power of two: " + bytes);
            }
            this.slotAlignment = bytes;
            return this;
        }

        /**
         * Sets the number of slots in the preallocated table.
         *
         * {@snippet :
         * SlotPool.builder().slotSize(48).capacity(6000).build();
         * }
         *
         * @param slots zero or more; zero makes every slot an overflow slot
         * @return this builder
         * @throws IllegalArgumentException if {@code slots < 0}
         */
        public Builder capacity(int slots) {
            if (slots < 0) {
                throw new IllegalArgumentException("capacity must not be negative: " + slots);
            }
            this.capacity = slots;
            return this;
        }

        /**
         * Caps the number of overflow slots alive at once, {@link SlotPool#UNBOUNDED} by default.
         * Past the cap, {@link SlotPool#acquire()} throws {@link SlotPoolExhaustedException}.
         *
         * {@snippet :
         * SlotPool.builder().slotSize(48).capacity(6000).maxOverflow(0).build();  // the table only
         * }
         *
         * @param slots zero or more
         * @return this builder
         * @throws IllegalArgumentException if {@code slots < 0}
         */
        public Builder maxOverflow(int slots) {
            if (slots < 0) {
                throw new IllegalArgumentException("maxOverflow must not be negative: " + slots);
            }
            this.maxOverflow = slots;
            return this;
        }

        /**
         * Sets whether acquired slots read as zeros, {@code true} by default. When on, a table slot
         * is cleared as it is released, so that no record outlives its session in memory.
         *
         * {@snippet :
         * SlotPool.builder().slotSize(48).capacity(10).zeroed(false).build();
         * }
         *
         * @param zeroed whether slots read as zeros
         * @return this builder
         */
        public Builder zeroed(boolean zeroed) {
            this.zeroed = zeroed;
            return this;
        }

        /**
         * Sets whether a slot becomes inaccessible when it is released, {@code true} by default.
         * Off, table slots share the pool's scope: they stay confined to the owner thread and die
         * at {@link SlotPool#close()}, but a stale reference can read and write a slot that has
         * since been handed to someone else.
         *
         * {@snippet :
         * SlotPool.builder().slotSize(48).capacity(10).invalidateOnRelease(false).build();
         * }
         *
         * @param invalidate whether each slot dies at release
         * @return this builder
         */
        public Builder invalidateOnRelease(boolean invalidate) {
            this.invalidateOnRelease = invalidate;
            return this;
        }

        /**
         * Creates the pool, owned by the calling thread, with its whole table allocated.
         *
         * @return a new pool
         * @throws IllegalArgumentException if the slot size or the capacity is not set, or the
         *         table would be too large to address
         */
        public SlotPool build() {
            if (slotSize < 0) {
                throw new IllegalArgumentException("slotSize (or slotLayout) is not set");
            }
            if (capacity < 0) {
                throw new IllegalArgumentException("capacity is not set");
            }
            long stride = Alignment.alignUp(slotSize, slotAlignment);
            if (stride <= 0 || stride > Long.MAX_VALUE / Math.max(1, capacity)) {
                throw new IllegalArgumentException("A table of " + capacity + " slots of " + slotSize
                        + " bytes aligned to " + slotAlignment + " is too large to address");
            }
            return new SlotPool(this);
        }
    }
}
