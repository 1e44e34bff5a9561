package io.arena4j.bench;

import io.arena4j.Arena;
import io.arena4j.ArenaPool;
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
 * What a server pays for request memory around the bump: a lease of a pooled arena (acquire, one
 * 64-byte slice, close) from one pool that every benchmark thread shares, beside what Java offers
 * for the same lifetime, the JDK's confined arena with one slice. Leak detection is at its
 * default level. Scores are leases per microsecond, summed over the threads: run with
 * {@code -t 1} and {@code -t 2} to see how the pool scales, or with {@code -bm avgt} for
 * nanoseconds per lease.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class LeaseBenchmark {

    /** The pool every benchmark thread leases from, with and without a budget. */
    @State(Scope.Benchmark)
    public static class SharedPool {

        @Param({"none", "maxTotalBytes"})
        public String bounds;

        private ArenaPool pool;

        @Setup(Level.Trial)
        public void setUp() {
            ArenaPool.Builder builder = ArenaPool.builder();
            if (bounds.equals("maxTotalBytes")) {
                builder.maxTotalBytes(512L << 20);
            }
            pool = builder.build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
        }
    }

    /** A connection's lease: acquire, one slice, close. */
    @Benchmark
    public void lease(SharedPool shared, Blackhole bh) {
        try (Arena arena = shared.pool.acquire()) {
            bh.consume(arena.allocate(64));
        }
    }

    /** The JDK's confined arena for the same lifetime: malloc and free behind one slice. */
    @Benchmark
    public void jdkConfinedArena(Blackhole bh) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            bh.consume(arena.allocate(64));
        }
    }
}
