package io.arena4j.bench;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.arena4j.SlotPool;
import io.arena4j.examples.LibC;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.apache.commons.pool2.BasePooledObjectFactory;
import org.apache.commons.pool2.PooledObject;
import org.apache.commons.pool2.impl.DefaultPooledObject;
import org.apache.commons.pool2.impl.GenericObjectPool;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
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

/**
 * Acquire, use and release one 48-byte session record: {@link SlotPool} (with and without
 * invalidation on release) beside every other way a Java program gets one. Each operation writes
 * the record's port field, so that every contender hands out memory that is really used.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-Xms2g", "-Xmx2g"})
public class SlotPoolBenchmark {

    static final long RECORD_SIZE = 48;
    static final long PORT_OFFSET = 32;

    /** The same record as a Java object: 32 bytes of address, port, socket and a login time. */
    public static final class Session {
        long ip0;
        long ip1;
        long ip2;
        long ip3;
        int port;
        int sock;
        long loginTime;
    }

    private SlotPool checkedPool;
    private SlotPool uncheckedPool;
    private GenericObjectPool<Session> objectPool;

    @Setup(Level.Trial)
    public void setUp() {
        checkedPool = SlotPool.of(RECORD_SIZE, 8, 6000);
        uncheckedPool = SlotPool.builder().slotSize(RECORD_SIZE).capacity(6000).invalidateOnRelease(false).build();
        GenericObjectPoolConfig<Session> config = new GenericObjectPoolConfig<>();
        config.setMaxTotal(6000);
        config.setJmxEnabled(false);
        objectPool = new GenericObjectPool<>(new BasePooledObjectFactory<>() {
            @Override
            public Session create() {
                return new Session();
            }

            @Override
            public PooledObject<Session> wrap(Session session) {
                return new DefaultPooledObject<>(session);
            }
        }, config);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        checkedPool.close();
        uncheckedPool.close();
        objectPool.close();
    }

    /** The default: each slot dies at release, so a stale reference throws. */
    @Benchmark
    public MemorySegment slotPool() {
        return acquireUseRelease(checkedPool);
    }

    /** invalidateOnRelease(false): a stale reference still reaches the slot, as after free(). */
    @Benchmark
    public MemorySegment slotPoolUnchecked() {
        return acquireUseRelease(uncheckedPool);
    }

    private static MemorySegment acquireUseRelease(SlotPool pool) {
        MemorySegment slot = pool.acquire();
        slot.set(JAVA_INT, PORT_OFFSET, 8080);
        pool.release(slot);
        return slot;
    }

    /** libc malloc/free through FFM downcalls: what the fixed-size session pool replaces. */
    @Benchmark
    public MemorySegment mallocFree() {
        MemorySegment slot = LibC.segment(LibC.malloc(RECORD_SIZE), RECORD_SIZE);
        slot.set(JAVA_INT, PORT_OFFSET, 8080);
        LibC.free(slot.address());
        return slot;
    }

    /** A JDK confined arena per record: the safe FFM way without a pool. */
    @Benchmark
    public MemorySegment jdkConfinedArena() {
        MemorySegment slot;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            slot = arena.allocate(RECORD_SIZE, 8);
            slot.set(JAVA_INT, PORT_OFFSET, 8080);
        }
        return slot;
    }

    /** A plain Java object: the garbage collector frees it. */
    @Benchmark
    public Session newObject() {
        Session session = new Session();
        session.port = 8080;
        return session;
    }

    /** Apache Commons Pool 2: the object pool Java users reach for. */
    @Benchmark
    public Session commonsPool() throws Exception {
        Session session = objectPool.borrowObject();
        session.port = 8080;
        objectPool.returnObject(session);
        return session;
    }
}
