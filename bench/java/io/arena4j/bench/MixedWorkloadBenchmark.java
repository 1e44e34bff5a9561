package io.arena4j.bench;

import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.OperationsPerInvocation;

/**
 * A request-like workload: an operation is one request of 200 allocations of 16 to 512 bytes
 * (headers, parsed fields, small responses), one in four with a body of 4 to 64 KiB among them,
 * all freed at its end. 256 requests generated from a fixed seed run in turn, the same for every
 * contender. Scores are nanoseconds per allocation.
 */
@OperationsPerInvocation(MixedWorkloadBenchmark.ALLOCATIONS_PER_REQUEST)
public class MixedWorkloadBenchmark extends AllocationWorkload {

    static final int ALLOCATIONS_PER_REQUEST = 200;
    static final int REQUESTS = 256;

    @Override
    protected int[][] operations() {
        SplittableRandom random = new SplittableRandom(2026);
        int[][] requests = new int[REQUESTS][ALLOCATIONS_PER_REQUEST];
        for (int[] request : requests) {
            for (int j = 0; j < request.length; j++) {
                request[j] = random.nextInt(16, 513);
            }
            if (random.nextInt(4) == 0) {
                request[random.nextInt(request.length)] = random.nextInt(4 << 10, (64 << 10) + 1);
            }
        }
        return requests;
    }

    /** A server with bodies of up to 64 KiB keeps room for the headers and one body. */
    @Override
    protected long arenaRetainBytes() {
        return 256 << 10;
    }
}
