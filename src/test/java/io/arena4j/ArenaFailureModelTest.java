package io.arena4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random sequences of every call an arena takes, refused ones most of all: allocations
 * that fit, that cross the limit, that the C library refuses; resets and closes with cleanup
 * actions that throw, or while a downcall holds the scope; hand-offs and claims refused on
 * another thread; checkpoints taken and closed, with cleanups that throw and while a downcall
 * holds a slice of theirs. After every step the arena is checked against a model: a refused call
 * changed nothing, live slices are intact, the slices of closed levels are dead, and every native
 * byte the C library handed out is one the arena accounts for, so that after the last close none
 * is left.
 */
class ArenaFailureModelTest {

    private static final long BLOCK_SIZE = 4096;
    private static final int STEPS = 4000;

    static Stream<Arguments> seeds() {
        return LongStream.rangeClosed(1, 10).mapToObj(seed -> {
            boolean zeroed = seed % 3 != 0;
            long maxBytes = seed % 5 == 0 ? Arena.UNLIMITED : (8 + seed * 4) * BLOCK_SIZE;
            long retainBytes = Math.min(maxBytes, (seed % 4) * 5 * BLOCK_SIZE);
            return Arguments.of(seed, zeroed, maxBytes, retainBytes);
        });
    }

    private record Request(long size, long alignment) {}

    private record Live(MemorySegment slice, byte pattern, int level) {}

    /** An open checkpoint, the bytes handed out and the requests of the round when it was taken. */
    private record Level(Arena.Checkpoint checkpoint, long allocatedAtMark, int roundAtMark) {}

    /** The test's own view of one arena, and the checks it makes after every step. */
    private static final class Model {
        final boolean zeroed;
        final long maxBytes;
        final long retainBytes;
        final CountingBlocks blocks;
        Arena arena;
        final TreeMap<Long, Live> live = new TreeMap<>();
        final List<Request> round = new ArrayList<>();
        final List<Level> levels = new ArrayList<>();
        /** Checkpoints closed or discarded: closing one again must be refused. */
        final List<Arena.Checkpoint> closedCheckpoints = new ArrayList<>();
        /**
         * Whether a checkpoint closed in this round. A rewind may free the kept block the round
         * started in, so the replay of the round in a fresh arena no longer tells what the limit
         * must refuse; ArenaCheckpointTest covers the limit across rewinds instead.
         */
        boolean roundRewound;
        long allocated;
        boolean owned = true;
        /** Whether the arena held a regular block when the round began: the round starts in it. */
        boolean roundStartsInAKeptBlock;
        /** How often each kind of refusal or failure happened: each must, for the test to mean something. */
        final Map<String, Integer> seen = new TreeMap<>();

        void saw(String what) {
            seen.merge(what, 1, Integer::sum);
        }

        Model(boolean zeroed, long maxBytes, long retainBytes) {
            this.zeroed = zeroed;
            this.maxBytes = maxBytes;
            this.retainBytes = retainBytes;
            this.blocks = new CountingBlocks(maxBytes == Arena.UNLIMITED ? Long.MAX_VALUE : maxBytes);
            this.arena = build(blocks);
        }

        Arena build(BlockAllocator allocator) {
            return Arena.builder().blockAllocator(allocator).blockSize(BLOCK_SIZE).maxBytes(maxBytes)
                    .retainBytes(retainBytes).zeroed(zeroed).build();
        }

        /** What a refused call must leave exactly as it was. */
        String state() {
            return arena + " alive=" + arena.scope().isAlive() + " outstanding=" + blocks.outstandingBytes();
        }

        void allocated(MemorySegment slice, Request request, SplittableRandom random) {
            assertEquals(request.size(), slice.byteSize());
            assertEquals(0, slice.address() % request.alignment());
            assertEquals(arena.scope(), slice.scope());
            if (zeroed) {
                assertTrue(TestSupport.isZero(slice), "zeroed slice of " + request.size());
            }
            if (request.size() > 0) {
                Map.Entry<Long, Live> below = live.floorEntry(slice.address());
                assertTrue(below == null || below.getKey() + below.getValue().slice().byteSize() <= slice.address());
                Map.Entry<Long, Live> above = live.ceilingEntry(slice.address());
                assertTrue(above == null || slice.address() + slice.byteSize() <= above.getKey());
                byte pattern = (byte) random.nextInt(1, 256);
                slice.fill(pattern);
                live.put(slice.address(), new Live(slice, pattern, levels.size()));
            }
            round.add(request);
            allocated += request.size();
        }

        /** The live slices died, as at a reset or close, and a new round begins. */
        void endRound() {
            roundStartsInAKeptBlock = !arena.toString().contains("(0 regular");
            levels.forEach(l -> closedCheckpoints.add(l.checkpoint()));
            levels.clear();
            roundRewound = false;
            live.values().forEach(l -> assertFalse(l.slice().scope().isAlive(), "a stale slice is dead"));
            live.clear();
            round.clear();
            allocated = 0;
        }

        /** Level {@code level} and those inside it were closed: their slices are dead, the rest intact. */
        void closedLevel(int level) {
            Level closed = levels.get(level - 1);
            live.values().removeIf(l -> {
                if (l.level() >= level) {
                    assertFalse(l.slice().scope().isAlive(), "a slice of a closed level is dead");
                    return true;
                }
                return false;
            });
            allocated = closed.allocatedAtMark();
            round.subList(closed.roundAtMark(), round.size()).clear();
            while (levels.size() >= level) {
                closedCheckpoints.add(levels.removeLast().checkpoint());
            }
            roundRewound = true;
        }

        void checkLiveSlices() {
            for (Live l : live.values()) {
                byte[] expected = new byte[(int) l.slice().byteSize()];
                Arrays.fill(expected, l.pattern());
                assertEquals(-1, l.slice().mismatch(MemorySegment.ofArray(expected)), "live slice intact");
            }
        }

        void checkInvariants() {
            if (owned) {
                assertEquals(allocated, arena.statistics().allocatedBytes());
            }
            assertEquals(blocks.outstandingBytes(), arena.statistics().reservedBytes(),
                    "every native byte accounted for");
            assertTrue(arena.statistics().reservedBytes() <= maxBytes, "limit");
        }

        /**
         * The rule of the limit: kept blocks the round has not used never make the arena refuse.
         * So an arena with the same settings that kept nothing, or only the one block the round
         * started in (a round starts in its first kept block, where its first request is carved
         * if it is not large), refuses this request too after serving the round's requests.
         */
        void assertAFreshArenaRefusesToo(Request refused) {
            if (roundRewound) {
                return;
            }
            CountingBlocks scratch = new CountingBlocks();
            try (Arena fresh = build(scratch)) {
                if (roundStartsInAKeptBlock) {
                    fresh.allocate(1);
                    fresh.reset();
                }
                for (Request r : round) {
                    fresh.allocate(r.size(), r.alignment());
                }
                assertThrows(ArenaLimitException.class, () -> fresh.allocate(refused.size(), refused.alignment()),
                        "refused " + refused + " that a fresh arena serves after " + round);
            }
            scratch.assertAllFreed();
        }
    }

    @ParameterizedTest(name = "seed {0}, zeroed {1}, max {2}, retain {3}")
    @MethodSource("seeds")
    void randomSequencesOfCallsAndFailuresKeepTheArenaExactlyAsTheModelSays(
            long seed, boolean zeroed, long maxBytes, long retainBytes) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Model m = new Model(zeroed, maxBytes, retainBytes);
        ExecutorService otherThread = Executors.newSingleThreadExecutor();
        try {
            for (int step = 0; step < STEPS; step++) {
                int dice = random.nextInt(100);
                if (dice < 60) {
                    allocate(m, random, randomRequest(random, maxBytes), false);
                } else if (dice < 66) {
                    allocate(m, random, new Request(random.nextLong(maxBytes == Arena.UNLIMITED ? 1 << 20 : maxBytes)
                            + BLOCK_SIZE, 8), false);                       // often over the limit
                } else if (dice < 72) {
                    allocate(m, random, randomRequest(random, maxBytes), true);    // calloc may fail
                } else if (dice < 78) {
                    end(m, random, "reset");
                } else if (dice < 80) {
                    end(m, random, "close");
                } else if (dice < 83) {
                    end(m, random, "resetAndDisown");
                    refusedClaimFromAnotherThread(m, otherThread);
                } else if (dice < 86) {
                    heldScope(m, random);
                } else if (dice < 95) {
                    takeCheckpoint(m);
                } else {
                    closeCheckpoint(m, random);
                }
                m.checkInvariants();
            }
            end(m, random, "close");
        } finally {
            otherThread.shutdownNow();
        }
        m.blocks.assertAllFreed();
        List<String> expected = new ArrayList<>(List.of("calloc refused", "claim refused", "cleanup threw",
                "held scope refused", "closed", "checkpoint closed", "nested checkpoints closed",
                "checkpoint cleanup threw", "held checkpoint refused", "discarded checkpoint refused"));
        if (maxBytes != Arena.UNLIMITED) {
            expected.add("limit refused");
        }
        for (String kind : expected) {
            assertTrue(m.seen.getOrDefault(kind, 0) > 0, kind + " never happened: " + m.seen);
        }
    }

    private static Request randomRequest(SplittableRandom random, long maxBytes) {
        long size = switch (random.nextInt(10)) {
            case 0 -> 0;
            case 1, 2, 3, 4, 5 -> random.nextInt(1, 200);
            case 6, 7 -> random.nextInt(200, (int) BLOCK_SIZE);
            default -> random.nextLong(BLOCK_SIZE / 4, Math.min(maxBytes, 6 * BLOCK_SIZE));
        };
        // Alignments up to malloc's keep block layouts independent of addresses, so that a fresh
        // arena replaying a round lays it out the same way.
        return new Request(size, 1L << random.nextInt(5));
    }

    private static void allocate(Model m, SplittableRandom random, Request request, boolean callocFails) {
        String before = m.state();
        if (callocFails) {
            m.blocks.failNext(1);
        }
        MemorySegment slice;
        try {
            slice = m.arena.allocate(request.size(), request.alignment());
        } catch (ArenaLimitException e) {
            assertTrue(m.maxBytes != Arena.UNLIMITED);
            assertEquals(before, m.state(), "a refused request changes nothing");
            m.checkLiveSlices();
            m.blocks.failNext(0);
            m.assertAFreshArenaRefusesToo(request);
            m.saw("limit refused");
            return;
        } catch (OutOfMemoryError e) {
            assertTrue(callocFails, "only the C library's refusal: " + e);
            assertEquals(before, m.state(), "a block the C library refused changes nothing");
            m.checkLiveSlices();
            m.saw("calloc refused");
            return;
        } finally {
            m.blocks.failNext(0);
        }
        m.owned = true;
        m.allocated(slice, request, random);
    }

    private static void end(Model m, SplittableRandom random, String call) {
        RuntimeException failure = null;
        if (m.owned && random.nextInt(4) == 0) {
            try {
                MemorySegment slice = m.arena.allocate(8);
                m.allocated(slice, new Request(8, 1), random);
                failure = new RuntimeException("cleanup of step");
                reinterpret(slice, m.arena, failure);
            } catch (ArenaLimitException full) {
                // no room for the slice that would carry the cleanup: end the round without one
            }
        }
        Runnable action = switch (call) {
            case "reset" -> m.arena::reset;
            case "close" -> m.arena::close;
            default -> m.arena::resetAndDisown;
        };
        m.checkLiveSlices();
        if (failure == null) {
            action.run();
        } else {
            assertSame(failure, assertThrows(RuntimeException.class, action::run));
            m.saw("cleanup threw");
        }
        m.endRound();
        if (call.equals("close")) {
            assertEquals(0, m.arena.statistics().reservedBytes());
            assertEquals(0, m.blocks.outstandingBytes(), "close gave every block back");
            m.arena = m.build(m.blocks);
            m.owned = true;
            m.saw("closed");
        } else {
            m.owned = !call.equals("resetAndDisown");
            assertTrue(m.arena.statistics().reservedBytes() <= m.retainBytes, "reset keeps at most retainBytes");
        }
    }

    @SuppressWarnings("restricted")
    private static void reinterpret(MemorySegment slice, Arena arena, RuntimeException failure) {
        slice.reinterpret(arena, s -> {
            throw failure;
        });
    }

    private static void takeCheckpoint(Model m) {
        if (!m.owned || m.levels.size() == 5) {
            return;
        }
        m.levels.add(new Level(m.arena.checkpoint(), m.allocated, m.round.size()));
    }

    /**
     * Closes a random open level, after maybe registering a cleanup that throws in the innermost
     * one, or tries to while a downcall holds a slice of the innermost level, which must be
     * refused and change nothing; or closes a checkpoint closed before, which must be refused too.
     */
    private static void closeCheckpoint(Model m, SplittableRandom random) {
        if (!m.closedCheckpoints.isEmpty() && (m.levels.isEmpty() || random.nextInt(4) == 0)) {
            Arena.Checkpoint stale = m.closedCheckpoints.get(random.nextInt(m.closedCheckpoints.size()));
            String before = m.state();
            assertThrows(IllegalStateException.class, stale::close);
            assertEquals(before, m.state(), "closing a closed checkpoint changes nothing");
            m.saw("discarded checkpoint refused");
            return;
        }
        if (m.levels.isEmpty()) {
            return;
        }
        int level = 1 + random.nextInt(m.levels.size());
        Arena.Checkpoint checkpoint = m.levels.get(level - 1).checkpoint();
        MemorySegment slice;
        try {
            slice = m.arena.allocate(8, 4);
        } catch (OutOfMemoryError limit) {
            slice = null;
        }
        if (slice != null) {
            m.allocated(slice, new Request(8, 4), random);
        }
        if (slice != null && random.nextInt(3) == 0) {
            String before = m.state();
            Throwable refused = TestSupport.whileHeldByDowncall(slice, checkpoint::close);
            if (!(refused instanceof IllegalStateException)) {
                fail("closing a level while a downcall holds its slice must be refused: " + refused);
            }
            assertEquals(before, m.state(), "refused while held: nothing changed");
            m.checkLiveSlices();
            m.saw("held checkpoint refused");
            return;
        }
        RuntimeException failure = null;
        if (slice != null && random.nextBoolean()) {
            failure = new RuntimeException("cleanup of a level");
            reinterpret(slice, m.arena, failure);
        }
        m.checkLiveSlices();
        if (failure == null) {
            checkpoint.close();
        } else {
            assertSame(failure, assertThrows(RuntimeException.class, checkpoint::close));
            m.saw("checkpoint cleanup threw");
        }
        m.saw(level < m.levels.size() ? "nested checkpoints closed" : "checkpoint closed");
        m.closedLevel(level);
        m.checkLiveSlices();
    }

    private static void refusedClaimFromAnotherThread(Model m, ExecutorService otherThread) throws Exception {
        String before = m.state();
        Throwable refused = otherThread.submit(() -> {
            try {
                m.arena.allocate(Long.MAX_VALUE);
                return null;
            } catch (Throwable t) {
                return t;
            }
        }).get();
        assertInstanceOf(OutOfMemoryError.class, refused);
        assertEquals(before, m.state(), "a refused claim claims nothing");
        m.saw("claim refused");
    }

    private static void heldScope(Model m, SplittableRandom random) {
        if (!m.owned) {
            return;
        }
        MemorySegment held;
        try {
            held = m.arena.allocate(8, 4);
        } catch (OutOfMemoryError limit) {
            return;
        }
        m.allocated(held, new Request(8, 4), random);
        String before = m.state();
        Runnable call = random.nextBoolean() ? m.arena::reset : random.nextBoolean() ? m.arena::close
                : m.arena::resetAndDisown;
        Throwable refused = TestSupport.whileHeldByDowncall(held, call);
        if (!(refused instanceof IllegalStateException)) {
            fail("a reset or close while a downcall holds the scope must be refused: " + refused);
        }
        assertEquals(before, m.state(), "refused while held: nothing changed");
        m.checkLiveSlices();
        m.saw("held scope refused");
    }
}
