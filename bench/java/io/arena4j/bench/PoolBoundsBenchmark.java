package io.arena4j.bench;

import io.arena4j.Arena;
import io.arena4j.ArenaPool;
import io.arena4j.LeakDetection;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What a pool's bounds cost: allocating from a leased arena (the fast path, which the budget must
 * not touch) and one lease (acquire, one slice, close), without bounds, with {@code maxTotalBytes},
 * and with {@code maxTotalBytes} and {@code maxLeased}. Scores are nanoseconds per slice and per
 * lease.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class PoolBoundsBenchmark {

    private static final int SLICES_PER_ROUND = 256;

    @Param({"none", "maxTotalBytes", "maxTotalBytes+maxLeased"})
    public String bounds;

    private ArenaPool pool;
    private Arena leased;

    @Setup(Level.Trial)
    public void setUp() {
        ArenaPool.Builder builder = ArenaPool.builder().leakDetection(LeakDetection.OFF);
        if (bounds.contains("maxTotalBytes")) {
            builder.maxTotalBytes(512L << 20);
        }
        if (bounds.contains("maxLeased")) {
            builder.maxLeased(2000);
        }
        pool = builder.build();
        leased = pool.acquire();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        leased.close();
        pool.close();
    }

    /** Slices of 64 bytes from a leased arena, reset after every 256 (16 KiB: one block). */
    @Benchmark
    @OperationsPerInvocation(SLICES_PER_ROUND)
    public void allocate(Blackhole bh) {
        for (int i = 0; i < SLICES_PER_ROUND; i++) {
            bh.consume(leased.allocate(64));
        }
        leased.reset();
    }

    /** A connection's lease: acquire, allocate what it needs, close. */
    @Benchmark
    public void lease(Blackhole bh) {
        try (Arena arena = pool.acquire()) {
            bh.consume(arena.allocate(64));
        }
    }
}
