package io.arena4j.bench;

import java.util.Arrays;
import org.openjdk.jmh.annotations.OperationsPerInvocation;

/**
 * The block-chain pool's timing test (docs/design.md, "Where it comes from"): an operation is a round of
 * 5000 allocations of 1000 bytes, all freed at its end. Scores are nanoseconds per allocation.
 */
@OperationsPerInvocation(DocumentWorkloadBenchmark.COUNT)
public class DocumentWorkloadBenchmark extends AllocationWorkload {

    static final int COUNT = 5000;
    static final int SIZE = 1000;

    @Override
    protected int[][] operations() {
        int[] round = new int[COUNT];
        Arrays.fill(round, SIZE);
        return new int[][] {round};
    }

    /** The whole round: the steady state allocates no native memory. */
    @Override
    protected long arenaRetainBytes() {
        return 8 << 20;
    }
}
