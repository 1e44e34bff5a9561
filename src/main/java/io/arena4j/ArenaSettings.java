package io.arena4j;

/**
 * The settings of an {@link Arena}, checked once and never changed: made by
 * {@link Arena.Builder}, shared by every arena of an {@link ArenaPool}.
 *
 * @param blockSize      the size of a regular block
 * @param maxBytes       the cap on the native memory one arena holds, or {@link #UNLIMITED}
 * @param retainBytes    what a reset, or a return to the pool, keeps for the next round
 * @param zeroed         whether slices read as zeros
 * @param blockAllocator where blocks come from: the C library, or a test's stand-in
 * @param leakDetection  how closely arenas are watched for a leak, or null for the level the system
 *                       property sets
 */
record ArenaSettings(long blockSize, long maxBytes, long retainBytes, boolean zeroed, BlockAllocator blockAllocator,
                     LeakDetection leakDetection) {

    /** The size of a regular block unless the builder says otherwise: 64 KiB. */
    static final long DEFAULT_BLOCK_SIZE = 64 * 1024;

    /** A {@code maxBytes} that means "no limit". */
    static final long UNLIMITED = Long.MAX_VALUE;

    /** Smallest block size: below it almost every request would be a large one. */
    static final long MIN_BLOCK_SIZE = 256;

    /** Largest block size: 1 GiB. Larger requests get a block of their own anyway. */
    static final long MAX_BLOCK_SIZE = 1L << 30;

    /**
     * Checks how the settings fit together; each setter of {@link Arena.Builder} has checked its
     * own argument already.
     *
     * @throws IllegalArgumentException if the block size or the retained bytes exceed the limit
     */
    ArenaSettings {
        assert blockSize >= MIN_BLOCK_SIZE && blockSize <= MAX_BLOCK_SIZE && maxBytes > 0 && retainBytes >= 0;
        if (blockSize > maxBytes) {
            throw new IllegalArgumentException("blockSize (" + blockSize + ") exceeds maxBytes ("
                    + maxBytes + "): no block could ever be allocated");
        }
        if (retainBytes > maxBytes) {
            throw new IllegalArgumentException("retainBytes (" + retainBytes + ") exceeds maxBytes ("
                    + maxBytes + ")");
        }
    }

    /**
     * {@return the bytes above which a request, with the padding its alignment may need, gets a
     * block of its own: a quarter of a block}
     */
    long largeThreshold() {
        return blockSize / 4;
    }

    /**
     * {@return how closely to watch: {@code override} if not null, else these settings' level,
     * else the system property's} The property is read only if needed, so that a bad value
     * fails only the builds that would use it.
     */
    LeakDetection leakDetectionOr(LeakDetection override) {
        if (override != null) {
            return override;
        }
        return leakDetection != null ? leakDetection : LeakDetection.fromSystemProperty();
    }

    /** {@return whether the arena's own limit can refuse a request} */
    boolean limited() {
        return maxBytes != UNLIMITED;
    }

    /**
     * {@return the settings as the arena's toString() shows them: blockSize=65536, retain=65536, max=unlimited, zeroed}
     */
    @Override
    public String toString() {
        return "blockSize=" + blockSize + ", retain=" + retainBytes
                + ", max=" + (limited() ? maxBytes : "unlimited")
                + (zeroed ? ", zeroed" : ", not zeroed");
    }
}
