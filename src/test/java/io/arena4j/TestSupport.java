package io.arena4j;

import java.lang.foreign.MemorySegment;

/** Helpers shared by the tests. */
final class TestSupport {

    private TestSupport() {}

    /** Whether every byte of the segment is zero. */
    static boolean isZero(MemorySegment segment) {
        return segment.mismatch(MemorySegment.ofArray(new byte[(int) segment.byteSize()])) == -1;
    }

    /** Runs the action on a new platform thread and returns what it threw, or null. */
    static Throwable onAnotherThread(Runnable action) throws InterruptedException {
        Throwable[] thrown = new Throwable[1];
        Thread thread = Thread.ofPlatform().name("other").start(() -> {
            try {
                action.run();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        thread.join();
        return thrown[0];
    }
}
