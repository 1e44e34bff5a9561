package io.arena4j;

import java.time.Duration;

/**
 * Thrown by {@link ArenaPool#acquire(Duration)} when the pool's
 * {@linkplain ArenaPool.Builder#maxLeased(int) maxLeased} arenas stayed leased for the whole
 * timeout. The pool is unchanged: closing a leased arena makes room.
 *
 * {@snippet :
 * try (ArenaPool pool = ArenaPool.builder().maxLeased(1).build();
 *      Arena first = pool.acquire()) {
 *     try {
 *         pool.acquire(Duration.ofMillis(10));
 *     } catch (ArenaPoolExhaustedException e) {
 *         assert e.maxLeased() == 1;                 // a server answers 503 here
 *     }
 * }
 * }
 */
public final class ArenaPoolExhaustedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The most arenas the pool lets out at once. */
    private final int maxLeased;
    /** How long the caller waited. */
    private final Duration timeout;

    /**
     * Creates the exception for a wait that timed out.
     *
     * @param poolName  the pool's name
     * @param maxLeased the most arenas the pool lets out at once
     * @param timeout   how long the caller waited
     */
    ArenaPoolExhaustedException(String poolName, int maxLeased, Duration timeout) {
        super("All " + maxLeased + " arenas of pool " + poolName + " (maxLeased) stayed leased for " + timeout
                + ", the time the caller would wait");
        this.maxLeased = maxLeased;
        this.timeout = timeout;
    }

    /** {@return the most arenas the pool lets out at once} */
    public int maxLeased() {
        return maxLeased;
    }

    /** {@return how long the caller waited for an arena} */
    public Duration timeout() {
        return timeout;
    }
}
