package io.arena4j.bench;

import io.arena4j.Arena;
import io.arena4j.ArenaPool;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Where the time of a lease goes, one thread, step by step: what the JDK's own scope costs, what
 * binding all of memory to it and carving one slice adds, what an arena's round costs without a
 * pool ({@code reset()} and one slice), and a lease with and without its slice. Beside them, the
 * JDK's arena with one slice, which also pays {@code malloc} and {@code free}. Run with
 * {@code -prof gc} to see the bytes each allocates.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class LeaseCostBenchmark {

    private ArenaPool pool;
    private Arena arena;

    @Setup
    public void setUp() {
        pool = ArenaPool.create();
        arena = Arena.create();
        arena.allocate(1);                   // its first block, kept from then on
    }

    @TearDown
    public void tearDown() {
        arena.close();
        pool.close();
    }

    /** The JDK's confined scope, opened and closed: every lease and every round pays it. */
    @Benchmark
    public void jdkScope(Blackhole bh) {
        try (java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofConfined()) {
            bh.consume(scope);
        }
    }

    /** The scope, all of memory bound to it as a round does, and one slice of that. */
    @Benchmark
    @SuppressWarnings("restricted")
    public void jdkScopeBoundAndSliced(Blackhole bh) {
        try (java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofConfined()) {
            bh.consume(MemorySegment.NULL.reinterpret(Long.MAX_VALUE, scope, null).asSlice(4096, 64));
        }
    }

    /** The JDK's arena with one 64-byte slice: the scope, plus malloc and free. */
    @Benchmark
    public void jdkConfinedArena(Blackhole bh) {
        try (java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofConfined()) {
            bh.consume(scope.allocate(64));
        }
    }

    /** An arena's round without a pool: reset, then one 64-byte slice from the kept block. */
    @Benchmark
    public void arenaRound(Blackhole bh) {
        arena.reset();
        bh.consume(arena.allocate(64));
    }

    /** A lease that allocates nothing: acquire and close. */
    @Benchmark
    public void leaseWithoutSlice(Blackhole bh) {
        try (Arena lease = pool.acquire()) {
            bh.consume(lease);
        }
    }

    /** A lease: acquire, one 64-byte slice, close. */
    @Benchmark
    public void lease(Blackhole bh) {
        try (Arena lease = pool.acquire()) {
            bh.consume(lease.allocate(64));
        }
    }
}
