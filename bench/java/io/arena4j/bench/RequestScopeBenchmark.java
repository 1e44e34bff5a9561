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
 * What one request scope costs: opened, {@code slices} allocations of 64 bytes, closed. The
 * contenders are the ways to give a request a lifetime of its own: a checkpoint of the
 * connection's arena, a reset of an arena of its own, and the JDK's confined arena. With zero
 * slices it is the bare cost of the scope. Scores are nanoseconds per request.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RequestScopeBenchmark {

    @Param({"0", "1", "10"})
    public int slices;

    private Arena connection;
    private Arena request;

    @Setup(Level.Trial)
    public void setUp() {
        connection = Arena.create();
        connection.allocate(256);                 // the connection's own state, below every mark
        request = Arena.create();
        request.allocate(1);
        request.reset();                          // holds its block, as a pooled arena does
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        connection.close();
        request.close();
    }

    /** A checkpoint of the connection's arena, closed at the end of the request. */
    @Benchmark
    public void checkpoint(Blackhole bh) {
        try (Arena.Checkpoint scope = connection.checkpoint()) {
            bh.consume(scope);
            for (int i = 0; i < slices; i++) {
                bh.consume(connection.allocate(64));
            }
        }
    }

    /** An arena for the request alone, reset at its end. */
    @Benchmark
    public void reset(Blackhole bh) {
        for (int i = 0; i < slices; i++) {
            bh.consume(request.allocate(64));
        }
        request.reset();
    }

    /**
     * The JDK's confined arena: what Java offers for a request's lifetime. It is handed to the
     * {@link Blackhole}, as a server hands it to the code serving the request; otherwise, with
     * nothing allocated, the JIT removes it altogether.
     */
    @Benchmark
    public void jdkConfinedArena(Blackhole bh) {
        try (java.lang.foreign.Arena scope = java.lang.foreign.Arena.ofConfined()) {
            bh.consume(scope);
            for (int i = 0; i < slices; i++) {
                bh.consume(scope.allocate(64));
            }
        }
    }
}
