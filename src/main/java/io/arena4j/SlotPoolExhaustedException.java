package io.arena4j;

/**
 * Thrown by {@link SlotPool#acquire()} when every slot of the table is in use and so are as many
 * overflow slots as the pool allows. The pool is unchanged: releasing a slot makes room.
 *
 * {@snippet :
 * try (SlotPool pool = SlotPool.builder().slotSize(48).capacity(1).maxOverflow(0).build()) {
 *     pool.acquire();
 *     try {
 *         pool.acquire();
 *     } catch (SlotPoolExhaustedException e) {
 *         assert e.capacity() == 1 && e.maxOverflow() == 0;
 *     }
 * }
 * }
 */
public final class SlotPoolExhaustedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The number of slots in the pool's table. */
    private final int capacity;
    /** The most overflow slots the pool keeps alive at once. */
    private final int maxOverflow;

    /**
     * Creates the exception for a pool with no slot left.
     *
     * @param capacity    the number of slots in the pool's table
     * @param maxOverflow the most overflow slots the pool keeps alive at once
     */
    SlotPoolExhaustedException(int capacity, int maxOverflow) {
        super("All " + capacity + " slots of the table are in use, and so are " + maxOverflow
                + " overflow slots, the most this pool allows (maxOverflow)");
        this.capacity = capacity;
        this.maxOverflow = maxOverflow;
    }

    /** {@return the number of slots in the pool's table} */
    public int capacity() {
        return capacity;
    }

    /** {@return the most overflow slots the pool keeps alive at once} */
    public int maxOverflow() {
        return maxOverflow;
    }
}
