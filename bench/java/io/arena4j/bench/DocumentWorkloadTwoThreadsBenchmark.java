package io.arena4j.bench;

import org.openjdk.jmh.annotations.Threads;

/** The block-chain pool's timing test on two threads at once, each with allocators of its own. */
@Threads(2)
public class DocumentWorkloadTwoThreadsBenchmark extends DocumentWorkloadBenchmark {
}
