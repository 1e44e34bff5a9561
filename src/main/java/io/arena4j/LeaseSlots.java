package io.arena4j;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The bound on arenas leased at once, {@linkplain ArenaPool.Builder#maxLeased(int) maxLeased}:
 * a permit per arena that may still be leased, handed to waiters first come first served. Its
 * waits park, so a virtual thread frees its carrier.
 */
final class LeaseSlots {

    private final Semaphore permits;

    LeaseSlots(int maxLeased) {
        this.permits = new Semaphore(maxLeased, true);
    }

    /** Waits for a permit for as long as it takes; an interrupt does not end the wait, and stays set. */
    void acquire() {
        permits.acquireUninterruptibly();
    }

    /**
     * Waits for a permit for at most {@code nanos}, keeping an interrupt for later. A zero or
     * negative wait takes a permit only if one is free now, and in turn: the timed tryAcquire
     * keeps to the fair order, where the untimed one would overtake the waiters.
     *
     * @return whether the caller has a permit
     */
    boolean acquire(long nanos) {
        // Elapsed time against a wait of at least zero: a deadline of nanoTime() + nanos
        // overflows for the most negative waits, and turns them into waits of centuries.
        long wait = Math.max(0, nanos);
        long start = System.nanoTime();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    long left = Math.max(0, wait - (System.nanoTime() - start));
                    return permits.tryAcquire(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;          // waits on, behind whoever came meanwhile
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives a permit back: the first waiter, if any, takes it. */
    void release() {
        permits.release();
    }

    /** {@return an estimate of the threads waiting for a permit} */
    int waiting() {
        return permits.getQueueLength();
    }
}
