package io.arena4j;

/**
 * Thrown when an allocation would take an {@link Arena}'s native memory over its
 * {@linkplain Arena.Builder#maxBytes(long) limit}, or the native memory of all the arenas of an
 * {@link ArenaPool} over the pool's {@linkplain ArenaPool.Builder#maxTotalBytes(long) budget}
 * ({@link #poolName()} then names the pool). The arena and the pool are left exactly as they were
 * and stay usable: smaller requests may still succeed, and {@link Arena#reset()} frees room.
 *
 * <p>It is an {@link OutOfMemoryError}, as the JDK's own failures to allocate direct or native
 * memory are: code written for any {@link java.lang.foreign.Arena} that handles a failed
 * allocation handles the limit too. Unlike most errors, it leaves nothing damaged behind, and
 * catching it is as safe as catching an {@link IllegalArgumentException}.
 *
 * {@snippet :
 * try (Arena arena = Arena.builder().blockSize(64 * 1024).maxBytes(1024 * 1024).build()) {
 *     try {
 *         arena.allocate(4 * 1024 * 1024);           // one hostile request
 *     } catch (ArenaLimitException e) {
 *         System.out.println(e.getMessage());        // names the request, the limit and the reservation
 *         assert e.reservedBytes() <= e.limitBytes();
 *     }
 *     arena.allocate(100);                           // still fine
 * }
 * }
 */
public final class ArenaLimitException extends OutOfMemoryError {

    private static final long serialVersionUID = 3L;

    /** The size of the refused request. */
    private final long requestedBytes;
    /** The arena's limit on native memory, or the pool's budget. */
    private final long limitBytes;
    /** The native memory the arena, or the pool, held when it refused. */
    private final long reservedBytes;
    /** The pool whose budget refused the request, or null if the arena's own limit did. */
    private final String poolName;

    /**
     * Creates the exception for a refused request.
     *
     * @param requestedBytes the size the caller asked for
     * @param byteAlignment  the alignment the caller asked for
     * @param blockBytes     the size of the block the request needed
     * @param limitBytes     the arena's limit on native memory
     * @param inUseBytes     the native memory of the blocks holding slices of the current round
     * @param reservedBytes  the native memory the arena held when it refused: the blocks in use,
     *                       and kept ones it would have freed to make room
     */
    ArenaLimitException(long requestedBytes, long byteAlignment, long blockBytes,
                        long limitBytes, long inUseBytes, long reservedBytes) {
        super("Cannot allocate " + requestedBytes + " bytes aligned to " + byteAlignment
                + ": a new block of " + blockBytes + " bytes beside the " + inUseBytes
                + " bytes of blocks in use would cross the arena's limit of " + limitBytes
                + " bytes (it holds " + reservedBytes + " bytes)");
        this.requestedBytes = requestedBytes;
        this.limitBytes = limitBytes;
        this.reservedBytes = reservedBytes;
        this.poolName = null;
    }

    /**
     * Creates the exception for a request refused by a pool's budget.
     *
     * @param poolName          the pool's name
     * @param requestedBytes    the size the caller asked for
     * @param byteAlignment     the alignment the caller asked for
     * @param blockBytes        the size of the block the request needed
     * @param budgetBytes       the pool's {@code maxTotalBytes}
     * @param poolReservedBytes the native memory of all the pool's arenas when it refused
     */
    ArenaLimitException(String poolName, long requestedBytes, long byteAlignment, long blockBytes,
                        long budgetBytes, long poolReservedBytes) {
        super("Cannot allocate " + requestedBytes + " bytes aligned to " + byteAlignment
                + ": a new block of " + blockBytes + " bytes would cross the budget of pool " + poolName
                + " (maxTotalBytes) of " + budgetBytes + " bytes: its arenas hold " + poolReservedBytes
                + " bytes, and freeing its idle arenas and this arena's unused blocks would not make room");
        this.requestedBytes = requestedBytes;
        this.limitBytes = budgetBytes;
        this.reservedBytes = poolReservedBytes;
        this.poolName = poolName;
    }

    /** {@return the size of the refused request, in bytes} */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** {@return the limit crossed, in bytes: the arena's {@code maxBytes}, or the pool's {@code maxTotalBytes}} */
    public long limitBytes() {
        return limitBytes;
    }

    /** {@return the native memory the arena, or for a pool's budget all its arenas, held when it refused, in bytes} */
    public long reservedBytes() {
        return reservedBytes;
    }

    /**
     * {@return the name of the pool whose budget refused the request, or {@code null} if the
     * arena's own limit did} A server can answer the first with "try later" (the server is full)
     * and the second with "too large" (this request is).
     */
    public String poolName() {
        return poolName;
    }
}
