package io.arena4j;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bound on arenas leased at once, {@linkplain ArenaPool.Builder#maxLeased(int) maxLeased}:
 * a slot per arena that may still be leased, handed to waiters first come first served. A slot
 * given back goes straight to the first waiter, so nobody overtakes the line, and an interrupt
 * neither ends a wait nor moves a waiter back: {@link java.util.concurrent.Semaphore}'s timed
 * wait does both, which is why this is not one. Its waits park, so a virtual thread frees its
 * carrier.
 */
final class LeaseSlots {

    /** One thread waiting in line, and whether a slot was handed to it. */
    private static final class Waiter {
        final Condition turn;
        boolean served;

        Waiter(Condition turn) {
            this.turn = turn;
        }
    }

    // Fair: a thread that comes to the line while others lease and return in a tight loop must
    // not be overtaken on its way in, before it has a place.
    private final ReentrantLock lock = new ReentrantLock(true);
    // Guarded by lock:
    private final ArrayDeque<Waiter> line = new ArrayDeque<>();
    private int free;

    LeaseSlots(int maxLeased) {
        this.free = maxLeased;
    }

    /** Waits for a slot for as long as it takes; an interrupt does not end the wait, and stays set. */
    void acquire() {
        acquire(0, false);                   // an untimed wait ends with a slot
    }

    /**
     * Waits for a slot for at most {@code nanos}, keeping an interrupt for later. A zero or
     * negative wait takes a slot only if one is free and nobody waits for it.
     *
     * @return whether the caller has a slot
     */
    boolean acquire(long nanos) {
        return acquire(nanos, true);
    }

    private boolean acquire(long nanos, boolean timed) {
        lock.lock();
        try {
            if (line.isEmpty() && free > 0) {
                free--;
                return true;
            }
            if (timed && nanos <= 0) {
                return false;
            }
            return waitInLine(nanos, timed);
        } finally {
            lock.unlock();
        }
    }

    /** Waits, with the lock held, until {@link #release()} serves the caller or the wait times out. */
    private boolean waitInLine(long nanos, boolean timed) {
        Waiter waiter = new Waiter(lock.newCondition());
        line.addLast(waiter);
        // Elapsed time against the wait: a deadline of nanoTime() + nanos would overflow for the
        // longest waits and turn them into waits in the past.
        long start = System.nanoTime();
        boolean interrupted = false;
        boolean granted = false;
        try {
            while (!waiter.served) {
                long left = nanos - (System.nanoTime() - start);
                if (timed && left <= 0) {
                    return false;
                }
                try {
                    if (timed) {
                        waiter.turn.awaitNanos(left);
                    } else {
                        waiter.turn.await();
                    }
                } catch (InterruptedException e) {
                    interrupted = true;       // waits on, in the same place in line
                }
            }
            granted = true;
            return true;
        } finally {
            if (!granted) {                   // timed out, or failed (an Error) while waiting
                if (waiter.served) {
                    release();                // a slot handed over too late: to the next waiter
                } else {
                    line.remove(waiter);
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Gives a slot back: to the first waiter, if any. */
    void release() {
        lock.lock();
        try {
            Waiter first = line.pollFirst();
            if (first == null) {
                free++;
            } else {
                first.served = true;
                first.turn.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@return the number of threads waiting for a slot} */
    int waiting() {
        lock.lock();
        try {
            return line.size();
        } finally {
            lock.unlock();
        }
    }
}
