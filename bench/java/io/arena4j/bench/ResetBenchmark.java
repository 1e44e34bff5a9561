package io.arena4j.bench;

import io.arena4j.Arena;
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
 * What {@code reset()} costs as the bytes a round used grow: a round is one slice of
 * {@code usedBytes} (kept blocks only: retainBytes covers the round, so no block is allocated),
 * then the reset. A zeroed arena clears those bytes; one built with {@code zeroed(false)} does
 * not. Scores are nanoseconds per round.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class ResetBenchmark {

    @Param({"0", "4096", "65536", "1048576"})
    public long usedBytes;

    @Param({"true", "false"})
    public boolean zeroed;

    private Arena arena;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.builder().blockSize(64 * 1024).retainBytes(2L << 20).zeroed(zeroed).build();
        arena.allocate(Math.max(usedBytes, 1));     // the blocks the rounds will use, kept
        arena.reset();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** One round: a slice of usedBytes, then the reset. */
    @Benchmark
    public void round(Blackhole bh) {
        if (usedBytes > 0) {
            bh.consume(arena.allocate(usedBytes));
        }
        arena.reset();
    }
}
