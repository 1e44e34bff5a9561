package io.arena4j.bench;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** The C library's {@code malloc} and {@code free} through FFM downcalls: the literal baseline. */
@SuppressWarnings("restricted")   // calling the C library is the point
final class LibC {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("malloc"),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("free"),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    private LibC() {}

    /** {@return {@code malloc(byteSize)} as a segment of that size, in the global scope} */
    static MemorySegment malloc(long byteSize) {
        try {
            return ((MemorySegment) MALLOC.invokeExact(byteSize)).reinterpret(byteSize);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Calls {@code free} on memory from {@link #malloc}. */
    static void free(MemorySegment memory) {
        try {
            FREE.invokeExact(memory);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
