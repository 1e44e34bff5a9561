package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JFR events, recorded while arenas and a pool work, written to a file and read back with
 * {@code jdk.jfr.consumer} as a user's tools would read them.
 */
class FlightRecorderEventsTest {

    private static final long KiB = 1024;

    @TempDir
    Path dir;

    private List<RecordedEvent> record(Runnable work) throws Exception {
        Path file = dir.resolve("run.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("io.arena4j.BlockAllocated");
            recording.enable("io.arena4j.BlockFreed");
            recording.enable("io.arena4j.LimitRefused");
            recording.enable("io.arena4j.PoolStatistics").with("period", "endChunk");
            recording.start();
            work.run();
            recording.stop();
            recording.dump(file);
        }
        String thread = Thread.currentThread().getName();
        return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("io.arena4j.PoolStatistics")
                        || e.getThread() != null && thread.equals(e.getThread().getJavaName()))
                .toList();
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    @Test
    void blocksAllocatedAndFreedAreRecordedWithTheirSizeAndKind() throws Exception {
        List<RecordedEvent> events = record(() -> {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).build()) {
                arena.allocate(100);
                arena.allocate(5000);                      // does not fit: large, a block of its own
                for (int i = 0; i < 1000; i++) {
                    arena.allocate(1);                     // slices: no event
                }
            }
        });

        List<RecordedEvent> allocated = named(events, "io.arena4j.BlockAllocated");
        List<RecordedEvent> freed = named(events, "io.arena4j.BlockFreed");
        assertEquals(2, allocated.size(), events.toString());
        assertEquals(4 * KiB, allocated.get(0).getLong("size"));
        assertFalse(allocated.get(0).getBoolean("large"));
        assertEquals(5000, allocated.get(1).getLong("size"));
        assertTrue(allocated.get(1).getBoolean("large"));
        assertTrue(allocated.get(1).getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getName().equals("blocksAllocatedAndFreedAreRecordedWithTheirSizeAndKind")),
                "the stack trace leads to the request");
        assertEquals(2, freed.size());
        assertEquals(4 * KiB + 5000, freed.stream().mapToLong(e -> e.getLong("size")).sum());
    }

    @Test
    void aRequestRefusedByTheLimitIsRecorded() throws Exception {
        List<RecordedEvent> events = record(() -> {
            try (Arena arena = Arena.builder().blockSize(4 * KiB).maxBytes(8 * KiB).build()) {
                arena.allocate(100);
                assertThrows(ArenaLimitException.class, () -> arena.allocate(10 * KiB, 8));
            }
        });

        List<RecordedEvent> refused = named(events, "io.arena4j.LimitRefused");
        assertEquals(1, refused.size());
        RecordedEvent event = refused.getFirst();
        assertEquals(10 * KiB, event.getLong("requestedSize"));
        assertEquals(8, event.getLong("alignment"));
        assertEquals(10 * KiB, event.getLong("blockSize"));
        assertEquals(8 * KiB, event.getLong("maxBytes"));
        assertEquals(4 * KiB, event.getLong("inUse"));
    }

    @Test
    void everyPoolReportsItsFiguresPeriodically() throws Exception {
        try (ArenaPool pool = ArenaPool.builder().arenas(Arena.builder().blockSize(4 * KiB)).name("jfr-test").build()) {
            Arena leased = pool.acquire();
            leased.allocate(10);
            pool.acquire().close();
            List<RecordedEvent> events = record(() -> { });

            List<RecordedEvent> ours = named(events, "io.arena4j.PoolStatistics").stream()
                    .filter(e -> e.getString("pool").equals("jfr-test")).toList();
            assertFalse(ours.isEmpty(), events.toString());
            RecordedEvent last = ours.getLast();
            assertEquals(1, last.getInt("leased"));
            assertEquals(1, last.getInt("idle"));
            assertEquals(2, last.getLong("acquires"));
            assertEquals(4 * KiB, last.getLong("reservedBytes"), "the second arena took no block");
            assertEquals(4 * KiB, last.getLong("peakReservedBytes"));
            leased.close();
        }
    }
}
