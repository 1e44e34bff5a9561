package io.arena4j.bench;

import io.arena4j.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Document 003's timing test: one invocation is a round of 5000 allocations of 1000 bytes, kept
 * in an array as the C code keeps them, then all freed at once. Scores are nanoseconds per
 * allocation.
 *
 * <p>{@code slicing} is the speed limit: the JDK's {@link SegmentAllocator#slicingAllocator}
 * over one preallocated segment large enough for a round, with no chain, no reset semantics and
 * no temporal safety. The arena contenders do the real thing: a chain of blocks kept across
 * resets, each slice dead after {@code reset()}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(DocumentWorkloadBenchmark.COUNT)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Xms2g", "-Xmx2g"})
public class DocumentWorkloadBenchmark {

    static final int COUNT = 5000;
    static final int SIZE = 1000;

    private final MemorySegment[] memory = new MemorySegment[COUNT];

    private Arena arena;
    private Arena zeroedArena;
    private java.lang.foreign.Arena slabOwner;
    private MemorySegment slab;

    @Setup(Level.Trial)
    public void setUp() {
        // Enough retained memory for a whole round: the steady state allocates no native memory.
        arena = Arena.builder().retainBytes(8 << 20).zeroed(false).build();
        zeroedArena = Arena.builder().retainBytes(8 << 20).build();
        slabOwner = java.lang.foreign.Arena.ofConfined();
        slab = slabOwner.allocate((long) COUNT * SIZE, 16);
        // The array of slices ends up in the old generation after a few collections, and from then
        // on every store into it pays G1's card-marking barrier (about 8 ns here). Promote it now,
        // so that every measured iteration runs in that steady state, not just the later ones.
        System.gc();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        zeroedArena.close();
        slabOwner.close();
    }

    /** arena4j, zeroing off: like malloc, the caller overwrites what it reads. */
    @Benchmark
    public MemorySegment[] arena() {
        return round(arena);
    }

    /** arena4j, zeroing on (the default): every slice reads as zeros, paid for in reset(). */
    @Benchmark
    public MemorySegment[] arenaZeroed() {
        return round(zeroedArena);
    }

    private MemorySegment[] round(Arena a) {
        for (int j = 0; j < COUNT; j++) {
            memory[j] = a.allocate(SIZE);
        }
        a.reset();
        return memory;
    }

    /** The JDK's slicing allocator over one preallocated segment: a new allocator is the reset. */
    @Benchmark
    public MemorySegment[] slicing() {
        SegmentAllocator allocator = SegmentAllocator.slicingAllocator(slab);
        for (int j = 0; j < COUNT; j++) {
            memory[j] = allocator.allocate(SIZE);
        }
        return memory;
    }
}
