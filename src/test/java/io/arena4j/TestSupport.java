package io.arena4j;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.SplittableRandom;

/** Helpers shared by the tests. */
@SuppressWarnings("restricted")   // downcalls into the C library are how these helpers work
final class TestSupport {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle QSORT = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("qsort"),
            FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    private static final MethodHandle COMPARE;
    /** glibc's {@code struct mallinfo2 mallinfo2(void)}: ten {@code size_t} fields. */
    private static final MethodHandle MALLINFO2 = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("mallinfo2"),
            FunctionDescriptor.of(java.lang.foreign.MemoryLayout.structLayout(
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG)));

    static {
        try {
            COMPARE = MethodHandles.lookup().findStatic(TestSupport.class, "compare",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private TestSupport() {}

    /** {@return whether every byte of {@code slice} from {@code from} up to {@code to} is {@code value}} */
    static boolean allBytes(MemorySegment slice, long from, long to, int value) {
        for (long i = from; i < to; i++) {
            if (slice.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != (byte) value) {
                return false;
            }
        }
        return true;
    }

    /** {@return whether every byte of {@code slice} is {@code value}} */
    static boolean allBytes(MemorySegment slice, int value) {
        return allBytes(slice, 0, slice.byteSize(), value);
    }

    /** Whether every byte of the segment is zero. */
    static boolean isZero(MemorySegment segment) {
        return segment.mismatch(MemorySegment.ofArray(new byte[(int) segment.byteSize()])) == -1;
    }

    /** Runs the action on a new platform thread and returns what it threw, or null. */
    static Throwable onAnotherThread(Runnable action) throws InterruptedException {
        Throwable[] thrown = new Throwable[1];
        Thread thread = Thread.ofPlatform().name("other").start(() -> {
            try {
                action.run();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        thread.join();
        return thrown[0];
    }

    /**
     * The bytes the C library's {@code malloc} has handed out and not had back: small chunks
     * ({@code uordblks}) and mmapped ones ({@code hblkhd}), as glibc's {@code mallinfo2} counts
     * them. It sees what the JDK allocates for its own arenas too, so it finds a leak whatever
     * allocated the memory.
     */
    static long mallocBytesInUse() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) MALLINFO2.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            return info.getAtIndex(JAVA_LONG, 4) + info.getAtIndex(JAVA_LONG, 7);
        } catch (Throwable t) {
            throw new AssertionError("mallinfo2", t);
        }
    }

    /** The action of the comparator running inside the current qsort call, and what it threw. */
    private static Runnable insideDowncall;
    private static Throwable thrownInsideDowncall;

    /**
     * Runs {@code action} while {@code held}'s scope is acquired by the JDK: from a comparator that
     * the C library's {@code qsort} calls back while it sorts {@code held} (two ints). This is how a
     * scope gets held through the public API: a downcall acquires the scope of every segment passed
     * to it, and an upcall runs on the same thread.
     *
     * @return what the action threw, or null; an upcall must not throw, so it is caught there
     */
    @SuppressWarnings("restricted")
    static Throwable whileHeldByDowncall(MemorySegment held, Runnable action) {
        if (held.byteSize() < 2 * JAVA_INT.byteSize()) {
            throw new IllegalArgumentException("qsort calls the comparator only for two elements or more");
        }
        insideDowncall = action;
        thrownInsideDowncall = null;
        try (java.lang.foreign.Arena stubArena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment comparator = LINKER.upcallStub(COMPARE,
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), stubArena);
            QSORT.invokeExact(held, 2L, JAVA_INT.byteSize(), comparator);
        } catch (Throwable t) {
            throw new AssertionError("qsort", t);
        } finally {
            insideDowncall = null;
        }
        return thrownInsideDowncall;
    }

    @SuppressWarnings("unused")   // called by qsort through the upcall stub
    private static int compare(MemorySegment a, MemorySegment b) {
        Runnable action = insideDowncall;
        insideDowncall = null;      // once per sort
        if (action != null) {
            try {
                action.run();
            } catch (Throwable t) {
                thrownInsideDowncall = t;
            }
        }
        return 0;
    }

    /**
     * Leases two arenas of {@code pool} on this thread, allocates 1 to {@code mostPerArena} slices
     * of up to two blocks in each (until the budget refuses one), and returns them: idle memory
     * that another arena's requests may have to take back.
     */
    static void leaveIdleArenas(ArenaPool pool, SplittableRandom random, long blockSize, int mostPerArena) {
        try (Arena first = pool.acquire(); Arena second = pool.acquire()) {
            for (Arena other : List.of(first, second)) {
                for (int i = random.nextInt(1, mostPerArena + 1); i > 0; i--) {
                    try {
                        other.allocate(random.nextLong(1, 2 * blockSize));
                    } catch (ArenaLimitException e) {
                        break;
                    }
                }
            }
        }
    }
}
