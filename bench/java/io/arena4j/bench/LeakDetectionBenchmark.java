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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What leak detection costs a connection: one lease of a pooled arena (acquire, one slice,
 * close) at each level. {@code SAMPLED} is the default; its cost must be within the noise of
 * {@code OFF}. Scores are nanoseconds per lease.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class LeakDetectionBenchmark {

    @Param({"OFF", "SAMPLED", "EVERY"})
    public LeakDetection level;

    private ArenaPool pool;

    @Setup(Level.Trial)
    public void setUp() {
        pool = ArenaPool.builder().leakDetection(level).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    /** A connection's lease: acquire, allocate what it needs, close. */
    @Benchmark
    public void lease(Blackhole bh) {
        try (Arena arena = pool.acquire()) {
            bh.consume(arena.allocate(64));
        }
    }
}
