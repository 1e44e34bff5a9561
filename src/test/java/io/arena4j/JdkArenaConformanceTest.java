package io.arena4j;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_CHAR;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the JDK's Javadoc of {@link Arena}, {@link java.lang.foreign.SegmentAllocator} and
 * {@link MemorySegment.Scope} specifies for a confined arena, checked on the JDK's own
 * {@link Arena#ofConfined()} and on arena4j's arenas alike: code written against
 * {@code java.lang.foreign.Arena} must not be able to tell them apart.
 */
@SuppressWarnings("restricted")   // upcall stubs, downcalls and reinterpret are part of the contract
class JdkArenaConformanceTest {

    private static final ArenaPool POOL = ArenaPool.builder().build();

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    static Stream<Named<Supplier<Arena>>> arenas() {
        return Stream.of(
                Named.of("JDK Arena.ofConfined()", Arena::ofConfined),
                Named.of("arena4j Arena.create()", io.arena4j.Arena::create),
                Named.of("arena4j, 256-byte blocks", () -> io.arena4j.Arena.builder().blockSize(256).build()),
                Named.of("arena4j ArenaPool.acquire()", POOL::acquire));
    }

    // ---- allocate ----------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("arenas")
    void allocateReturnsZeroedAlignedNativeSegmentsOfTheArenaScopeThatNeverOverlap(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            List<MemorySegment> segments = new ArrayList<>();
            for (long alignment = 1; alignment <= 4096; alignment <<= 1) {
                for (long size : new long[] {0, 1, 7, 100, 1000, 5000}) {
                    MemorySegment s = arena.allocate(size, alignment);
                    assertEquals(size, s.byteSize());
                    assertEquals(0, s.address() % alignment);
                    assertTrue(s.isNative());
                    assertFalse(s.isReadOnly());
                    assertEquals(arena.scope(), s.scope());
                    assertEquals(arena.scope().hashCode(), s.scope().hashCode());
                    assertTrue(TestSupport.isZero(s), "zero-initialized");
                    segments.add(s);
                }
            }
            for (int i = 0; i < segments.size(); i++) {
                for (int j = i + 1; j < segments.size(); j++) {
                    assertTrue(segments.get(i).asOverlappingSlice(segments.get(j)).isEmpty(), i + " and " + j);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void theLayoutOverloadsSizeAndAlignAsTheLayoutSays(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            MemoryLayout struct = MemoryLayout.structLayout(JAVA_INT, MemoryLayout.paddingLayout(4), JAVA_LONG);
            MemorySegment one = arena.allocate(struct);
            MemorySegment many = arena.allocate(struct, 10);
            MemorySegment plain = arena.allocate(24);
            assertEquals(16, one.byteSize());
            assertEquals(160, many.byteSize());
            assertEquals(0, one.address() % 8);
            assertEquals(0, many.address() % 8);
            assertEquals(24, plain.byteSize());
            assertEquals(0, arena.allocate(JAVA_LONG, 0).byteSize());
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void everyAllocateFromOverloadCopiesItsValues(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            assertEquals("héllo", arena.allocateFrom("héllo").getString(0));
            assertEquals("héllo", arena.allocateFrom("héllo", StandardCharsets.UTF_16LE)
                    .getString(0, StandardCharsets.UTF_16LE));
            assertEquals((byte) 1, arena.allocateFrom(JAVA_BYTE, (byte) 1).get(JAVA_BYTE, 0));
            assertEquals('c', arena.allocateFrom(JAVA_CHAR, 'c').get(JAVA_CHAR, 0));
            assertEquals((short) 2, arena.allocateFrom(JAVA_SHORT, (short) 2).get(JAVA_SHORT, 0));
            assertEquals(3, arena.allocateFrom(JAVA_INT, 3).get(JAVA_INT, 0));
            assertEquals(4f, arena.allocateFrom(JAVA_FLOAT, 4f).get(JAVA_FLOAT, 0));
            assertEquals(5L, arena.allocateFrom(JAVA_LONG, 5L).get(JAVA_LONG, 0));
            assertEquals(6d, arena.allocateFrom(JAVA_DOUBLE, 6d).get(JAVA_DOUBLE, 0));
            MemorySegment target = arena.allocate(8);
            assertEquals(target.address(), arena.allocateFrom(ADDRESS, target).get(ADDRESS, 0).address());
            assertArrayEquals(new byte[] {1, 2}, arena.allocateFrom(JAVA_BYTE, (byte) 1, (byte) 2).toArray(JAVA_BYTE));
            assertArrayEquals(new char[] {'a', 'b'}, arena.allocateFrom(JAVA_CHAR, 'a', 'b').toArray(JAVA_CHAR));
            assertArrayEquals(new short[] {1, 2}, arena.allocateFrom(JAVA_SHORT, (short) 1, (short) 2).toArray(JAVA_SHORT));
            assertArrayEquals(new int[] {1, 2, 3}, arena.allocateFrom(JAVA_INT, 1, 2, 3).toArray(JAVA_INT));
            assertArrayEquals(new float[] {1f, 2f}, arena.allocateFrom(JAVA_FLOAT, 1f, 2f).toArray(JAVA_FLOAT));
            assertArrayEquals(new long[] {1, 2}, arena.allocateFrom(JAVA_LONG, 1L, 2L).toArray(JAVA_LONG));
            assertArrayEquals(new double[] {1, 2}, arena.allocateFrom(JAVA_DOUBLE, 1d, 2d).toArray(JAVA_DOUBLE));
            MemorySegment source = MemorySegment.ofArray(new int[] {7, 8, 9, 10});
            MemorySegment copied = arena.allocateFrom(JAVA_INT, source, JAVA_INT, 4, 2);
            assertArrayEquals(new int[] {8, 9}, copied.toArray(JAVA_INT));
            assertEquals(0, copied.address() % 4);
            assertEquals(arena.scope(), copied.scope());
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void badArgumentsAreRefusedWithTheSameExceptionsAndLeaveTheArenaUsable(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            assertAll(
                    () -> assertThrows(IllegalArgumentException.class, () -> arena.allocate(-1)),
                    () -> assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 0)),
                    () -> assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 3)),
                    () -> assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, -8)),
                    () -> assertThrows(IllegalArgumentException.class, () -> arena.allocate(JAVA_INT, -1)),
                    () -> assertThrows(IllegalArgumentException.class, () -> arena.allocate(JAVA_LONG, Long.MAX_VALUE / 4)),
                    () -> assertThrows(IllegalArgumentException.class,
                            () -> arena.allocateFrom("x", java.nio.charset.Charset.forName("windows-1252"))),
                    () -> assertThrows(IndexOutOfBoundsException.class,
                            () -> arena.allocateFrom(JAVA_INT, MemorySegment.ofArray(new int[2]), JAVA_INT, 4, 2)),
                    () -> assertThrows(NullPointerException.class, () -> arena.allocateFrom((String) null)));
            assertEquals(8, arena.allocate(8).byteSize());
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void sizesTooLargeForMemoryFailWithOutOfMemoryError(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            arena.allocate(8);
            for (long size : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 7, 1L << 62}) {
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(size), "size " + size);
                assertThrows(OutOfMemoryError.class, () -> arena.allocate(size, 1 << 20), "size " + size);
            }
            assertEquals(8, arena.allocate(8).byteSize());
        }
    }

    // ---- scope and close ---------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("arenas")
    void closeKillsTheScopeAndEverySegmentAndCannotBeRepeated(Supplier<Arena> factory) {
        Arena arena = factory.get();
        MemorySegment.Scope scope = arena.scope();
        MemorySegment segment = arena.allocate(16);
        assertTrue(scope.isAlive());
        arena.close();
        assertFalse(scope.isAlive());
        assertFalse(arena.scope().isAlive(), "@implSpec: after close, scope().isAlive() == false");
        assertFalse(segment.scope().isAlive());
        var access = assertThrows(IllegalStateException.class, () -> segment.get(JAVA_BYTE, 0));
        assertTrue(access.getMessage().contains("closed"), access.getMessage());
        for (Runnable call : List.<Runnable>of(arena::close, () -> arena.allocate(1), () -> arena.allocate(0, 1),
                () -> arena.allocateFrom("x"), () -> arena.allocate(JAVA_INT))) {
            var e = assertThrows(IllegalStateException.class, call::run);
            assertTrue(e.getMessage().contains("Already closed"), e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void theOwnerThreadIsTheOnlyOneThatMayUseTheArenaOrItsSegments(Supplier<Arena> factory) throws Exception {
        try (Arena arena = factory.get()) {
            MemorySegment segment = arena.allocate(16);
            assertTrue(segment.isAccessibleBy(Thread.currentThread()));
            AtomicInteger cleanupsAtClose = new AtomicInteger();
            reinterpret(arena.allocate(8), arena, s -> cleanupsAtClose.incrementAndGet());
            Thread[] other = new Thread[1];
            List<Throwable> thrown = new ArrayList<>();
            AtomicInteger cleanups = new AtomicInteger();
            assertNull(TestSupport.onAnotherThread(() -> {
                other[0] = Thread.currentThread();
                for (Runnable call : List.<Runnable>of(() -> arena.allocate(8), arena::close,
                        () -> segment.get(JAVA_BYTE, 0), () -> segment.set(JAVA_BYTE, 0, (byte) 1),
                        () -> reinterpret(segment, arena, s -> cleanups.incrementAndGet()))) {
                    try {
                        call.run();
                    } catch (Throwable t) {
                        thrown.add(t);
                    }
                }
                assertTrue(arena.scope().isAlive(), "isAlive may be asked from any thread");
            }));
            assertFalse(segment.isAccessibleBy(other[0]));
            assertEquals(5, thrown.size(), thrown.toString());
            for (Throwable t : thrown) {
                assertInstanceOf(WrongThreadException.class, t);
                assertTrue(t.getMessage().contains("outside owning thread"), t.getMessage());
            }
            assertEquals(0, cleanups.get(), "a cleanup refused on the wrong thread is neither registered nor run");
            assertEquals(0, segment.get(JAVA_BYTE, 0), "the refused calls changed nothing");
        }
    }

    // ---- reinterpret(arena, cleanup) ---------------------------------------------------------

    @ParameterizedTest
    @MethodSource("arenas")
    void cleanupActionsRunOnceAtCloseWithTheSegmentsAddress(Supplier<Arena> factory) {
        Arena arena = factory.get();
        MemorySegment slice = arena.allocate(32);
        List<Long> cleaned = new ArrayList<>();
        MemorySegment moved = reinterpret(MemorySegment.ofAddress(slice.address()).reinterpret(32), arena,
                s -> cleaned.add(s.address()));
        assertEquals(arena.scope(), moved.scope());
        assertEquals(List.of(), cleaned);
        arena.close();
        assertEquals(List.of(slice.address()), cleaned);
        assertFalse(moved.scope().isAlive());
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void aCleanupThatThrowsStillClosesTheArenaRunsTheOthersAndIsRethrown(Supplier<Arena> factory) {
        Arena arena = factory.get();
        AtomicInteger runs = new AtomicInteger();
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second");
        reinterpret(arena.allocate(8), arena, s -> runs.incrementAndGet());
        reinterpret(arena.allocate(8), arena, s -> {
            runs.incrementAndGet();
            throw first;
        });
        reinterpret(arena.allocate(8), arena, s -> {
            runs.incrementAndGet();
            throw second;
        });
        RuntimeException thrown = assertThrows(RuntimeException.class, arena::close);
        assertTrue(thrown == first || thrown == second, thrown.toString());
        assertSame(thrown == first ? second : first, thrown.getSuppressed()[0]);
        assertEquals(3, runs.get());
        assertFalse(arena.scope().isAlive(), "closed all the same");
        assertThrows(IllegalStateException.class, arena::close);
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void aCleanupCannotUseTheArenaBeingClosed(Supplier<Arena> factory) {
        Arena arena = factory.get();
        List<Throwable> inside = new ArrayList<>();
        reinterpret(arena.allocate(8), arena, s -> {
            try {
                arena.allocate(8);
            } catch (Throwable t) {
                inside.add(t);
            }
        });
        arena.close();
        assertEquals(1, inside.size());
        assertInstanceOf(IllegalStateException.class, inside.getFirst());
    }

    // ---- a scope held by a downcall ----------------------------------------------------------

    @ParameterizedTest
    @MethodSource("arenas")
    void closeWhileADowncallHoldsTheScopeIsRefusedAndWorksAfterwards(Supplier<Arena> factory) {
        Arena arena = factory.get();
        MemorySegment array = arena.allocateFrom(JAVA_INT, 2, 1);
        Throwable refused = TestSupport.whileHeldByDowncall(array, arena::close);
        assertInstanceOf(IllegalStateException.class, refused);
        assertTrue(arena.scope().isAlive());
        assertEquals(2, array.get(JAVA_INT, 0), "still accessible");
        arena.close();
        assertFalse(arena.scope().isAlive());
    }

    // ---- upcall stubs live in the arena ------------------------------------------------------

    @ParameterizedTest
    @MethodSource("arenas")
    void anUpcallStubAllocatedInTheArenaWorksUntilClose(Supplier<Arena> factory) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle target = MethodHandles.lookup().findStatic(JdkArenaConformanceTest.class, "twice",
                MethodType.methodType(int.class, int.class));
        FunctionDescriptor intToInt = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        Arena arena = factory.get();
        MemorySegment stub = linker.upcallStub(target, intToInt, arena);
        assertEquals(arena.scope(), stub.scope());
        MethodHandle call = linker.downcallHandle(stub, intToInt);
        assertEquals(42, (int) call.invokeExact(21));
        arena.close();
        assertFalse(stub.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> {
            int ignored = (int) call.invokeExact(21);
        });
    }

    @SuppressWarnings("unused")   // called through the upcall stub
    private static int twice(int x) {
        return 2 * x;
    }

    @SuppressWarnings("restricted")
    private static MemorySegment reinterpret(MemorySegment segment, Arena arena, Consumer<MemorySegment> cleanup) {
        return segment.reinterpret(arena, cleanup);
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void scopesOfDifferentArenasAreNotEqual(Supplier<Arena> factory) {
        try (Arena a = factory.get(); Arena b = factory.get()) {
            assertNotEquals(a.scope(), b.scope());
        }
    }
}
