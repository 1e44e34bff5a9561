package io.arena4j;

import java.util.Objects;

/**
 * The setters of {@link Arena.Builder}, each checking its own argument, and the settings they
 * make: a builder of {@link ArenaSettings}. Package-private so that the public builder shows only
 * its own type; {@code B} is that type, which every setter returns.
 *
 * @param <B> the public builder
 */
abstract class SettingsBuilder<B extends SettingsBuilder<B>> {

    private long blockSize = ArenaSettings.DEFAULT_BLOCK_SIZE;
    private long maxBytes = ArenaSettings.UNLIMITED;
    private long retainBytes = -1;    // unset: one block
    private boolean zeroed = true;
    private BlockAllocator blockAllocator = NativeMemory.LIBC;
    private LeakDetection leakDetection;    // null: the system property's

    /** {@return this builder, as the public type} */
    @SuppressWarnings("unchecked")    // B is the class of every instance: see Arena.Builder
    private B self() {
        return (B) this;
    }

    /**
     * Sets the size of a regular block, 64 KiB by default. Bigger blocks mean fewer native
     * allocations and more memory held by an idle arena; requests above a quarter of a block
     * (with their alignment's padding) get blocks of their own.
     *
     * {@snippet :
     * Arena.builder().blockSize(1 << 20).build();
     * }
     *
     * @param bytes from 256 bytes to 1 GiB
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is outside that range
     */
    public B blockSize(long bytes) {
        if (bytes < ArenaSettings.MIN_BLOCK_SIZE || bytes > ArenaSettings.MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("blockSize must be from " + ArenaSettings.MIN_BLOCK_SIZE
                    + " to " + ArenaSettings.MAX_BLOCK_SIZE + " bytes: " + bytes);
        }
        this.blockSize = bytes;
        return self();
    }

    /**
     * Sets a hard cap on the native memory the arena holds, {@link Arena#UNLIMITED} by default.
     * A request that would cross it throws {@link ArenaLimitException}. Blocks count whole.
     *
     * {@snippet :
     * Arena.builder().maxBytes(16 << 20).build();   // one hostile connection cannot take more
     * }
     *
     * @param bytes a positive number of bytes, at least the block size
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes <= 0}
     */
    public B maxBytes(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + bytes);
        }
        this.maxBytes = bytes;
        return self();
    }

    /**
     * Sets how much native memory {@link Arena#reset()}, or a return to the pool, may keep for
     * the next round; by default one block. Zero frees everything at each reset.
     *
     * {@snippet :
     * Arena.builder().retainBytes(8 << 20).build();  // a round of up to 8 MiB allocates nothing
     * }
     *
     * @param bytes zero or more bytes, at most the limit
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes < 0}
     */
    public B retainBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("retainBytes must not be negative: " + bytes);
        }
        this.retainBytes = bytes;
        return self();
    }

    /**
     * Sets whether slices read as zeros, {@code true} by default. Turn it off only when every
     * slice is overwritten before it is read: memory then carries bytes from earlier rounds.
     *
     * {@snippet :
     * Arena.builder().zeroed(false).build();
     * }
     *
     * @param zeroed whether slices read as zeros
     * @return this builder
     */
    public B zeroed(boolean zeroed) {
        this.zeroed = zeroed;
        return self();
    }

    /**
     * Sets whether the arena is watched for a leak, as {@link LeakDetection} describes; by
     * default the system property {@value LeakDetection#PROPERTY} decides, and one arena in
     * every sampling interval is watched. A pool watches its leases at this level unless
     * its own builder sets one.
     *
     * {@snippet :
     * Arena.builder().leakDetection(LeakDetection.EVERY).build();   // in tests
     * }
     *
     * @param level how closely to watch
     * @return this builder
     */
    public B leakDetection(LeakDetection level) {
        this.leakDetection = Objects.requireNonNull(level, "level");
        return self();
    }

    /** Takes blocks from {@code allocator} instead of the C library: for tests that count or fail them. */
    B blockAllocator(BlockAllocator allocator) {
        this.blockAllocator = Objects.requireNonNull(allocator, "allocator");
        return self();
    }

    /**
     * {@return the settings, checked together}
     *
     * @throws IllegalArgumentException if the block size or the retained bytes exceed the limit
     */
    ArenaSettings settings() {
        return new ArenaSettings(blockSize, maxBytes, retainBytes < 0 ? blockSize : retainBytes, zeroed,
                blockAllocator, leakDetection);
    }
}
