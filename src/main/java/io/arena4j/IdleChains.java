package io.arena4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The block chains an {@link ArenaPool} keeps for its next leases, most recently returned last,
 * within {@linkplain ArenaPool.Builder#maxIdle(int) maxIdle} chains and
 * {@linkplain ArenaPool.Builder#maxIdleBytes(long) maxIdleBytes} bytes. It only keeps them: the
 * caller frees what it refuses or gives up.
 */
final class IdleChains {

    private final int maxIdle;
    private final long maxIdleBytes;
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock:
    private final ArrayDeque<BlockChain> chains = new ArrayDeque<>();
    private long bytes;
    private boolean closed;

    IdleChains(int maxIdle, long maxIdleBytes) {
        this.maxIdle = maxIdle;
        this.maxIdleBytes = maxIdleBytes;
    }

    /**
     * {@return the most recently returned chain, whose blocks are likely in cache, or null if
     * none is idle}
     *
     * @throws IllegalStateException if the pool is closed
     */
    BlockChain poll() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("ArenaPool is closed");
            }
            BlockChain chain = chains.pollLast();
            if (chain != null) {
                bytes -= chain.reservedBytes();
            }
            return chain;
        } finally {
            lock.unlock();
        }
    }

    /** {@return whether {@code chain} is kept: the pool is open and within both bounds with it} */
    boolean offer(BlockChain chain) {
        long size = chain.reservedBytes();
        lock.lock();
        try {
            if (closed || chains.size() >= maxIdle || size > maxIdleBytes - bytes) {
                return false;
            }
            chains.addLast(chain);
            bytes += size;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives up idle chains, least recently used first, until they hold {@code needed} bytes, but
     * none unless they and {@code unusedBytes} of the caller's own hold that much together.
     *
     * @return the chains given up, for the caller to free, or null if refused
     */
    List<BlockChain> giveUp(long needed, long unusedBytes) {
        lock.lock();
        try {
            if (bytes < needed - unusedBytes) {
                return null;
            }
            List<BlockChain> given = new ArrayList<>();
            long taken = 0;
            while (taken < needed && !chains.isEmpty()) {
                BlockChain chain = chains.pollFirst();
                taken += chain.reservedBytes();
                bytes -= chain.reservedBytes();
                given.add(chain);
            }
            return given;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Keeps nothing from now on.
     *
     * @return every chain that was idle, for the caller to free
     * @throws IllegalStateException if closed already
     */
    List<BlockChain> close() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("ArenaPool is already closed");
            }
            closed = true;
            List<BlockChain> all = new ArrayList<>(chains);
            chains.clear();
            bytes = 0;
            return all;
        } finally {
            lock.unlock();
        }
    }

    /** {@return whether {@link #close()} was called} */
    boolean closed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** {@return the number of chains kept} */
    int size() {
        lock.lock();
        try {
            return chains.size();
        } finally {
            lock.unlock();
        }
    }
}
