package io.arena4j;

/**
 * Thrown when an allocation would take an {@link Arena}'s native memory over its
 * {@linkplain Arena.Builder#maxBytes(long) limit}. The arena is left exactly as it was and stays
 * usable: smaller requests may still succeed, and {@link Arena#reset()} frees room.
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
public class ArenaLimitException extends OutOfMemoryError {

    private static final long serialVersionUID = 2L;

    /** The size of the refused request. */
    private final long requestedBytes;
    /** The arena's limit on native memory. */
    private final long limitBytes;
    /** The native memory the arena held when it refused. */
    private final long reservedBytes;

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
    public ArenaLimitException(long requestedBytes, long byteAlignment, long blockBytes,
                               long limitBytes, long inUseBytes, long reservedBytes) {
        super("Cannot allocate " + requestedBytes + " bytes aligned to " + byteAlignment
                + ": a new block of " + blockBytes + " bytes beside the " + inUseBytes
                + " bytes of blocks in use would cross the arena's limit of " + limitBytes
                + " bytes (it holds " + reservedBytes + " bytes)");
        this.requestedBytes = requestedBytes;
        this.limitBytes = limitBytes;
        this.reservedBytes = reservedBytes;
    }

    /** {@return the size of the refused request, in bytes} */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** {@return the arena's limit on native memory, in bytes} */
    public long limitBytes() {
        return limitBytes;
    }

    /** {@return the native memory the arena held when it refused, in bytes} */
    public long reservedBytes() {
        return reservedBytes;
    }
}
