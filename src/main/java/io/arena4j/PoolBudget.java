package io.arena4j;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The budget of an {@link ArenaPool}: what the blocks of all its arenas may hold together,
 * {@linkplain ArenaPool.Builder#maxTotalBytes(long) maxTotalBytes}. Every block of the pool's
 * arenas is counted here before it is allocated and after it is freed, so that
 * {@link #reservedBytes()} is never below the native memory held, and never above the limit.
 *
 * <p>When a request finds too little room, the budget asks its {@link Reclaimer} (the pool's
 * idle block chains) for the rest. The decision to refuse is taken once, by the reclaimer, before
 * anything is freed; what it frees passes its bytes straight to the request, without giving them
 * back to the count first, so that no other thread can take that room in between and leave the
 * request refused after all.
 */
final class PoolBudget implements BlockBudget {

    /** Memory the budget can take back when it is short: the pool's idle chains. */
    @FunctionalInterface
    interface Reclaimer {

        /**
         * Frees idle memory of at least {@code bytes}, whose bytes stay counted, now for the
         * caller's block. Frees nothing, and returns -1, unless it and the caller's own
         * {@code unusedBytes} hold that much together.
         *
         * @return the bytes freed, possibly more than {@code bytes}, or -1
         */
        long reclaim(long bytes, long unusedBytes);
    }

    private final String poolName;
    private final long maxTotalBytes;
    private final AtomicLong reserved = new AtomicLong();
    private final AtomicLong peakReserved = new AtomicLong();
    private final Reclaimer reclaimer;

    PoolBudget(String poolName, long maxTotalBytes, Reclaimer reclaimer) {
        this.poolName = poolName;
        this.maxTotalBytes = maxTotalBytes;
        this.reclaimer = reclaimer;
    }

    @Override
    public long take(long bytes, long unusedBytes, long requestedBytes, long byteAlignment, long blockBytes) {
        long now;
        long room;
        do {        // as much of bytes as the budget has room for: all of them, or what is left
            now = reserved.get();
            room = Math.min(bytes, Math.max(0, maxTotalBytes - now));
        } while (room > 0 && !reserved.compareAndSet(now, now + room));
        if (room == bytes) {
            recordPeak(now + room);     // what this grant reached, whatever others did since
            return 0;
        }
        if (!bounded()) {
            // Only a size beyond any address space gets here: refused as the C library refuses it.
            giveBack(room);
            throw new OutOfMemoryError("Cannot allocate " + blockBytes + " bytes of native memory");
        }
        long needed = bytes - room;
        long reclaimed = reclaimer.reclaim(needed, unusedBytes);
        if (reclaimed < 0) {
            giveBack(room);
            long held = reserved.get();
            Events.limitRefused(requestedBytes, byteAlignment, blockBytes, maxTotalBytes, held);
            throw new ArenaLimitException(poolName, requestedBytes, byteAlignment, blockBytes, maxTotalBytes, held);
        }
        if (reclaimed > needed) {
            giveBack(reclaimed - needed);       // chains are freed whole
        }
        recordPeak(reserved.get());
        return Math.max(0, needed - reclaimed);
    }

    /** Records {@code count}, reached by a grant, as the peak if it is one; a refusal never does. */
    private void recordPeak(long count) {
        peakReserved.accumulateAndGet(count, Math::max);
    }

    @Override
    public void giveBack(long bytes) {
        reserved.addAndGet(-bytes);
    }

    @Override
    public boolean bounded() {
        return maxTotalBytes != ArenaSettings.UNLIMITED;
    }

    /** {@return the bound, or {@link ArenaSettings#UNLIMITED}} */
    long maxTotalBytes() {
        return maxTotalBytes;
    }

    /** {@return the bytes of every block of the pool's arenas, idle and leased} */
    long reservedBytes() {
        return reserved.get();
    }

    /** {@return the most they ever held at once} */
    long peakReservedBytes() {
        return peakReserved.get();
    }
}
