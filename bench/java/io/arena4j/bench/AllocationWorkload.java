package io.arena4j.bench;

import io.arena4j.Arena;
import io.arena4j.examples.LibC;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Every allocator a Java program has, on one workload: an operation allocates a sequence of
 * buffers, hands each to the {@link Blackhole} (so nothing is optimised away), and frees them all
 * at its end. Each contender keeps only what it needs in order to free: malloc its addresses,
 * Netty its buffers; arenas free everything at once and keep nothing. Subclasses set the
 * workload, and with {@code @OperationsPerInvocation} scores are nanoseconds per allocation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Xms2g", "-Xmx2g"})
public abstract class AllocationWorkload {

    /** The sizes of the allocations of each operation; operations run in turn. */
    protected abstract int[][] operations();

    /** What {@code reset()} may keep: enough for the workload's largest operation. */
    protected abstract long arenaRetainBytes();

    private int[][] operations;
    private int next;

    private Arena arena;
    private Arena zeroedArena;
    private java.lang.foreign.Arena slabOwner;
    private MemorySegment slab;
    private MinimalBumpAllocator minimal;
    private long[] addresses;
    private ByteBuf[] buffers;
    private ByteBufAllocator nettyPooled;
    private ByteBufAllocator nettyAdaptive;

    @Setup(Level.Trial)
    public void setUp() {
        operations = operations();
        int maxCount = Arrays.stream(operations).mapToInt(op -> op.length).max().orElseThrow();
        long maxBytes = Arrays.stream(operations).mapToLong(op -> Arrays.stream(op).asLongStream().sum()).max()
                .orElseThrow();
        arena = Arena.builder().retainBytes(arenaRetainBytes()).zeroed(false).build();
        zeroedArena = Arena.builder().retainBytes(arenaRetainBytes()).build();
        slabOwner = java.lang.foreign.Arena.ofConfined();
        slab = slabOwner.allocate(maxBytes, 16);
        minimal = new MinimalBumpAllocator(slab);
        addresses = new long[maxCount];
        buffers = new ByteBuf[maxCount];
        // Thread caches on for every thread, as a Netty event loop has them.
        nettyPooled = new PooledByteBufAllocator(true, PooledByteBufAllocator.defaultNumHeapArena(),
                PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(),
                PooledByteBufAllocator.defaultMaxOrder(), PooledByteBufAllocator.defaultSmallCacheSize(),
                PooledByteBufAllocator.defaultNormalCacheSize(), true);
        nettyAdaptive = new AdaptiveByteBufAllocator(true, true);
        // The arrays above end up in the old generation, where every reference stored into them
        // pays G1's card-marking barrier: promote them now so every iteration runs that way.
        System.gc();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        zeroedArena.close();
        slabOwner.close();
    }

    private int[] nextOperation() {
        int[] sizes = operations[next];
        next = next + 1 == operations.length ? 0 : next + 1;
        return sizes;
    }

    /** arena4j, zeroing off: like malloc, the caller overwrites what it reads. */
    @Benchmark
    public void arena(Blackhole bh) {
        allocateAndReset(arena, bh);
    }

    /** arena4j, zeroing on (the default): every slice reads as zeros, paid for in reset(). */
    @Benchmark
    public void arenaZeroed(Blackhole bh) {
        allocateAndReset(zeroedArena, bh);
    }

    private void allocateAndReset(Arena a, Blackhole bh) {
        for (int size : nextOperation()) {
            bh.consume(a.allocate(size));
        }
        a.reset();
    }

    /** The speed limit: the JDK's slicing allocator over one preallocated segment, no chain, no safety. */
    @Benchmark
    public void slicing(Blackhole bh) {
        SegmentAllocator allocator = SegmentAllocator.slicingAllocator(slab);
        for (int size : nextOperation()) {
            bh.consume(allocator.allocate(size));
        }
    }

    /**
     * The practical limit for an allocator with arena4j's shape: one long-lived object with an
     * offset field over one segment, reset at the end of the operation, without blocks, lifetimes,
     * owner or figures.
     */
    @Benchmark
    public void minimalBump(Blackhole bh) {
        for (int size : nextOperation()) {
            bh.consume(minimal.allocate(size, 1));
        }
        minimal.reset();
    }

    /** An offset field over one segment: a bump allocator with nothing else. */
    private static final class MinimalBumpAllocator {

        private final MemorySegment segment;
        private long offset;

        MinimalBumpAllocator(MemorySegment segment) {
            this.segment = segment;
        }

        MemorySegment allocate(long byteSize, long byteAlignment) {
            long start = (offset + byteAlignment - 1) & -byteAlignment;
            if (byteSize > segment.byteSize() - start) {
                throw new OutOfMemoryError("The segment is full");
            }
            offset = start + byteSize;
            return segment.asSlice(start, byteSize);
        }

        void reset() {
            offset = 0;
        }
    }

    /** libc malloc/free through FFM downcalls: the timing test's baseline. */
    @Benchmark
    public void mallocFree(Blackhole bh) {
        int[] sizes = nextOperation();
        for (int j = 0; j < sizes.length; j++) {
            addresses[j] = LibC.malloc(sizes[j]);
            bh.consume(addresses[j]);
        }
        for (int j = 0; j < sizes.length; j++) {
            LibC.free(addresses[j]);
        }
    }

    /** What Java does instead of malloc: the garbage collector frees. */
    @Benchmark
    public void newBytes(Blackhole bh) {
        for (int size : nextOperation()) {
            bh.consume(new byte[size]);
        }
    }

    /** Direct buffers, freed by their Cleaner once the garbage collector finds them unreachable. */
    @Benchmark
    public void allocateDirect(Blackhole bh) {
        for (int size : nextOperation()) {
            bh.consume(ByteBuffer.allocateDirect(size));
        }
    }

    /** The JDK's confined arena, closed at the end of the operation. */
    @Benchmark
    public void jdkConfinedArena(Blackhole bh) {
        try (java.lang.foreign.Arena jdk = java.lang.foreign.Arena.ofConfined()) {
            for (int size : nextOperation()) {
                bh.consume(jdk.allocate(size));
            }
        }
    }

    /** Netty's PooledByteBufAllocator, direct buffers, released at the end of the operation. */
    @Benchmark
    public void nettyPooled(Blackhole bh) {
        allocateAndRelease(nettyPooled, bh);
    }

    /** Netty's AdaptiveByteBufAllocator, direct buffers, released at the end of the operation. */
    @Benchmark
    public void nettyAdaptive(Blackhole bh) {
        allocateAndRelease(nettyAdaptive, bh);
    }

    private void allocateAndRelease(ByteBufAllocator allocator, Blackhole bh) {
        int[] sizes = nextOperation();
        for (int j = 0; j < sizes.length; j++) {
            buffers[j] = allocator.directBuffer(sizes[j]);
            bh.consume(buffers[j]);
        }
        for (int j = 0; j < sizes.length; j++) {
            buffers[j].release();
            buffers[j] = null;
        }
    }
}
