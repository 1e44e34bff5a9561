package io.arena4j.examples;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library's {@code malloc} and {@code free} through FFM downcalls: the literal baseline of
 * the timing tests, shared by the demo and the benchmarks. Addresses are plain
 * {@code long}s, as C's pointers are, so that calling malloc costs no Java object.
 */
@SuppressWarnings("restricted")   // calling the C library is the point
public final class LibC {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("malloc"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("free"),
            FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG));

    private LibC() {}

    /**
     * {@return the address {@code malloc(byteSize)} returns}
     *
     * @throws OutOfMemoryError if malloc returns NULL
     */
    public static long malloc(long byteSize) {
        long address;
        try {
            address = (long) MALLOC.invokeExact(byteSize);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (address == 0) {
            throw new OutOfMemoryError("malloc(" + byteSize + ") returned NULL");
        }
        return address;
    }

    /** Calls {@code free(address)} on an address from {@link #malloc}. */
    public static void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@return the {@code byteSize} bytes at {@code address} as a segment of the global scope} */
    public static MemorySegment segment(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }
}
