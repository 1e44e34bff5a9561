package io.arena4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What an {@link ArenaPool} keeps and counts, split in stripes so that threads leasing at once
 * share no lock and no counter: the idle block chains, within
 * {@linkplain ArenaPool.Builder#maxIdle(int) maxIdle} and
 * {@linkplain ArenaPool.Builder#maxIdleBytes(long) maxIdleBytes}, and the figures of the pool's
 * statistics.
 *
 * <p>Each stripe has its own lock, idle chains, share of the two bounds, and counters. A thread
 * uses the stripe of its thread id, so a connection served by one thread, platform or virtual,
 * usually leases the chain it gave back last and touches no other stripe. Chains belong to stripes, not
 * to threads or carriers: a thread that ends, or a virtual thread that moves to another carrier,
 * takes nothing with it, and a lease whose stripe has no idle chain takes one from another stripe.
 *
 * <p>The bounds stay exact. A stripe keeps at most its share, and the shares add up to the
 * bounds. A chain given back to a stripe whose share is used up takes unused share from the
 * others, with all of them locked, and is refused only if the whole pool has no room for it.
 * What must see the whole pool at one moment (figures, memory for the budget, closing) locks
 * every stripe, in order; a thread on the fast path holds one lock at a time and never waits
 * while it holds it, so the two cannot deadlock.
 */
final class PoolStripes {

    private final Stripe[] stripes;
    private final int mask;
    private final int maxIdle;
    private final long maxIdleBytes;

    /**
     * @param count a power of two: the number of stripes
     */
    PoolStripes(int count, int maxIdle, long maxIdleBytes) {
        assert Integer.bitCount(count) == 1 : "a power of two, so that a mask picks a stripe";
        stripes = new Stripe[count];
        for (int i = 0; i < count; i++) {
            // The shares add up to the bounds; the first stripes take the remainders.
            stripes[i] = new Stripe(maxIdle / count + (i < maxIdle % count ? 1 : 0),
                    maxIdleBytes / count + (i == 0 ? maxIdleBytes % count : 0));
        }
        mask = count - 1;
        this.maxIdle = maxIdle;
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * {@return a stripe count for this machine} Twice its processors, rounded up to a power of
     * two, so that threads running at once rarely share one; at most 64, so that the shares of
     * the idle bounds do not get much smaller than they must.
     */
    static int stripesForThisMachine() {
        int wanted = Math.min(64, 2 * Runtime.getRuntime().availableProcessors());
        return Integer.highestOneBit(wanted - 1) << 1;
    }

    /** Makes the arena of one lease from a chain: see {@link #lease}. */
    @FunctionalInterface
    interface Leaser<T> {
        /**
         * @param chain  an idle chain, or null: make a new one, already counted as created
         * @param serial the number of this lease on the stripe that counted it, from 0, for
         *               leak sampling
         * @return the lease, never null
         */
        T lease(BlockChain chain, long serial);
    }

    /**
     * Counts a lease, with the chain it takes: the newest idle chain of the caller's stripe, else
     * of another stripe, else none, and the lease makes a new one. A lease is counted under the
     * same lock as its chain leaves idle, or as the new chain is counted, so that every snapshot
     * of the figures adds up.
     *
     * @return what {@code leaser} makes of the chain, called once no lock is held
     * @throws IllegalStateException if the pool is closed
     */
    <T> T lease(Leaser<T> leaser) {
        Stripe stripe = lockCallersStripe();
        // A closed pool's stripes are empty: the last section below refuses the lease.
        T leased = leaseNewest(stripe, leaser);
        if (leased != null) {
            return leased;
        }
        for (Stripe other : stripes) {
            // A racy look at the count: a stale one only costs a lock for nothing, or a new chain.
            if (other != stripe && other.idleChains > 0) {
                other.lock();
                leased = leaseNewest(other, leaser);
                if (leased != null) {
                    return leased;
                }
            }
        }
        stripe = lockCallersStripe();
        long serial;
        try {
            refuseIfClosed(stripe);
            serial = stripe.acquires++;
            stripe.arenasCreated++;
        } finally {
            stripe.unlock();
        }
        return leaser.lease(null, serial);
    }

    /**
     * Takes the newest idle chain of {@code stripe}, which the caller has locked, counts its
     * lease there, and unlocks the stripe.
     *
     * @return what {@code leaser} makes of the chain, or null if the stripe had none
     */
    private <T> T leaseNewest(Stripe stripe, Leaser<T> leaser) {
        BlockChain chain;
        long serial = 0;
        try {
            chain = stripe.takeNewest();
            if (chain != null) {
                serial = stripe.acquires++;
            }
        } finally {
            stripe.unlock();
        }
        return chain == null ? null : leaser.lease(chain, serial);
    }

    private static void refuseIfClosed(Stripe stripe) {
        if (stripe.closed) {
            throw new IllegalStateException("ArenaPool is closed");
        }
    }

    /**
     * {@return the caller's stripe, locked} If another thread holds it, another free stripe
     * serves; if all are held, the caller waits for its own.
     */
    private Stripe lockCallersStripe() {
        int home = (int) Thread.currentThread().threadId() & mask;
        Stripe stripe = stripes[home];
        if (stripe.tryLock()) {
            return stripe;
        }
        for (int i = 1; i < stripes.length; i++) {
            Stripe other = stripes[(home + i) & mask];
            if (other.tryLock()) {
                return other;
            }
        }
        stripe.lock();
        return stripe;
    }

    /**
     * Counts the return of {@code chain} from its lease, with the bytes trimmed from it, and
     * keeps it idle if the pool is open and has room for it; otherwise counts it freed, with
     * its bytes as trimmed, in the same lock section.
     *
     * @return whether it is kept; if not, the caller frees it
     */
    boolean giveBack(BlockChain chain, long trimmedBytes) {
        long size = chain.reservedBytes();
        Stripe stripe = lockCallersStripe();
        try {
            if (stripe.keep(chain, size)) {
                stripe.countReturn(trimmedBytes);
                return true;
            }
            // The whole pool has no room for it: no need to look at the other stripes.
            if (stripe.closed || maxIdle == 0 || size > maxIdleBytes) {
                stripe.countReturnFreed(trimmedBytes, size);
                return false;
            }
        } finally {
            stripe.unlock();
        }
        return keepWithSharesOfOthers(stripe, chain, size, trimmedBytes);
    }

    /**
     * Keeps {@code chain} in {@code stripe} with unused share of the other stripes, if all of them
     * together have room for it, and counts its return; with all stripes locked.
     */
    private boolean keepWithSharesOfOthers(Stripe stripe, BlockChain chain, long size, long trimmedBytes) {
        lockAll();
        try {
            long freeChains = 0;
            long freeBytes = 0;
            for (Stripe each : stripes) {
                freeChains += each.freeChains();
                freeBytes += each.freeBytes();
            }
            if (stripe.closed || freeChains < 1 || freeBytes < size) {
                stripe.countReturnFreed(trimmedBytes, size);
                return false;
            }
            for (Stripe other : stripes) {
                if (other != stripe) {
                    int chains = Math.min(Math.max(0, 1 - stripe.freeChains()), other.freeChains());
                    long bytes = Math.min(Math.max(0, size - stripe.freeBytes()), other.freeBytes());
                    other.maxIdle -= chains;
                    stripe.maxIdle += chains;
                    other.maxIdleBytes -= bytes;
                    stripe.maxIdleBytes += bytes;
                }
            }
            boolean kept = stripe.keep(chain, size);
            assert kept : "the shares moved to the stripe make room for the chain";
            stripe.countReturn(trimmedBytes);
            return true;
        } finally {
            unlockAll();
        }
    }

    /**
     * Gives up idle chains until they hold {@code needed} bytes, the longest idle of each stripe
     * first, but none unless they and {@code unusedBytes} of the caller's own hold that much
     * together. The stripes keep their shares.
     *
     * @return the chains given up, counted as freed, for the caller to free, or null if refused
     */
    List<BlockChain> giveUp(long needed, long unusedBytes) {
        lockAll();
        try {
            long idleBytes = 0;
            for (Stripe stripe : stripes) {
                idleBytes += stripe.idleBytes;
            }
            if (idleBytes < needed - unusedBytes) {
                return null;
            }
            // Sized first: nothing may fail between a chain leaving idle and its count as freed.
            List<BlockChain> given = new ArrayList<>(idleChains());
            long taken = 0;
            while (taken < needed && taken < idleBytes) {      // chains are given up whole
                for (Stripe stripe : stripes) {
                    if (taken < needed && stripe.idleChains > 0) {
                        BlockChain chain = stripe.takeOldest();
                        taken += chain.reservedBytes();
                        given.add(chain);
                    }
                }
            }
            stripes[0].arenasFreed += given.size();
            return given;
        } finally {
            unlockAll();
        }
    }

    /**
     * Keeps nothing from now on.
     *
     * @return every chain that was idle, counted as freed, for the caller to free
     * @throws IllegalStateException if closed already
     */
    List<BlockChain> close() {
        lockAll();
        try {
            if (stripes[0].closed) {
                throw new IllegalStateException("ArenaPool is already closed");
            }
            List<BlockChain> all = new ArrayList<>(idleChains());    // sized first, as in giveUp
            for (Stripe stripe : stripes) {
                stripe.closed = true;
                while (stripe.idleChains > 0) {
                    all.add(stripe.takeNewest());
                }
            }
            stripes[0].arenasFreed += all.size();
            return all;
        } finally {
            unlockAll();
        }
    }

    /**
     * Counts the end of a lease whose chain the caller frees instead of giving it back: one that
     * failed to recycle, or a lease that failed before it had a chain ({@code chainBytes} 0).
     */
    void countReturnOfFreedChain(long chainBytes) {
        Stripe stripe = lockCallersStripe();
        stripe.countReturnFreed(0, chainBytes);
        stripe.unlock();
    }

    /** Counts a leased arena found unreachable, whose blocks were freed. */
    void countLeak() {
        Stripe stripe = lockCallersStripe();
        stripe.leaks++;
        stripe.arenasFreed++;
        stripe.unlock();
    }

    /** {@return the sums of every stripe's counters and idle chains, all at one moment} */
    Figures figures() {
        lockAll();
        try {
            long acquires = 0;
            long returns = 0;
            long created = 0;
            long freed = 0;
            long trimmed = 0;
            long leaks = 0;
            int idle = 0;
            for (Stripe stripe : stripes) {
                acquires += stripe.acquires;
                returns += stripe.returns;
                created += stripe.arenasCreated;
                freed += stripe.arenasFreed;
                trimmed += stripe.bytesTrimmed;
                leaks += stripe.leaks;
                idle += stripe.idleChains;
            }
            return new Figures((int) (acquires - returns - leaks), idle, acquires, created, freed, trimmed, leaks,
                    stripes[0].closed);
        } finally {
            unlockAll();
        }
    }

    /** The counters of {@link #figures()}: what {@link ArenaPool.Statistics} shows of them. */
    record Figures(int leased, int idle, long acquires, long arenasCreated, long arenasFreed, long bytesTrimmed,
                   long leaks, boolean closed) {}

    /** {@return the idle chains of all stripes} With all of them locked. */
    private int idleChains() {
        int chains = 0;
        for (Stripe stripe : stripes) {
            chains += stripe.idleChains;
        }
        return chains;
    }

    private void lockAll() {
        for (Stripe stripe : stripes) {
            stripe.lock();
        }
    }

    private void unlockAll() {
        for (Stripe stripe : stripes) {
            stripe.unlock();
        }
    }

    /** A stripe's lock, idle chains, shares of the bounds and counters. */
    private abstract static class StripeFields extends CacheLinePadding {
        private static final VarHandle LOCKED;
        static {
            try {
                LOCKED = MethodHandles.lookup().findVarHandle(StripeFields.class, "locked", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        static final int GAP = 16;

        private volatile int locked;
        // Guarded by the lock, but for a racy look at idleChains:
        /**
         * The idle chains, the newest last, from index {@link #GAP}: the slots a lease writes
         * have 64 bytes of unused slots on both sides, whatever the collector puts next to them.
         */
        BlockChain[] idle = new BlockChain[GAP + 16 + GAP];
        int idleChains;
        long idleBytes;
        int maxIdle;
        long maxIdleBytes;
        boolean closed;
        long acquires;
        long returns;
        long arenasCreated;
        long arenasFreed;
        long bytesTrimmed;
        long leaks;

        StripeFields(int maxIdle, long maxIdleBytes) {
            this.maxIdle = maxIdle;
            this.maxIdleBytes = maxIdleBytes;
        }

        /**
         * A lock of one compare-and-set, for sections of a few field writes: it never calls out
         * or waits while held, so a waiter spins, and yields its carrier or processor meanwhile.
         */
        final boolean tryLock() {
            return locked == 0 && LOCKED.compareAndSet(this, 0, 1);
        }

        final void lock() {
            while (!tryLock()) {
                Thread.yield();
            }
        }

        final void unlock() {
            LOCKED.setRelease(this, 0);
        }
    }

    /** One stripe of the pool, padded on both sides. Its methods run under its lock. */
    @SuppressWarnings("unused")
    private static final class Stripe extends StripeFields {
        private long p11, p12, p13, p14, p15, p16, p17, p18;     // after the fields: see CacheLinePadding

        private Stripe(int maxIdle, long maxIdleBytes) {
            super(maxIdle, maxIdleBytes);
        }

        private void countReturn(long trimmedBytes) {
            returns++;
            bytesTrimmed += trimmedBytes;
        }

        /** Counts a return beyond the idle bounds: the chain is freed whole, its bytes trimmed. */
        private void countReturnFreed(long trimmedBytes, long chainBytes) {
            returns++;
            arenasFreed++;
            bytesTrimmed += trimmedBytes + chainBytes;
        }

        /** {@return the chain given back last, whose blocks are likely in cache, or null} */
        private BlockChain takeNewest() {
            if (idleChains == 0) {
                return null;
            }
            BlockChain chain = idle[GAP + --idleChains];
            idle[GAP + idleChains] = null;
            idleBytes -= chain.reservedBytes();
            return chain;
        }

        /** {@return the chain that has waited longest} For the budget, which rarely needs one. */
        private BlockChain takeOldest() {
            BlockChain chain = idle[GAP];
            System.arraycopy(idle, GAP + 1, idle, GAP, --idleChains);
            idle[GAP + idleChains] = null;
            idleBytes -= chain.reservedBytes();
            return chain;
        }

        private boolean keep(BlockChain chain, long size) {
            if (closed || freeChains() < 1 || size > freeBytes()) {
                return false;
            }
            if (GAP + idleChains + GAP == idle.length) {
                idle = Arrays.copyOf(idle, GAP + 2 * idleChains + GAP);
            }
            idle[GAP + idleChains++] = chain;
            idleBytes += size;
            return true;
        }

        private int freeChains() {
            return maxIdle - idleChains;
        }

        private long freeBytes() {
            return maxIdleBytes - idleBytes;
        }
    }
}
