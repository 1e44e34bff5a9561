package io.arena4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * The JDK Flight Recorder events of arena4j, all under the category "arena4j". They are emitted
 * where native memory changes hands (a block allocated or freed, a request refused by a limit, a
 * leaked arena recovered) and periodically for each pool, never per slice: the allocation fast
 * path has no event at all. An event that no recording enables costs the creation of an object
 * that the JIT removes, on a path that already calls the C library.
 *
 * {@snippet lang=shell :
 * java -XX:StartFlightRecording:filename=run.jfr,settings=profile ... # record
 * jfr print --events io.arena4j.BlockAllocated,io.arena4j.PoolStatistics run.jfr
 * }
 */
final class Events {

    private static final String CATEGORY = "arena4j";

    private Events() {}

    @Name("io.arena4j.BlockAllocated")
    @Label("Block Allocated")
    @Category(CATEGORY)
    @Description("An arena took a block of native memory from the C library")
    static final class BlockAllocated extends Event {
        @Label("Size")
        @DataAmount
        long size;

        @Label("Large")
        @Description("Made for one large request, rather than a regular block of the chain")
        boolean large;
    }

    @Name("io.arena4j.BlockFreed")
    @Label("Block Freed")
    @Category(CATEGORY)
    @Description("An arena gave a block of native memory back to the C library")
    @StackTrace(false)
    static final class BlockFreed extends Event {
        @Label("Size")
        @DataAmount
        long size;

        @Label("Large")
        boolean large;
    }

    @Name("io.arena4j.LimitRefused")
    @Label("Request Refused by the Limit")
    @Category(CATEGORY)
    @Description("An arena refused a request: its block would have taken the arena over maxBytes")
    static final class LimitRefused extends Event {
        @Label("Requested Size")
        @DataAmount
        long requestedSize;

        @Label("Alignment")
        long alignment;

        @Label("Block Size")
        @DataAmount
        long blockSize;

        @Label("Limit")
        @DataAmount
        long maxBytes;

        @Label("In Use")
        @Description("Bytes of the blocks already holding slices")
        @DataAmount
        long inUse;
    }

    @Name("io.arena4j.LeakDetected")
    @Label("Arena Leak Detected")
    @Category(CATEGORY)
    @Description("An arena became unreachable without being closed; its native memory was freed")
    @StackTrace(false)
    static final class LeakDetected extends Event {
        @Label("Pool")
        @Description("The pool it was leased from; null for a standalone arena")
        String pool;

        @Label("Recovered")
        @DataAmount
        long recoveredBytes;

        @Label("Made At")
        @Description("Where the arena was acquired or built")
        String madeAt;
    }

    @Name("io.arena4j.PoolStatistics")
    @Label("Arena Pool Statistics")
    @Category(CATEGORY)
    @Description("The figures of one ArenaPool")
    @Period("10 s")
    @StackTrace(false)
    static final class PoolStatistics extends Event {
        @Label("Pool")
        String pool;

        @Label("Idle Arenas")
        int idle;

        @Label("Leased Arenas")
        int leased;

        @Label("Waiting Threads")
        @Description("Threads waiting in acquire because maxLeased arenas are leased")
        int waiting;

        @Label("Reserved")
        @DataAmount
        long reservedBytes;

        @Label("Peak Reserved")
        @DataAmount
        long peakReservedBytes;

        @Label("Acquires")
        long acquires;
    }

    static void blockAllocated(long size, boolean large) {
        BlockAllocated event = new BlockAllocated();
        if (event.shouldCommit()) {
            event.size = size;
            event.large = large;
            event.commit();
        }
    }

    static void blockFreed(long size, boolean large) {
        BlockFreed event = new BlockFreed();
        if (event.shouldCommit()) {
            event.size = size;
            event.large = large;
            event.commit();
        }
    }

    static void limitRefused(long requestedSize, long alignment, long blockSize, long maxBytes, long inUse) {
        LimitRefused event = new LimitRefused();
        if (event.shouldCommit()) {
            event.requestedSize = requestedSize;
            event.alignment = alignment;
            event.blockSize = blockSize;
            event.maxBytes = maxBytes;
            event.inUse = inUse;
            event.commit();
        }
    }

    static void leakDetected(String pool, long recoveredBytes, Throwable madeAt) {
        LeakDetected event = new LeakDetected();
        if (event.shouldCommit()) {
            event.pool = pool;
            event.recoveredBytes = recoveredBytes;
            java.io.StringWriter trace = new java.io.StringWriter();
            madeAt.printStackTrace(new java.io.PrintWriter(trace));
            event.madeAt = trace.toString();
            event.commit();
        }
    }

    static void poolStatistics(String pool, int idle, int leased, int waiting, long reservedBytes,
                               long peakReservedBytes, long acquires) {
        PoolStatistics event = new PoolStatistics();
        event.pool = pool;
        event.idle = idle;
        event.leased = leased;
        event.waiting = waiting;
        event.reservedBytes = reservedBytes;
        event.peakReservedBytes = peakReservedBytes;
        event.acquires = acquires;
        event.commit();
    }

    /**
     * Runs {@code emitter} at every period of the PoolStatistics event, until it is unwatched or
     * unreachable: the pool that holds it emits its event there.
     */
    static void watch(Runnable emitter) {
        PoolWatch.EMITTERS.add(emitter);
    }

    static void unwatch(Runnable emitter) {
        PoolWatch.EMITTERS.remove(emitter);
    }

    /**
     * Registers the periodic event once the recorder starts, if it ever does: registering it
     * with no recording running cost the first pool 80-100 ms of start-up, in JFR's own setup.
     */
    private static final class PoolWatch {

        /** Held weakly: a pool nobody closed must not stay reachable because of its events. */
        static final Set<Runnable> EMITTERS =
                Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

        static {
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    FlightRecorder.addPeriodicEvent(PoolStatistics.class, PoolWatch::emit);
                }
            });
        }

        private static void emit() {
            List<Runnable> emitters;
            synchronized (EMITTERS) {
                emitters = new ArrayList<>(EMITTERS);
            }
            emitters.forEach(Runnable::run);
        }
    }
}
