package io.arena4j;

/**
 * How closely arenas are watched for leaks: an arena that becomes unreachable without having been
 * closed. A watched arena that leaks is reported through {@link System.Logger} (logger
 * {@code io.arena4j.LeakDetection}, level {@code ERROR}) and as a JFR event
 * {@code io.arena4j.LeakDetected}, with the stack trace of the {@code acquire()} or
 * {@code build()} that made it, and its native memory is freed (a pooled arena's is counted out
 * of its pool). An unwatched arena that leaks keeps its blocks until the process ends.
 *
 * {@snippet :
 * ArenaPool pool = ArenaPool.builder().leakDetection(LeakDetection.EVERY).build();   // in tests
 * }
 *
 * <h2>Choosing the level</h2>
 * The system property {@code io.arena4j.leakDetection} ({@code off}, {@code sampled} or
 * {@code every}) sets the level of every arena and pool that does not set its own;
 * {@link #SAMPLED} is the default. {@code io.arena4j.leakDetection.samplingInterval} sets how
 * many leases of a pool, or standalone arenas, share one watched arena: a power of two, 1024 by
 * default.
 *
 * <h2>Safety</h2>
 * Memory is freed only once neither the arena nor any slice it handed out in its current
 * generation or open checkpoints can be reached: a slice kept in a field after its arena was
 * dropped keeps reading its own bytes, and the memory is recovered when that slice is dropped
 * too. Slices of earlier generations and of closed checkpoints are dead already: they cannot read
 * anything, and they do not keep a leaked arena from being recovered.
 *
 * <h2>Cost</h2>
 * A watched arena records a stack trace when it is made or acquired (microseconds), and each of
 * its generations and checkpoint levels registers one cleanup action with the JDK arena behind
 * it; unwatched arenas pay nothing, and the allocation fast path is the same for both.
 */
public enum LeakDetection {

    /** No arena is watched. */
    OFF,

    /**
     * One arena in every sampling interval (1024 by default) is watched: of the standalone
     * arenas built, and of each stripe's leases of an {@link ArenaPool}.
     */
    SAMPLED,

    /** Every arena is watched: for tests and debugging. */
    EVERY;

    /** The system property that sets the default level. */
    public static final String PROPERTY = "io.arena4j.leakDetection";

    /** The system property that sets the sampling interval of {@link #SAMPLED}. */
    public static final String INTERVAL_PROPERTY = "io.arena4j.leakDetection.samplingInterval";

    /**
     * {@return the level set by the system property {@value #PROPERTY}, or {@link #SAMPLED}}
     *
     * @throws IllegalArgumentException if the property names no level
     */
    static LeakDetection fromSystemProperty() {
        String value = System.getProperty(PROPERTY, "sampled");
        for (LeakDetection level : values()) {
            if (level.name().equalsIgnoreCase(value.strip())) {
                return level;
            }
        }
        throw new IllegalArgumentException(PROPERTY + " must be off, sampled or every, not \"" + value + "\"");
    }

    /** The sampling interval, read once. */
    static int samplingInterval() {
        if (Integer.bitCount(Interval.VALUE) != 1) {
            throw new IllegalArgumentException(INTERVAL_PROPERTY + " must be a power of two: " + Interval.VALUE);
        }
        return Interval.VALUE;
    }

    private static final class Interval {
        static final int VALUE = Integer.getInteger(INTERVAL_PROPERTY, 1024);
    }

    /** {@return whether the arena made or leased as number {@code serial} (from 0) is watched} */
    boolean watches(long serial) {
        return switch (this) {
            case OFF -> false;
            // The last of each interval, not the first: a program with a handful of arenas, or a
            // benchmark, then measures unwatched ones, as nearly all of a busy server's are.
            case SAMPLED -> (serial & (samplingInterval() - 1)) == samplingInterval() - 1;   // a mask, not a division
            case EVERY -> true;
        };
    }
}
