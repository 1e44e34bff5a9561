package io.arena4j;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library's {@code malloc}, {@code calloc} and {@code free}, called through FFM downcalls.
 *
 * <p>Why not the JDK's own arenas for blocks: {@code Arena.ofConfined()} ties a block to one
 * thread for its whole life (an arena4j arena changes owner), {@code Arena.ofShared()} costs a
 * thread handshake per close, and both clear every new block with a {@code memset}, where
 * {@code calloc} hands out fresh pages from the kernel that are already zero.
 */
@SuppressWarnings("restricted")   // calling the C library is what this class is for
final class NativeMemory implements BlockAllocator {

    /** The C library's allocator: the one every arena uses unless a test says otherwise. */
    static final NativeMemory LIBC = new NativeMemory();

    /** What {@code malloc} aligns every block to on the 64-bit platforms Java runs on. */
    static final long MALLOC_ALIGNMENT = 16;

    /** The downcalls, and all of memory in the global scope. */
    private record Handles(MethodHandle malloc, MethodHandle calloc, MethodHandle free, MemorySegment all) {}

    /** Null if the JVM denies this library native access. */
    private static final Handles HANDLES = handles();

    /**
     * All of memory in the global scope: for clearing bytes of a block by address, whatever
     * level's scope they were handed out in. Never handed out.
     */
    static final MemorySegment ALL = HANDLES == null ? MemorySegment.NULL : HANDLES.all();

    /**
     * Links the C library, or returns null under {@code --illegal-native-access=deny} without
     * {@code --enable-native-access} for this library. Then every arena fails as it is created
     * with the JDK's {@link IllegalCallerException}, instead of this class failing to initialise
     * once and every later use with {@link NoClassDefFoundError}.
     */
    private static Handles handles() {
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            return new Handles(
                    linker.downcallHandle(libc.findOrThrow("malloc"),
                            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)),
                    linker.downcallHandle(libc.findOrThrow("calloc"),
                            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)),
                    linker.downcallHandle(libc.findOrThrow("free"), FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG)),
                    MemorySegment.NULL.reinterpret(Long.MAX_VALUE));
        } catch (IllegalCallerException denied) {
            return null;
        }
    }

    private NativeMemory() {}

    /** {@inheritDoc} {@code calloc} when zeroed: fresh pages from the kernel are zero already. */
    @Override
    public MemorySegment allocate(long byteSize, boolean zeroed) {
        if (HANDLES == null) {       // unreachable in practice: creating the arena was refused first
            throw new IllegalCallerException("arena4j has no native access: run with --enable-native-access");
        }
        long address;
        try {
            address = zeroed ? (long) HANDLES.calloc().invokeExact(1L, byteSize)
                    : (long) HANDLES.malloc().invokeExact(byteSize);
        } catch (Throwable t) {
            throw new AssertionError("malloc/calloc cannot throw", t);
        }
        if (address == 0) {
            throw new OutOfMemoryError("Cannot allocate " + byteSize + " bytes of native memory");
        }
        assert address % MALLOC_ALIGNMENT == 0 : "malloc returned " + Long.toHexString(address);
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }

    @Override
    public void free(MemorySegment block) {
        try {
            HANDLES.free().invokeExact(block.address());
        } catch (Throwable t) {
            throw new AssertionError("free cannot throw", t);
        }
    }
}
