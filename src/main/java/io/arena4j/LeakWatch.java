package io.arena4j;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Watches one arena, or one lease of a pooled arena, for a leak: see {@link LeakDetection}. A
 * leak is logged, recorded as a JFR event, and reported to whoever made the watch through a
 * callback, after the blocks were freed.
 *
 * <p>The JDK's {@link Cleaner} runs the recovery once a sentinel object can no longer be reached.
 * The arena holds the sentinel, and so does every scope it opens (generations and checkpoint
 * levels) while it is alive, through the cleanup action of the segment its slices are cut from;
 * every slice holds its scope. So the sentinel stays reachable while the arena or any live slice
 * does, and no longer: a dead slice does not hold it. The recovery, which frees the blocks, can
 * never pull memory from under a slice still in use, and a dead slice never keeps it from
 * running. It holds the blocks, never the arena or the sentinel, or they would never be collected.
 *
 * <p>A pooled arena's blocks outlive its lease: the next lease carves from them. So the arena
 * disarms its watch ({@link #closed()}) before it hands its blocks back, and a recovery can
 * never free blocks that another lease uses.
 */
final class LeakWatch {

    private static final System.Logger LOGGER = System.getLogger("io.arena4j.LeakDetection");
    private static final String PACKAGE_PREFIX = LeakWatch.class.getPackageName() + ".";

    private final Object sentinel = new Object();
    private final Recovery recovery;
    private final Cleaner.Cleanable cleanable;

    /**
     * Watches the arena whose blocks are {@code blocks}, from now on.
     *
     * @param poolName the pool the arena was leased from, or null for a standalone arena
     * @param onLeak   run once the blocks of a leaked arena were freed: the pool counts it there
     */
    LeakWatch(BlockChain blocks, String poolName, Runnable onLeak) {
        // Only the stack is captured here; its frames are made into elements if it leaks, since
        // that is what costs (microseconds on a path the JIT rarely sees when leases are sampled).
        Throwable made = new Throwable("The arena was " + (poolName == null ? "built" : "acquired") + " here");
        this.recovery = new Recovery(blocks, poolName, onLeak, made);
        this.cleanable = Shared.CLEANER.register(sentinel, recovery);
    }

    /** {@return {@code made}, without the library's own frames on top: where the caller's code made the arena} */
    private static Throwable withoutLibraryFrames(Throwable made) {
        StackTraceElement[] stack = made.getStackTrace();
        int first = 0;
        while (first < stack.length - 1 && isLibraryFrame(stack[first])) {
            first++;
        }
        made.setStackTrace(java.util.Arrays.copyOfRange(stack, first, stack.length));
        return made;
    }

    /** Whether {@code frame} runs code of this library, rather than code of the caller. */
    private static boolean isLibraryFrame(StackTraceElement frame) {
        if (!frame.getClassName().startsWith(PACKAGE_PREFIX)) {
            return false;
        }
        // A package may be split between the library and its tests: the library's own classes
        // are those that come from where this one does.
        try {
            Class<?> type = Class.forName(frame.getClassName(), false, LeakWatch.class.getClassLoader());
            return Objects.equals(codeSource(type), codeSource(LeakWatch.class));
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static Object codeSource(Class<?> type) {
        return type.getProtectionDomain().getCodeSource();
    }

    /** One daemon thread for every watched arena, started by the first one. */
    private static final class Shared {
        static final Cleaner CLEANER = Cleaner.create();
    }

    /**
     * {@return the cleanup action to bind a scope with: it keeps the sentinel reachable from the
     * scope while the scope is alive, and lets go of it when the scope closes}
     */
    Consumer<MemorySegment> keepWatching() {
        return new Watching(sentinel);
    }

    /**
     * Holds the sentinel for one scope until that scope closes. Letting go matters because a
     * closed scope lives on in every dead slice of it, and the JDK's confined scope keeps its
     * first cleanup action, this one, after it closed: holding the sentinel for good, a dead
     * slice of an earlier round would keep a leaked arena from ever being found.
     */
    private static final class Watching implements Consumer<MemorySegment> {

        @SuppressWarnings({"unused", "FieldCanBeLocal"})   // a reference, for the collector only
        private Object sentinel;

        Watching(Object sentinel) {
            this.sentinel = sentinel;
        }

        @Override
        public void accept(MemorySegment ignored) {
            sentinel = null;
        }
    }

    /** The arena was closed as it should be: nothing to recover, ever. */
    void closed() {
        recovery.closed = true;
        cleanable.clean();
        // Until clean() has taken the action off the cleaner's list, the cleaner must not find
        // the sentinel unreachable and run it on its own thread, where closed may not be seen.
        Reference.reachabilityFence(sentinel);
    }

    /** What the cleaner runs: once, when the arena was closed, or when it leaked. */
    private static final class Recovery implements Runnable {

        private final BlockChain blocks;
        private final String poolName;
        private final Runnable onLeak;
        private final Throwable made;
        /** Written by the owner before clean(), which runs this in the same thread. */
        private boolean closed;

        Recovery(BlockChain blocks, String poolName, Runnable onLeak, Throwable made) {
            this.blocks = blocks;
            this.poolName = poolName;
            this.onLeak = onLeak;
            this.made = made;
        }

        @Override
        public void run() {
            if (closed) {
                return;
            }
            long bytes = blocks.reservedBytes();
            blocks.freeAll();
            Throwable made = withoutLibraryFrames(this.made);
            String owner = poolName == null ? "A standalone arena" : "An arena of pool " + poolName;
            onLeak.run();
            Events.leakDetected(poolName, bytes, made);
            LOGGER.log(System.Logger.Level.ERROR, owner + " became unreachable without being closed;"
                    + " its " + bytes + " bytes of native memory were freed. Close every arena, with"
                    + " try-with-resources where you can.", made);
        }
    }
}
